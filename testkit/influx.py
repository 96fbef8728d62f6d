"""A real InfluxDB 1.x (Debian's influxd) on free loopback ports, stoppable and restartable."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testkit.processes import answers, free_port, wait_until_ready

INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"


@dataclass
class Influx:
    folder: Path
    port: int = field(default_factory=free_port)
    rpc_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        conf = self.folder / "influxdb.conf"
        conf.write_text(
            f'reporting-disabled = true\nbind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{self.folder}/meta"\n'
            f'[data]\n  dir = "{self.folder}/data"\n  wal-dir = "{self.folder}/wal"\n  query-log-enabled = false\n'
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            "[monitor]\n  store-enabled = false\n"
        )
        self.proc = subprocess.Popen([INFLUXD, "-config", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until_ready(lambda: answers(f"{self.url}/ping", 204), self.proc, "influxd", 30)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None

    def query(self, q: str, db: str = "dokiem") -> list[dict[str, Any]]:
        """Run InfluxQL as Grafana would; returns the series of the first statement."""
        params = urllib.parse.urlencode({"db": db, "q": q, "epoch": "ms"})
        with urllib.request.urlopen(f"{self.url}/query?{params}", timeout=10) as r:
            body = json.load(r)
        result = body["results"][0]
        if "error" in result:
            raise AssertionError(result["error"])
        return list(result.get("series", []))

    def scalar(self, q: str, db: str = "dokiem") -> Any:
        series = self.query(q, db)
        values = series[0].get("values") if series else None
        return values[0][-1] if values else None

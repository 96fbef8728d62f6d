"""A real PostgreSQL (Debian's) in a temporary folder on a free loopback port."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from testkit.processes import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else (shutil.which(name) or name)


@dataclass
class Postgres:
    folder: Path
    port: int = field(default_factory=free_port)

    def _as_owner(self, *args: str) -> list[str]:
        """PostgreSQL refuses to run as root: run its tools as the 'postgres' user when we are root."""
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        data = self.folder / "data"
        subprocess.run(self._as_owner(_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"),
                       check=True, capture_output=True)  # fmt: skip
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=on"
        subprocess.run(self._as_owner(_bin("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                                      str(self.folder / "log"), "start"), check=True, capture_output=True)  # fmt: skip

    def stop(self) -> None:
        subprocess.run(self._as_owner(_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "stop"),
                       capture_output=True)  # fmt: skip

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
    settings: dict[str, str] = field(default_factory=dict)  # postgresql.conf lines (archive_mode, …)

    def _as_owner(self, *args: str) -> list[str]:
        """PostgreSQL refuses to run as root: run its tools as the 'postgres' user when we are root."""
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command as the database's owner (pgBackRest, psql), checked."""
        return subprocess.run(self._as_owner(*args), check=True, capture_output=True, text=True)

    def start(self) -> None:
        """initdb the first time (with ``settings``), then start; again after a stop, or on a restored folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        data = self.data
        if not (data / "PG_VERSION").exists():
            subprocess.run(self._as_owner(_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"),
                           check=True, capture_output=True)  # fmt: skip
            with (data / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{key} = '{value}'\n" for key, value in self.settings.items())
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=on"
        subprocess.run(self._as_owner(_bin("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                                      str(self.folder / "log"), "start"), check=True, capture_output=True)  # fmt: skip

    def stop(self) -> None:
        subprocess.run(self._as_owner(_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "stop"),
                       capture_output=True)  # fmt: skip

"""Continuous archiving of a PostgreSQL archive with pgBackRest (issue 32), set up from the shipped files in
deploy/postgres/: a full backup, results archived after it, the database lost, restored from the repository
and its WAL: every result is there, those after the backup too."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dokiem.collector.archive import Archive
from testkit.agentkit import make_result
from testkit.postgres import Postgres
from testkit.processes import REPO

SHIPPED = REPO / "deploy" / "postgres"


def _settings(folder: Path) -> dict[str, str]:
    """The shipped postgresql-archiving.conf, its pgbackrest pointed at this test's configuration."""
    settings = {}
    for line in (SHIPPED / "postgresql-archiving.conf").read_text().splitlines():
        if match := re.match(r"^(\w+)\s*=\s*'?([^'#]*?)'?\s*(#.*)?$", line):
            settings[match[1]] = match[2]
    settings["archive_command"] = settings["archive_command"].replace(
        "pgbackrest ", f"pgbackrest --config={folder}/pgbackrest.conf "
    )
    return settings


def _pgbackrest_conf(folder: Path, server: Postgres) -> None:
    """The shipped pgbackrest.conf with this test's folders, port and socket."""
    text = (SHIPPED / "pgbackrest.conf").read_text()
    text = text.replace("/srv/backup/pgbackrest", str(folder / "repo"))
    text = text.replace("/var/lib/postgresql/15/main", str(server.data))
    text = text.replace("[global]\n", f"[global]\nlock-path={folder}/lock\nlog-path={folder}/log\n")
    text += f"pg1-port={server.port}\npg1-socket-path={folder}\n"
    (folder / "pgbackrest.conf").write_text(text)
    shutil.chown(folder / "pgbackrest.conf", "postgres", "postgres")


@pytest.fixture
def archived() -> Iterator[Postgres]:
    folder = Path(tempfile.mkdtemp(prefix="dokiem-pgbr-"))  # the 'postgres' user cannot enter pytest's folders
    server = Postgres(folder, settings=_settings(folder))
    _pgbackrest_conf(folder, server)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_a_postgresql_archive_comes_back_with_every_result_archived_after_its_last_backup(archived: Postgres) -> None:
    pgbackrest = ["pgbackrest", f"--config={archived.folder}/pgbackrest.conf", "--stanza=dokiem"]
    archive = Archive.from_url(archived.url)
    archive.results.add([make_result(n) for n in range(5)])
    archived.run(*pgbackrest, "stanza-create")
    archived.run(*pgbackrest, "check")  # WAL archiving works
    archived.run(*pgbackrest, "--type=full", "backup")
    after = [make_result(100 + n) for n in range(7)]
    archive.results.add(after)  # committed after the last backup: only the WAL has them
    archive.close()
    archived.run(*pgbackrest, "check")  # the current WAL segment switched and archived
    archived.stop()
    shutil.rmtree(archived.data)  # the database's disk is gone
    archived.run(*pgbackrest, "restore")
    archived.start()
    _until_promoted(archived)
    restored = Archive.from_url(archived.url)
    try:
        assert restored.results.count() == 12
        assert all(restored.results.has(str(r.result_id)) for r in after)
    finally:
        restored.close()


def _until_promoted(server: Postgres, seconds: float = 60) -> None:
    """A restored server answers while it still replays the archived WAL (read-only); it is the archive again
    once recovery has reached the WAL's end and promoted it."""
    import psycopg

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with psycopg.connect(server.url) as db:
            if db.execute("SELECT pg_is_in_recovery()").fetchone() == (False,):
                return
        time.sleep(0.2)
    raise AssertionError(f"still in recovery after {seconds:g} s")

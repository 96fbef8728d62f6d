"""Backups that restore (issue 32): taken while results arrive, checked, restored onto an empty place; damage and
clashes refused with nothing written; PostgreSQL through pg_dump; an archive a newer release wrote refused.
Against real Mosquitto, the collector and PostgreSQL, through the ``dokiem`` command as a department runs it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from dokiem.agent.service import Agent
from dokiem.collector.archive import Archive, sqlite_url
from dokiem.collector.archive.meta import ARCHIVE_FORMAT, FORMAT
from dokiem.collector.service import Collector
from dokiem.contract import Result, result_topic
from dokiem.series import Measurement
from testkit.agentkit import config_for, make_result
from testkit.brokers import Broker
from testkit.collectorkit import collector_config, collector_running, wait_influx, wait_stored
from testkit.influx import Influx
from testkit.postgres import Postgres
from testkit.processes import DOKIEM


def dokiem(
    *args: str, data_dir: Path | None = None, archive_url: str | None = None, environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOKIEM_")} | (environ or {})
    if data_dir is not None:
        env["DOKIEM_DATA_DIR"] = str(data_dir)
    if archive_url is not None:
        env["DOKIEM_ARCHIVE_URL"] = archive_url
    return subprocess.run([*DOKIEM, "--lang", "en", *args], capture_output=True, text=True, env=env, timeout=300)


def the_backup(under: Path) -> Path:
    (folder,) = under.glob("dokiem-backup-*")  # one backup under it
    assert not folder.name.endswith(".partial")
    return folder


def ids_in(archive_file: Path) -> set[str]:
    with sqlite3.connect(archive_file) as db:
        return {str(row[0]) for row in db.execute("SELECT result_id FROM results")}


async def publish(broker: Broker, results: list[Result]) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        for result in results:
            await client.publish(result_topic(result.agent_id), result.to_json(), qos=1)


async def test_a_backup_taken_while_results_arrive_restores_what_it_holds(tmp_path: Path, broker: Broker) -> None:
    """The drill on SQLite: a backup taken while an agent publishes; the server's data destroyed; restored onto a
    fresh data directory: every result the backup holds is there with its id, the key file back as it was, and
    the collector runs on it and takes more."""
    config = collector_config(tmp_path, broker, None)
    data = config.collector.data_dir
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "collector.key").write_bytes(os.urandom(64))
    (keys / "collector.key").chmod(0o600)
    key_bytes = (keys / "collector.key").read_bytes()
    first, during = [make_result(n) for n in range(40)], [make_result(100 + n) for n in range(40)]
    async with collector_running(config) as collector:
        await asyncio.wait_for(collector.subscribed.wait(), 10)  # its session exists: nothing published is lost
        await publish(broker, first)
        await wait_stored(collector, lambda: collector.archive.results.count() == 40)
        publishing = asyncio.create_task(publish(broker, during))
        taken = await asyncio.to_thread(dokiem, "backup", "--to", str(tmp_path / "backups"), "--include", str(keys),
                                        data_dir=data)  # fmt: skip
        await publishing
        await wait_stored(collector, lambda: collector.archive.results.count() == 80)
    assert taken.returncode == 0, taken.stderr
    backup = the_backup(tmp_path / "backups")
    manifest = json.loads((backup / "manifest.json").read_text())
    held = ids_in(backup / "archive.db")
    assert {str(r.result_id) for r in first} <= held <= {str(r.result_id) for r in first + during}
    assert manifest["archive"]["results"] == len(held) and oct(backup.stat().st_mode & 0o777) == "0o700"

    shutil.rmtree(data)  # the server's disk is gone
    shutil.rmtree(keys)
    restored = dokiem("restore", "--from", str(backup), data_dir=data)
    assert restored.returncode == 0, restored.stderr
    assert "Restored the backup of" in restored.stdout
    assert ids_in(data / "archive.db") == held
    key = keys / "collector.key"
    assert key.read_bytes() == key_bytes and key.stat().st_mode & 0o777 == 0o600
    async with collector_running(config) as collector:  # and the collector goes on from it
        await asyncio.wait_for(collector.subscribed.wait(), 10)
        later = [make_result(200)]
        await publish(broker, later)
        await wait_stored(collector, lambda: collector.archive.results.count() == len(held) + 1)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_drill_every_result_an_agent_had_acknowledged_is_archived_again(
    tmp_path: Path, broker: Broker, influx: Influx, kind: str, request: pytest.FixtureRequest
) -> None:
    """The disaster drill: an agent publishes throughout; a backup is taken; more results are acknowledged; the
    server's data and InfluxDB's are destroyed; the archive is restored from the backup; the restored collector
    asks the fleet and the agent sends again what it kept; InfluxDB is rebuilt from the archive. Every result the
    agent ever had acknowledged is in the archive, each once, and the dashboards' figures are those before. On
    SQLite (the default) and on PostgreSQL (through pg_dump; continuous archiving: tests/test_pgbackrest.py)."""
    database: Postgres | None = request.getfixturevalue("postgres") if kind == "postgresql" else None
    url = _fresh_database(database, "drill") if database else None
    config = collector_config(tmp_path / "server", broker, influx, **({"DOKIEM_ARCHIVE_URL": url} if url else {}))
    data = config.collector.data_dir

    def archived_ids() -> set[str]:
        archive = Archive.from_url(config.archive_url, create=False)
        try:
            return {str(row["result_id"]) for row in archive.results.query()}
        finally:
            archive.close()

    def cli(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
        return dokiem(*args, data_dir=data, archive_url=url, **options)

    agent = Agent(config_for(tmp_path / "agent", broker.url))
    publishing = asyncio.create_task(agent.publisher.run())
    sent: list[Result] = []

    async def measured(first: int, count: int, collector: Collector) -> None:
        for n in range(first, first + count):
            sent.append(make_result(n))
            agent.queue(sent[-1])
        await wait_stored(collector, lambda: collector.archive.results.count() == len(sent))

    try:
        async with collector_running(config) as collector:
            await asyncio.wait_for(collector.subscribed.wait(), 10)
            await measured(0, 10, collector)
            taken = await asyncio.to_thread(cli, "backup", "--to", str(tmp_path / "backups"))
            assert taken.returncode == 0, taken.stderr
            await measured(10, 15, collector)
            async with asyncio.timeout(10):  # the agent's last acknowledgements, handled in this same loop
                while agent.outbox.depth():
                    await asyncio.sleep(0.05)
            await wait_influx(influx, f"SELECT count(download_mbps) FROM {SPEED}", len(sent))
        before = [influx.query(query) for query in DASHBOARD_FIGURES]
        assert agent.outbox.kept_sent() == 25  # every one acknowledged, and kept
        shutil.rmtree(data, ignore_errors=True)  # the server's disk is gone (a PostgreSQL one: dropped below)
        if database:
            _fresh_database(database, "drill")
        influx.query('DROP DATABASE "dokiem"')
        restored = cli("restore", "--from", str(the_backup(tmp_path / "backups")))
        assert restored.returncode == 0, restored.stderr
        assert len(archived_ids()) == 10
        async with collector_running(config) as collector:
            await wait_stored(collector, lambda: collector.archive.results.count() == len(sent))
            asked = json.loads(str(collector.archive.meta.get("resend_asked")))
            assert asked["agents"] == 1 and collector.archive.meta.get("resend_since") is None
        assert archived_ids() == {str(r.result_id) for r in sent}
        rebuilt = cli("collector", "reindex", "--since", "2020-01-01", environ={"DOKIEM_INFLUX_URL": influx.url})
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert [influx.query(query) for query in DASHBOARD_FIGURES] == before
    finally:
        publishing.cancel()


# what the dashboards show of these results: counts and medians by agent and in all
SPEED = Measurement.SPEEDTEST.quoted()
DASHBOARD_FIGURES = (
    f'SELECT count("download_mbps"), median("download_mbps"), median("upload_mbps") FROM {SPEED}',
    f'SELECT median("download_mbps") AS "download", count("failed") AS "tests" FROM {SPEED} GROUP BY "agent"',
)


def _fresh_database(server: Postgres, name: str) -> str:
    """An empty database ``name`` on ``server`` (dropped first where it is): its URL."""
    for statement in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", server.url, "-c", statement], check=True, capture_output=True)
    return server.url.rsplit("/", 1)[0] + f"/{name}"


def _backed_up(tmp_path: Path, results: int = 5) -> tuple[Path, Path]:
    """(a data directory whose archive holds ``results`` results, a backup of it)."""
    data = tmp_path / "data"
    archive = Archive.from_url(sqlite_url(data / "archive.db"))
    archive.results.add([make_result(n) for n in range(results)])
    archive.close()
    taken = dokiem("backup", "--to", str(tmp_path / "backups"), data_dir=data)
    assert taken.returncode == 0, taken.stderr
    return data, the_backup(tmp_path / "backups")


@pytest.mark.parametrize("damage", ["flipped byte", "missing file", "cut manifest"])
def test_a_damaged_backup_fails_its_check_and_restores_nothing(tmp_path: Path, damage: str) -> None:
    _, backup = _backed_up(tmp_path)
    archive = backup / "archive.db"
    if damage == "flipped byte":
        with archive.open("r+b") as f:
            f.seek(archive.stat().st_size // 2)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 0xFF]))
    elif damage == "missing file":
        archive.unlink()
    else:
        (backup / "manifest.json").write_text((backup / "manifest.json").read_text()[:100])
    checked = dokiem("backup", "verify", str(backup))
    assert checked.returncode == 1, checked.stdout
    said = checked.stderr
    if damage == "cut manifest":
        assert "the manifest is damaged" in said
    else:
        assert "DAMAGED: archive.db" in said and ("missing" in said or "checksum" in said)
    fresh = tmp_path / "fresh"
    restored = dokiem("restore", "--from", str(backup), data_dir=fresh)
    assert restored.returncode == 1 and not (fresh / "archive.db").exists()


def test_a_restore_never_writes_over_an_archive_or_a_different_file(tmp_path: Path) -> None:
    data, backup = _backed_up(tmp_path)
    refused = dokiem("restore", "--from", str(backup), data_dir=data)  # the archive is still there
    assert refused.returncode == 1 and "holds an archive" in refused.stderr and "Nothing written" in refused.stderr
    # an archive a collector made on the new machine, holding nothing, is replaced
    fresh = tmp_path / "fresh"
    Archive.from_url(sqlite_url(fresh / "archive.db")).close()
    assert dokiem("restore", "--from", str(backup), data_dir=fresh).returncode == 0
    assert len(ids_in(fresh / "archive.db")) == 5
    # a key the backup holds, now there with other contents: left as it is, named, nothing written
    key = tmp_path / "server.key"
    key.write_text("the backup's")
    assert dokiem("backup", "--to", str(tmp_path / "again"), "--include", str(key), data_dir=fresh).returncode == 0
    key.write_text("another key")
    elsewhere = tmp_path / "elsewhere"
    clash = dokiem("restore", "--from", str(the_backup(tmp_path / "again")), data_dir=elsewhere)
    assert clash.returncode == 1 and str(key) in clash.stderr and "other contents" in clash.stderr
    assert key.read_text() == "another key" and not (elsewhere / "archive.db").exists()


def test_the_commands_say_what_is_wrong(tmp_path: Path) -> None:
    assert "--to" in dokiem("backup", data_dir=tmp_path).stderr
    assert "No archive at" in dokiem("backup", "--to", str(tmp_path / "b"), data_dir=tmp_path / "none").stderr
    assert "no manifest" in dokiem("backup", "verify", str(tmp_path)).stderr
    vi = subprocess.run([*DOKIEM, "backup", "verify", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert "không có bản kê" in vi.stderr and "Traceback" not in vi.stderr


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres(Path(tempfile.mkdtemp(prefix="dokiem-pg-")))  # the 'postgres' user cannot enter pytest's
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


def test_a_postgresql_archive_is_dumped_checked_and_restored_into_an_empty_database(
    tmp_path: Path, postgres: Postgres
) -> None:
    archive = Archive.from_url(postgres.url)
    archive.results.add([make_result(n) for n in range(7)])
    archive.close()
    taken = dokiem("backup", "--to", str(tmp_path / "backups"), archive_url=postgres.url)
    assert taken.returncode == 0, taken.stderr
    backup = the_backup(tmp_path / "backups")
    checked = dokiem("backup", "verify", str(backup))
    assert checked.returncode == 0 and "pg_restore reads the dump" in checked.stderr
    refused = dokiem("restore", "--from", str(backup), archive_url=postgres.url)
    assert refused.returncode == 1 and "holds an archive" in refused.stderr
    subprocess.run(["psql", postgres.url, "-c", "CREATE DATABASE restored"], check=True, capture_output=True)
    other = postgres.url.rsplit("/", 1)[0] + "/restored"
    restored = dokiem("restore", "--from", str(backup), archive_url=other)
    assert restored.returncode == 0, restored.stderr
    again = Archive.from_url(other)
    try:
        assert again.results.count() == 7
    finally:
        again.close()


def test_an_archive_a_newer_release_wrote_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    data, _ = _backed_up(tmp_path)
    with sqlite3.connect(data / "archive.db") as db:
        db.execute("UPDATE archive_meta SET value = ? WHERE name = ?", (str(ARCHIVE_FORMAT + 1), FORMAT))
        db.execute("UPDATE archive_meta SET value = '99.0' WHERE name = 'written_by'")
    before = _contents(data / "archive.db")
    said = dokiem("report", "quarterly", "--archive", sqlite_url(data / "archive.db"), "--out", str(tmp_path / "r"))
    assert said.returncode == 1 and "written by dokiem 99.0" in said.stderr and "upgrade dokiem" in said.stderr
    assert _contents(data / "archive.db") == before


def _contents(archive_file: Path) -> list[str]:
    with sqlite3.connect(archive_file) as db:
        return list(db.iterdump())


def test_collector_resend_notes_the_request_for_the_running_collector(tmp_path: Path) -> None:
    data, _ = _backed_up(tmp_path)
    said = dokiem("collector", "resend", "--since", "2026-12-01T06:00:00", data_dir=data)
    assert said.returncode == 0, said.stderr
    assert "of its registry (1)" in said.stdout and "2026-12-01 06:00 UTC" in said.stdout
    archive = Archive.from_url(sqlite_url(data / "archive.db"), create=False)
    try:
        assert archive.meta.get("resend_since") == "2026-12-01T06:00:00+00:00"
    finally:
        archive.close()
    assert dokiem("collector", "resend", "--since", "yesterday", data_dir=data).returncode == 2


def test_keep_leaves_the_newest_backups_and_a_second_in_the_same_second_is_its_own(tmp_path: Path) -> None:
    data, first = _backed_up(tmp_path)
    for _ in range(3):
        assert dokiem("backup", "--to", str(tmp_path / "backups"), "--keep", "2", data_dir=data).returncode == 0
    left = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert len(left) == 2 and first.name not in left
    assert all(dokiem("backup", "verify", str(tmp_path / "backups" / name)).returncode == 0 for name in left)

"""The archive, on SQLite and on PostgreSQL: the same behaviour through the same SQL."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.archive import Archive
from dokiem.contract import Site
from tests.agentkit import make_result
from tests.postgres import Postgres, _bin


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    if not Path(_bin("initdb")).exists() and shutil.which("initdb") is None:
        pytest.fail("PostgreSQL is not installed: the README's test command installs it (apt-get install postgresql)")
    # not under pytest's tmp folder: the 'postgres' user could not enter root's private one
    server = Postgres(Path(tempfile.mkdtemp(prefix="dokiem-pg-")))
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Archive]:
    if request.param == "sqlite":
        db = Archive.from_url(f"sqlite://{tmp_path / 'archive.db'}")
    else:
        server: Postgres = request.getfixturevalue("postgres")
        db = Archive.from_url(server.url)
        db._db.execute("TRUNCATE results, agents")
    yield db
    db.close()


def test_duplicates_are_no_ops(archive: Archive) -> None:
    results = [make_result(i) for i in range(5)]
    assert archive.add(results) == 5
    assert archive.add(results[:3]) == 0
    assert archive.count() == 5 and archive.has(str(results[0].result_id))


def test_backlog_and_reindex(archive: Archive) -> None:
    results = [make_result(i) for i in range(10)]
    archive.add(results)
    pending = archive.pending(4)
    assert len(pending) == 4 and archive.pending_count() == 10
    archive.mark_written(p.result_id for p in archive.pending(100))
    assert archive.pending_count() == 0
    assert archive.mark_for_reindex(datetime.now(UTC) - timedelta(days=1)) == 10
    assert archive.pending_count() == 10


def test_query_by_district_and_time(archive: Archive) -> None:
    site = Site(province_code="38", district_code="381")
    archive.add([make_result(1), make_result(2).model_copy(update={"site": site})])
    rows = archive.query(district="381")
    assert len(rows) == 1 and rows[0]["site"]["district_code"] == "381"
    assert archive.query(since=datetime.now(UTC)) == []


def test_agents_registry_counts_missed_runs(archive: Archive) -> None:
    now = 1_800_000_000.0
    archive.add([make_result(i) for i in range(3)], received_at=now)
    archive.record_status("th-380-001", {"state": "online", "agent_id": "th-380-001", "version": "0.1.0"}, now=now)
    archive.set_interval("th-380-001", 60)
    (agent,) = archive.agents(now=now + 10 * 3600)
    assert agent["online"] is True and agent["results"] == 3
    assert agent["expected_runs"] == 11 and agent["missed_runs"] == 8


def test_site_of_an_agent(archive: Archive) -> None:
    site = Site(province_code="38", district_code="381", isp="FPT")
    archive.add([make_result(1).model_copy(update={"site": site})])
    assert archive.site_of("th-380-001") == {"province_code": "38", "district_code": "381", "isp": "FPT"}
    assert archive.site_of("nobody") is None


def test_duplicates_do_not_count_as_runs_received(archive: Archive) -> None:
    results = [make_result(i) for i in range(3)]
    archive.add(results)
    archive.add(results)
    assert archive.agents()[0]["results"] == 3


def test_the_default_archive_sits_under_a_relative_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from collector.config import load

    monkeypatch.chdir(tmp_path)
    config = load(None, environ={"DOKIEM_DATA_DIR": "dokiem-data/collector"})
    assert config.archive_url == f"sqlite://{tmp_path}/dokiem-data/collector/archive.db"
    archive = Archive.from_url(config.archive_url)
    archive.close()
    assert (tmp_path / "dokiem-data" / "collector" / "archive.db").exists()

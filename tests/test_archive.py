"""The archive, on SQLite and on PostgreSQL: the same behaviour through the same SQL."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dokiem.collector.archive import REPORT_COLUMNS, Archive, sqlite_url
from dokiem.contract import Site
from dokiem.status import ScheduleState, Status
from testkit.agentkit import make_result
from testkit.postgres import Postgres, _bin


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
        db = Archive.from_url(sqlite_url(tmp_path / "archive.db"))
    else:
        server: Postgres = request.getfixturevalue("postgres")
        db = Archive.from_url(server.url)
        db._db.execute("TRUNCATE results, agents")
    yield db
    db.close()


def test_duplicates_are_no_ops(archive: Archive) -> None:
    results = [make_result(i) for i in range(5)]
    assert archive.results.add(results) == results
    assert archive.results.add(results[:3]) == []
    assert archive.results.count() == 5 and archive.results.has(str(results[0].result_id))


def test_an_agents_results_are_counted_by_hour_of_their_start(archive: Archive) -> None:
    """What the rate rule reads once a batch (issue 37): each hour's count, hours with none left out."""
    hour_ms = 3_600_000
    base = datetime(2026, 11, 2, 7, tzinfo=UTC)
    starts = [base, base + timedelta(minutes=59), base + timedelta(hours=2), base + timedelta(hours=5)]
    results = [make_result(i).model_copy(update={"started_at": at, "finished_at": at + timedelta(seconds=20)})
               for i, at in enumerate(starts)]  # fmt: skip
    archive.results.add([*results, make_result(9, agent_id="th-380-002")])
    first = int(base.timestamp() * 1000) // hour_ms
    assert archive.results.count_started_by_hour("th-380-001", first, first + 5, hour_ms) == {first: 2, first + 2: 1}


def test_backlog_and_reindex(archive: Archive) -> None:
    results = [make_result(i) for i in range(10)]
    archive.results.add(results)
    pending = archive.results.pending(4)
    assert len(pending) == 4 and archive.results.pending_count() == 10
    archive.results.mark_written(p.result_id for p in archive.results.pending(100))
    assert archive.results.pending_count() == 0
    assert archive.results.mark_for_reindex(datetime.now(UTC) - timedelta(days=1)) == 10
    assert archive.results.pending_count() == 10


def test_query_by_district_and_time(archive: Archive) -> None:
    site = Site(province_code="38", district_code="381")
    archive.results.add([make_result(1), make_result(2).model_copy(update={"site": site})])
    rows = archive.results.query(district="381")
    assert len(rows) == 1 and rows[0]["site"]["district_code"] == "381"
    assert archive.results.query(since=datetime.now(UTC)) == []


def test_agents_registry_counts_missed_runs(archive: Archive) -> None:
    now = 1_800_000_000.0
    archive.results.add([make_result(i) for i in range(3)], received_at=now)
    status = Status(state="online", agent_id="th-380-001", version="0.1.0", schedule=ScheduleState(interval_minutes=60))
    archive.registry.record_status(status, now=now)
    (agent,) = archive.registry.agents(now=now + 10 * 3600)
    assert agent["online"] is True and agent["results"] == 3
    assert agent["expected_runs"] == 11 and agent["missed_runs"] == 8


def test_the_enrolled_site_changes_only_through_enrolment(archive: Archive) -> None:
    """Issue 26: what an agent's results say is kept as its declared site, never over the enrolled one."""
    declared = Site(province_code="38", district_code="381", isp="FPT")
    archive.results.add([make_result(1).model_copy(update={"site": declared})])
    assert archive.registry.site_of("th-380-001") is None  # never enrolled
    assert archive.registry.declared_site_of("th-380-001") == {"province_code": "38", "district_code": "381",
                                                               "isp": "FPT"}  # fmt: skip
    enrolled = '{"province_code": "38", "commune_code": "14797", "isp": "VNPT"}'
    archive.registry.register("th-380-001", enrolled)
    archive.results.add([make_result(2).model_copy(update={"site": declared})])
    assert archive.registry.site_of("th-380-001") == {"province_code": "38", "commune_code": "14797", "isp": "VNPT"}
    assert archive.registry.site_of("nobody") is None


def test_duplicates_do_not_count_as_runs_received(archive: Archive) -> None:
    results = [make_result(i) for i in range(3)]
    archive.results.add(results)
    archive.results.add(results)
    assert archive.registry.agents()[0]["results"] == 3


def test_the_default_archive_sits_under_a_relative_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dokiem.collector.config import load

    monkeypatch.chdir(tmp_path)
    config = load(None, environ={"DOKIEM_DATA_DIR": "dokiem-data/collector"})
    assert config.archive_url == sqlite_url(tmp_path / "dokiem-data" / "collector" / "archive.db")
    archive = Archive.from_url(config.archive_url)
    archive.close()
    assert (tmp_path / "dokiem-data" / "collector" / "archive.db").exists()


def test_report_rows_stream_the_figure_columns(archive: Archive) -> None:
    site = Site(province_code="38", district_code="380", isp="VNPT", plan_down_mbps=300)
    results = [make_result(i).model_copy(update={"site": site, "upload_mbps": 10.0 + i}) for i in range(5)]
    archive.results.add(results)
    since = min(r.started_at for r in results)
    rows = [dict(zip(REPORT_COLUMNS, row, strict=True)) for row in
            archive.results.report_rows(since, since + timedelta(hours=1))]  # fmt: skip
    assert len(rows) == 5
    first = next(row for row in rows if row["download_mbps"] == results[0].download_mbps)
    assert (first["agent_id"], first["started_ms"]) == (
        results[0].agent_id,
        int(results[0].started_at.timestamp() * 1000),
    )
    assert (first["province_code"], first["district_code"], first["isp"], first["failed"]) == ("38", "380", "VNPT", 0)
    assert first["upload_mbps"] == 10.0 and first["latency_ms"] is None and first["plan_down_mbps"] == 300.0
    assert list(archive.results.report_rows(since - timedelta(days=2), since - timedelta(days=1))) == []


def test_residents_tests_never_reach_the_reports_rows(tmp_path: Path) -> None:
    archive = Archive.from_url(sqlite_url(tmp_path / "a.db"))
    agents, resident = make_result(1), make_result(2).model_copy(update={"source": "resident"})
    archive.results.add([agents, resident])
    since = min(r.started_at for r in (agents, resident))
    rows = list(archive.results.report_rows(since, since + timedelta(days=1)))
    assert archive.results.count() == 2 and len(rows) == 1  # kept, and apart
    assert rows[0][REPORT_COLUMNS.index("agent_id")] == agents.agent_id
    archive.close()


def test_an_archive_from_before_the_figure_columns_gets_them_filled(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    old = Archive.from_url(sqlite_url(path))
    result = make_result(7)
    old.results.add([result])
    old.close()
    db = sqlite3.connect(path)
    for column in ("download_mbps", "upload_mbps", "latency_ms", "jitter_ms", "loss_pct", "plan_down_mbps"):
        db.execute(f"ALTER TABLE results DROP COLUMN {column}")
    db.commit()
    db.close()
    reopened = Archive.from_url(sqlite_url(path))
    (row,) = reopened.results.report_rows(result.started_at, result.started_at + timedelta(seconds=1))
    assert row[REPORT_COLUMNS.index("download_mbps")] == result.download_mbps
    reopened.close()

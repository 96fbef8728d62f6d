"""An archive the previous release wrote opens with this one (issue 32): migrations go forwards only, on a
fixture that release's own code made (scripts/upgrade_fixture.py, run from its checkout)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt

from dokiem import __version__
from dokiem.collector.archive import Archive, sqlite_url
from dokiem.collector.archive.meta import ARCHIVE_FORMAT, FORMAT, WRITTEN_BY
from dokiem.contract import result_topic
from testkit.agentkit import make_result
from testkit.brokers import Broker
from testkit.collectorkit import collector_config, collector_running, wait_stored
from testkit.processes import DOKIEM, REPO

FIXTURES = sorted((REPO / "tests" / "data" / "upgrade").glob("archive-*.db"))
WEEK = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 8, tzinfo=UTC))


def _copy(tmp_path: Path) -> Path:
    assert FIXTURES, "tests/data/upgrade holds no fixture: make one with scripts/upgrade_fixture.py"
    target = tmp_path / "collector" / "archive.db"
    target.parent.mkdir()
    shutil.copyfile(FIXTURES[-1], target)
    return target


def test_the_previous_releases_archive_opens_whole(tmp_path: Path) -> None:
    archive = Archive.from_url(sqlite_url(_copy(tmp_path)), create=False)
    try:
        assert archive.results.count() == 140
        assert len([a for a in archive.registry.agents() if str(a["agent_id"]).startswith("th-")]) == 3
        assert archive.quarantine.counts() == {"schema": 1}
        assert sum(s.sender_days for s in archive.senders.spread(*WEEK).values()) > 0
        assert (archive.meta.get(FORMAT), archive.meta.get(WRITTEN_BY)) == (str(ARCHIVE_FORMAT), __version__)
    finally:
        archive.close()


async def test_the_collector_goes_on_from_it_and_the_report_reads_it(tmp_path: Path, broker: Broker) -> None:
    path = _copy(tmp_path)
    config = collector_config(tmp_path, broker, None)
    async with collector_running(config) as collector:
        await asyncio.wait_for(collector.subscribed.wait(), 10)
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            await client.publish(result_topic("th-380-001"), make_result().to_json(), qos=1)
        await wait_stored(collector, lambda: collector.archive.results.count() == 141)
    report = await asyncio.create_subprocess_exec(
        *DOKIEM, "--lang", "en", "report", "quarterly", "--quarter", "2026Q4", "--archive", sqlite_url(path),
        "--format", "csv", "--out", str(tmp_path / "report"), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, said = await report.communicate()
    assert report.returncode == 0, said.decode()
    assert list((tmp_path / "report").glob("*.csv"))

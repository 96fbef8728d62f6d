"""Fixtures every test module shares: real servers on free loopback ports (the test server as its own
process, Mosquitto, InfluxDB), a running collector, the report's generated quarter. The helpers they
are built from live in ``testkit/``, which the benchmarks and scripts use too."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dokiem.collector.archive import Archive, sqlite_url
from dokiem.collector.service import Collector
from dokiem.contract import Result
from dokiem.reports.build import read_figures
from dokiem.reports.quarterly import QuarterlyFigures
from dokiem.thresholds import load_thresholds
from testkit.brokers import Broker, running_broker
from testkit.collectorkit import collector_config
from testkit.influx import Influx
from testkit.processes import DOKIEM, start_testserver
from testkit.reportkit import QUARTER, write_quarter_archive, write_thresholds
from testkit.residentkit import signing_test_server


@pytest.fixture(scope="session")
def testserver_url() -> Iterator[str]:
    proc, url = start_testserver()
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def run_dokiem() -> object:
    def run(
        *args: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        return subprocess.run([*DOKIEM, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)

    return run


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with running_broker(tmp_path) as b:
        yield b


@pytest.fixture
def influx(tmp_path: Path) -> Iterator[Influx]:
    db = Influx(tmp_path / "influx")
    db.folder.mkdir()
    db.start()
    yield db
    db.stop()


@pytest.fixture
async def running(tmp_path: Path, broker: Broker, influx: Influx) -> AsyncIterator[Collector]:
    """A collector on a real broker and InfluxDB, subscribed."""
    collector = Collector(collector_config(tmp_path, broker, influx))
    started = asyncio.Event()
    task = asyncio.create_task(collector.run(started))
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.wait_for(collector.subscribed.wait(), 10)
    yield collector
    task.cancel()


@pytest.fixture(scope="module")
def thresholds_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_thresholds(tmp_path_factory.mktemp("rules") / "thresholds.toml")


@pytest.fixture(scope="module")
def quarter_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Result], list[Result]]:
    return write_quarter_archive(tmp_path_factory.mktemp("archive") / "archive.db")


@pytest.fixture(scope="module")
def figures(quarter_data: tuple[Path, list[Result], list[Result]], thresholds_file: Path) -> QuarterlyFigures:
    archive = Archive.from_url(sqlite_url(quarter_data[0]))
    try:
        return read_figures(archive, QUARTER, load_thresholds(thresholds_file))
    finally:
        archive.close()


@pytest.fixture(scope="module")
def server_key() -> Ed25519PrivateKey:
    """A test server's own signing key (residents' tests, issue 22)."""
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def test_point(tmp_path_factory: pytest.TempPathFactory, server_key: Ed25519PrivateKey) -> Iterator[str]:
    """A ``dokiem testserver`` that signs what it counts with ``server_key``."""
    with signing_test_server(tmp_path_factory.mktemp("server"), server_key) as url:
        yield url

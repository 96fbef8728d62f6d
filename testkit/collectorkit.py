"""Helpers for the collector tests: its config on a real broker (and InfluxDB), waiting for what it
stores, and its API."""

from __future__ import annotations

import asyncio
import contextlib
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from dokiem.collector.config import CollectorConfig, load
from dokiem.collector.service import Collector
from dokiem.contract import Site
from testkit.brokers import Broker
from testkit.influx import Influx
from testkit.processes import free_port

TOKEN = "test-token"


def collector_config(tmp_path: Path, broker: Broker, influx: Influx | None, **settings: str) -> CollectorConfig:
    """The collector's config for a test; ``settings`` are more DOKIEM_* variables."""
    env = {
        "DOKIEM_BROKER_URL": broker.url,
        "DOKIEM_DATA_DIR": str(tmp_path / "collector"),
        "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
        "DOKIEM_API_TOKEN": TOKEN,
        # the tests' agents send many results in one hour without a schedule; the rate rule has its own tests
        "DOKIEM_LIMITS_UNSCHEDULED_RUNS_PER_HOUR": "100000",
        # the tests' department serves province 38, whose data has every layer (former districts, the old list)
        "DOKIEM_COLLECTOR_PROVINCE": "38",
    }
    if influx is not None:
        env["DOKIEM_INFLUX_URL"] = influx.url
    return load(None, environ=env | settings)


@contextlib.asynccontextmanager
async def collector_running(config: CollectorConfig) -> AsyncIterator[Collector]:
    """A collector on ``config``, started (its HTTP door open), stopped at the end."""
    collector = Collector(config)
    started = asyncio.Event()
    task = asyncio.create_task(collector.run(started))
    try:
        await asyncio.wait_for(started.wait(), 10)
        yield collector
    finally:
        task.cancel()
        # its port free again once this returns; what the run raised was the test's to see while it ran
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def wait_stored(collector: Collector, predicate: object, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            collector.stored.clear()
            await collector.stored.wait()


async def wait_influx(influx: Influx, query: str, expected: object, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while influx.scalar(query) != expected:
            await asyncio.sleep(0.05)


async def influx_rows(collector: Collector, influx: Influx, query: str, timeout: float = 30) -> list[dict[str, Any]]:
    """The rows ``query`` gives once InfluxDB has them (each of the collector's writes is a wake-up); on a
    timeout, what the collector saw, so a failure says where the result stopped."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                collector.flushed.clear()  # InfluxDB is written after the archive
                if rows := influx.query(query):
                    return rows
                await collector.flushed.wait()
    except TimeoutError:
        seen = {"stats": dict(collector.stats), "influx_error": collector.influx_error,
                "archived": len(collector.archive.results.query()),
                "pending": collector.archive.results.pending_count(),
                "quarantined": [(q.reason, q.detail) for q in collector.archive.quarantine.listed()]}  # fmt: skip
        raise AssertionError(f"no rows for {query!r} after {timeout} s; the collector saw {seen}") from None


async def wait_backlog_written(collector: Collector, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while collector.archive.results.pending_count():
            collector.flushed.clear()
            await collector.flushed.wait()


def thanh_hoa_site(district: str = "380") -> Site:
    return Site(province_code="38", district_code=district, isp="VNPT", access="fixed")  # type: ignore[arg-type]


async def api_get(collector: Collector, path: str, token: str | None = TOKEN) -> bytes:
    """GET from the collector's API (from a thread: the API runs on this test's event loop)."""
    return await asyncio.to_thread(_get, collector, path, token)


def _get(collector: Collector, path: str, token: str | None) -> bytes:
    request = urllib.request.Request(f"http://{collector.config.http.listen}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read())

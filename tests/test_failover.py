"""Several servers: the fastest that answers is measured, and a dead or busy (503) one is skipped
within the same run, the Result naming the server it came from and how many were tried."""

from __future__ import annotations

import pytest

from dokiem.agent import measure as measure_module
from dokiem.agent.measure import MeasureRequest, by_latency, measure_any
from dokiem.agent.servers import Server, librespeed_server
from testkit.agentkit import QUICK
from testkit.badservers import bad_server
from testkit.processes import free_port


def _dead() -> Server:
    return librespeed_server(f"http://127.0.0.1:{free_port()}/")  # nothing listens there


async def test_a_dead_server_is_ranked_last_and_the_live_one_measured(testserver_url: str) -> None:
    dead, live = _dead(), librespeed_server(testserver_url)
    assert await by_latency([dead, live], QUICK) == [live, dead]
    result = await measure_any(MeasureRequest(server=dead, fallbacks=[live], settings=QUICK, ping_count=0))
    assert result.error is None and result.download_mbps and result.upload_mbps
    assert result.server is not None and result.server.url == testserver_url
    assert result.method.servers_tried == 1


async def test_a_busy_first_server_fails_over_to_the_next_in_the_same_run(
    testserver_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with bad_server("busy") as busy_url:  # answers pings, then 503 on the download
        busy, live = librespeed_server(busy_url), librespeed_server(testserver_url)

        async def busy_first(servers: list[Server], settings: object) -> list[Server]:
            return servers  # both answer pings on loopback; keep the busy one first, as if it were nearer

        monkeypatch.setattr(measure_module, "by_latency", busy_first)
        result = await measure_any(MeasureRequest(server=busy, fallbacks=[live], settings=QUICK, ping_count=0))
    assert result.error is None and result.download_mbps, result.error
    assert result.server is not None and result.server.url == testserver_url and result.method.servers_tried == 2


async def test_when_every_server_fails_the_last_failure_is_the_result() -> None:
    result = await measure_any(MeasureRequest(server=_dead(), fallbacks=[_dead()], settings=QUICK, ping_count=0))
    assert result.error is not None and result.error.code == "connect_failed"
    assert result.method.servers_tried == 2

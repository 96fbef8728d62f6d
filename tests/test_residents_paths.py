"""The residents' page on shaped lines (issue 22): Chromium in a client namespace whose default route
carries the test, through a router that shapes the line (``tbf``), against ``dokiem testserver`` in the
server namespace, the collector on the host's side of the router; what the collector stores (the test
server's count) against what iperf3 reads of the same path, at 20, 100 and 300 Mbit/s, and on paths as
residents have them (issue 39): 100/30 Mbit/s 60 ms away and 60/20 Mbit/s 240 ms away, where the page
stretches its test with the round trip (and where it once lost a resident's consent clicked before its
list of communes arrived). The page's own reading agrees with the server's (no ``page_disagrees`` flag)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dokiem.collector.config import ResidentsSection
from dokiem.collector.service import Collector
from dokiem.contract import Flag, Result
from testkit.brokers import Broker
from testkit.collectorkit import collector_config, collector_running
from testkit.pathlab import UPLINK_IP, PathShape, path_lab
from testkit.processes import free_port
from testkit.residentkit import LAB_TESTSERVER, iperf3_window, residents_section, serve_in_lab, visit_from_client

TOLERANCE = 0.05  # issue 22: the stored figures within ±5% of iperf3 on the same line
# More visits where the first one's figures miss: on this shared two-core machine a browser sometimes
# leaves the line a tenth short for a whole test (the page and the server then agree on the lower figure,
# so the count is right and the line was not filled; docs/benchmarks.md "residents-paths" has the spread).
ATTEMPTS = 3
PAGE_TEST = ResidentsSection().page_test  # the defaults the lab's collector runs with


LINES = {"20 Mbit/s": PathShape(20, 20), "100 Mbit/s": PathShape(100, 100), "300 Mbit/s": PathShape(300, 300),
         "100/30 Mbit/s, 60 ms": PathShape(100, 30, one_way_ms=30, buffer_ms=50),
         "60/20 Mbit/s, 240 ms": PathShape(60, 20, one_way_ms=120, buffer_ms=80)}  # fmt: skip


@pytest.mark.parametrize("line", LINES.values(), ids=LINES.keys())
async def test_a_residents_figures_read_as_iperf3_reads_the_line(
    line: PathShape, tmp_path: Path, broker: Broker, server_key: Ed25519PrivateKey
) -> None:
    with path_lab("dkr", line) as lab:
        await asyncio.to_thread(serve_in_lab, lab, server_key, tmp_path)
        residents = residents_section(tmp_path, server_key, LAB_TESTSERVER)
        config = collector_config(tmp_path, broker, None, DOKIEM_HTTP_LISTEN=f"{UPLINK_IP}:{free_port()}")
        async with collector_running(config.model_copy(update={"residents": residents})) as collector:
            reference = await asyncio.to_thread(lab.iperf3, *iperf3_window(line))
            tries = []
            for _ in range(ATTEMPTS):
                seen = await asyncio.to_thread(visit_from_client, lab, f"http://{config.http.listen}/do/", tmp_path)
                assert seen["state"] == "done", seen["error"]
                hooks = json.loads(seen["hooks"])
                # the page stretched its test with the round trip, as the collector's PageTest says
                assert float(hooks["seconds"]) >= 2 * PAGE_TEST.direction_seconds(line.rtt_ms) * 0.99, hooks
                result = _stored(collector, hooks["result-id"])
                tries.append(result)
                if Flag.PAGE_DISAGREES not in result.flags and _within(result, reference):
                    return
    raise AssertionError(
        f"iperf3 {reference}; the page's tests (server's, page's): "
        f"{[(t.download_mbps, t.upload_mbps, t.page_download_mbps, t.page_upload_mbps) for t in tries]}"
    )


def _stored(collector: Collector, result_id: str) -> Result:
    return Result.model_validate_json(str(collector.archive.results.payload_of(result_id)))


def _within(result: Result, reference: tuple[float, float]) -> bool:
    down, up = reference
    return (result.download_mbps is not None and abs(result.download_mbps / down - 1) <= TOLERANCE
            and result.upload_mbps is not None and abs(result.upload_mbps / up - 1) <= TOLERANCE)  # fmt: skip

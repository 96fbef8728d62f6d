"""Bounded everywhere (issue 26): the quarantine by size and age, every API list by pages with a total and
a cursor, a request's head by a deadline, and the files that hold payloads or secrets by their mode."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from dokiem.collector.config import load
from dokiem.collector.service import Collector
from dokiem.contract import result_topic
from testkit.agentkit import make_result
from testkit.brokers import Broker
from testkit.collectorkit import TOKEN, thanh_hoa_site, wait_stored
from testkit.processes import free_port


@pytest.fixture
async def bounded(tmp_path: Path, broker: Broker) -> AsyncIterator[Collector]:
    """A collector with a small quarantine (1 MB) and a short head deadline (1 s)."""
    collector = Collector(load(None, environ={
        "DOKIEM_BROKER_URL": broker.url, "DOKIEM_DATA_DIR": str(tmp_path / "collector"),
        "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{free_port()}", "DOKIEM_API_TOKEN": TOKEN,
        "DOKIEM_LIMITS_QUARANTINE_MAX_MB": "1", "DOKIEM_HTTP_HEADER_TIMEOUT_S": "1",
    }))  # fmt: skip
    task = asyncio.create_task(collector.run())
    await asyncio.wait_for(collector.subscribed.wait(), 10)
    yield collector
    task.cancel()


def _get(collector: Collector, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://{collector.config.http.listen}{path}",
                                     headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


async def test_a_flood_of_junk_keeps_the_quarantine_within_its_size(bounded: Collector) -> None:
    junk = [b'{"junk": "' + bytes([65 + n % 26]) * 60_000 + b'"}' for n in range(60)]  # 3.6 MB of it
    async with aiomqtt.Client("127.0.0.1", bounded.config.broker.port) as client:
        for payload in junk:
            await client.publish(result_topic("th-380-001"), payload, qos=1)
    await wait_stored(bounded, lambda: bounded.stats["quarantined"] == len(junk))
    kept = bounded.archive.quarantine.listed()
    assert sum(len(k.payload) for k in kept) * 4 / 3 <= 2**20  # base64 as stored: within the 1 MB bound
    assert 0 < len(kept) < len(junk) and bounded.stats["quarantine_dropped"] == len(junk) - len(kept)
    assert kept[-1].payload == junk[-1]  # the oldest went first
    metrics = (await asyncio.to_thread(_get, bounded, "/metrics"))[2].decode()
    assert f"dokiem_quarantine_dropped_total {len(junk) - len(kept)}" in metrics
    good = make_result(1).model_copy(update={"site": thanh_hoa_site()})
    async with aiomqtt.Client("127.0.0.1", bounded.config.broker.port) as client:
        await client.publish(result_topic("th-380-001"), good.to_json(), qos=1)
    await wait_stored(bounded, lambda: bounded.archive.results.count() == 1)  # nothing else stopped


async def test_every_api_list_is_paged_with_its_total_and_never_cut_silently(bounded: Collector) -> None:
    results = [make_result(n).model_copy(update={"site": thanh_hoa_site()}) for n in range(25)]
    bounded.archive.results.add(results)
    seen: list[str] = []
    path = "/api/results?limit=10"
    pages = 0
    while path:
        status, headers, body = await asyncio.to_thread(_get, bounded, path)
        assert status == 200 and headers["X-Total-Count"] == "25"
        seen += [row["result_id"] for row in json.loads(body)]
        pages += 1
        link = headers.get("Link", "")
        path = link[link.index("/api/") : link.index(">")] if link else ""
    ordered = sorted(results, key=lambda r: (r.started_at, str(r.result_id)))
    assert pages == 3 and seen == [str(r.result_id) for r in ordered]  # each once, oldest first
    status, headers, body = await asyncio.to_thread(_get, bounded, "/api/results?format=csv&limit=5")
    assert status == 200 and headers["X-Total-Count"] == "25" and len(body.decode().strip().splitlines()) == 6
    for bad in ("/api/quarantine?limit=100000", "/api/results?limit=0", "/api/agents?limit=x",
                "/api/results?cursor=bm90LWEta2V5", "/api/results?cursor=%%%"):  # fmt: skip
        assert (await asyncio.to_thread(_get, bounded, bad))[0] == 400, bad


async def test_a_request_head_that_never_ends_is_cut_at_its_deadline(bounded: Collector) -> None:
    host, port = bounded.config.http.listen.split(":")

    def dribble() -> bytes:
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"GET /api/agents HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and then nothing more
            return sock.recv(1024)  # b"" once the server closes it

    slow = [asyncio.to_thread(dribble) for _ in range(50)]
    answered = await asyncio.to_thread(_get, bounded, "/healthz")
    assert answered[0] == 200  # served while 50 heads hang
    assert await asyncio.gather(*slow) == [b""] * 50


async def test_the_archive_and_its_wal_are_the_owners_alone(bounded: Collector) -> None:
    bounded.archive.results.add([make_result(1)])
    folder = bounded.config.collector.data_dir
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    for name in ("archive.db", "archive.db-wal"):
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600, name

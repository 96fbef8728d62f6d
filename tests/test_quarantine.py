"""One bad message never stops the province: hostile payloads on an agent's own topics, through a real
Mosquitto into a running collector writing a real influxd. Each is kept in the quarantine with its
reason, the collector keeps running, and a valid result sent after it reaches InfluxDB."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from dokiem.collector.config import load
from dokiem.collector.service import Collector
from dokiem.contract import result_topic, status_topic
from testkit.agentkit import make_result
from testkit.brokers import Broker
from testkit.collectorkit import TOKEN, api_get, collector_config, thanh_hoa_site, wait_influx, wait_stored
from testkit.influx import Influx

AGENT = "th-380-001"


def result_with(**changes: Any) -> bytes:
    """A valid result's JSON with some keys replaced (at any depth, dotted); a new download figure
    comes with the bytes that make it (unless the change names them too)."""
    data = json.loads(make_result(0).model_copy(update={"site": thanh_hoa_site()}).to_json())
    if isinstance(changes.get("download_mbps"), float) and "bytes_down" not in changes:
        changes["bytes_down"] = round(changes["download_mbps"] * 1e6 / 8 * data["method"]["measured_down_s"])
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        target = data
        for parent in parents:
            target = target.setdefault(parent, {})
        target[key] = value
    return json.dumps(data).encode()


def status_with(**changes: Any) -> bytes:
    return json.dumps({"state": "online", "agent_id": AGENT, **changes}).encode()


# (what, topic kind, payload, reason): every payload the issue found crashing or stalling the collector
HOSTILE: list[tuple[str, str, bytes, str]] = [
    ("schedule is a number", "status", b'{"agent_id":"th-380-001","schedule":1}', "schema"),
    ("schedule is a number, online", "status", status_with(schedule=1), "schema"),
    ("version is an object", "status", status_with(version={}), "schema"),
    (
        "a 30-digit version",
        "status",
        b'{"state":"online","agent_id":"th-380-001","version":' + b"1" * 30 + b"}",
        "schema",
    ),
    ("a lone surrogate", "status", b'{"state":"online","agent_id":"th-380-001","last_error":"\\ud800"}', "not_json"),
    (
        "a surrogate as bytes",
        "status",
        b'{"state":"online","agent_id":"th-380-001","last_error":"\xed\xa0\x80"}',
        "not_json",
    ),
    (
        "30,000 nested levels",
        "status",
        b'{"state":"online","agent_id":"th-380-001","health":' + b"[" * 30_000 + b"]" * 30_000 + b"}",
        "not_json",
    ),
    (
        "a 400-digit cpu_pct",
        "status",
        b'{"state":"online","agent_id":"th-380-001","health":{"cpu_pct":' + b"9" * 400 + b"}}",
        "schema",
    ),
    ("interval 5e-324", "status", status_with(schedule={"interval_minutes": 5e-324}), "schema"),
    ("a 60 KB status", "status", status_with(last_error="x" * 60_000), "schema"),
    ("a boolean outbox depth", "status", status_with(outbox={"depth": True}), "schema"),
    ("NaN health", "status", b'{"state":"online","agent_id":"th-380-001","health":{"cpu_pct":NaN}}', "schema"),
    ("1e400 health", "status", b'{"state":"online","agent_id":"th-380-001","health":{"load1":1e400}}', "schema"),
    ("a newline in isp", "result", result_with(**{"site.isp": "VNPT\nx=1"}), "schema"),
    ("a newline in server.id", "result", result_with(server={"id": "a\nb", "url": "http://s.vn/"}), "schema"),
    ("bytes_down past int64", "result", result_with(bytes_down=2**70), "schema"),
    ("a boolean byte count", "result", result_with(bytes_up=True), "schema"),
    ("1e400 cpu_seconds", "result", result_with(agent_load={"cpu_seconds": 1e400, "cpu_pct_of_core": 1}), "schema"),
    ("39,670 Mbit/s", "result", result_with(download_mbps=39_670.0), "out_of_bounds"),
    ("a formula for an ISP", "result", result_with(**{"site.isp": "=HYPERLINK(x)"}), "schema"),
    (
        "an unknown update outcome",
        "status",
        status_with(update={"version": "0.2.0", "outcome": "hacked", "at": "2026-11-30T00:00:00Z"}),
        "schema",
    ),
    ("an update with no time", "status", status_with(update={"version": "0.2.0", "outcome": "refused"}), "schema"),
    (
        "a server on the moon",
        "result",
        result_with(server={"id": "s1", "url": "http://s.vn/", "location": "moon"}),
        "schema",
    ),
    (
        "moved bytes past a petabyte",
        "result",
        result_with(method={"name": "dokiem-http", "version": "1", "moved_down_bytes": 10**16}),
        "schema",
    ),
]


@pytest.mark.parametrize(("what", "kind", "payload", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_a_hostile_message_is_kept_and_the_province_goes_on(
    influx: Influx, running: Collector, what: str, kind: str, payload: bytes, reason: str
) -> None:
    topic = result_topic(AGENT) if kind == "result" else status_topic(AGENT)
    good = make_result(1).model_copy(update={"site": thanh_hoa_site()})
    async with aiomqtt.Client("127.0.0.1", running.config.broker.port) as client:
        await client.publish(topic, payload, qos=1, retain=kind == "status")
        await client.publish(result_topic(AGENT), good.to_json(), qos=1)
    await wait_stored(running, lambda: running.archive.results.count() == 1 and running.stats["quarantined"] == 1)
    (kept,) = running.archive.quarantine.listed()
    assert (kept.reason, kept.agent_id, kept.topic) == (reason, AGENT, topic)
    assert kept.payload == payload[: running.limits.max_bytes] and kept.size == len(payload)
    await wait_influx(influx, "SELECT count(download_mbps) FROM speedtest", 1)
    for path in ("/api/agents", "/metrics", "/api/results?format=csv", "/api/quarantine"):
        assert await api_get(running, path)  # 200, not 500
    listed = json.loads(await api_get(running, f"/api/quarantine?reason={reason}"))
    assert [item["id"] for item in listed] == [kept.id]


async def test_a_retained_bad_status_does_not_crash_loop_the_collector(
    tmp_path: Path, broker: Broker, influx: Influx
) -> None:
    """The retained message comes again at every restart: each restart keeps it, and keeps running."""
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        await client.publish(status_topic(AGENT), status_with(schedule=1), qos=1, retain=True)
    config = collector_config(tmp_path, broker, influx)
    for _ in range(2):
        collector = Collector(config)
        started = asyncio.Event()
        task = asyncio.create_task(collector.run(started))
        await asyncio.wait_for(collector.subscribed.wait(), 10)
        await wait_stored(collector, lambda c=collector: c.stats["quarantined"] == 1)
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        collector.archive.close()
    reopened = Collector(config)
    assert [k.reason for k in reopened.archive.quarantine.listed()] == ["schema", "schema"]


async def test_a_refused_result_is_readmitted_after_the_limit_is_fixed(tmp_path: Path, broker: Broker) -> None:
    strict = Collector(collector_config(tmp_path, broker, None))
    payload = result_with(download_mbps=39_670.0)  # a loopback run, truly this fast
    strict.handle([(result_topic(AGENT), payload, lambda: None)])
    assert strict.archive.results.count() == 0 and strict.archive.quarantine.counts() == {"out_of_bounds": 1}
    assert strict.requeue() == {"out_of_bounds": 1}  # still refused: kept, under the same reason
    assert strict.archive.quarantine.counts() == {"out_of_bounds": 1}
    strict.archive.close()
    env = {"DOKIEM_DATA_DIR": str(tmp_path / "collector"), "DOKIEM_LIMITS_MAX_MBPS": "50000"}
    fixed = Collector(load(None, environ=env))
    assert fixed.requeue(reason="out_of_bounds") == {"admitted": 1}
    assert fixed.archive.results.count() == 1 and fixed.archive.quarantine.listed() == []


async def test_influxdb_refusing_a_point_never_stalls_the_writer(influx: Influx, running: Collector) -> None:
    """A field type conflict (an older schema wrote streams_down as a float) makes InfluxDB answer 400 for
    every result that carries streams_down: those are quarantined, the others written, and later ones too."""
    good = [make_result(i).model_copy(update={"site": thanh_hoa_site()}) for i in range(3)]
    conflicting = make_result(9).model_copy(update={"site": thanh_hoa_site()})
    conflicting = conflicting.model_copy(update={"method": conflicting.method.model_copy(update={"streams_down": 4})})
    stamp = int(conflicting.started_at.timestamp() * 1000)
    body = f"speedtest,agent=old streams_down=4.5 {stamp}".encode()
    urllib.request.urlopen(urllib.request.Request(f"{influx.url}/write?db=dokiem&precision=ms", data=body), timeout=10)
    async with aiomqtt.Client("127.0.0.1", running.config.broker.port) as client:
        for result in [good[0], conflicting, good[1]]:
            await client.publish(result_topic(AGENT), result.to_json(), qos=1)
    await wait_influx(influx, "SELECT count(download_mbps) FROM speedtest", 2)
    await wait_stored(running, lambda: running.archive.quarantine.counts() == {"influx_refused": 1})
    (kept,) = running.archive.quarantine.listed()
    assert json.loads(kept.payload)["result_id"] == str(conflicting.result_id)
    assert running.archive.results.pending_count() == 0  # nothing left to retry for ever
    async with aiomqtt.Client("127.0.0.1", running.config.broker.port) as client:
        await client.publish(result_topic(AGENT), good[2].to_json(), qos=1)
    await wait_influx(influx, "SELECT count(download_mbps) FROM speedtest", 3)


async def test_the_first_copy_of_a_result_id_wins_everywhere(influx: Influx, running: Collector) -> None:
    first = make_result(0).model_copy(update={"site": thanh_hoa_site()})
    second = first.model_copy(update={"download_mbps": 999.0, "bytes_down": round(999.0 * 1e6 / 8 * 10)})
    async with aiomqtt.Client("127.0.0.1", running.config.broker.port) as client:
        await client.publish(result_topic(AGENT), first.to_json(), qos=1)
        await client.publish(result_topic(AGENT), second.to_json(), qos=1)
    await wait_stored(running, lambda: running.stats["accepted"] + running.stats["duplicates"] == 2)
    await wait_influx(influx, "SELECT count(download_mbps) FROM speedtest", 1)
    assert influx.scalar("SELECT last(download_mbps) FROM speedtest") == first.download_mbps
    assert (
        json.loads(running.archive.results.payload_of(str(first.result_id)) or "{}")["download_mbps"]
        == first.download_mbps
    )


async def test_csv_cells_cannot_start_a_formula(running: Collector) -> None:
    """An ISP is now filed under a listed name (a formula is refused as unknown_isp); an archive from before
    the list may still hold one, and the CSV must not let it run."""
    hostile = make_result(0).model_copy(update={"site": thanh_hoa_site().model_copy(update={"isp": "-2+3"})})
    running.handle([(result_topic(AGENT), hostile.to_json().encode(), lambda: None)])
    assert running.archive.quarantine.counts() == {"unknown_isp": 1}
    running.archive.results.add([hostile])  # as an older collector archived it
    csv_text = (await api_get(running, "/api/results?format=csv")).decode()
    assert ",'-2+3," in csv_text and ",-2+3," not in csv_text


@pytest.mark.parametrize("header", [b"Bearer \xff\xfe", b"Bearer \xc3\x28", "Bearer Đà Nẵng".encode(), b"\x00"])
async def test_an_undecodable_token_is_a_401(running: Collector, header: bytes) -> None:
    def get() -> int:
        import http.client

        connection = http.client.HTTPConnection(*running.config.http.listen.split(":"), timeout=10)
        connection.putrequest("GET", "/api/agents")
        connection.putheader("Authorization", header)
        connection.endheaders()
        return connection.getresponse().status

    try:
        status = await asyncio.to_thread(get)
    except urllib.error.URLError as exc:  # pragma: no cover - the server must answer
        raise AssertionError(exc) from exc
    assert status in (400, 401)  # aiohttp itself answers 400 to a NUL in a header; never a 500
    assert TOKEN not in str(status)

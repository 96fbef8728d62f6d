"""The collector against real Mosquitto and real InfluxDB: round trip, duplicates, outages,
every refusal reason, and hostile input."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest

from dokiem.agent.service import Agent
from dokiem.collector.config import load
from dokiem.collector.influx import result_line
from dokiem.collector.ingest import Message, receive
from dokiem.collector.published import PublishedMedians
from dokiem.collector.service import Collector
from dokiem.collector.validate import REASONS, Limits, Refusal, validate_result
from dokiem.contract import ErrorInfo, Result, Site, result_topic
from dokiem.files import COMMUNES_LEVEL, OPEN_DATA
from dokiem.regions import Regions
from dokiem.settings import ConfigError
from testkit.agentkit import config_for, make_result
from testkit.brokers import Broker
from testkit.collectorkit import (
    api_get,
    collector_config,
    thanh_hoa_site,
    wait_backlog_written,
    wait_influx,
    wait_stored,
)
from testkit.influx import Influx
from testkit.processes import free_port


async def test_round_trip_agent_to_influxdb(tmp_path: Path, broker: Broker, influx: Influx, running: Collector) -> None:
    agent = Agent(config_for(tmp_path / "agent", broker.url))
    results = [make_result(i).model_copy(update={"site": thanh_hoa_site()}) for i in range(10)]
    for r in results:
        agent.queue(r)
    assert await agent.publisher.drain_once(10)
    await wait_stored(running, lambda: running.archive.results.count() == 10)
    await wait_influx(influx, "SELECT count(download_mbps) FROM speedtest", 10)
    series = influx.query("SELECT mean(download_mbps) FROM speedtest WHERE district = '380' GROUP BY isp")
    assert series[0]["tags"] == {"isp": "VNPT"}
    assert series[0]["values"][0][1] == pytest.approx(sum(r.download_mbps or 0 for r in results) / 10)
    # the dashboards' tags: names as the region files spell them, whatever the agent sent
    names = influx.query('SHOW TAG VALUES FROM speedtest WITH KEY = "district_name"')
    assert [value for _, value in names[0]["values"]] == ["Thành phố Thanh Hóa"]


async def test_heartbeats_reach_influxdb_with_the_site_and_missed_runs(
    tmp_path: Path, broker: Broker, influx: Influx, running: Collector
) -> None:
    agent = Agent(config_for(tmp_path / "agent", broker.url))
    for i in range(3):
        agent.queue(make_result(i).model_copy(update={"site": thanh_hoa_site("381")}))
    assert await agent.publisher.drain_once(10)
    await wait_stored(running, lambda: running.archive.results.count() == 3)
    status = {"agent_id": "th-380-001", "state": "online", "health": {"temperature_c": 51.5},
              "outbox": {"depth": 4}, "schedule": {"interval_minutes": 60}}  # fmt: skip
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        await client.publish("dokiem/v1/th-380-001/status", json.dumps(status), qos=1)
    await wait_influx(influx, "SELECT count(temperature_c) FROM agent_health", 1)  # (the agent's own heartbeats too)
    (series,) = influx.query("SELECT * FROM agent_health WHERE temperature_c > 0")
    row = dict(zip(series["columns"], series["values"][0], strict=True))
    assert row["district_name"] == "Thị xã Bỉm Sơn" and row["temperature_c"] == 51.5 and row["outbox_depth"] == 4
    assert row["runs_received"] == 3 and row["runs_expected"] >= 1


async def test_duplicates_are_stored_once(broker: Broker, influx: Influx, running: Collector) -> None:
    r = make_result()
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        for _ in range(3):
            await client.publish(result_topic(r.agent_id), r.to_json(), qos=1)
    await wait_stored(running, lambda: running.stats["accepted"] + running.stats["duplicates"] == 3)
    assert running.archive.results.count() == 1 and running.stats["duplicates"] == 2
    await wait_influx(influx, "SELECT count(download_mbps) FROM speedtest", 1)


async def test_influxdb_outage_is_replayed_with_nothing_lost_or_doubled(
    broker: Broker, influx: Influx, running: Collector
) -> None:
    await wait_influx(influx, "SHOW DATABASES", "dokiem")  # the writer has created its database
    influx.stop()
    results = [make_result(i) for i in range(50)]
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        for r in results:
            await client.publish(result_topic(r.agent_id), r.to_json(), qos=1)
        await wait_stored(running, lambda: running.archive.results.count() == 50)
        assert running.archive.results.pending_count() == 50
        influx.start()
        await wait_backlog_written(running, timeout=60)
        assert influx.scalar("SELECT count(download_mbps) FROM speedtest") == 50
        for r in results[:10]:  # replays of results InfluxDB already has overwrite themselves
            await client.publish(result_topic(r.agent_id), r.to_json(), qos=1)
    await wait_stored(running, lambda: running.stats["duplicates"] == 10)
    assert running.archive.results.mark_for_reindex(datetime.now(UTC) - timedelta(days=1)) == 50
    await wait_backlog_written(running)
    assert influx.scalar("SELECT count(download_mbps) FROM speedtest") == 50


def shifted(result: Result, by: timedelta) -> bytes:
    moved = {"started_at": result.started_at + by, "finished_at": result.finished_at + by}
    return result.model_copy(update=moved).to_json().encode()


def test_every_refusal_reason() -> None:
    good = make_result()
    now = datetime.now(UTC)
    limits = Limits(max_bytes=4096, max_mbps=20_000)
    cases = {
        "too_large": ("th-380-001", b"{" + b" " * 5000 + b"}"),
        "not_json": ("th-380-001", b"\xff\xfe not json"),
        "schema": ("th-380-001", json.dumps({"agent_id": "th-380-001"}).encode()),
        "topic_mismatch": ("someone-else", good.to_json().encode()),
        "in_future": ("th-380-001", shifted(good, timedelta(hours=2))),
        "too_old": ("th-380-001", shifted(good, -timedelta(days=5000))),
        "out_of_bounds": ("th-380-001", good.model_copy(update={"download_mbps": 50_000.0}).to_json().encode()),
        "unknown_region": ("th-380-001", good.model_copy(update={"site": Site(province_code="99")}).to_json().encode()),
        "inconsistent": ("th-380-001", good.model_copy(update={"bytes_down": 10}).to_json().encode()),
        "unknown_isp": ("th-380-001", good.model_copy(update={"site": Site(isp="VNPT 0900")}).to_json().encode()),
    }  # fmt: skip
    for reason, (agent, payload) in cases.items():
        with pytest.raises(Refusal) as info:
            validate_result(agent, payload, limits, now, regions=Regions.load())
        assert info.value.reason == reason
    with pytest.raises(Refusal) as posing:  # an agent posing as a resident: residents come by their own door
        validate_result("th-380-001", good.model_copy(update={"source": "resident"}).to_json().encode(), limits, now)
    assert posing.value.reason == "inconsistent" and "source" in posing.value.detail
    # bad_topic is the topic's, internal_error and influx_refused the service's (tests/test_quarantine.py), rate
    # the service's too (tests/test_trust.py), the residents' those of tests/test_vouching.py, their "no signal"
    # reports' those of tests/test_nosignal.py
    residents = {"ticket_invalid", "ticket_expired", "ticket_replayed", "summary_invalid", "summary_mismatch"}
    reports = {"inaccurate", "outside", "not_a_cell", "duplicate"}
    assert set(cases) | {"bad_topic", "internal_error", "influx_refused", "rate"} | residents | reports == set(REASONS)


async def test_refusals_are_counted_by_reason_and_never_stored(broker: Broker, running: Collector) -> None:
    good = make_result()
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        await client.publish("dokiem/v1/th-380-001/result", b"not json", qos=1)
        await client.publish("dokiem/v1/intruder/result", good.to_json(), qos=1)
        await client.publish("dokiem/v1/th-380-001/status", b'{"state": "online", "agent_id": "intruder"}', qos=1)
        await client.publish(result_topic(good.agent_id), good.to_json(), qos=1)
    await wait_stored(
        running, lambda: running.archive.results.count() == 1 and sum(running.refusals.counts.values()) == 3
    )
    assert running.refusals.counts == {"not_json": 1, "topic_mismatch": 2}
    metrics = (await api_get(running, "/metrics")).decode()
    assert 'dokiem_messages_refused_total{reason="topic_mismatch"} 2' in metrics
    assert "dokiem_archive_results 1" in metrics


async def test_api_results_agents_and_token(tmp_path: Path, broker: Broker, running: Collector) -> None:
    agent = Agent(config_for(tmp_path / "agent", broker.url))
    agent.queue(make_result(1).model_copy(update={"site": thanh_hoa_site("380")}))
    agent.queue(make_result(2).model_copy(update={"site": thanh_hoa_site("381")}))
    assert await agent.publisher.drain_once(10)
    await wait_stored(running, lambda: running.archive.results.count() == 2 and running.stats["statuses"] >= 1)
    rows = json.loads(await api_get(running, "/api/results?district=381"))
    assert [r["site"]["district_code"] for r in rows] == ["381"]
    csv_text = (await api_get(running, "/api/results?format=csv")).decode()
    assert csv_text.splitlines()[0].startswith("result_id,agent_id") and len(csv_text.splitlines()) == 3
    agents = json.loads(await api_get(running, "/api/agents"))
    assert agents[0]["agent_id"] == "th-380-001" and agents[0]["results"] == 2
    assert json.loads(await api_get(running, "/healthz", token=None))["status"] == "ok"
    for token in (None, "wrong"):
        with pytest.raises(urllib.error.HTTPError) as info:
            await api_get(running, "/api/agents", token=token)
        assert info.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as bad:
        await api_get(running, "/api/results?since=yesterday")
    assert bad.value.code == 400


def test_line_protocol_escapes_tags_and_keeps_failed_runs() -> None:
    site = Site(district_code="380", isp="Viettel Telecom,VN")  # the site's codes can no longer hold ' ', ',' or '='
    failed = make_result().model_copy(update={"site": site, "download_mbps": None,
                                              "error": ErrorInfo(code="server_busy", message="503")})  # fmt: skip
    line = result_line(failed)
    assert line is not None and "district=380" in line and "isp=Viettel\\ Telecom\\,VN" in line
    assert "failed=1i" in line and ",error=server_busy" in line and "download_mbps" not in line


async def test_push_config_reaches_the_agent_and_a_bad_one_never_leaves_the_desk(
    tmp_path: Path, broker: Broker
) -> None:
    import subprocess
    import sys

    good = tmp_path / "fleet.json"
    good.write_text(json.dumps({"version": "q3", "schedule": {"interval_minutes": 20},
                                "measure": {"servers": ["http://st.example.vn/"]}}))  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schedule": {"interval_minutes": "often"}}))
    env = {"DOKIEM_BROKER_URL": broker.url, "PATH": "/usr/bin:/bin"}
    push = lambda f: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "dokiem", "collector", "push-config", "--agent", "th-380-001", "--file", str(f)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    refused = push(bad)
    assert refused.returncode == 1 and "schedule.interval_minutes" in refused.stderr
    assert push(good).returncode == 0
    agent = Agent(config_for(tmp_path / "agent", broker.url))
    task = asyncio.create_task(agent.publisher.run())
    try:
        async with asyncio.timeout(20):
            while agent.state.fleet_version != "q3":
                agent.publisher.status_changed.clear()
                await agent.publisher.status_changed.wait()
    finally:
        task.cancel()
    assert agent._take_new_period_config().schedule.interval_minutes == 20


async def test_shared_subscription_splits_the_stream(tmp_path: Path, broker: Broker) -> None:
    collectors = []
    tasks = []
    for i in range(2):
        env = {"DOKIEM_BROKER_URL": broker.url, "DOKIEM_DATA_DIR": str(tmp_path / f"c{i}"),
               "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{free_port()}", "DOKIEM_COLLECTOR_SHARED_GROUP": "dokiem",
               "DOKIEM_COLLECTOR_CLIENT_ID": f"collector-{i}",
               "DOKIEM_LIMITS_UNSCHEDULED_RUNS_PER_HOUR": "1000"}  # fmt: skip
        c = Collector(load(None, environ=env))
        started = asyncio.Event()
        tasks.append(asyncio.create_task(c.run(started)))
        await started.wait()
        collectors.append(c)
    for c in collectors:
        await asyncio.wait_for(c.subscribed.wait(), 10)
    results = [make_result(i) for i in range(40)]
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        for r in results:
            await client.publish(result_topic(r.agent_id), r.to_json(), qos=1)
    async with asyncio.timeout(20):
        while True:
            for c in collectors:
                c.stored.clear()
            if sum(c.archive.results.count() for c in collectors) >= 40:
                break
            stored = [asyncio.create_task(c.stored.wait()) for c in collectors]
            await asyncio.wait(stored, return_when=asyncio.FIRST_COMPLETED)
            for t in stored:
                t.cancel()
    for t in tasks:
        t.cancel()
    counts = [c.archive.results.count() for c in collectors]
    assert sum(counts) == 40 and all(n > 0 for n in counts)  # each result once, both collectors working


def test_the_example_collector_config_is_valid() -> None:
    from testkit.processes import REPO

    config = load(REPO / "deploy" / "collector" / "collector.example.toml", environ={})
    assert config.influx.url is not None and config.broker.tls


async def test_results_published_while_the_collector_is_down_arrive_when_it_returns(
    tmp_path: Path, broker: Broker
) -> None:
    config = collector_config(tmp_path, broker, None)

    async def start() -> tuple[Collector, asyncio.Task[None]]:
        collector = Collector(config)
        started = asyncio.Event()
        task = asyncio.create_task(collector.run(started))
        await started.wait()
        await asyncio.wait_for(collector.subscribed.wait(), 10)
        return collector, task

    first, task = await start()
    task.cancel()  # the collector goes away; its persistent session stays at the broker
    with contextlib.suppress(asyncio.CancelledError):
        await task
    first.archive.close()
    results = [make_result(i) for i in range(20)]
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        for r in results:
            await client.publish(result_topic(r.agent_id), r.to_json(), qos=1)
    second, task = await start()
    await wait_stored(second, lambda: second.archive.results.count() == 20)
    task.cancel()


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ('[http]\ntrusted_proxies = ["nginx.local"]\n', r"line 2, key http\.trusted_proxies\[0\]: .*IPv4 or IPv6"),
        ("[http]\ntrusted_proxies = " + json.dumps(["127.0.0.1"] * 21) + "\n", r"key http\.trusted_proxies: .*20"),
        ("[residents]\nmax_per_second = 0\n", r"line 2, key residents\.max_per_second: .*greater than 0"),
        ("[influx]\nlinger_s = -0.1\n", r"line 2, key influx\.linger_s: .*greater than or equal to 0"),
        ('[influx]\nlinger_s = "soon"\n', r"line 2, key influx\.linger_s: .*number"),
    ],
)
def test_a_bad_setting_is_refused_where_it_stands(tmp_path: Path, toml: str, said: str) -> None:
    path = tmp_path / "collector.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=said):
        load(path, environ={})


def test_the_writers_linger_is_set_from_the_environment_and_a_bad_one_is_refused_naming_it() -> None:
    assert load(None, environ={"DOKIEM_INFLUX_LINGER_S": "0.5"}).influx.linger_s == 0.5
    said = r"DOKIEM_INFLUX_LINGER_S \(key influx\.linger_s\): .*less than or equal to 10"
    with pytest.raises(ConfigError, match=said):
        load(None, environ={"DOKIEM_INFLUX_LINGER_S": "60"})


def test_the_published_medians_read_only_what_the_site_shows_and_survive_a_broken_file(tmp_path: Path) -> None:
    """The residents' page's comparison comes from the site's communes file: a held-back or malformed row
    gives nothing, a broken file gives nothing (and the page still works), a new file is read again."""
    communes = tmp_path / OPEN_DATA / f"{COMMUNES_LEVEL}.json"
    communes.parent.mkdir()
    published = PublishedMedians(tmp_path)
    assert published.medians() == {}  # nothing published yet
    communes.write_text("{not json")
    assert published.medians() == {}
    rows = [{"code": "14797", "access": "fixed", "published": True, "tests": 400,
             "download_median_mbps": 210.5, "upload_median_mbps": 190.0},
            {"code": "14758", "access": "fixed", "published": False, "tests": 20,
             "download_median_mbps": 99.0, "upload_median_mbps": 9.0},
            {"code": "14812", "access": "fixed", "published": True, "download_median_mbps": "fast"},
            "a line", None, {"published": True}]  # fmt: skip
    communes.write_text(json.dumps(rows))
    os.utime(communes, (1, 1))  # a new mtime, whatever the clock's grain
    assert published.medians() == {"14797": {"fixed": {"download_mbps": 210.5, "upload_mbps": 190.0, "tests": 400}}}


@pytest.mark.parametrize("answer", ["_on_connect", "_on_subscribe"])
async def test_a_receiver_told_to_stop_as_the_broker_answers_stops(
    tmp_path: Path, broker: Broker, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    """Python 3.11's asyncio.wait_for, under every aiomqtt wait, keeps the broker's answer and loses a
    cancellation that lands in the same turn of the loop: a collector stopped as its SUBACK came in waited for
    messages for ever (a CI run hung in a test's teardown). The stop is made to land exactly there: the
    broker's answer (CONNACK, SUBACK) handed over, then the receiver cancelled, in one callback."""
    receiver: list[asyncio.Task[None]] = []
    handed_over = getattr(aiomqtt.Client, answer)

    def hand_over_then_stop(self: aiomqtt.Client, *args: object) -> None:
        handed_over(self, *args)
        if receiver and not receiver[0].cancelling():
            receiver[0].cancel()

    monkeypatch.setattr(aiomqtt.Client, answer, hand_over_then_stop)
    config = collector_config(tmp_path, broker, None)
    subscribed: list[bool] = []
    queue: asyncio.Queue[Message] = asyncio.Queue()
    receiver.append(
        asyncio.create_task(receive(config.broker, "stopping", None, queue, lambda up, _: subscribed.append(up)))
    )
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(60):  # without the fix: a TimeoutError, the receiver still waiting
            await receiver[0]
    assert subscribed == []  # it stopped before it called itself subscribed

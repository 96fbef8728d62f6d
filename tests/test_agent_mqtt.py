"""The agent against a real Mosquitto: publish, outage and drain, credentials, TLS, fleet config,
last will, kill -9 — every committed result arrives (duplicates carry the same result_id)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dokiem.agent.service import Agent
from dokiem.contract import config_topic, resend_topic
from dokiem.fleet import ResendRequest
from testkit.agentkit import config_for, make_result, write_config
from testkit.brokers import Broker, Recorder, add_password, make_ca, running_broker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with running_broker(tmp_path) as b:
        yield b


async def test_queued_results_are_published_and_leave_the_outbox(tmp_path: Path, broker: Broker) -> None:
    agent = Agent(config_for(tmp_path, broker.url))
    results = [make_result(i) for i in range(5)]
    async with Recorder(broker) as collector:
        for r in results:
            agent.queue(r)
        assert await agent.publisher.drain_once(10)
        await collector.wait_for(lambda: len(collector.results) >= 5)
    assert collector.result_ids() == [str(r.result_id) for r in results]  # oldest first
    assert agent.outbox.depth() == 0 and agent.outbox.stats().sent == 5


async def test_outage_then_drain_oldest_first(tmp_path: Path) -> None:
    # The recorder keeps its session across the outage, as the collector does (mosquitto persists it), so
    # whatever the agent sends the moment the broker is back is kept for it: no race with its subscribing.
    broker = Broker(tmp_path, persistent=True)
    broker.start()
    kept = {"identifier": "recorder", "clean_session": False}
    async with Recorder(broker, **kept):
        pass
    agent = Agent(config_for(tmp_path, broker.url))
    broker.stop()
    task = asyncio.create_task(agent.publisher.run())
    results = [make_result(i) for i in range(20)]
    for r in results:
        agent.queue(r)
    assert agent.outbox.depth() == 20 and not agent.state.connected
    broker.start()
    try:
        async with Recorder(broker, **kept) as collector:
            await collector.wait_for(lambda: len(set(collector.result_ids())) >= 20, timeout=60)
        async with asyncio.timeout(30):  # the broker forwards a message before the agent has its PUBACK
            while agent.outbox.depth():
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        broker.stop()
    ids = list(dict.fromkeys(collector.result_ids()))
    assert ids == [str(r.result_id) for r in results]


async def test_wrong_password_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    passwords = tmp_path / "passwd"
    add_password(passwords, "th-380-001", "right")
    add_password(passwords, "collector", "c")
    with running_broker(tmp_path, password_file=passwords) as broker:
        wrong = Agent(config_for(tmp_path / "w", broker.url, broker={"password": "wrong"}))
        wrong.queue(make_result())
        assert not await wrong.publisher.drain_once(10)
        assert wrong.outbox.depth() == 1
        assert wrong.state.last_error and "credentials" in wrong.state.last_error
        right = Agent(config_for(tmp_path / "r", broker.url, broker={"password": "right"}))
        right.queue(make_result())
        async with Recorder(broker, username="collector", password="c") as collector:
            assert await right.publisher.drain_once(10)
            await collector.wait_for(lambda: collector.results)


async def test_tls_with_the_provinces_ca(tmp_path: Path) -> None:
    ca, cert, key = make_ca(tmp_path)
    with running_broker(tmp_path, tls=(ca, cert, key)) as broker:
        trusted = Agent(config_for(tmp_path / "t", broker.url, broker={"ca_file": str(ca)}))
        trusted.queue(make_result())
        assert await trusted.publisher.drain_once(10)
        untrusted = Agent(config_for(tmp_path / "u", broker.url))
        untrusted.queue(make_result())
        assert not await untrusted.publisher.drain_once(10)
        assert untrusted.state.last_error and "certificate" in untrusted.state.last_error
        assert untrusted.outbox.depth() == 1


async def test_status_heartbeat_carries_health_and_outbox(tmp_path: Path, broker: Broker) -> None:
    agent = Agent(config_for(tmp_path, broker.url))
    async with Recorder(broker) as collector:
        agent.queue(make_result())
        await agent.publisher.drain_once(10)
        await collector.wait_for(lambda: collector.status)
    status = collector.status[0]
    assert status["state"] == "online" and status["agent_id"] == "th-380-001"
    assert {"cpu_pct", "memory_pct", "disk_pct", "uptime_s"} <= set(status["health"])  # type: ignore[arg-type]
    assert "depth" in status["outbox"]  # type: ignore[operator]


async def publish_retained(broker: Broker, topic: str, payload: str) -> None:
    import aiomqtt

    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        await client.publish(topic, payload, qos=1, retain=True)


async def test_a_resend_request_is_served_once_and_a_bad_one_is_refused(tmp_path: Path, broker: Broker) -> None:
    """Issue 32: a restored collector's request puts back what was acknowledged since; garbage, an oversized
    body, a time without its zone and a withdrawn request change nothing, and the same request id twice is
    served once. Each is processed in order on the one connection, so the next result is the synchronisation."""
    agent = Agent(config_for(tmp_path, broker.url))
    first = [make_result(n) for n in range(3)]
    topic = resend_topic("th-380-001")
    async with Recorder(broker) as collector:
        task = asyncio.create_task(agent.publisher.run())
        for result in first:
            agent.queue(result)
        await collector.wait_for(lambda: len(collector.results) == 3)
        for bad in ("not json", "{" + " " * 4096 + "}", json.dumps({"request_id": str(uuid.uuid4()),
                    "since": "2026-01-01T00:00:00"}), ""):  # fmt: skip
            await publish_retained(broker, topic, bad)
        request = ResendRequest(request_id=uuid.uuid4(), since=datetime(2020, 1, 1, tzinfo=UTC)).to_json()
        await publish_retained(broker, topic, request)
        await collector.wait_for(lambda: len(collector.results) == 6)
        await publish_retained(broker, topic, request)  # seen again (a reconnect): served already
        agent.queue(make_result(10))
        await collector.wait_for(lambda: len(collector.results) == 7)
        async with asyncio.timeout(10):  # its acknowledgement, handled in this same loop
            while agent.outbox.depth():
                await asyncio.sleep(0.05)
        task.cancel()
    assert collector.result_ids()[3:6] == [str(r.result_id) for r in first]  # oldest first, each once more
    assert len(collector.results) == 7 and agent.outbox.kept_sent() == 4


async def test_fleet_config_applies_next_period_and_a_bad_one_is_refused(tmp_path: Path, broker: Broker) -> None:
    agent = Agent(config_for(tmp_path, broker.url))
    good = {"version": "2026-11-a", "schedule": {"interval_minutes": 30, "heavy_hours": ["0-6"]},
            "measure": {"servers": ["http://speedtest.thanhhoa.vn/"]}}  # fmt: skip
    await publish_retained(broker, config_topic("th-380-001"), json.dumps(good))
    async with Recorder(broker) as collector:
        task = asyncio.create_task(agent.publisher.run())
        await collector.wait_for(
            lambda: any(s.get("config", {}).get("fleet_version") == "2026-11-a" for s in collector.status)
        )  # type: ignore[union-attr]
        assert agent.config.schedule.interval_minutes == 0  # not before the next period
        assert agent._take_new_period_config().schedule.interval_minutes == 30
        assert (tmp_path / "data" / "fleet-config.json").exists()

        bad = {"schedule": {"interval_minutes": -5}}
        await publish_retained(broker, config_topic("th-380-001"), json.dumps(bad))
        await collector.wait_for(lambda: any(s.get("config", {}).get("error") for s in collector.status))  # type: ignore[union-attr]
        task.cancel()
    refused = [s for s in collector.status if s.get("config", {}).get("error")][-1]  # type: ignore[union-attr]
    assert "interval_minutes" in refused["config"]["error"]  # type: ignore[index]
    assert agent._take_new_period_config().schedule.interval_minutes == 30  # the old one stays
    # a restart keeps the accepted config
    assert Agent(config_for(tmp_path, broker.url)).config.schedule.interval_minutes == 30


async def test_run_over_the_monthly_budget_is_skipped_and_reported(tmp_path: Path, broker: Broker) -> None:
    config = config_for(
        tmp_path, broker.url, schedule={"monthly_budget_mb": 100}, site={"plan_down_mbps": 50, "plan_up_mbps": 10}
    )
    agent = Agent(config)
    agent.outbox.add_usage(time.strftime("%Y-%m"), 95_000_000)
    result = await agent.run_heavy(config, period_end=time.time() + 3600)
    assert result.error is not None and result.error.code == "budget_exhausted"
    assert agent.outbox.depth() == 1 and agent.state.skipped_runs == 1


def start_agent(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dokiem", "agent", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def killed_at_the_end(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """The agent process, killed and reaped however the block ends (a failed wait must not leak it)."""
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


async def test_last_will_says_offline_when_the_agent_dies(tmp_path: Path, broker: Broker) -> None:
    path = write_config(tmp_path, broker.url)
    async with Recorder(broker) as collector:
        proc = start_agent(path)
        await collector.wait_for(lambda: any(s["state"] == "online" for s in collector.status))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        await collector.wait_for(lambda: collector.status[-1]["state"] == "offline")


async def test_nothing_lost_through_kill_9_and_broker_restarts(tmp_path: Path) -> None:
    """N committed results; the agent is SIGKILLed and the broker restarted at random moments. The broker
    keeps sessions and the subscriber's is persistent, as in the field: with a clean session, what the
    agent publishes before the subscriber is back after a restart is dropped by the broker, not lost by
    the agent."""
    with running_broker(tmp_path / "broker", persistent=True) as broker:
        await _kill_and_restart(tmp_path, broker)


async def _kill_and_restart(tmp_path: Path, broker: Broker) -> None:
    n = 300
    path = write_config(tmp_path, broker.url)
    agent = Agent(config_for(tmp_path, broker.url))
    results = [make_result(i) for i in range(n)]
    expected = [str(r.result_id) for r in results]
    for r in results:
        agent.queue(r)
    agent.outbox.close()
    rng = random.Random(int(os.environ.get("DOKIEM_TEST_SEED", "3")))
    async with Recorder(broker, identifier="recorder", clean_session=False) as collector:
        for _ in range(6):
            with killed_at_the_end(start_agent(path)) as proc:
                target = min(n, len(set(collector.result_ids())) + rng.randint(10, 60))
                await collector.wait_for(lambda t=target: len(set(collector.result_ids())) >= t, timeout=60)
                if rng.random() < 0.5:
                    broker.stop()
                    broker.start()
                proc.send_signal(signal.SIGKILL)
        with killed_at_the_end(start_agent(path)):
            await collector.wait_for(lambda: len(set(collector.result_ids())) >= n, timeout=120)
    received = collector.result_ids()
    assert set(received) == set(expected)
    assert len(received) >= n  # QoS 1 may deliver twice; the id is the same, so a collector dedups


def test_once_with_the_broker_down_queues_and_status_shows_it(
    tmp_path: Path, broker: Broker, testserver_url: str
) -> None:
    path = write_config(tmp_path, broker.url, measure={"servers": [testserver_url]})
    broker.stop()
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "dokiem", *a, "--config", str(path)], capture_output=True, text=True, timeout=120
    )
    once = run("agent", "once", "--send-timeout", "3")
    assert once.returncode == 0, once.stderr
    assert "Tải xuống" in once.stdout and "hàng đợi" in once.stderr
    status = json.loads(run("agent", "status", "--json").stdout)
    assert status["outbox"]["depth"] == 1 and status["last_results"][0]["download_mbps"] > 0
    assert status["connected"] is False and status["last_error"]
    broker.start()
    assert run("agent", "once", "--send-timeout", "20").returncode == 0
    assert json.loads(run("agent", "status", "--json").stdout)["outbox"] == {
        "depth": 0, "sent": 2, "dropped_age": 0, "dropped_size": 0, "oldest_queued_at": None,
    }  # fmt: skip
    human = run("agent", "status")
    assert "Hàng đợi" in human.stdout and "0 kết quả" in human.stdout


async def test_light_runs_measure_latency_without_speed_tests(
    tmp_path: Path, broker: Broker, testserver_url: str
) -> None:
    config = config_for(
        tmp_path, broker.url, schedule={"light_interval_minutes": 0.05}, measure={"servers": [testserver_url]}
    )
    agent = Agent(config, rng=random.Random(5))
    task = asyncio.create_task(agent._light_loop())
    try:
        await asyncio.wait_for(agent.publisher.queued.wait(), 30)  # set when a result is committed
    finally:
        task.cancel()
    light = json.loads(agent.outbox.oldest(1)[0].payload)
    assert light["latency_ms"] > 0 and "download_mbps" not in light and "upload_mbps" not in light

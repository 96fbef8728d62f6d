"""Faults the agent lives through in a commune office: the broker restarting mid-drain, idle and
mid-measurement, a corrupt outbox, a full disk. The process never exits, nothing committed is lost,
and the heartbeat says what is wrong."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dokiem.agent.config import load
from dokiem.agent.outbox import Outbox
from dokiem.agent.schedule import month_key
from dokiem.agent.service import Agent
from dokiem.status import Fault
from testkit.agentkit import config_for, make_result, write_config
from testkit.brokers import Broker, Recorder, running_broker

PREFILLED = 3000  # enough that draining them takes a while: the broker is restarted in the middle


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    # persistent, so that what the broker acknowledged before a restart still reaches the recorder
    with running_broker(tmp_path, persistent=True) as b:
        yield b


def running_tests(testserver_url: str) -> int:
    with urllib.request.urlopen(testserver_url + "healthz", timeout=5) as answer:
        return int(json.load(answer)["tests_in_progress"])


def start_agent(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dokiem", "-v", "agent", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip


async def wait_until(predicate: object, timeout: float = 120) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.02)


def outbox_depth(data_dir: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{data_dir / 'outbox.db'}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


@pytest.mark.slow
async def test_agent_run_lives_through_three_broker_restarts(
    tmp_path: Path, broker: Broker, testserver_url: str
) -> None:
    schedule = {"interval_minutes": 0.5, "light_interval_minutes": 0}
    path = write_config(tmp_path, broker.url, schedule=schedule, measure={"servers": [testserver_url]})
    queued = Agent(load(path, environ={}))
    prefilled = [make_result(i) for i in range(PREFILLED)]
    for result in prefilled:
        queued.queue(result)
    queued.outbox.close()
    data_dir = tmp_path / "data"
    log = tmp_path / "agent.log"
    async with Recorder(broker, identifier="recorder", clean_session=False) as recorder:
        proc = start_agent(path, log)
        seen = lambda: set(recorder.result_ids())  # noqa: E731
        prefilled_ids = {str(r.result_id) for r in prefilled}
        # 1. during a drain: some of the prefilled results are through, many are not
        await wait_until(lambda: len(seen()) >= 200)
        broker.stop()
        assert outbox_depth(data_dir) > 0  # the drain was cut off, not finished
        broker.start()
        await wait_until(lambda: prefilled_ids <= seen())
        # 2. while idle: the outbox drained, no measurement running
        await wait_until(lambda: outbox_depth(data_dir) == 0 and running_tests(testserver_url) == 0)
        broker.stop()
        broker.start()
        # 3. during a measurement
        await wait_until(lambda: running_tests(testserver_url) > 0)
        broker.stop()
        broker.start()
        await wait_until(lambda: len(seen() - prefilled_ids) >= 2, timeout=180)
        assert proc.poll() is None, log.read_text()[-3000:]  # it never exited
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    state = json.loads((data_dir / "state.json").read_text())
    made = {r["result_id"] for r in state["last_results"]}
    received = recorder.result_ids()
    assert prefilled_ids <= set(received) and made <= set(received)  # every result arrived
    assert outbox_depth(data_dir) == 0
    assert "Traceback" not in log.read_text()


async def test_a_corrupt_outbox_is_moved_aside_and_the_heartbeat_says_so(tmp_path: Path, broker: Broker) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    garbage = b"this is not an SQLite database, a card that lost power mid-write" * 100
    (data_dir / "outbox.db").write_bytes(garbage)
    path = write_config(tmp_path, broker.url)
    async with Recorder(broker) as recorder:
        proc = start_agent(path, tmp_path / "agent.log")
        try:
            await recorder.wait_for(lambda: any(s.get("faults") == ["outbox_corrupt"] for s in recorder.status))
            assert proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(30)
    (aside,) = data_dir.glob("outbox.db.corrupt-*")
    assert aside.read_bytes() == garbage  # kept for inspection
    outbox = Outbox(data_dir / "outbox.db")
    outbox.put(make_result(1))
    assert outbox.depth() == 1 and outbox.integrity_ok()


def test_an_outbox_with_damaged_pages_is_moved_aside_on_open(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    for i in range(200):
        outbox.put(make_result(i))
    outbox.close()
    size = (tmp_path / "outbox.db").stat().st_size
    with (tmp_path / "outbox.db").open("r+b") as f:  # an SD card that lost pages in the middle of the file
        f.seek(size // 2)
        f.write(b"\xa5" * 8192)
    reopened = Outbox(tmp_path / "outbox.db")
    assert reopened.faults == {Fault.OUTBOX_CORRUPT}
    assert len(list(tmp_path.glob("outbox.db.corrupt-*"))) == 1
    later = make_result(1000)
    reopened.put(later)
    assert [q.result_id for q in reopened.oldest()] == [str(later.result_id)] and reopened.integrity_ok()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs: the SD card of a Pi whose logs filled it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system under ``folder`` to the last byte."""
    filler = folder / "filler"
    for block in (65536, 1):
        with contextlib.suppress(OSError), filler.open("ab", buffering=0) as f:
            while True:
                f.write(b"\0" * block)
    return filler


async def test_on_a_full_disk_the_agent_keeps_measuring_and_sends_from_memory(small_disk: Path, broker: Broker) -> None:
    config = config_for(small_disk, broker.url)
    agent = Agent(config)
    agent.queue(make_result(0))
    month_usage = agent.outbox.usage(month_key(time.time()))
    filler = fill(small_disk)
    month = month_key(time.time())
    held = [make_result(i).model_copy(update={"data_used_bytes": 1000}) for i in range(1, 6)]
    for result in held:
        agent.outbox.add_usage(month, 1000)  # what each run charges as it ends
        agent.queue(result)  # no exception: measured results are kept
    assert Fault.DISK_FULL in agent.outbox.faults
    assert agent.outbox.stats().held_in_memory == 5
    status = agent.publisher.status()
    assert status.faults == [Fault.DISK_FULL] and status.outbox is not None and status.outbox.held_in_memory == 5
    async with Recorder(broker) as recorder:
        assert await agent.publisher.drain_once(20)
        await recorder.wait_for(lambda: len(set(recorder.result_ids())) == 6)
        await recorder.wait_for(lambda: any("disk_full" in s.get("faults", []) for s in recorder.status))
    more = make_result(9).model_copy(update={"data_used_bytes": 500})
    agent.outbox.add_usage(month, 500)
    agent.queue(more)  # still full: held
    filler.unlink()  # space returns
    last = make_result(10)
    agent.queue(last)  # written, after what was held
    assert Fault.DISK_FULL not in agent.outbox.faults and agent.outbox.stats().held_in_memory == 0
    assert [q.result_id for q in agent.outbox.oldest()] == [str(more.result_id), str(last.result_id)]
    assert agent.outbox.usage(month_key(time.time())) == month_usage + 5 * 1000 + 500  # no data usage lost

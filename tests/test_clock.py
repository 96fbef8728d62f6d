"""A true clock: the agent waits a bounded time for NTP before a speed test and says so when it
measured anyway; every run records its offset against the test server's Date; the collector
files a run whose clock was far off at the server's time, flagged, never silently."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dokiem.agent.clock import kernel_synchronised, offset_from_date, wait_for_sync
from dokiem.agent.service import Agent
from dokiem.collector.validate import Limits, Refusal, validate_result
from dokiem.contract import Flag
from testkit.agentkit import config_for, make_result
from testkit.brokers import Broker


async def test_waiting_for_the_clock_is_bounded() -> None:
    answers = iter([False, False, True])
    assert await wait_for_sync(lambda: next(answers), max_wait_s=60, poll_s=0) is True
    assert await wait_for_sync(lambda: False, max_wait_s=0) is False  # gave up: measure, flagged
    assert await wait_for_sync(lambda: None, max_wait_s=60) is True  # nobody can tell: do not block
    assert kernel_synchronised() in (True, False, None)  # this machine's adjtimex answers, whatever it says


def test_the_offset_comes_from_the_servers_date() -> None:
    now = 1_790_000_000.0
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now - 90))
    assert offset_from_date(date, now) == -89.5  # our clock 90 s ahead (Date has whole seconds)
    assert offset_from_date("not a date", now) is None


async def test_an_unsynchronised_clock_flags_the_run_and_the_offset_is_recorded(
    tmp_path: Path, broker: Broker, testserver_url: str
) -> None:
    results = {}
    for synced in (False, True):
        config = config_for(tmp_path / str(synced), broker.url, measure={"servers": [testserver_url]},
                            schedule={"clock_wait_minutes": 0})  # fmt: skip
        agent = Agent(config, clock=lambda synced=synced: synced)
        results[synced] = await agent.run_heavy(config, period_end=time.time() + 3600)
    assert Flag.CLOCK_UNSYNCED in results[False].flags and Flag.CLOCK_UNSYNCED not in results[True].flags
    for result in results.values():
        assert result.error is None and result.clock_offset_s is not None and abs(result.clock_offset_s) < 2


def test_the_collector_files_a_run_far_off_at_the_servers_time() -> None:
    fake_hwclock = timedelta(days=400)  # a Pi that booted with last year's shutdown time
    result = make_result(1)
    late = result.model_copy(update={"started_at": result.started_at - fake_hwclock,
                                     "finished_at": result.finished_at - fake_hwclock,
                                     "clock_offset_s": fake_hwclock.total_seconds()})  # fmt: skip
    filed = validate_result(result.agent_id, late.to_json().encode(), Limits(retention_days=30))
    assert filed.started_at == result.started_at and Flag.CLOCK_OFFSET in filed.flags  # not refused as too old
    near = result.model_copy(update={"clock_offset_s": 1.5})
    kept = validate_result(result.agent_id, near.to_json().encode(), Limits())
    assert kept.started_at == result.started_at and Flag.CLOCK_OFFSET not in kept.flags


def test_an_offset_off_the_calendar_is_refused_not_crashed() -> None:
    far = make_result(1).model_copy(update={"started_at": datetime(9999, 12, 1, tzinfo=UTC),
                                            "finished_at": datetime(9999, 12, 1, 0, 1, tzinfo=UTC),
                                            "clock_offset_s": 1e10})  # fmt: skip
    with pytest.raises(Refusal) as refused:
        validate_result(far.agent_id, far.to_json().encode(), Limits())
    assert refused.value.reason == "out_of_bounds" and "clock_offset_s" in refused.value.detail

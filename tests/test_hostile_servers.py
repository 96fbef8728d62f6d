"""A test server cannot hurt the agent (issue 26): whatever header or body it sends ends in a Result
with a clear error code, never a traceback; the text it chooses is bounded and cleaned; the bytes a
run moves are charged to the month however the run ends; a failing run is not repeated in a period."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from dokiem.agent import measure as measure_module
from dokiem.agent.clock import offset_from_date
from dokiem.agent.measure import failed_result
from dokiem.agent.schedule import month_key
from dokiem.agent.service import MAX_RUNS_PER_PERIOD, Agent
from dokiem.contract import ErrorCode, Result, ServerLocation
from testkit.agentkit import config_for
from testkit.badservers import bad_server
from testkit.brokers import Broker
from testkit.processes import DOKIEM


@pytest.mark.parametrize(
    ("mode", "error"), [("date9999", None), ("control_chars", None), ("hugechunk", "protocol_error")]
)
def test_a_hostile_server_ends_in_a_result_never_a_traceback(mode: str, error: str | None) -> None:
    with bad_server(mode) as url:
        done = subprocess.run([*DOKIEM, "--lang", "en", "measure", "--server", url, "--json", "-q", "--max-seconds",
                               "3", "--ping-count", "0"], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "Traceback" not in done.stderr
    result = Result.from_json(done.stdout)
    assert (result.error.code if result.error else None) == error
    assert done.returncode == (1 if error else 0) and len(done.stderr.strip().splitlines()) <= 1
    if error is None:
        assert result.clock_offset_s is None  # a Date of year 9999, or none at all, says nothing of our clock
        assert result.download_mbps is not None and result.upload_mbps is not None
    else:
        assert result.error is not None and len(result.error.message) <= 300


def test_a_date_a_decade_away_is_no_clock_reading() -> None:
    now = time.time()
    assert offset_from_date("Fri, 31 Dec 9999 23:59:59 GMT", now) is None
    assert offset_from_date("Thu, 01 Jan 1970 00:00:00 GMT", now) is None
    assert offset_from_date(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 90)), now) == pytest.approx(
        90, abs=1
    )


def test_any_text_a_failure_carries_makes_a_valid_result() -> None:
    message = ("line one\nline two\x1b[31m\x00" * 500) + "\ud800"
    result = failed_result("th-380-001", ErrorCode.INTERNAL_ERROR, message)
    assert result.error is not None and len(result.error.message) <= 300
    assert Result.from_json(result.to_json()) == result
    assert all(ch.isprintable() for ch in result.error.message)


async def test_a_run_that_crashes_is_charged_the_bytes_it_moved(
    tmp_path: Path, broker: Broker, testserver_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object) -> Result:
        raise RuntimeError("a bug after the transfer\nwith a newline")

    monkeypatch.setattr(measure_module, "_result", crash)
    config = config_for(tmp_path, broker.url, measure={"servers": [testserver_url], "ping_count": 0},
                        schedule={"monthly_budget_mb": 100_000})  # fmt: skip
    agent = Agent(config)
    result = await agent.run_heavy(config, period_end=time.time() + 600)
    assert result.error is not None and result.error.code == ErrorCode.INTERNAL_ERROR
    assert "\n" not in result.error.message
    used = agent.outbox.usage(month_key(time.time()))
    assert used > 1_000_000 and result.data_used_bytes == used  # the bytes the crashed run moved count
    assert json.loads(agent.outbox.oldest(1)[0].payload)["error"]["code"] == "internal_error"


async def test_a_busy_server_is_tried_once_more_in_the_period_and_no_more(tmp_path: Path, broker: Broker) -> None:
    with bad_server("busy") as url:
        config = config_for(tmp_path, broker.url, schedule={"busy_retry_minutes": 0.1}, measure={"servers": [url]})
        agent = Agent(config)
        runs = []
        measure_and_charge = agent._measure_and_charge

        async def counted(*args: Any) -> list[Result]:
            runs.append(time.monotonic())
            return await measure_and_charge(*args)

        agent._measure_and_charge = counted  # type: ignore[method-assign]
        result = await agent.run_heavy(config, period_end=time.time() + 600)  # time for many retries
    assert len(runs) == MAX_RUNS_PER_PERIOD and runs[1] - runs[0] >= 6  # tried, waited, tried once more
    assert result.error is not None and result.error.code == "server_busy" and "server_busy" in result.flags
    assert agent.outbox.depth() == 1  # one run, one Result, however many tries


def test_a_speed_test_is_tried_at_most_twice_a_period(tmp_path: Path) -> None:
    agent = Agent(config_for(tmp_path, "mqtt://127.0.0.1:1"))
    period = 3600.0
    tries = [agent._may_try(ServerLocation.DOMESTIC, period) for _ in range(4)]
    assert tries == [True] * MAX_RUNS_PER_PERIOD + [False] * (4 - MAX_RUNS_PER_PERIOD)
    assert agent._may_try(ServerLocation.INTERNATIONAL, period)  # its own schedule
    assert agent._may_try(ServerLocation.DOMESTIC, 2 * period)  # the next period starts afresh

"""When to run: one slot at a random offset inside each period, so a fleet never tests in step."""

from __future__ import annotations

import math
import random
import time


def period_bounds(now: float, period_s: float) -> tuple[float, float]:
    """The period (aligned to the epoch) that contains ``now``."""
    start = math.floor(now / period_s) * period_s
    return start, start + period_s


def pick_slot(now: float, period_s: float, run_s: float, rng: random.Random | None = None) -> float:
    """A random start time in what is left of the current period, leaving room for the run."""
    start, end = period_bounds(now, period_s)
    earliest = max(now, start)
    latest = max(earliest, end - run_s)
    return (rng or random).uniform(earliest, latest)


def month_key(ts: float) -> str:
    """The calendar month (local time) a data budget counts in, e.g. '2026-11'."""
    return time.strftime("%Y-%m", time.localtime(ts))


def over_budget(used_bytes: int, next_run_bytes: int, budget_mb: float) -> bool:
    """Would the next run take the month's usage over the budget? (A budget of 0 is no budget.)"""
    return budget_mb > 0 and used_bytes + next_run_bytes > budget_mb * 1_000_000


def estimate_run_bytes(last_run_bytes: int | None, plan_down_mbps: float | None, plan_up_mbps: float | None,
                       seconds_per_direction: float) -> int:  # fmt: skip
    """What the next speed test will likely move: the last one's usage, else the plan's rates."""
    if last_run_bytes:
        return last_run_bytes
    rate = (plan_down_mbps or 0) + (plan_up_mbps or 0)
    return int(rate * 1e6 / 8 * seconds_per_direction)

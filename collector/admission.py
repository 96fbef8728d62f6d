"""What the collector knows of each agent when it admits a result: the site it was enrolled at, and how
many results its schedule makes in an hour (more, with slack, is a flood: refused as ``rate``).

Both are read from the fleet registry, which enrolment (another process) and heartbeats write; they are
kept a short while in memory so that a batch of thousands costs a few queries, not thousands.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import datetime

from pydantic import ValidationError

from dokiem.collector.archive import Archive
from dokiem.contract import Result, Site
from dokiem.status import Status

REREAD_S = 30.0  # enrolment and heartbeats reach the collector within this
HOUR_MS = 3_600_000
# Runs an hour may hold beyond the schedule's: a speed test's one retry, a light run's, clocks, slack.
RATE_SLACK = 2.0
RATE_BURST = 4
MAX_KEPT = 200_000  # entries a cache holds before it starts afresh (memory stays bounded)


class EnrolledSites:
    def __init__(self, archive: Archive) -> None:
        self._archive = archive
        self._read: dict[str, tuple[float, Site | None]] = {}

    def of(self, agent_id: str) -> Site | None:
        """The site ``agent_id`` was enrolled at; None for an agent never enrolled."""
        now = time.monotonic()
        cached = self._read.get(agent_id)
        if cached is not None and now - cached[0] < REREAD_S:
            return cached[1]
        raw = self._archive.registry.site_of(agent_id)
        site = None
        if raw is not None:
            try:
                site = Site.model_validate(raw)
            except ValidationError:
                site = None  # a registry row no enrolment wrote: the agent is treated as never enrolled
        if len(self._read) > MAX_KEPT:
            self._read.clear()
        self._read[agent_id] = (now, site)
        return site


def runs_per_hour(status: Status | None, unscheduled: int) -> int:
    """How many results an agent with this heartbeat's schedule may start in one hour; ``unscheduled`` for
    one that has not told its schedule, or whose schedule runs nothing (its runs are started by hand)."""
    schedule = status.schedule if status is not None else None
    per_hour = 0.0
    if schedule is not None:
        for minutes, tries in ((schedule.interval_minutes, 2), (schedule.light_interval_minutes, 1),
                               (schedule.international_interval_minutes, 2)):  # fmt: skip
            if minutes:
                per_hour += tries * 60 / minutes
    return math.ceil(per_hour * RATE_SLACK) + RATE_BURST if per_hour else unscheduled


class RateGuard:
    """Counts each agent's archived results by hour of measuring (their start), and says which of a new
    batch would take an hour past what the agent's schedule makes."""

    def __init__(self, archive: Archive, unscheduled: int) -> None:
        self._archive = archive
        self._unscheduled = unscheduled
        self._counts: dict[tuple[str, int], int] = {}
        self._allowed: dict[str, tuple[float, int]] = {}

    def over(self, results: Iterable[Result]) -> list[Result]:
        """The results of a batch that are one too many for their agent's hour; the others are counted
        as if archived (a duplicate of an archived result is neither counted nor refused)."""
        batch = [r for r in results]
        known = self._archive.results.known({str(r.result_id) for r in batch})
        self._load({(r.agent_id, _hour(r.started_at)) for r in batch} - self._counts.keys())
        refused = []
        for result in batch:
            if str(result.result_id) in known:
                continue
            key = (result.agent_id, _hour(result.started_at))
            count = self._counts[key]
            if count >= self._allowed_for(result.agent_id):
                refused.append(result)
                continue
            self._counts[key] = count + 1
            known.add(str(result.result_id))
        return refused

    def forget(self, results: Iterable[Result]) -> None:
        """Results counted by ``over`` that were not archived after all."""
        for result in results:
            key = (result.agent_id, _hour(result.started_at))
            if key in self._counts:
                self._counts[key] -= 1

    def _load(self, keys: set[tuple[str, int]]) -> None:
        """The archive's counts of these (agent, hour)s, one query an agent for the whole batch (issue 37)."""
        if len(self._counts) + len(keys) > MAX_KEPT:
            self._counts.clear()
        hours: dict[str, list[int]] = {}
        for agent, hour in keys:
            hours.setdefault(agent, []).append(hour)
        for agent, wanted in hours.items():
            counted = self._archive.results.count_started_by_hour(agent, min(wanted), max(wanted) + 1, HOUR_MS)
            self._counts.update({(agent, hour): counted.get(hour, 0) for hour in wanted})

    def _allowed_for(self, agent_id: str) -> int:
        now = time.monotonic()
        cached = self._allowed.get(agent_id)
        if cached is not None and now - cached[0] < REREAD_S:
            return cached[1]
        allowed = runs_per_hour(self._archive.registry.status_of(agent_id), self._unscheduled)
        self._allowed[agent_id] = (now, allowed)
        return allowed


def _hour(moment: datetime) -> int:
    return int(moment.timestamp() * 1000) // HOUR_MS

"""``dokiem agent survey``: a coverage survey while the agent is driven or carried (issue 30).

Every ``sample_seconds`` a sample: the position source's last fix and the modem's registration, SIM and
radio read at that moment. A fix no rule can place is dropped and counted (``FixRules``: no fix, accuracy
worse than the bound, a fix older than the bound, a speed from the last kept fix no vehicle makes). Now and
then (``test_every_s`` or ``test_every_m``, where the modem has service) a short speed test against the first
``[measure]`` server rides on a sample: its figures say whether the service there is usable (under 2 Mbit/s
it is not); its bytes count in the month's usage. Samples gather into a batch that goes into the outbox
every ``batch_seconds`` (and at the end), so a stretch with no network — the point of a survey — costs
nothing: the batches wait and go when the modem is back.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dokiem.agent.config import AgentConfig, SurveySection
from dokiem.agent.measure import MeasureRequest, measure_any
from dokiem.agent.outbox import Outbox
from dokiem.agent.probes.http import SpeedSettings
from dokiem.agent.probes.position import GpsdLocation, ModemLocation, PositionReader
from dokiem.agent.probes.radio import ModemState, modem_state
from dokiem.agent.schedule import month_key
from dokiem.agent.servers import configured_server
from dokiem.contract import Result, ServerLocation
from dokiem.settings import parse_listen
from dokiem.survey import MAX_SAMPLES, DropReason, Position, PositionSource, SurveyBatch, SurveySample
from dokiem.thresholds import CoverageRules

EARTH_RADIUS_M = 6_371_000.0


def distance_m(a: Position, b: Position) -> float:
    """Great-circle distance (haversine): plenty for fixes seconds apart."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi, dlambda = phi2 - phi1, math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass
class FixRules:
    """Which fixes place a sample (the bounds are ``[coverage]``'s in the thresholds file)."""

    rules: CoverageRules
    dropped: Counter[DropReason] = field(default_factory=Counter)  # since the last batch: it says them
    total: Counter[DropReason] = field(default_factory=Counter)  # since the survey began
    _last: Position | None = None

    def keep(self, fix: Position | None, now: datetime) -> Position | None:
        """The fix, or None (counted) when it cannot place a sample."""
        reason = self._fault(fix, now)
        if reason is not None:
            self.dropped[reason] += 1
            self.total[reason] += 1
            return None
        self._last = fix
        return fix

    def _fault(self, fix: Position | None, now: datetime) -> DropReason | None:
        if fix is None:
            return DropReason.NO_FIX
        fault = self.rules.fix_fault(fix.accuracy_m, (now - fix.fix_at).total_seconds())
        if fault is not None:
            return fault
        last = self._last
        if last is not None and fix.fix_at > last.fix_at:
            seconds = (fix.fix_at - last.fix_at).total_seconds()
            if distance_m(last, fix) / seconds * 3.6 > self.rules.max_speed_kmh:
                return DropReason.JUMP
        return None


def position_reader(config: SurveySection) -> list[PositionReader]:
    """The sources to try, in the config's order: ``auto`` tries the modem's GNSS, then gpsd."""
    gpsd = GpsdLocation(*parse_listen(config.gpsd))
    if config.position == PositionSource.MODEM.value:
        return [ModemLocation()]
    if config.position == PositionSource.GPSD.value:
        return [gpsd]
    return [ModemLocation(), gpsd]


async def found_position(candidates: list[PositionReader]) -> tuple[PositionReader | None, list[str]]:
    """The first source that is ready, and why each one before it was not."""
    why: list[str] = []
    for candidate in candidates:
        problem = await candidate.prepare()
        if problem is None:
            return candidate, why
        why.append(f"{candidate.source.value}: {problem}")
        candidate.close()
    return None, why


@dataclass
class SurveyTally:
    samples: int = 0
    batches: int = 0
    dropped: Counter[DropReason] = field(default_factory=Counter)
    without_service: int = 0
    tests: int = 0
    tests_failed: int = 0  # a test that gave no figure (the modem lost its network mid-test, a busy server)


Tester = Callable[[], Awaitable[Result]]


def speed_tester(config: AgentConfig) -> Tester | None:
    """A short run against the first ``[measure]`` server, both directions (None without a server or tests)."""
    entries = config.measure.entries(ServerLocation.DOMESTIC)
    if not entries or (config.survey.test_every_s <= 0 and config.survey.test_every_m <= 0):
        return None
    first, *others = (configured_server(entry) for entry in entries)
    settings = SpeedSettings.for_max_seconds(config.survey.test_max_seconds)
    request = MeasureRequest(server=first, fallbacks=others, agent_id=config.agent.id, site=config.site,
                             settings=settings, ping_count=0)  # fmt: skip
    return lambda: measure_any(request)


class Surveyor:
    def __init__(
        self, agent_id: str, config: SurveySection, rules: CoverageRules, outbox: Outbox, position: PositionReader,
        modem: Callable[[], Awaitable[ModemState]] = modem_state, on_batch: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC), tester: Tester | None = None,
    ) -> None:  # fmt: skip
        self.agent_id, self.config, self.outbox, self.position = agent_id, config, outbox, position
        self.fixes = FixRules(rules)
        self.modem = modem
        self.clock = clock
        self.tester = tester
        self._tested: tuple[datetime, Position] | None = None  # the last test: when and where
        self.on_batch = on_batch  # the publisher told there is something to send
        self.tally = SurveyTally(dropped=self.fixes.total)
        self._samples: list[SurveySample] = []
        self._batch_started = time.monotonic()

    async def run(self, duration_s: float, progress: Callable[[SurveyTally], None] = lambda t: None) -> SurveyTally:
        """Sample every ``sample_seconds`` for ``duration_s``; every batch into the outbox, the last at the end."""
        deadline = time.monotonic() + duration_s
        try:
            while time.monotonic() < deadline:
                tick = time.monotonic()
                await self.sample()
                progress(self.tally)
                if time.monotonic() - self._batch_started >= self.config.batch_seconds:
                    self.flush()
                await asyncio.sleep(max(0.0, min(self.config.sample_seconds - (time.monotonic() - tick),
                                                 deadline - time.monotonic())))  # fmt: skip
        finally:
            self.flush()
        return self.tally

    async def sample(self) -> SurveySample | None:
        fix, state = await asyncio.gather(self.position.read(), self.modem())
        now = self.clock()
        kept = self.fixes.keep(fix, now)
        if kept is None:
            return None
        sample = SurveySample(at=now, position=kept, registration=state.registration,
                              sim_operator_code=state.sim_operator_code, radio=state.radio)  # fmt: skip
        if self.tester is not None and state.registration.has_service and self._test_due(now, kept):
            sample = await self._tested_at(sample)
        self._samples.append(sample)
        self.tally.samples += 1
        self.tally.without_service += not state.registration.has_service
        if len(self._samples) >= MAX_SAMPLES:
            self.flush()
        return sample

    def _test_due(self, now: datetime, here: Position) -> bool:
        if self._tested is None:
            return True
        when, where = self._tested
        every_s, every_m = self.config.test_every_s, self.config.test_every_m
        return bool(
            (every_s and (now - when).total_seconds() >= every_s) or (every_m and distance_m(where, here) >= every_m)
        )

    async def _tested_at(self, sample: SurveySample) -> SurveySample:
        """The sample with a short test's figures (none where the test gave none); its bytes charged."""
        assert self.tester is not None
        self._tested = (sample.at, sample.position)
        result = await self.tester()
        self.tally.tests += 1
        moved = (result.bytes_down or 0) + (result.bytes_up or 0)
        if moved:
            self.outbox.add_usage(month_key(time.time()), moved)
        if result.error is not None or result.download_mbps is None:
            self.tally.tests_failed += 1
            return sample
        return sample.model_copy(update={"download_mbps": result.download_mbps, "upload_mbps": result.upload_mbps,
                                         "latency_ms": result.latency_ms})  # fmt: skip

    def flush(self) -> None:
        """The samples so far as one batch in the outbox, with what was dropped since the last batch."""
        self._batch_started = time.monotonic()
        if not self._samples:
            return
        dropped = {reason: n for reason, n in self.fixes.dropped.items() if n}
        self.outbox.put_survey(SurveyBatch(agent_id=self.agent_id, samples=self._samples, dropped=dropped))
        self.fixes.dropped.clear()
        self._samples = []
        self.tally.batches += 1
        self.on_batch()

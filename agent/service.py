"""The agent as a service: schedule ─► probes ─► Result ─► outbox, with the publisher beside it.

Speed tests run once per period at a random offset (heavy, limited to chosen hours, skipped
and reported when they would exceed a metered line's monthly budget); ping + DNS + HTTP
latency run more often (light). Runs never overlap. A 503 is retried later in the same period.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from dokiem.agent.clock import ClockSource, kernel_synchronised, wait_for_sync
from dokiem.agent.config import AgentConfig
from dokiem.agent.fleet import FleetStore
from dokiem.agent.measure import MeasureRequest, failed_result, measure_ip_versions, radio_reader
from dokiem.agent.outbox import Outbox
from dokiem.agent.probes.http import SpeedSettings
from dokiem.agent.probes.system import limit_malloc_arenas, release_memory
from dokiem.agent.publisher import Publisher
from dokiem.agent.router import Counters, RouterUnavailable, find_router, watch
from dokiem.agent.schedule import estimate_run_bytes, month_key, over_budget, period_bounds, pick_slot
from dokiem.agent.servers import configured_server
from dokiem.agent.state import AgentState
from dokiem.agent.systemd import Notifier
from dokiem.agent.update import note_wanted
from dokiem.contract import Access, ErrorCode, Flag, Result, ServerLocation
from dokiem.fleet import FleetConfig

log = logging.getLogger(__name__)
HEAVY_RUN_S = 45.0
MAX_RUNS_PER_PERIOD = 2  # a speed test and one retry (a 503, or a run that crashed its loop)
LIGHT_RUN_S = 10.0
IDLE_RECHECK_S = 60.0


def open_outbox(config: AgentConfig) -> Outbox:
    return Outbox(
        config.agent.data_dir / "outbox.db",
        max_age_s=config.outbox.max_age_days * 86_400,
        max_results=config.outbox.max_results,
        keep_sent_s=config.outbox.keep_sent_days * 86_400,
        keep_sent_max=config.outbox.keep_sent_max,
        memory_hold=config.agent.memory_hold,
    )


class Agent:
    def __init__(
        self, config: AgentConfig, rng: random.Random | None = None, clock: ClockSource = kernel_synchronised
    ) -> None:
        self.base = config
        self.rng = rng or random.Random()
        self._attempts: dict[tuple[ServerLocation, float], int] = {}  # speed tests tried, by period
        self.clock = clock  # is the system clock synchronised (injectable: tests, a Pi without adjtimex)
        limit_malloc_arenas()
        data_dir = config.agent.data_dir
        self.outbox = open_outbox(config)
        self.notifier = Notifier()
        self.state = AgentState.load(data_dir / "state.json") or AgentState(path=data_dir / "state.json")
        self.state.path = data_dir / "state.json"
        self.fleet = FleetStore(data_dir)
        self._fleet: FleetConfig | None = self.fleet.load()
        self._note_update()
        self.config = self._with_fleet()
        self._note_schedule()
        self.lock = asyncio.Lock()
        self.router: Counters | None = None  # the office router's counters, once found
        self.publisher = Publisher(config, self.outbox, self.state, self.on_fleet_config)
        self._last_heavy_bytes: int | None = None

    # --- fleet config ------------------------------------------------------------------

    def on_fleet_config(self, payload: bytes) -> str | None:
        fleet, refusal = self.fleet.accept(payload, self.base.with_fleet)
        if refusal is not None:
            self.state.config_error = refusal
        else:
            self._fleet = fleet
            self.state.config_error = None
            self.state.fleet_version = fleet.version if fleet else None
            self._note_update()
        self.state.save()
        self.publisher.status_changed.set()
        return refusal

    def _note_update(self) -> None:
        """Tell the updater (a separate, privileged service) which version the province wants."""
        try:
            note_wanted(self.base.agent.data_dir, self._fleet.update if self._fleet else None)
        except OSError as exc:
            log.warning("cannot note the wanted version: %s", exc.strerror or exc)

    def _with_fleet(self) -> AgentConfig:
        """The local config with the fleet config in force; the local one alone if they no longer fit."""
        if self._fleet is None:
            return self.base
        try:
            return self.base.with_fleet(self._fleet)
        except ValueError as exc:
            self.state.config_error = str(exc)
            return self.base

    def _take_new_period_config(self) -> AgentConfig:
        """The fleet config received since the last period takes effect now."""
        self.config = self._with_fleet()
        self._note_schedule()
        return self.config

    def _note_schedule(self) -> None:
        """The periods in force, for the heartbeat: the collector counts missed runs and floods against them."""
        schedule, measure = self.config.schedule, self.config.measure
        domestic, international = (bool(measure.entries(where)) for where in ServerLocation)
        self.state.interval_minutes = schedule.interval_minutes if domestic else 0
        self.state.light_interval_minutes = schedule.light_interval_minutes if domestic else 0
        self.state.international_interval_minutes = schedule.international_interval_minutes if international else 0

    # --- running -----------------------------------------------------------------------

    async def run(self) -> None:
        """Until a signal: no broker drop, failed run or disk fault ends the agent."""
        self.state.save()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.notifier.keep_alive(self.status_line))
            tasks.create_task(self.publisher.run())
            tasks.create_task(_keep_running("speed tests", self._heavy_loop))
            tasks.create_task(_keep_running("light runs", self._light_loop))
            tasks.create_task(_keep_running("international speed tests", self._international_loop))

    async def _heavy_loop(self) -> None:
        planned: tuple[float, float] | None = None  # (period, slot) picked ahead, for status
        while True:
            config = self._take_new_period_config()
            period = config.schedule.interval_minutes * 60
            if period <= 0:
                await asyncio.sleep(IDLE_RECHECK_S)
                continue
            now = time.time()
            slot = planned[1] if planned and planned[0] == period and planned[1] >= now else None
            slot = slot or pick_slot(now, period, HEAVY_RUN_S, self.rng)
            self._announce_next_run(slot)
            await _sleep_until(slot)
            period_start, period_end = period_bounds(slot, period)
            if config.schedule.heavy_allowed(datetime.now().hour) and self._may_try(ServerLocation.DOMESTIC,
                                                                                    period_start):  # fmt: skip
                await self.run_heavy(config, period_end)
            planned = (period, pick_slot(period_end, period, HEAVY_RUN_S, self.rng))
            self._announce_next_run(planned[1])
            await _sleep_until(period_end)  # a fleet config received meanwhile applies from here

    def status_line(self) -> str:
        """What ``systemctl status dokiem-agent`` shows: the next speed test and the outbox."""
        upcoming = self.state.next_run_at
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(upcoming)) if upcoming else "none planned"
        return f"next run {when}; outbox {self.outbox.depth()} result(s)"

    def _announce_next_run(self, when: float) -> None:
        self.state.next_run_at = when
        self.state.save()

    async def _light_loop(self) -> None:
        while True:
            period = self.config.schedule.light_interval_minutes * 60
            if period <= 0 or not self.config.measure.entries(ServerLocation.DOMESTIC):
                await asyncio.sleep(IDLE_RECHECK_S)
                continue
            slot = pick_slot(time.time(), period, LIGHT_RUN_S, self.rng)
            await _sleep_until(slot)
            async with self.lock:
                request = self._request(self.config, heavy=False)
                for result in await self._measure_and_charge(request, self.config.measure.ip_version):
                    self.queue(result)
            await _sleep_until(period_bounds(slot, period)[1])

    async def _international_loop(self) -> None:
        """Speed tests against international servers, on their own (slower) schedule: their figures say
        what the province's link to the world gives, and are tagged so they never mix with domestic ones."""
        while True:
            config = self.config
            period = config.schedule.international_interval_minutes * 60
            if period <= 0 or not config.measure.entries(ServerLocation.INTERNATIONAL):
                await asyncio.sleep(IDLE_RECHECK_S)
                continue
            slot = pick_slot(time.time(), period, HEAVY_RUN_S, self.rng)
            await _sleep_until(slot)
            period_start, period_end = period_bounds(slot, period)
            if config.schedule.heavy_allowed(datetime.now().hour) and self._may_try(ServerLocation.INTERNATIONAL,
                                                                                    period_start):  # fmt: skip
                await self.run_heavy(config, period_end, ServerLocation.INTERNATIONAL)
            await _sleep_until(period_end)

    def _may_try(self, location: ServerLocation, period_start: float) -> bool:
        """A speed test is tried at most twice a period (a run that crashed the loop is tried once more,
        not again and again): a metered line must not pay for a broken server many times over."""
        key = (location, period_start)
        self._attempts = {k: n for k, n in self._attempts.items() if k[1] >= period_start}  # past periods go
        self._attempts[key] = self._attempts.get(key, 0) + 1
        if self._attempts[key] > MAX_RUNS_PER_PERIOD:
            log.warning("%s speed test already tried %d times this period; waiting for the next",
                        location.value, MAX_RUNS_PER_PERIOD)  # fmt: skip
            return False
        return True

    async def _measure_and_charge(self, request: MeasureRequest, ip_version: str) -> list[Result]:
        """One run; the bytes it moved are charged to the month's usage however it ended."""
        try:
            return await _measure(request, ip_version)
        finally:
            if request.usage.total:
                self.outbox.add_usage(month_key(time.time()), request.usage.total)

    async def run_heavy(
        self, config: AgentConfig, period_end: float, location: ServerLocation = ServerLocation.DOMESTIC,
        defer_until: float | None = None,
    ) -> Result:  # fmt: skip
        """One speed test: skipped (and reported) over budget, tried once more later in the period on 503."""
        estimate = estimate_run_bytes(
            self._last_heavy_bytes, config.site.plan_down_mbps, config.site.plan_up_mbps, config.measure.max_seconds + 4
        )
        month = month_key(time.time())
        if over_budget(self.outbox.usage(month), estimate, config.schedule.monthly_budget_mb):
            self.state.skipped_runs += 1
            result = self._skipped(config, month, estimate)
            self.queue(result)
            return result
        # a Pi boots with the clock it shut down with: give NTP a bounded time, then say so in the Result
        synced = await wait_for_sync(self.clock, config.schedule.clock_wait_minutes * 60)
        router = await self._router(config)
        deferred, busy_before = None, False
        if router is not None:
            deferred, busy_before = await self._wait_for_quiet_line(config, router, defer_until or period_end)
        busy = False
        for attempt in range(MAX_RUNS_PER_PERIOD):
            request = self._request(config, heavy=True, location=location)
            request.router, request.router_poll_s = router, config.router.poll_seconds
            request.router_settle_s = config.router.settle_seconds
            # others' bytes are counted from a refresh only where there are others: a quiet line starts at once
            request.router_start_settle_s = config.router.settle_seconds if busy_before else 0.0
            request.busy_mbps, request.deferred = busy_mbps(config), deferred
            async with self.lock:
                results = await self._measure_and_charge(request, config.measure.ip_version)
            retry_at = time.time() + config.schedule.busy_retry_minutes * 60
            all_busy = all(r.error is not None and r.error.code == ErrorCode.SERVER_BUSY for r in results)
            if not all_busy or retry_at + HEAVY_RUN_S > period_end or attempt + 1 == MAX_RUNS_PER_PERIOD:
                break
            busy = True
            log.info("test server busy; retrying at %s", time.strftime("%H:%M", time.localtime(retry_at)))
            await _sleep_until(retry_at)
        added = [f for f, on in ((Flag.SERVER_BUSY, busy), (Flag.CLOCK_UNSYNCED, not synced)) if on]
        flagged = [r.model_copy(update={"flags": sorted({*r.flags, *added}, key=lambda f: f.value)}) for r in results]
        for result in flagged:  # one per IP version measured (two with ip_version = "both")
            self._last_heavy_bytes = result.data_used_bytes or self._last_heavy_bytes
            self.queue(result)
        return flagged[0]

    async def _router(self, config: AgentConfig) -> Counters | None:
        """The office router's counters, found once and kept (looked for again after a failure)."""
        if self.router is None and config.router.source != "none":
            try:
                self.router = await find_router(config.router)
            except RouterUnavailable as exc:
                log.warning("no router counters: %s", exc)
        return self.router

    async def _wait_for_quiet_line(self, config: AgentConfig, router: Counters, period_end: float) -> tuple[int, bool]:
        """Watch the line before the test; while others use it, wait and look again, within the period and
        up to ``max_defers`` times (then the run goes ahead, and is flagged if they go on). Returns the waits,
        and whether the line was still busy when the run went ahead."""
        section, limit = config.router, busy_mbps(config)
        deferred, busy = 0, False
        while deferred < section.max_defers:
            traffic = await watch(router, section.watch_seconds, section.poll_seconds, limit)
            if traffic is None:  # the router stopped answering: look for it again next time
                self.router = None
                break
            down, up = traffic.mbps()
            busy = down > limit[0] or up > limit[1]
            retry_at = time.time() + section.defer_minutes * 60
            if not busy or retry_at + HEAVY_RUN_S > period_end:
                break
            deferred += 1
            log.warning("the line is busy (%.1f down, %.1f up Mbit/s by others); trying again at %s", down, up,
                        time.strftime("%H:%M:%S", time.localtime(retry_at)))  # fmt: skip
            await _sleep_until(retry_at)
        return deferred, busy

    def queue(self, result: Result) -> None:
        """Commit the result before anything tries to send it (its bytes were charged as the run ended)."""
        self.outbox.put(result)
        self.state.record_result(result)
        self.publisher.queued.set()
        self.publisher.status_changed.set()

    def _request(
        self, config: AgentConfig, heavy: bool, location: ServerLocation = ServerLocation.DOMESTIC
    ) -> MeasureRequest:
        first, *others = (configured_server(entry) for entry in config.measure.entries(location))
        return MeasureRequest(
            server=first,
            fallbacks=others,
            agent_id=config.agent.id,
            site=config.site,
            settings=SpeedSettings.for_max_seconds(config.measure.max_seconds),
            download=heavy,
            upload=heavy,
            ping_count=config.measure.ping_count,
            dns_names=config.measure.dns_names,
            resolvers=config.measure.resolvers,
            radio=radio_reader(config.site.access),
            portal_check_url=config.measure.portal_check_url if config.site.access is Access.PUBLIC_WIFI else None,
        )

    def _skipped(self, config: AgentConfig, month: str, estimate: int) -> Result:
        used = self.outbox.usage(month)
        message = (
            f"skipped: the month's usage {used / 1e6:.0f} MB plus this run's ~{estimate / 1e6:.0f} MB "
            f"would exceed the {config.schedule.monthly_budget_mb:.0f} MB budget"
        )
        return failed_result(config.agent.id, ErrorCode.BUDGET_EXHAUSTED, message, config.site)


async def _measure(request: MeasureRequest, ip_version: str) -> list[Result]:
    """One run (a Result per IP version measured); a bug in a probe becomes a failed Result (counted
    like any other), not a dead agent. The run's buffers go back to the OS when it ends."""
    try:
        return await measure_ip_versions(request, ip_version)
    except Exception as exc:
        log.exception("the run failed unexpectedly")
        message = f"{type(exc).__name__}: {exc}"
        return [failed_result(request.agent_id, ErrorCode.INTERNAL_ERROR, message, request.site, request.usage.total)]
    finally:
        release_memory()


async def _keep_running(name: str, loop: Callable[[], Awaitable[None]]) -> None:
    """Run ``loop`` for ever: an unexpected error is logged and the loop starts again after a pause."""
    failures = 0
    while True:
        try:
            await loop()
        except Exception:
            failures += 1
            log.exception("the agent's %s stopped unexpectedly; starting them again", name)
            await asyncio.sleep(min(IDLE_RECHECK_S, 2.0**failures))


async def _sleep_until(when: float) -> None:
    delay = when - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


def busy_mbps(config: AgentConfig) -> tuple[float, float]:
    """Others' traffic (down, up) from which the line is busy: a share of the plan, or a fixed rate."""
    section, site = config.router, config.site
    return (section.busy_share * site.plan_down_mbps if site.plan_down_mbps else section.busy_mbps,
            section.busy_share * site.plan_up_mbps if site.plan_up_mbps else section.busy_mbps)  # fmt: skip

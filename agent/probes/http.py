"""The i-Speed/LibreSpeed-style test: latency and jitter, then download and upload.

Latency: repeated small GETs of ``empty`` on one kept-alive connection, the first excluded.
Throughput: several parallel HTTP streams; the byte counts come from the kernel (see
``tcpinfo``), sampled on a fixed tick; a warm-up is excluded; the stream count and the measured
time adapt to the line. Latency is sampled on a separate connection during the load.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from dokiem.agent.clock import offset_from_date
from dokiem.agent.probes.bulk import BulkStream
from dokiem.agent.probes.figures import edge_error, goodput_mbps, interval_rates, jitter
from dokiem.agent.probes.wire import Address, Head, HttpConnection, HttpFailure, open_connection, resolve
from dokiem.agent.servers import Server
from dokiem.contract import ErrorCode, ServerKind

METHOD_NAME = "dokiem-http"
METHOD_VERSION = "1"


@dataclass(frozen=True)
class SpeedSettings:
    """Knobs of the throughput phases; the defaults keep each direction under 15 s.

    A direction stops as soon as its figure is known: after the warm-up (streams sized at 0.5 s, then
    until two consecutive half seconds agree within 10%, which outlasts slow start and a shaper's
    burst), at least ``measure_min_s`` of samples and an ``edge_error`` under ``target_error`` (1%,
    half of the ±2% accuracy goal). A steady line stops at the floor; a bursty or drifting one runs
    on, up to ``measure_max_s``. Before issue 14 the floor was 5 s and the
    warm-up at least 1.5 s: a gigabit run moved 1.6 GB, now about half of that."""

    tick_s: float = 0.1
    sample_s: float = 0.5
    initial_streams: int = 2
    max_streams: int = 8
    warmup_min_s: float = 0.5
    warmup_max_s: float = 3.5
    measure_min_s: float = 2.0
    measure_max_s: float = 9.0
    target_error: float = 0.01
    connect_timeout_s: float = 3.0
    phase_budget_s: float = 15.0
    latency_count: int = 20
    latency_timeout_s: float = 5.0
    loaded_latency_every_s: float = 0.2
    download_chunk_mib: int = 100
    upload_blob_max: int = 8 << 20
    upload_blob_min: int = 64 << 10
    family: int = 0  # socket.AF_INET or AF_INET6 once chosen; 0: happy eyeballs decides

    @classmethod
    def for_max_seconds(cls, max_seconds: float) -> SpeedSettings:
        """Settings whose measured time per direction stays under ``max_seconds``."""
        defaults = cls()
        budget = defaults.warmup_max_s + max_seconds + 2.5  # 2.5 s for connecting and the last tick
        return cls(
            measure_max_s=max_seconds,
            measure_min_s=min(defaults.measure_min_s, max_seconds),
            phase_budget_s=max(defaults.phase_budget_s, budget),
        )


def streams_for(rate_mbps: float, settings: SpeedSettings) -> int:
    """How many parallel streams a line of this speed needs to be filled (and no more)."""
    if rate_mbps < 25:
        wanted = 2
    elif rate_mbps < 250:
        wanted = 4
    else:
        wanted = 6
    return max(settings.initial_streams, min(settings.max_streams, wanted))


# --- latency -----------------------------------------------------------------------------


@dataclass
class LatencyResult:
    rtts_ms: list[float]
    new_connections: int = 0  # samples taken on a new connection because the server closed the last one
    clock_offset_s: float | None = None  # the server's Date minus our clock
    family: int = 0  # the address family the first connection went over (happy eyeballs' choice)

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.rtts_ms) if self.rtts_ms else None

    @property
    def min_ms(self) -> float | None:
        return min(self.rtts_ms) if self.rtts_ms else None

    @property
    def jitter_ms(self) -> float | None:
        return jitter(self.rtts_ms)


def check_ping_response(head: Head) -> None:
    check_status(head, "ping")


def check_status(head: Head, what: str) -> None:
    if head.status == 503:
        retry = _retry_after(head.header("retry-after"))
        raise HttpFailure(
            ErrorCode.SERVER_BUSY,
            f"the server is busy (503) on {what}" + (f"; retry after {retry:.0f} s" if retry else ""),
            retry_after=retry,
        )
    if 300 <= head.status < 400:
        location = head.header("location") or "(no Location header)"
        raise HttpFailure(ErrorCode.REDIRECT, f"the server redirects {what} to {location}; use that URL instead")
    if head.status != 200:
        raise HttpFailure(ErrorCode.HTTP_STATUS, f"the server answered {head.status} {head.reason} on {what}")


def check_upload_response(head: Head) -> None:
    check_status(head, "upload")


def check_download_response(head: Head) -> None:
    check_status(head, "download")
    ctype = head.header("content-type").lower()
    if "html" in ctype or "json" in ctype:
        raise HttpFailure(
            ErrorCode.NOT_A_SPEEDTEST_SERVER,
            f"the download endpoint returned {ctype}, not test data: is this a LibreSpeed/i-Speed server?",
        )
    if head.header("content-encoding").lower() not in ("", "identity"):
        raise HttpFailure(ErrorCode.COMPRESSED, "the server compressed the test data; the figure would be false")


def _retry_after(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _cache_buster() -> str:
    return f"r={random.random():.12f}"


def ping_target(server: Server) -> str:
    query = f"x={time.time_ns()}" if server.kind is ServerKind.OOKLA else _cache_buster()
    return server.ping.with_query(query).target


async def timed_get(conn: HttpConnection, target: str) -> float:
    """One request/response on a warm connection, in milliseconds."""
    t0 = time.perf_counter()
    await conn.exchange("GET", target, check=check_ping_response)
    return (time.perf_counter() - t0) * 1000


async def measure_latency(server: Server, settings: SpeedSettings) -> LatencyResult:
    conn = await open_connection(server.ping, settings.connect_timeout_s, settings.family)
    family = conn.family  # with AF_UNSPEC, happy eyeballs chose it: every later connection keeps it
    rtts: list[float] = []
    reconnected = 0
    try:
        async with asyncio.timeout(settings.latency_timeout_s):
            warm = await conn.exchange("GET", ping_target(server), check=check_ping_response)  # not counted
            offset = offset_from_date(warm.head.header("date"), time.time())
            for _ in range(settings.latency_count):
                if conn.closed:  # the server said Connection: close: this sample goes on a new connection
                    conn.close()
                    conn = await open_connection(server.ping, settings.connect_timeout_s, family)
                    reconnected += 1  # the handshake is not timed, but the sample is on a fresh path: say so
                rtts.append(await timed_get(conn, ping_target(server)))
    except TimeoutError as exc:
        if not rtts:
            raise HttpFailure(
                ErrorCode.TIMEOUT, f"no answer to ping requests in {settings.latency_timeout_s:.0f} s"
            ) from exc
    finally:
        conn.close()
    return LatencyResult(rtts, reconnected, offset, family)


# --- throughput --------------------------------------------------------------------------


class UsageMeter:
    """Every byte a run moves, each direction, warm-up and failed phases included: what a metered line
    pays for, counted whether the phase ends well or not."""

    def __init__(self) -> None:
        self.total = 0

    def add(self, n_bytes: int) -> None:
        self.total += n_bytes


@dataclass
class PhaseResult:
    direction: str
    mbps: float
    bytes: int
    measured_s: float
    warmup_s: float
    streams: int
    samples_mbps: list[float]
    loaded_rtts_ms: list[float]
    total_bytes: int = 0  # everything moved, warm-up included (what a metered line pays for)
    kernel_counted: bool = True  # False: some stream's bytes were counted by the application

    @property
    def loaded_latency_ms(self) -> float | None:
        return statistics.median(self.loaded_rtts_ms) if self.loaded_rtts_ms else None


class SpeedPhase:
    """One direction of the throughput test, from the first connection to the last sample."""

    def __init__(
        self, server: Server, direction: str, settings: SpeedSettings, progress: Callable[[float], None],
        usage: UsageMeter,
    ) -> None:  # fmt: skip
        self.server = server
        self.direction = direction
        self.settings = settings
        self.progress = progress
        self.usage = usage
        self.streams: list[BulkStream] = []
        self.loaded_rtts: list[float] = []
        self._address: Address | None = None
        self._stop = asyncio.Event()
        self._measuring = False
        self._next_tick = time.monotonic()

    async def run(self) -> PhaseResult:
        try:
            async with asyncio.timeout(self.settings.phase_budget_s):
                result = await self._run()
        except TimeoutError as exc:
            raise HttpFailure(
                ErrorCode.TIMEOUT, f"the {self.direction} test did not finish in {self.settings.phase_budget_s:.0f} s"
            ) from exc
        finally:
            self._stop.set()
            for stream in self.streams:
                stream.stop()
            await asyncio.to_thread(self._join_streams)
            moved = sum(stream.moved() for stream in self.streams)
            self.usage.add(moved)
        result.total_bytes = moved
        result.kernel_counted = not any(stream.app_counted for stream in self.streams)
        return result

    def _join_streams(self) -> None:
        for stream in self.streams:
            stream.join(timeout=self.settings.connect_timeout_s)

    async def _run(self) -> PhaseResult:
        s = self.settings
        endpoint = self.server.download if self.direction == "download" else self.server.upload
        self._address = await resolve(endpoint, s.connect_timeout_s, s.family)
        self._add_streams(s.initial_streams)
        pinger = asyncio.create_task(self._loaded_pings())
        try:
            start, warmup = await self._warm_up()
            points = await self._measure(start)
        finally:
            pinger.cancel()
        t_end, b_end = points[-1]
        t0, b0 = points[0]
        if b_end - b0 <= 0:
            raise HttpFailure(ErrorCode.NO_DATA, f"no data moved during the {self.direction} test")
        return PhaseResult(
            direction=self.direction,
            mbps=goodput_mbps(b_end - b0, t_end - t0),
            bytes=b_end - b0,
            measured_s=t_end - t0,
            warmup_s=warmup,
            streams=len(self.streams),
            samples_mbps=interval_rates(points, s.sample_s),
            loaded_rtts_ms=self.loaded_rtts,
        )

    def _add_streams(self, count: int) -> None:
        assert self._address is not None
        download = self.direction == "download"
        for _ in range(count):
            stream = BulkStream(
                self.direction,
                self.server.download if download else self.server.upload,
                self._address,
                self._download_target if download else self._upload_target,
                check_download_response if download else check_upload_response,
                self.settings.connect_timeout_s,
                upload_blob=None if download else lambda size, took: _next_blob(size, took, self.settings),
            )
            stream.start()
            self.streams.append(stream)

    def _total(self) -> int:
        """Bytes moved by all streams so far; raises the first stream failure."""
        for stream in self.streams:
            if stream.failure is not None:
                raise stream.failure
        return sum(stream.moved() for stream in self.streams)

    async def _ticks(self) -> tuple[float, int]:
        """Sleep to the next tick of a fixed grid and read the counters.

        The time is read with the counters, so a late wake-up (a throttled CPU) shifts the
        sample but does not distort it.
        """
        now = time.monotonic()
        self._next_tick = max(self._next_tick + self.settings.tick_s, now)
        await asyncio.sleep(self._next_tick - now)
        return time.monotonic(), self._total()

    async def _warm_up(self) -> tuple[tuple[float, int], float]:
        """Run until the rate settles (streams added once the line's speed is known)."""
        s = self.settings
        t0 = time.monotonic()
        history: list[tuple[float, int]] = [(t0, 0)]
        adjusted_at: float | None = None
        while True:
            t, total = await self._ticks()
            history.append((t, total))
            elapsed = t - t0
            self.progress(_rate_since(history, t - 0.5))
            if adjusted_at is None and elapsed >= 0.5:
                rate = _rate_since(history, t - 0.5)
                wanted = streams_for(rate, s)
                self._add_streams(wanted - len(self.streams))
                adjusted_at = t
            settled = adjusted_at is not None and t - adjusted_at >= s.warmup_min_s and _stable(history, t)
            if settled or elapsed >= s.warmup_max_s:
                return (t, total), elapsed

    async def _measure(self, start: tuple[float, int]) -> list[tuple[float, int]]:
        """Sample until the figure is steady (or the time is up); returns the counter points."""
        s = self.settings
        self._measuring = True
        points = [start]
        t0 = start[0]
        while True:
            t, total = await self._ticks()
            points.append((t, total))
            self.progress(_rate_since(points, t - 0.5))
            elapsed = t - t0
            if elapsed >= s.measure_max_s:
                return points
            if elapsed >= s.measure_min_s and figure_known(interval_rates(points, s.sample_s), s):
                return points

    def _download_target(self) -> str:
        endpoint = self.server.download
        if self.server.kind is ServerKind.OOKLA:
            return endpoint.with_query(f"x={time.time_ns()}").target
        return endpoint.with_query(f"{_cache_buster()}&ckSize={self.settings.download_chunk_mib}").target

    def _upload_target(self) -> str:
        return self.server.upload.with_query(_cache_buster()).target

    async def _loaded_pings(self) -> None:
        """Latency under load, on its own connection; losing it costs the figure, not the run."""
        try:
            conn = await open_connection(self.server.ping, self.settings.connect_timeout_s, self.settings.family)
        except HttpFailure:
            return
        try:
            while not self._stop.is_set() and not conn.closed:
                rtt = await timed_get(conn, ping_target(self.server))
                if self._measuring:
                    self.loaded_rtts.append(rtt)
                await asyncio.sleep(self.settings.loaded_latency_every_s)
        except HttpFailure:
            return
        finally:
            conn.close()


def figure_known(samples: list[float], settings: SpeedSettings) -> bool:
    """The window's figure is known to ``target_error``, and its end does not cut a stall or the burst
    that follows one (a lost segment holds bytes back, then they count at once)."""
    if edge_error(samples) >= settings.target_error:
        return False
    mean = statistics.fmean(samples)
    return abs(samples[-1] - mean) <= 0.1 * mean


def _next_blob(current: int, took_s: float, settings: SpeedSettings) -> int:
    """Size the next POST to take about a second, so request gaps stay a small share of time."""
    if took_s <= 0:
        return settings.upload_blob_max
    wanted = int(current / took_s)
    return max(settings.upload_blob_min, min(settings.upload_blob_max, wanted))


def _rate_since(history: list[tuple[float, int]], since: float) -> float:
    t1, b1 = history[-1]
    for t, b in history:
        if t >= since - 1e-9:
            return goodput_mbps(b1 - b, t1 - t) if t1 > t else 0.0
    return 0.0


def _stable(history: list[tuple[float, int]], now: float) -> bool:
    """The last half second ran within 10% of the half second before it."""
    recent = _rate_between(history, now - 0.5, now)
    before = _rate_between(history, now - 1.0, now - 0.5)
    return before > 0 and abs(recent - before) <= 0.1 * before


def _rate_between(history: list[tuple[float, int]], start: float, end: float) -> float:
    inside = [(t, b) for t, b in history if start - 1e-9 <= t <= end + 1e-9]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return 0.0
    return goodput_mbps(inside[-1][1] - inside[0][1], inside[-1][0] - inside[0][0])


async def run_speed_phase(
    server: Server, direction: str, settings: SpeedSettings, progress: Callable[[float], None], usage: UsageMeter
) -> PhaseResult:
    return await SpeedPhase(server, direction, settings, progress, usage).run()

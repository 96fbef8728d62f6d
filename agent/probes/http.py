"""The i-Speed/LibreSpeed-style test: latency and jitter, then download and upload.

Latency: repeated small GETs of ``empty`` on one kept-alive connection, the first excluded.
Throughput: several parallel HTTP streams; the byte counts come from the kernel (see
``tcpinfo``), sampled on a fixed tick; a warm-up is excluded; the stream count and the measured
time adapt to the line. Latency is sampled on a separate connection during the load.
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from dokiem.agent.clock import offset_from_date
from dokiem.agent.probes.bulk import BulkStream
from dokiem.agent.probes.figures import edge_error, goodput_mbps, interval_rates, jitter
from dokiem.agent.probes.responsiveness import ProbeFailed, Probes, foreign_probe
from dokiem.agent.probes.wire import Address, Head, HttpConnection, HttpFailure, open_connection, resolve
from dokiem.agent.servers import Server
from dokiem.contract import ErrorCode, ServerKind

METHOD_NAME = "dokiem-http"
METHOD_VERSION = "2"  # 2: round-trip-aware warm-up, streams and windows, pipelined requests (issue 21)


@dataclass(frozen=True)
class SpeedSettings:
    """Knobs of the throughput phases; the defaults keep each direction under 15 s on a short path.

    A direction stops as soon as its figure is known: after the warm-up (streams sized after a first
    window, then until two consecutive windows agree within 10%, which outlasts slow start and a
    shaper's burst), at least ``measure_min_s`` of samples and an ``edge_error`` under ``target_error``
    (1%, half of the ±2% accuracy goal). A steady line stops at the floor; a bursty or drifting one
    runs on, up to ``measure_max_s``. Before issue 14 the floor was 5 s and the warm-up at least 1.5 s:
    a gigabit run moved 1.6 GB, now about half of that.

    The path's round trip (``rtt_ms``, from the latency phase) stretches what it must (issue 21): a
    window is at least two round trips (a rate over less is a burst of the ACK clock), slow start takes
    a number of round trips, not of seconds, and the figure's edges err by up to a window in flight."""

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
    upload_request_s: float = 1.0
    family: int = 0  # socket.AF_INET or AF_INET6 once chosen; 0: happy eyeballs decides
    rtt_ms: float = 0.0  # the path's idle round trip, once the latency phase knows it

    @property
    def rtt_s(self) -> float:
        return self.rtt_ms / 1000

    @property
    def window_s(self) -> float:
        """The span a rate is judged over: half a second, or four round trips on a longer path (a
        congestion window's growth shows over a few round trips, not within one)."""
        return max(self.sample_s, 4 * self.rtt_s)

    @property
    def warmup_cap_s(self) -> float:
        return self.warmup_max_s + 10 * self.rtt_s

    @property
    def measure_floor_s(self) -> float:
        """At least 20 round trips: after a loss, a long path's window regrows over seconds."""
        return max(self.measure_min_s, 20 * self.rtt_s)

    @property
    def measure_cap_s(self) -> float:
        return self.measure_max_s + 10 * self.rtt_s

    @property
    def first_streams(self) -> int:
        """Streams to start with: more on a long path, whose slow start the line's speed cannot yet tell."""
        return min(self.max_streams, max(self.initial_streams, 4 if self.rtt_s >= 0.1 else 0))

    @property
    def budget_s(self) -> float:
        return max(self.phase_budget_s, self.warmup_cap_s + self.measure_cap_s + 2.5)

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


# What one stream can keep in flight with Linux's default buffers (tcp_rmem's 6 MiB, half of it data;
# tcp_wmem's 4 MiB): a path whose bandwidth-delay product is larger needs more streams to be filled.
STREAM_WINDOW_BYTES = 2 << 20


def streams_for(rate_mbps: float, settings: SpeedSettings) -> int:
    """How many parallel streams a line of this speed and round trip needs to be filled (and no more)."""
    if rate_mbps < 25:
        wanted = 2
    elif rate_mbps < 250:
        wanted = 4
    else:
        wanted = 6
    in_flight = rate_mbps * 1e6 / 8 * settings.rtt_s
    wanted = max(wanted, math.ceil(in_flight / STREAM_WINDOW_BYTES))
    return max(settings.first_streams, min(settings.max_streams, wanted))


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


async def measure_latency(server: Server, settings: SpeedSettings, usage: UsageMeter | None = None) -> LatencyResult:
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
                    _charge(usage, conn)
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
        _charge(usage, conn)
        conn.close()
    return LatencyResult(rtts, reconnected, offset, family)


def _charge(usage: UsageMeter | None, conn: HttpConnection) -> None:
    if usage is not None:
        usage.add_wire(conn.wire_bytes())


# --- throughput --------------------------------------------------------------------------


class UsageMeter:
    """Every byte a run moves, each direction, warm-up and failed phases included: what a metered line
    pays for, counted whether the phase ends well or not."""

    def __init__(self) -> None:
        self.total = 0
        self.wire_in = 0  # everything on the interface each way, headers and the small requests included
        self.wire_out = 0

    def add(self, n_bytes: int) -> None:
        self.total += n_bytes

    def add_wire(self, in_out: tuple[int, int]) -> None:
        self.wire_in += in_out[0]
        self.wire_out += in_out[1]

    @property
    def wire(self) -> int:
        return self.wire_in + self.wire_out


@dataclass
class PathSeen:
    """The path as TCP saw it on the phase's own connections while the figure was taken (ndt7 records
    MinRTT and the retransmission rate the same way)."""

    min_rtt_ms: float | None = None
    loaded_rtt_ms: float | None = None  # median of the connections' round trips under load
    retransmitted_pct: float | None = None  # the sender's share of bytes sent again (upload: ours)
    congestion_control: str | None = None  # the sender's (upload: ours)


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
    window: tuple[float, float] | None = None  # the measured window (time.monotonic()): others' traffic is read over it
    path: PathSeen = field(default_factory=PathSeen)
    probes: Probes = field(default_factory=Probes)

    @property
    def loaded_latency_ms(self) -> float | None:
        return statistics.median(self.loaded_rtts_ms) if self.loaded_rtts_ms else None

    @property
    def responsiveness_rpm(self) -> float | None:
        return self.probes.rpm()


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
        self.probes = Probes()
        self._min_rtt_us: int | None = None
        self._address: Address | None = None
        self._stop = asyncio.Event()
        self._measuring = False
        self._next_tick = time.monotonic()

    async def run(self) -> PhaseResult:
        budget = self.settings.budget_s
        try:
            async with asyncio.timeout(budget):
                result = await self._run()
        except TimeoutError as exc:
            raise HttpFailure(ErrorCode.TIMEOUT, f"the {self.direction} test did not finish in {budget:.0f} s") from exc
        finally:
            self._stop.set()
            for stream in self.streams:
                stream.stop()
            await asyncio.to_thread(self._join_streams)
            moved = sum(stream.moved() for stream in self.streams)
            self.usage.add(moved)
            for stream in self.streams:
                self.usage.add_wire(stream.wire())
        result.total_bytes = moved
        result.kernel_counted = not any(stream.app_counted for stream in self.streams)
        result.path = self._path_seen()
        result.probes = self.probes
        return result

    def _join_streams(self) -> None:
        for stream in self.streams:
            stream.join(timeout=self.settings.connect_timeout_s)

    async def _run(self) -> PhaseResult:
        s = self.settings
        endpoint = self.server.download if self.direction == "download" else self.server.upload
        self._address = await resolve(endpoint, s.connect_timeout_s, s.family)
        self._add_streams(s.first_streams)
        prober = asyncio.create_task(self._probe())
        try:
            start, warmup = await self._warm_up()
            points = trim_start(await self._measure(start), s)
        finally:
            prober.cancel()
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
            window=(t0, t_end),
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

    def _read_path(self) -> None:
        """Each connection's round trip as TCP sees it now (the loaded probes), and the least yet seen."""
        for stream in self.streams:
            info = stream.path()
            if info is None:
                continue
            if info.min_rtt_us:
                self._min_rtt_us = min(self._min_rtt_us or info.min_rtt_us, info.min_rtt_us)
            rtt_us = info.rtt_us if self.direction == "upload" else info.rcv_rtt_us
            if self._measuring and rtt_us > 0:
                self.probes.loaded_ms.append(rtt_us / 1000)

    def _path_seen(self) -> PathSeen:
        loaded = self.probes.loaded_ms
        seen = PathSeen(
            min_rtt_ms=self._min_rtt_us / 1000 if self._min_rtt_us else None,
            loaded_rtt_ms=statistics.median(loaded) if loaded else None,
        )
        if self.direction == "upload":  # the sender's counts are ours only when we send
            sent, resent = (sum(pair) for pair in zip(*(s.sent_and_resent() for s in self.streams), strict=True))
            seen.retransmitted_pct = 100 * resent / sent if sent else None
            seen.congestion_control = next((s.congestion for s in self.streams if s.congestion), None)
        return seen

    async def _warm_up(self) -> tuple[tuple[float, int], float]:
        """Run until the rate settles: streams sized once the line's speed shows, again if the settled
        speed and the round trip need more (their slow start then runs, and the warm-up with it)."""
        s = self.settings
        t0 = time.monotonic()
        history: list[tuple[float, int]] = [(t0, 0)]
        adjusted_at: float | None = None
        while True:
            t, total = await self._ticks()
            history.append((t, total))
            self._read_path()
            elapsed = t - t0
            self.progress(_rate_since(history, t - s.sample_s))
            window = self._window_s()
            if adjusted_at is None and elapsed >= window:
                self._add_streams(self._streams_wanted(history, t, window))
                adjusted_at = t
            settled = adjusted_at is not None and t - adjusted_at >= max(s.warmup_min_s, window)
            settled = settled and _stable(history, t, window)
            if settled and elapsed < s.warmup_cap_s and (more := self._streams_wanted(history, t, window)) > 0:
                self._add_streams(more)
                adjusted_at, settled = t, False
            if settled or elapsed >= s.warmup_cap_s:
                return (t, total), elapsed

    def _streams_wanted(self, history: list[tuple[float, int]], now: float, window: float) -> int:
        """How many streams to add for the rate of the last window and the path's round trip."""
        return streams_for(_rate_since(history, now - window), self._settings_now()) - len(self.streams)

    def _settings_now(self) -> SpeedSettings:
        """The settings with the round trip the connections have seen, where it is longer than the idle one."""
        seen_ms = self._min_rtt_us / 1000 if self._min_rtt_us else 0.0
        return self.settings if seen_ms <= self.settings.rtt_ms else replace(self.settings, rtt_ms=seen_ms)

    def _window_s(self) -> float:
        return self._settings_now().window_s

    async def _measure(self, start: tuple[float, int]) -> list[tuple[float, int]]:
        """Sample until the figure is steady and the queue has stopped growing (or the time is up); returns the
        counter points. The rate is steady as soon as the line is full, but a deep buffer (half a second at
        10 Mbit/s) goes on filling for seconds after: the latency under load is read once it stops, as a bulk
        transfer would find it, from the later half of the window (the draft's working conditions)."""
        s = self._settings_now()
        self._measuring = True
        points = [start]
        t0 = start[0]
        marks: list[tuple[float, int, int]] = []  # (time, probes so far, path readings so far)
        try:
            while True:
                t, total = await self._ticks()
                points.append((t, total))
                self._read_path()
                marks.append((t, len(self.loaded_rtts), len(self.probes.loaded_ms)))
                self.progress(_rate_since(points, t - s.sample_s))
                elapsed = t - t0
                if elapsed >= s.measure_cap_s:
                    return points
                steady = figure_known(interval_rates(trim_start(points, s), s.sample_s), s)
                if elapsed >= s.measure_floor_s and steady and queue_settled(self.probes.loaded_ms, marks, s):
                    return points
        finally:
            self._keep_later_half(marks)

    def _keep_later_half(self, marks: list[tuple[float, int, int]]) -> None:
        """The probes and path readings of the window's later half only: the queue as it stands, not as it fills."""
        if not marks:
            return
        middle = (marks[0][0] + marks[-1][0]) / 2
        _, probes, readings = next(mark for mark in marks if mark[0] >= middle)
        if len(self.loaded_rtts) - probes >= MIN_LOADED_PROBES:
            self.loaded_rtts = self.loaded_rtts[probes:]
            for kind in (self.probes.tcp_ms, self.probes.tls_ms, self.probes.http_ms):
                del kind[: max(0, len(kind) - len(self.loaded_rtts))]
        if len(self.probes.loaded_ms) - readings >= MIN_LOADED_PROBES:
            del self.probes.loaded_ms[:readings]

    def _download_target(self) -> str:
        endpoint = self.server.download
        if self.server.kind is ServerKind.OOKLA:
            return endpoint.with_query(f"x={time.time_ns()}").target
        return endpoint.with_query(f"{_cache_buster()}&ckSize={self.settings.download_chunk_mib}").target

    def _upload_target(self) -> str:
        return self.server.upload.with_query(_cache_buster()).target

    async def _probe(self) -> None:
        """Latency under load on new connections (the foreign probes); a failed probe costs its sample,
        and enough of them in a row end the probing, never the run."""
        assert self._address is not None
        failures = 0
        while not self._stop.is_set() and failures < PROBE_FAILURES:
            try:
                probe = await foreign_probe(self.server.ping, self._address, ping_target(self.server),
                                            self.settings.latency_timeout_s)  # fmt: skip
            except ProbeFailed:
                failures += 1
            else:
                failures = 0
                self.usage.add_wire(probe.wire_bytes)
                if self._measuring:
                    self.loaded_rtts.append(probe.http_ms)
                    self.probes.tcp_ms.append(probe.tcp_ms)
                    self.probes.http_ms.append(probe.http_ms)
                    if probe.tls_ms is not None:
                        self.probes.tls_ms.append(probe.tls_ms)
            await asyncio.sleep(self.settings.loaded_latency_every_s)


PROBE_FAILURES = 5
MIN_LOADED_PROBES = 5  # fewer in the later half: the figure keeps them all
QUEUE_GROWTH = 0.10  # the round trip under load grew by less than this over the last second: the queue is full


def queue_settled(readings: list[float], marks: list[tuple[float, int, int]], settings: SpeedSettings) -> bool:
    """The round trip the load connections see (``readings``, ``marks`` saying how many there were when) has
    stopped growing: its median over the last second within ``QUEUE_GROWTH`` of the second before."""
    span = max(1.0, settings.window_s)
    now = marks[-1][0]
    at = [next((n for t, _, n in reversed(marks) if t <= now - k * span), None) for k in (1, 2)]
    if at[1] is None or at[0] is None:
        return False
    last, before = readings[at[0] :], readings[at[1] : at[0]]
    if len(last) < MIN_LOADED_PROBES or len(before) < MIN_LOADED_PROBES:
        return True  # too few readings to judge (no tcp_info): the rate alone decides, as before
    return statistics.median(last) <= (1 + QUEUE_GROWTH) * statistics.median(before)


def trim_start(points: list[tuple[float, int]], settings: SpeedSettings) -> list[tuple[float, int]]:
    """The points from the first sample that is not a catch-up burst.

    A segment lost just before the window opened holds the bytes behind it out of the kernel's count
    (they wait, out of order, for the retransmission a round trip later); they are then counted at once
    inside the window though they arrived before it, and the figure reads high, by up to a window in
    flight: 1-2% at 150 ms. Such a burst shows as a first sample well above the rest; the window then
    opens after it (at most the first second, or two round trips)."""
    rates = interval_rates(points, settings.sample_s)
    limit = max(1.0, 2 * settings.rtt_s)
    start = 0
    boundaries = _sample_starts(points, settings.sample_s)
    for n, rate in enumerate(rates[:-3]):
        rest = statistics.fmean(rates[n + 1 :])
        if rate <= 1.1 * rest or points[boundaries[n + 1]][0] - points[0][0] > limit:
            break
        start = boundaries[n + 1]
    return points[start:]


def _sample_starts(points: list[tuple[float, int]], interval_s: float) -> list[int]:
    """The index of the point each of ``interval_rates``' samples starts at (and the last one's end)."""
    starts = [0]
    t_start = points[0][0] if points else 0.0
    for n, (t, _b) in enumerate(points[1:], start=1):
        if t - t_start >= interval_s - 1e-6:
            starts.append(n)
            t_start = t
    return starts


def figure_known(samples: list[float], settings: SpeedSettings) -> bool:
    """The window's figure is known to ``target_error``, the rate is not still climbing or falling (a
    long path's congestion window regrows for seconds after a loss: the later half of the window within
    5% of the earlier), and its end does not cut a stall or the burst that follows one (a lost segment
    holds bytes back, then they count at once)."""
    if edge_error(samples) >= settings.target_error:
        return False
    mean = statistics.fmean(samples)
    half = len(samples) // 2
    earlier, later = statistics.fmean(samples[:half]), statistics.fmean(samples[half:])
    if abs(later - earlier) > 0.05 * mean:
        return False
    return abs(samples[-1] - mean) <= 0.1 * mean


def _next_blob(current: int, took_s: float, settings: SpeedSettings) -> int:
    """Size the next POST to take about a second, so request gaps stay a small share of time."""
    if took_s <= 0:
        return settings.upload_blob_max
    wanted = int(current / took_s * settings.upload_request_s)
    return max(settings.upload_blob_min, min(settings.upload_blob_max, wanted))


def _rate_since(history: list[tuple[float, int]], since: float) -> float:
    t1, b1 = history[-1]
    for t, b in history:
        if t >= since - 1e-9:
            return goodput_mbps(b1 - b, t1 - t) if t1 > t else 0.0
    return 0.0


def _stable(history: list[tuple[float, int]], now: float, window: float = 0.5) -> bool:
    """The last window ran within 10% of the window before it."""
    recent = _rate_between(history, now - window, now)
    before = _rate_between(history, now - 2 * window, now - window)
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

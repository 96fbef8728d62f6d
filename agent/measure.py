"""One measurement run: the probes, in order, turned into one Result (the "probes ─► Result" arrow).

A failed run is a Result too: ``error`` is set, and only figures actually measured are filled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import ValidationError

from dokiem import __version__
from dokiem.agent.probes.http import (
    METHOD_NAME,
    METHOD_VERSION,
    LatencyResult,
    PhaseResult,
    SpeedSettings,
    UsageMeter,
    measure_latency,
    ping_target,
    run_speed_phase,
    timed_get,
)
from dokiem.agent.probes.radio import ModemManagerRadio, RadioReader
from dokiem.agent.probes.system import LoadMeter, default_interface, interface_io
from dokiem.agent.probes.wifi import WifiRadio, captive_portal
from dokiem.agent.probes.wire import HttpFailure, families, open_connection
from dokiem.agent.router import Counters, RouterUnavailable, Sampler, Traffic
from dokiem.agent.servers import Server
from dokiem.contract import (
    Access,
    AgentLoad,
    DnsTiming,
    ErrorCode,
    ErrorInfo,
    Flag,
    Method,
    PathStats,
    PingStats,
    Radio,
    Result,
    Site,
    TrafficSource,
    first_error,
    utcnow,
)

log = logging.getLogger(__name__)
SYSTEM_RESOLVER = "system"

# Progress events: (stage, value) — stage is portal|latency|ping|download|upload|dns, value Mbit/s or None.
Progress = Callable[[str, float | None], None]


def _no_progress(stage: str, value: float | None) -> None:
    return None


@dataclass
class MeasureRequest:
    server: Server
    fallbacks: list[Server] = field(default_factory=list)  # tried in turn when the server is down or busy
    agent_id: str = "local"
    site: Site = field(default_factory=Site)
    settings: SpeedSettings = field(default_factory=SpeedSettings)
    download: bool = True
    upload: bool = True
    ping_count: int = 10
    dns_names: list[str] = field(default_factory=list)  # empty: the server's own name, if it has one
    resolvers: list[str] = field(default_factory=list)
    progress: Progress = _no_progress
    usage: UsageMeter = field(default_factory=UsageMeter)  # shared by every server and family the run tries
    router: Counters | None = None  # the office router's WAN counters: others' traffic seen where it enters
    router_poll_s: float = 1.0
    router_settle_s: float = 5.0  # after the run: read on until the router refreshes its counters
    router_start_settle_s: float = 0.0  # before it, where others were busy: start at a refresh
    busy_mbps: tuple[float, float] = (2.0, 2.0)  # others' traffic (down, up) that makes a run unsound
    deferred: int | None = None  # times the run waited for a busy line before it started
    radio: RadioReader | None = None  # a mobile modem's or a hotspot's radio, recorded with the run
    portal_check_url: str | None = None  # public Wi-Fi: a sign-in page is looked for first


@dataclass
class _Collected:
    latency: LatencyResult | None = None
    ping: PingStats | None = None
    download: PhaseResult | None = None
    upload: PhaseResult | None = None
    dns: list[DnsTiming] = field(default_factory=list)
    error: HttpFailure | None = None
    family: int = socket.AF_UNSPEC
    radio: Radio | None = None
    cross: tuple[float | None, float | None] | None = None  # others' traffic (down, up) seen at the router
    router_unusable: bool = False  # the router's counters did not add up: no others' traffic is given
    traffic_source: TrafficSource = "interface"


# A run that failed for one of these reasons, with no figure, is tried again on the next server.
FAMILIES = {"4": socket.AF_INET, "6": socket.AF_INET6}
IP_VERSION = {int(socket.AF_INET): 4, int(socket.AF_INET6): 6}
FAILOVER = frozenset({ErrorCode.CONNECT_FAILED, ErrorCode.CONNECT_TIMEOUT, ErrorCode.DNS_FAILED, ErrorCode.TLS_FAILED,
                      ErrorCode.SERVER_BUSY, ErrorCode.CLOSED_MID_STREAM, ErrorCode.TIMEOUT})  # fmt: skip


async def measure_ip_versions(request: MeasureRequest, ip_version: str) -> list[Result]:
    """``auto``: one run, happy eyeballs choosing the family; ``4`` or ``6``: one run over it;
    ``both``: a run over each family the first server's name has, as separate Results."""
    if ip_version == "auto":
        return [await measure_any(request)]
    if ip_version in FAMILIES:
        return [await measure_any(_over(request, FAMILIES[ip_version]))]
    try:
        found = await families(request.server.ping, request.settings.connect_timeout_s)
    except HttpFailure as failure:
        return [failed_result(request.agent_id, failure.code, failure.message, request.site)]
    return [await measure_any(_over(request, family)) for family in found]


def _over(request: MeasureRequest, family: int) -> MeasureRequest:
    return replace(request, settings=replace(request.settings, family=family))


async def measure_any(request: MeasureRequest) -> Result:
    """Measure against the reachable server that answers HTTP fastest; within the same run, fail over
    to the next when one is down or busy (503). The Result names the server used and how many were tried."""
    candidates = await by_latency([request.server, *request.fallbacks], request.settings)
    result: Result | None = None
    for tried, server in enumerate(candidates, start=1):
        result = await measure(replace(request, server=server, fallbacks=[]))
        result = result.model_copy(update={"method": result.method.model_copy(update={"servers_tried": tried})})
        if result.error is None or result.error.code not in FAILOVER or tried == len(candidates):
            return result
        log.warning("%s failed (%s); trying the next server", server.id, result.error.message)
    raise AssertionError("no candidate server")  # unreachable: candidates is never empty


async def by_latency(servers: list[Server], settings: SpeedSettings) -> list[Server]:
    """The servers that answer an HTTP ping, by priority then fastest first; those that do not, after
    them by priority and in list order."""
    if len(servers) < 2:
        return servers
    rtts = await asyncio.gather(*(_first_rtt(server, settings) for server in servers))
    ranked = sorted((servers[n].priority, rtt, n) for n, rtt in enumerate(rtts) if rtt is not None)
    silent = sorted((servers[n].priority, n) for n, rtt in enumerate(rtts) if rtt is None)
    return [servers[n] for *_, n in ranked] + [servers[n] for _, n in silent]


async def _first_rtt(server: Server, settings: SpeedSettings) -> float | None:
    try:
        async with asyncio.timeout(settings.connect_timeout_s):
            conn = await open_connection(server.ping, settings.connect_timeout_s)
            try:
                return await timed_get(conn, ping_target(server))
            finally:
                conn.close()
    except (HttpFailure, TimeoutError, OSError):
        return None


async def measure(request: MeasureRequest) -> Result:
    sampler = await _watch_router(request)
    if request.radio is not None:
        await request.radio.prepare()
    started = utcnow()
    meter = LoadMeter()
    got = _Collected()
    used_before, wire_before = request.usage.total, (request.usage.wire_in, request.usage.wire_out)
    try:
        await _check_portal(request)
        await _run_probes(request, got)
    except HttpFailure as failure:
        got.error = failure
    except Exception as exc:  # a bug must still end as a counted, failed Result
        log.exception("measurement crashed")
        got.error = HttpFailure(ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
    load = meter.load()
    own = (request.usage.wire_in - wire_before[0], request.usage.wire_out - wire_before[1])
    if sampler is not None and await sampler.stop(request.router_settle_s) is not None:
        got.cross, got.router_unusable = others_traffic(sampler, got, request.site)
        got.traffic_source = sampler.counters.name
    got.radio = await request.radio.read() if request.radio is not None else None
    # all the run's own traffic, warm-up, probes and headers included: only the rest is someone else's
    flags = _flags(request, got, meter.flags(load, None if got.cross is not None else sum(own)))
    used = request.usage.total - used_before
    try:
        return _result(request, got, started, load, flags, used)
    except ValidationError as exc:  # a value no Result takes (from a server, or a bug): a failed run, counted
        first = first_error(exc)
        log.error("the run's Result was invalid at %s: %s", first.where, first.message)
        return failed_result(
            request.agent_id,
            ErrorCode.INTERNAL_ERROR,
            f"the run's figures were invalid ({first.where}: {first.message})",
            request.site,
            used,
        )


def _flags(request: MeasureRequest, got: _Collected, flags: list[Flag]) -> list[Flag]:
    """The machine's flags and the run's: others on the line, a busy server, bytes the kernel did not count,
    a modem on another network than the declared ISP's. At a public hotspot, Wi-Fi is the service."""
    if request.site.access is Access.PUBLIC_WIFI:
        flags = [flag for flag in flags if flag is not Flag.WIFI]
    cross = got.cross or (None, None)
    if any(others is not None and others > busy for others, busy in zip(cross, request.busy_mbps, strict=True)):
        flags.append(Flag.CROSS_TRAFFIC)
    if got.router_unusable:
        flags.append(Flag.ROUTER_UNUSABLE)
    if got.error is not None and got.error.code == ErrorCode.SERVER_BUSY:
        flags.append(Flag.SERVER_BUSY)
    if any(phase is not None and not phase.kernel_counted for phase in (got.download, got.upload)):
        flags.append(Flag.APP_COUNTED)
    if _operator_mismatch(request.site.isp, got.radio):
        flags.append(Flag.OPERATOR_MISMATCH)
    return flags


def _operator_mismatch(isp: str | None, radio: Radio | None) -> bool:
    """The site declares one ISP and the modem is on another's network (unknown networks are not judged)."""
    known = radio.operator_isps() if radio is not None else ()
    return bool(isp and known) and (isp or "").casefold() not in {name.casefold() for name in known}


async def _check_portal(request: MeasureRequest) -> None:
    if request.portal_check_url is None:
        return
    request.progress("portal", None)
    portal = await captive_portal(request.portal_check_url)
    if portal is not None:
        raise HttpFailure(ErrorCode.CAPTIVE_PORTAL, portal)


async def _run_probes(request: MeasureRequest, got: _Collected) -> None:
    server, settings, progress = request.server, request.settings, request.progress
    names = request.dns_names or ([] if _is_ip(server.host) else [server.host])
    if names:
        from dokiem.agent.probes.dns import measure_dns  # dnspython loads only when DNS is timed

        progress("dns", None)
        got.dns = await measure_dns(names, request.resolvers)
    progress("latency", None)
    got.latency = await measure_latency(server, settings, request.usage)
    # the latency connection's family (happy eyeballs' choice when none was asked for) is the run's
    got.family = got.latency.family
    settings = replace(settings, family=got.family, rtt_ms=got.latency.min_ms or 0.0)
    if request.ping_count > 0:
        from dokiem.agent.probes import ping  # icmplib loads only when pinging

        progress("ping", None)
        try:
            got.ping = await ping.ping(server.host, server.port, count=request.ping_count)
        except socket.gaierror as exc:
            raise HttpFailure(ErrorCode.DNS_FAILED, str(exc)) from exc
    if request.download:
        got.download = await run_speed_phase(server, "download", settings, lambda r: progress("download", r),
                                             request.usage)  # fmt: skip
    if request.upload:
        got.upload = await run_speed_phase(server, "upload", settings, lambda r: progress("upload", r),
                                           request.usage)  # fmt: skip


def failed_result(agent_id: str, code: ErrorCode, message: str, site: Site | None = None, data_used: int = 0) -> Result:
    """A Result for a run that could not start (no Ookla list, over the data budget) or crashed: still
    counted, with the bytes it moved before it ended (a metered line paid for them)."""
    now = utcnow()
    return Result(
        agent_id=agent_id,
        started_at=now,
        finished_at=now,
        site=site or Site(),
        method=Method(name=METHOD_NAME, version=METHOD_VERSION),
        error=ErrorInfo.of(code, message),
        data_used_bytes=data_used or None,
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _system_dns_ms(timings: list[DnsTiming]) -> float | None:
    for timing in timings:
        if timing.resolver == SYSTEM_RESOLVER and timing.ms is not None:
            return timing.ms
    return None


def _loaded_latency(got: _Collected) -> float | None:
    rtts = (got.download.loaded_rtts_ms if got.download else []) + (got.upload.loaded_rtts_ms if got.upload else [])
    return statistics.median(rtts) if rtts else None


def _worse_rpm(down: PhaseResult | None, up: PhaseResult | None) -> float | None:
    """The line's responsiveness: its worse direction (a video call needs both)."""
    rpms = [p.responsiveness_rpm for p in (down, up) if p is not None and p.responsiveness_rpm is not None]
    return min(rpms) if rpms else None


def _path_stats(phase: PhaseResult | None) -> PathStats | None:
    if phase is None:
        return None
    seen = phase.path
    return PathStats(
        min_rtt_ms=_round(seen.min_rtt_ms),
        loaded_rtt_ms=_round(seen.loaded_rtt_ms),
        retransmitted_pct=_round(seen.retransmitted_pct),
        congestion_control=seen.congestion_control,
    )


def counting_label(down: PhaseResult | None, up: PhaseResult | None) -> str:
    """How the bytes of each direction were counted, as it was done (never assumed)."""
    parts = []
    for phase, kernel, app, short in ((down, "tcp_info received", "app bytes read", "down"),
                                      (up, "tcp_info acked", "app bytes sent", "up")):  # fmt: skip
        if phase is not None:
            parts.append(f"{kernel if phase.kernel_counted else app} ({short})")
    return ", ".join(parts) or "none"


async def _watch_router(request: MeasureRequest) -> Sampler | None:
    """The router's counters, read through the run (None where there is no router, or it does not answer)."""
    if request.router is None:
        return None
    interface = default_interface()
    sampler = Sampler(request.router, request.router_poll_s, own=lambda: interface_io(interface))
    try:
        await sampler.start(request.router_start_settle_s)
    except RouterUnavailable as exc:
        log.warning("the run goes on without the router's counters: %s", exc)
        return None
    return sampler


# the router's count may fall this far below the run's own (counters refreshed a moment apart), and the two
# together rise this far above the line, before the router's figure is taken for wrong
ROUTER_SLACK = 0.05


def others_traffic(sampler: Sampler, got: _Collected, site: Site) -> tuple[tuple[float | None, float | None], bool]:
    """Others' traffic (down, up) in Mbit/s, each over the window its own direction's figure was measured in:
    what crossed the router then, less what the agent's own interface moved then. A direction whose phase did
    not run has none. True where the router's counters did not add up (below the run's own bytes, own and
    others above the line's plan, a reset): then no figure at all."""
    if sampler.jumped is not None:
        log.warning("the router's counters are not used: %s", sampler.jumped)
        return (None, None), True
    if sampler.moves == 0 and (got.download is not None or got.upload is not None):
        log.warning("the router's counters did not move while the run moved its own bytes: they are not used")
        return (None, None), True
    down = others_over(sampler, got.download, 0, _least(site.plan_down_mbps, sampler.capacity[0]))
    up = others_over(sampler, got.upload, 1, _least(site.plan_up_mbps, sampler.capacity[1]))
    if down is False or up is False:
        return (None, None), True
    return (down, up), False


def _least(*rates: float | None) -> float | None:
    known = [rate for rate in rates if rate]
    return min(known) if known else None


def others_over(sampler: Sampler, phase: PhaseResult | None, way: int, line: float | None) -> float | bool | None:
    """Others' rate one way (0: received, 1: sent) over ``phase``'s window; False where the counters do not add up:
    over the refreshes around the window the router counted less than the agent's own interface moved, or the
    two together are more than the line carries (the plan, or the rate the router says its link has; where the
    run alone went faster than that, the plan is what is out of date, and the collector says so)."""
    if phase is None or phase.window is None:
        return None
    around = sampler.refreshes_around(*phase.window)
    others, own = sampler.others_between(*phase.window), sampler.own_between(*phase.window)
    if around is None or others is None or own is None:
        return None
    seen, mine = sampler.between(*around), sampler.own_between(*around)
    if seen is None or mine is None:
        return None
    if _way(seen, way) < (1 - ROUTER_SLACK) * _way(mine, way):
        log.warning("the router counted %s bytes where the run alone moved %s: its counters are not used",
                    _way(seen, way), _way(mine, way))  # fmt: skip
        return False
    others_mbps = max(0, _way(others, way)) * 8 / others.seconds / 1e6
    own_mbps = _way(own, way) * 8 / own.seconds / 1e6
    bound = None if line is None else (1 + ROUTER_SLACK) * line
    if bound is not None and own_mbps <= bound < own_mbps + others_mbps:
        log.warning("own and others' add up to %.1f Mbit/s on a %.0f Mbit/s line: the router's counters are not"
                    " used", own_mbps + others_mbps, line)  # fmt: skip
        return False
    return others_mbps


def _way(traffic: Traffic, way: int) -> int:
    return traffic.received if way == 0 else traffic.sent


def _result(
    request: MeasureRequest, got: _Collected, started: datetime, load: AgentLoad, flags: list[Flag], used: int
) -> Result:
    settings = request.settings
    down, up, lat = got.download, got.upload, got.latency
    if got.error is not None:  # a failed run carries no speed figure: half a run is not a measurement
        down = up = None
    method = Method(
        name=METHOD_NAME,
        version=METHOD_VERSION,
        streams_down=down.streams if down else None,
        streams_up=up.streams if up else None,
        warmup_s=round(max((p.warmup_s for p in (down, up) if p), default=0.0), 2) if (down or up) else None,
        measured_down_s=round(down.measured_s, 2) if down else None,
        measured_up_s=round(up.measured_s, 2) if up else None,
        sample_interval_s=settings.sample_s,
        latency_count=len(lat.rtts_ms) if lat else None,
        latency_new_connections=lat.new_connections if lat else None,
        counting=counting_label(down, up),
        moved_down_bytes=down.total_bytes if down else None,
        moved_up_bytes=up.total_bytes if up else None,
        path_down=_path_stats(down),
        path_up=_path_stats(up),
        traffic_source=got.traffic_source,
        deferred=request.deferred,
    )
    error = ErrorInfo.of(got.error.code, got.error.message) if got.error else None
    return Result.model_validate(
        {
            "agent_id": request.agent_id,
            "agent_version": __version__,
            "started_at": started,
            "finished_at": utcnow(),
            "site": request.site,
            "server": request.server.ref(),
            "ip_version": IP_VERSION.get(got.family),
            "clock_offset_s": got.latency.clock_offset_s if got.latency else None,
            "download_mbps": _round(down.mbps) if down else None,
            "upload_mbps": _round(up.mbps) if up else None,
            "latency_ms": _round(lat.median_ms) if lat else None,
            "jitter_ms": _round(lat.jitter_ms) if lat else None,
            "loss_pct": got.ping.loss_pct if got.ping else None,
            "loaded_latency_ms": _round(_loaded_latency(got)),
            "loaded_latency_down_ms": _round(down.loaded_latency_ms) if down else None,
            "loaded_latency_up_ms": _round(up.loaded_latency_ms) if up else None,
            "dns_ms": _round(_system_dns_ms(got.dns)),
            "responsiveness_rpm": _round(_worse_rpm(down, up), 0),
            "responsiveness_down_rpm": _round(down.responsiveness_rpm, 0) if down else None,
            "responsiveness_up_rpm": _round(up.responsiveness_rpm, 0) if up else None,
            "cross_traffic_down_mbps": _round(got.cross[0]) if got.cross else None,
            "cross_traffic_up_mbps": _round(got.cross[1]) if got.cross else None,
            "bytes_down": down.bytes if down else None,
            "bytes_up": up.bytes if up else None,
            "data_used_bytes": used or None,
            "samples_down_mbps": [_round(x) for x in down.samples_mbps] if down else [],
            "samples_up_mbps": [_round(x) for x in up.samples_mbps] if up else [],
            "ping": got.ping,
            "dns": got.dns,
            "method": method,
            "flags": sorted(set(flags), key=lambda f: f.value),
            "agent_load": load,
            "radio": got.radio,
            "error": error,
        }
    )


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def radio_reader(access: Access | None) -> RadioReader | None:
    """Where a site's radio is read: a mobile site's modem (ModemManager), a hotspot's Wi-Fi; none on a cable."""
    if access is Access.MOBILE:
        return ModemManagerRadio()
    if access is Access.PUBLIC_WIFI:
        return WifiRadio()
    return None

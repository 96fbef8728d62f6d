"""The office's router, watched: the line's traffic where it enters the office, not at the agent.

A Pi on the office switch never sees the staff's downloads: they pass the router, not the Pi. So the
agent reads the router's WAN byte counters, from UPnP IGD (``WANCommonInterfaceConfig``, found by SSDP
on the LAN; async-upnp-client, the ``upnp`` extra) or from SNMP (IF-MIB ``ifHCInOctets``/``ifHCOutOctets``
of the WAN interface; pysnmp) where the office has a managed router. Before a test it watches them for
a few seconds and defers while the line is busy; during the test, the counters minus the test's own
bytes are the cross traffic the Result records (SamKnows's whiteboxes and the FCC's Measuring Broadband
America rest on the same idea).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from dokiem.agent.probes.system import default_gateway

log = logging.getLogger(__name__)

IGD = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
IF_NAME, IF_DESCR = "1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.2.2.1.2"
IF_HC_IN, IF_HC_OUT = "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"  # the interface's speed in Mbit/s


class RouterSection(BaseModel):
    """``[router]`` in agent.toml: where the office's line is watched, and when it is too busy to test."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(default="auto", pattern="^(auto|upnp|snmp|none)$",
                        description="auto: SNMP if snmp_host is set, else UPnP IGD if the LAN has one")  # fmt: skip
    snmp_host: str | None = None
    snmp_port: int = Field(default=161, ge=1, le=65535)
    snmp_community: SecretStr | None = None
    snmp_user: str | None = Field(
        default=None, max_length=32, description="SNMPv3 user (authPriv), in place of a community"
    )
    snmp_auth_key: SecretStr | None = Field(default=None, description="SNMPv3 authentication pass phrase (SHA)")
    snmp_priv_key: SecretStr | None = Field(default=None, description="SNMPv3 privacy pass phrase (AES)")
    snmp_interface: str | None = Field(default=None, description="the router's WAN interface (ifName or ifDescr)")
    discovery_seconds: float = Field(default=3, gt=0, le=30)
    watch_seconds: float = Field(default=8, gt=0, le=120, description="how long the line is watched before a test"
                                 " (long enough for the router to refresh its counters twice)")  # fmt: skip
    busy_share: float = Field(default=0.1, gt=0, le=1, description="busy: others use this share of the plan")
    busy_mbps: float = Field(default=2, gt=0, le=10_000, description="busy, where the site gives no plan")
    max_defers: int = Field(default=3, ge=0, le=20, description="deferrals while busy, then measured (flagged)")
    defer_minutes: float = Field(default=5, ge=0, le=120)
    poll_seconds: float = Field(default=0.25, gt=0, le=10, description="counters read this often during a test"
                                " (a refresh is placed within half of it)")  # fmt: skip
    settle_seconds: float = Field(default=5, ge=0, le=60, description="after a test, the counters are read until"
                                  " the router refreshes them, at most this long")  # fmt: skip


class RouterUnavailable(Exception):
    """No counters from the router (unreachable, refused, no such interface): the run goes on without."""


Source = Literal["upnp", "snmp"]


class Counters(Protocol):
    name: Source  # recorded in the Result's method
    where: str  # for ``dokiem agent check``: never a secret
    wrap: int  # the counters' modulus (IGD's are 32-bit)

    async def read(self) -> tuple[int, int]:
        """(bytes received, bytes sent) on the router's WAN side."""
        ...

    async def capacity(self) -> tuple[float | None, float | None]:
        """What the router says its WAN link carries (down, up) in Mbit/s, where it says (None: unknown)."""
        ...

    async def close(self) -> None: ...


class UpnpCounters:
    name: Source = "upnp"
    wrap = 2**32

    def __init__(self, igd: Any, location: str) -> None:
        self._igd, self.where = igd, location

    async def read(self) -> tuple[int, int]:
        try:
            received = await self._igd.async_get_total_bytes_received()
            sent = await self._igd.async_get_total_bytes_sent()
        except Exception as exc:  # the library raises its own and aiohttp's; all mean "no counters now"
            raise RouterUnavailable(f"the UPnP gateway at {self.where} did not answer: {exc}") from exc
        if received is None or sent is None:
            raise RouterUnavailable(f"the UPnP gateway at {self.where} gives no byte counters")
        return int(received), int(sent)

    async def capacity(self) -> tuple[float | None, float | None]:
        try:  # Layer1 rates: a DSL modem's sync rate, a cable's port speed
            link = await self._igd.async_get_common_link_properties()
        except Exception as exc:  # an IGD without the action, or refusing it: the capacity is not known
            log.info("the UPnP gateway at %s gives no link rates: %s", self.where, exc)
            return None, None
        if link is None:
            return None, None
        return _mbps_or_none(link.layer1_downstream_max_bit_rate), _mbps_or_none(link.layer1_upstream_max_bit_rate)

    async def close(self) -> None:
        return None  # each request made its own HTTP session


def _mbps_or_none(bits_per_second: int | None) -> float | None:
    return bits_per_second / 1e6 if bits_per_second and bits_per_second > 0 else None


MAX_DESCRIPTION_BYTES = 256 << 10  # a gateway's description is a few kilobytes; a LAN device may send 400 MiB
DESCRIPTION_TIMEOUT_S = 5


async def find_upnp(seconds: float, gateway: str | None = None) -> UpnpCounters | None:
    """The office's Internet gateway by SSDP, or None (none answered, or the ``upnp`` extra is not installed).
    Only the answer of the default route's gateway is followed, and only to a description on that gateway,
    read within a size cap and a deadline: any other device on the LAN may answer too, and lie (issue 38)."""
    try:
        from async_upnp_client.client_factory import UpnpFactory
        from async_upnp_client.profiles.igd import IgdDevice
        from async_upnp_client.search import async_search
    except ImportError:
        log.info("UPnP gateways are not looked for: install dokiem[upnp] (async-upnp-client)")
        return None
    gateway = gateway or default_gateway()
    if gateway is None:
        log.info("no default route: no gateway to ask")
        return None
    found: list[str] = []

    async def answered(headers: Any) -> None:
        location = str(headers.get("location") or "")
        if _from_gateway(location, str(headers.get("_host") or ""), gateway):
            found.append(location)
        elif location:
            log.info("an SSDP answer not from the gateway %s is ignored: %s", gateway, location[:200])

    with contextlib.suppress(OSError):
        await async_search(answered, timeout=max(1, round(seconds)), search_target=IGD)
    if not found:
        return None
    try:
        device = await UpnpFactory(capped_requester()).async_create_device(found[0])
    except Exception as exc:  # a gateway whose description is broken is no gateway
        log.info("the UPnP gateway at %s has no usable description: %s", found[0], exc)
        return None
    return UpnpCounters(IgdDevice(device, None), found[0])


def _from_gateway(location: str, responder: str, gateway: str) -> bool:
    """An answer the gateway sent, pointing at the gateway itself (http only: a router's description is plain)."""
    try:
        parts = urlsplit(location)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme == "http" and host == gateway and responder in ("", gateway)


def capped_requester() -> Any:
    """async-upnp-client's requester, reading a response within MAX_DESCRIPTION_BYTES and DESCRIPTION_TIMEOUT_S."""
    import aiohttp
    from async_upnp_client.aiohttp import AiohttpRequester
    from async_upnp_client.const import HttpRequest, HttpResponse
    from async_upnp_client.exceptions import UpnpCommunicationError

    class CappedRequester(AiohttpRequester):
        async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
            timeout = aiohttp.ClientTimeout(total=DESCRIPTION_TIMEOUT_S)
            try:
                async with aiohttp.ClientSession(timeout=timeout) as session, session.request(
                    http_request.method, http_request.url, headers=dict(http_request.headers or {}),
                    data=http_request.body,
                ) as response:  # fmt: skip
                    body = b""
                    while chunk := await response.content.read(MAX_DESCRIPTION_BYTES + 1 - len(body)):
                        body += chunk
                        if len(body) > MAX_DESCRIPTION_BYTES:
                            raise UpnpCommunicationError(f"{http_request.url}: over {MAX_DESCRIPTION_BYTES} bytes")
                    text = body.decode("utf-8", errors="replace")  # UPnP descriptions and SOAP are XML in UTF-8
                    return HttpResponse(response.status, dict(response.headers), text)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise UpnpCommunicationError(f"{http_request.url}: {exc!r}") from exc

    return CappedRequester(timeout=DESCRIPTION_TIMEOUT_S)


class SnmpCounters:
    name: Source = "snmp"
    wrap = 2**64

    def __init__(self, section: RouterSection) -> None:
        from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

        self._section = section
        self._engine = SnmpEngine()
        self._index: int | None = None
        self.where = f"{section.snmp_host}:{section.snmp_port} {section.snmp_interface or ''}".strip()

    async def _target(self) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget

        s = self._section
        return await UdpTransportTarget.create((s.snmp_host, s.snmp_port), timeout=2, retries=1)

    def _auth(self) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import (
            CommunityData,
            UsmUserData,
            usmAesCfb128Protocol,
            usmHMACSHAAuthProtocol,
        )

        s = self._section
        if s.snmp_user:  # SNMPv3, authenticated and encrypted: nothing on the LAN reads or forges the counters
            auth, priv = (key.get_secret_value() if key else None for key in (s.snmp_auth_key, s.snmp_priv_key))
            return UsmUserData(s.snmp_user, authKey=auth, privKey=priv,
                               authProtocol=usmHMACSHAAuthProtocol if auth else None,
                               privProtocol=usmAesCfb128Protocol if priv else None)  # fmt: skip
        return CommunityData(s.snmp_community.get_secret_value() if s.snmp_community else "public")

    async def _interface_index(self) -> int:
        from pysnmp.hlapi.v3arch.asyncio import ContextData, ObjectIdentity, ObjectType, walk_cmd

        wanted = self._section.snmp_interface
        if not wanted:
            raise RouterUnavailable("router.snmp_interface is not set: name the router's WAN interface (ifName)")
        for column in (IF_NAME, IF_DESCR):
            async for error, status, _index, binds in walk_cmd(
                self._engine, self._auth(), await self._target(), ContextData(), ObjectType(ObjectIdentity(column)),
                lexicographicMode=False,
            ):  # fmt: skip
                if error or status:
                    raise RouterUnavailable(f"SNMP at {self.where}: {error or status.prettyPrint()}")
                for oid, value in binds:
                    if str(value) == wanted:
                        return int(str(oid).rsplit(".", 1)[1])
        raise RouterUnavailable(f"SNMP at {self.where}: no interface named {wanted!r} (IF-MIB ifName/ifDescr)")

    async def read(self) -> tuple[int, int]:
        from pysnmp.hlapi.v3arch.asyncio import ContextData, ObjectIdentity, ObjectType, get_cmd

        if self._index is None:
            self._index = await self._interface_index()
        wanted = (ObjectType(ObjectIdentity(f"{column}.{self._index}")) for column in (IF_HC_IN, IF_HC_OUT))
        error, status, _index, binds = await get_cmd(self._engine, self._auth(), await self._target(), ContextData(),
                                                     *wanted)  # fmt: skip
        if error or status:
            raise RouterUnavailable(f"SNMP at {self.where}: {error or status.prettyPrint()}")
        try:
            return int(binds[0][1]), int(binds[1][1])
        except (TypeError, ValueError) as exc:  # noSuchInstance: a router without 64-bit counters
            raise RouterUnavailable(f"SNMP at {self.where}: no IF-MIB ifHCInOctets/ifHCOutOctets") from exc

    async def capacity(self) -> tuple[float | None, float | None]:
        from pysnmp.hlapi.v3arch.asyncio import ContextData, ObjectIdentity, ObjectType, get_cmd

        if self._index is None:
            self._index = await self._interface_index()
        speed = ObjectType(ObjectIdentity(f"{IF_HIGH_SPEED}.{self._index}"))
        error, status, _index, binds = await get_cmd(self._engine, self._auth(), await self._target(), ContextData(),
                                                     speed)  # fmt: skip
        try:
            mbps = None if error or status else float(int(binds[0][1]))
        except (TypeError, ValueError):  # noSuchInstance: no ifHighSpeed
            mbps = None
        return (mbps, mbps) if mbps else (None, None)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self._engine.close_dispatcher()


async def find_router(section: RouterSection) -> Counters | None:
    """The source the section names, or in ``auto`` SNMP where a host is given, else a UPnP gateway."""
    if section.source == "none":
        return None
    if section.source == "snmp" or (section.source == "auto" and section.snmp_host):
        if not section.snmp_host:
            raise RouterUnavailable("router.source is snmp but router.snmp_host is not set")
        counters = SnmpCounters(section)
        await counters.read()  # fails now, clearly, rather than in the middle of a test
        return counters
    return await find_upnp(section.discovery_seconds)


# a step no office line makes: a counter reset, a wrap misread, or a router that lies (10 Gbit/s)
MAX_STEP_MBPS = 10_000.0


@dataclass(frozen=True)
class Traffic:
    """What crossed the router's WAN side over ``seconds``: bytes in (towards the office) and out."""

    received: int
    sent: int
    seconds: float

    def mbps(self) -> tuple[float, float]:
        span = max(self.seconds, 1e-6)
        return self.received * 8 / span / 1e6, self.sent * 8 / span / 1e6


class Sampler:
    """Reads the counters every ``poll_s`` while running, adding up the steps (a 32-bit IGD counter wraps
    every 34 s at a gigabit: read often enough, a step is never more than one wrap).

    Routers refresh their counters every few seconds, not at each read (net-snmp's interface table every
    3 s), so a read tells the bytes up to the last refresh. Only the reads where a counter moved are kept
    as points. A read is timed at its middle (a UPnP read is two requests, a fifth of a second); a refresh
    between two reads at the middle of them, and where the counters moved on the read before too (a router
    that counts live, as miniupnpd does), at the read itself: the time between two points is the time their
    bytes crossed. The agent's own interface is read around each read, for the same moments.

    A step no line makes (faster than ``max_mbps``: a counter that went down and so wrapped, a router reset,
    a lie) is not added: the sampler says so in ``jumped``, and nothing it counted is others' traffic."""

    def __init__(
        self, counters: Counters, poll_s: float, max_mbps: float = MAX_STEP_MBPS,
        own: Callable[[], tuple[int, int] | None] | None = None,
    ) -> None:  # fmt: skip
        self.counters, self.poll_s, self.max_mbps, self._own_reader = counters, poll_s, max_mbps, own
        self._points: list[tuple[float, int, int]] = []  # (time, bytes received, bytes sent) since start
        self._bounds: list[tuple[float, float]] = []  # each point's refresh lies between these two reads
        self._own: list[tuple[float, int, int]] = []  # the agent's own interface (time, received, sent) at each read
        self._last: tuple[int, int] | None = None
        self._last_read = 0.0
        self._moved_last = False
        self._task: asyncio.Task[None] | None = None
        self.failed: str | None = None
        self.jumped: str | None = None
        self.capacity: tuple[float | None, float | None] = (None, None)  # what the router says its link carries

    async def start(self, settle_s: float = 0.0) -> None:
        """Begins at the counters' next refresh (waited for at most ``settle_s``): the first read may tell
        bytes up to a refresh seconds ago, and a run counted from it would take in seconds before it began."""
        self._last = await self._timed_read()
        self._points = [(self._last_read, 0, 0)]
        with contextlib.suppress(RouterUnavailable):
            self.capacity = await self.counters.capacity()
        self._bounds = [(self._last_read, self._last_read)]
        deadline = self._points[0][0] + settle_s
        while time.monotonic() < deadline and not await self._step():
            if self.failed is not None:
                raise RouterUnavailable(self.failed)
            await asyncio.sleep(min(self.poll_s, 0.5))
        self._points, self._bounds = self._points[-1:], self._bounds[-1:]
        self._task = asyncio.create_task(self._poll())

    @property
    def moves(self) -> int:
        """How many times the counters moved since the start."""
        return len(self._points) - 1

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            await self._step()

    async def _step(self) -> bool:
        """Reads the counters once; True where they moved."""
        previous_read, moved_before = self._last_read, self._moved_last
        try:
            now = await self._timed_read()
        except RouterUnavailable as exc:
            self.failed = str(exc)
            return False
        read_at = self._last_read
        assert self._last is not None
        self._moved_last = now != self._last
        if now == self._last:
            return False
        wrap = self.counters.wrap
        at, received, sent = self._points[-1]
        step = ((now[0] - self._last[0]) % wrap, (now[1] - self._last[1]) % wrap)
        self._last = now
        refreshed = read_at if moved_before else (previous_read + read_at) / 2
        self._bounds.append((read_at, read_at) if moved_before else (previous_read, read_at))
        if max(step) * 8 / 1e6 > self.max_mbps * max(read_at - at, self.poll_s):
            self.jumped = f"the counters stepped by {max(step):,} bytes in {read_at - at:.1f} s: reset or wrong"
            self._points.append((refreshed, received, sent))  # counted from here on, the step left out
            return True
        self._points.append((refreshed, received + step[0], sent + step[1]))
        return True

    async def _halt(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def stop(self, settle_s: float = 0.0) -> Traffic | None:
        """What crossed since ``start``, up to the counters' first refresh after now (read for at most
        ``settle_s``), so that the last seconds of the run are in. None where the router stopped answering."""
        await self._halt()
        deadline = time.monotonic() + settle_s
        while not await self._step() and self.failed is None and time.monotonic() < deadline:
            await asyncio.sleep(min(self.poll_s, 0.5))
        if self.failed is not None:
            return None
        self._points = [(t, r, s) for t, (_, r, s) in zip(on_grid(self._bounds), self._points, strict=True)]
        (start, received0, sent0), (end, received, sent) = self._points[0], self._points[-1]
        if len(self._points) == 1:
            end = time.monotonic()
        return Traffic(received - received0, sent - sent0, end - start)

    async def _timed_read(self) -> tuple[int, int]:
        """The router's counters, timed at the middle of the read, with the agent's own counters at that moment."""
        own_before, before = self._own_counters(), time.monotonic()
        counters = await self.counters.read()
        own_after, after = self._own_counters(), time.monotonic()
        self._last_read = (before + after) / 2
        if own_before is not None and own_after is not None:
            own = ((own_before[0] + own_after[0]) // 2, (own_before[1] + own_after[1]) // 2)
            self._own.append((self._last_read, *own))
        return counters

    def _own_counters(self) -> tuple[int, int] | None:
        return self._own_reader() if self._own_reader is not None else None

    def refreshes_around(self, start: float, end: float) -> tuple[float, float] | None:
        """The last refresh at or before ``start`` and the first at or after ``end``; None where there is none."""
        before = [t for t, _, _ in self._points if t <= start]
        after = [t for t, _, _ in self._points if t >= end]
        return (before[-1], after[0]) if before and after else None

    def others_between(self, start: float, end: float) -> Traffic | None:
        """Others' bytes between two moments: in each interval between two refreshes, what the router counted
        less what the agent's own interface moved (others taken as steady within it, the agent's own as read),
        shared out by how much of the interval lies between the two moments. None outside the refreshes seen."""
        if not self._points or end <= start or not (self._points[0][0] <= start and end <= self._points[-1][0]):
            return None
        received = sent = 0.0
        for (t0, r0, s0), (t1, r1, s1) in itertools.pairwise(self._points):
            overlap = min(end, t1) - max(start, t0)
            own = self.own_between(t0, t1)
            if overlap <= 0 or t1 <= t0:
                continue
            if own is None:
                return None
            received += ((r1 - r0) - own.received) * overlap / (t1 - t0)
            sent += ((s1 - s0) - own.sent) * overlap / (t1 - t0)
        return Traffic(round(received), round(sent), end - start)

    def own_between(self, start: float, end: float) -> Traffic | None:
        """What the agent's own interface moved between two moments (its counters, read with the router's)."""
        at_start, at_end = _interpolated(self._own, start), _interpolated(self._own, end)
        if at_start is None or at_end is None or end <= start:
            return None
        return Traffic(round(at_end[0] - at_start[0]), round(at_end[1] - at_start[1]), end - start)

    def between(self, start: float, end: float) -> Traffic | None:
        """What crossed between two moments of the run (``time.monotonic()``), the counters interpolated between
        the refreshes around each; None where a moment lies outside the refreshes seen."""
        at_start, at_end = _interpolated(self._points, start), _interpolated(self._points, end)
        if at_start is None or at_end is None or end <= start:
            return None
        return Traffic(round(at_end[0] - at_start[0]), round(at_end[1] - at_start[1]), end - start)

    def so_far(self) -> Traffic:
        """Every byte counted since the start, over the time since (an upper bound of the rate)."""
        (start, received0, sent0), (_, received, sent) = self._points[0], self._points[-1]
        return Traffic(received - received0, sent - sent0, time.monotonic() - start)

    async def steady(self) -> Traffic | None:
        """The line's rate while it was watched: between the first and the last refresh seen (bytes read
        at the first refresh may have crossed before the watch began); with fewer than two, all of it."""
        await self._halt()
        await self._step()
        if self.failed is not None:
            return None
        moved = self._points[1:]
        if len(moved) < 2:
            return self.so_far()
        (t0, r0, s0), (t1, r1, s1) = moved[0], moved[-1]
        return Traffic(r1 - r0, s1 - s0, t1 - t0)


def on_grid(bounds: list[tuple[float, float]]) -> list[float]:
    """The refresh times, each known to lie between two reads: a router that refreshes on a clock (net-snmp every
    3 s) does so at ``phase + n × period``, so the times are fitted to such a grid (least squares on the middles,
    each kept within its own bounds), which places each far closer than half a read interval; the first point,
    a read and not a refresh, then goes to the refresh before it. A router that refreshes at each read, or on no
    clock, keeps the middles."""
    middles = [(lo + hi) / 2 for lo, hi in bounds]
    refreshes = bounds[1:]
    if len(refreshes) < 4 or any(hi - lo < 1e-3 for lo, hi in refreshes):
        return middles
    centres = middles[1:]
    period = statistics.median(b - a for a, b in itertools.pairwise(centres))
    steps = [round((m - centres[0]) / period) for m in centres] if period > 0 else []
    if len(set(steps)) != len(centres):
        return middles
    mean_n, mean_m = statistics.fmean(steps), statistics.fmean(centres)
    period = sum((n - mean_n) * (m - mean_m) for n, m in zip(steps, centres, strict=True)) / sum(
        (n - mean_n) ** 2 for n in steps
    )
    phase = mean_m - period * mean_n
    low, high = _phases(refreshes, steps, period)  # every refresh within its bounds: the middle of those phases
    if low <= high:
        phase = (low + high) / 2
    fitted = [phase + n * period for n in steps]
    slack = 0.05 * period
    if any(not lo - slack <= t <= hi + slack for t, (lo, hi) in zip(fitted, refreshes, strict=True)):
        return middles  # no clock fits every refresh seen
    first = bounds[0][0]
    before = phase + math.floor((first - phase) / period) * period if bounds[0][1] - first < 1e-3 else middles[0]
    return [before, *(min(max(t, lo), hi) for t, (lo, hi) in zip(fitted, refreshes, strict=True))]


def _phases(bounds: list[tuple[float, float]], steps: list[int], period: float) -> tuple[float, float]:
    """The phases (lowest, highest) that put refresh ``n`` at ``phase + n × period`` within its bounds, for all."""
    low = max(lo - n * period for n, (lo, _) in zip(steps, bounds, strict=True))
    high = min(hi - n * period for n, (_, hi) in zip(steps, bounds, strict=True))
    return low, high


def _interpolated(points: list[tuple[float, int, int]], moment: float) -> tuple[float, float] | None:
    """Cumulative (received, sent) at ``moment``, linear between the points around it; None outside them."""
    for (t0, r0, s0), (t1, r1, s1) in itertools.pairwise(points):
        if t0 <= moment <= t1:
            share = (moment - t0) / (t1 - t0) if t1 > t0 else 0.0
            return r0 + share * (r1 - r0), s0 + share * (s1 - s0)
    return None


async def watch(
    counters: Counters, seconds: float, poll_s: float, busy_mbps: tuple[float, float] = (0.0, 0.0)
) -> Traffic | None:
    """The line's traffic over the next ``seconds`` (before a test: is anyone using it?)."""
    sampler = Sampler(counters, min(poll_s, seconds))
    await sampler.start()
    await asyncio.sleep(seconds)
    # One refresh alone cannot tell a rate (its bytes began before it). Counted over the watch alone they
    # overstate it: under the busy bound even so, the line is quiet; else watch on for the next refresh.
    deadline = time.monotonic() + seconds
    while sampler.moves == 1 and sampler.failed is None and time.monotonic() < deadline:
        if not _over(sampler.so_far(), busy_mbps):
            break
        await asyncio.sleep(sampler.poll_s)
    return await sampler.steady()


def _over(traffic: Traffic, busy_mbps: tuple[float, float]) -> bool:
    down, up = traffic.mbps()
    return down > busy_mbps[0] or up > busy_mbps[1]

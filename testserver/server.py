"""The test server: LibreSpeed/i-Speed endpoints (and Speedtest Mini's) on aiohttp.

Serves incompressible bytes with no caching and no compression, swallows uploads, and caps
the number of concurrent tests so that many agents testing at once measure their lines and
not this server: a client over the cap gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import re
import resource
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dokiem import __version__, httpdoor
from dokiem.httpdoor import Connections
from dokiem.testserver.counting import DOWN, SAMPLE_S, UP, Readable, TicketCounts
from dokiem.testserver.tickets import TicketGate, TicketRefused
from dokiem.vouch import seal

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CHUNK = 1 << 20
HEAD_TIMEOUT_S = 10.0  # each request head arrives within this of the opening or the last answer, or it is closed
MAX_CONNECTIONS_PER_ADDRESS = 256  # a carrier's NAT puts many residents behind one address: four streams each
MAX_CONNECTIONS = 16_384
FD_RESERVE = 64  # descriptors kept for the server's own files and sockets
MAX_CK_SIZE = 1024
DEFAULT_CK_SIZE = 4
NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0, s-maxage=0",
    "Pragma": "no-cache",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Encoding, Content-Type",
}


@dataclass
class ConcurrencyCap:
    """Concurrent tests, one per client address, held while it moves data and a grace after.

    The grace spans the short gaps between a test's phases (latency, download, upload), so a
    test that has started is not cut off half-way by a newcomer.

    Agents first (issue 22): residents' tests (each by its ticket: many residents share one address
    behind a carrier's NAT) hold at most ``resident_capacity`` slots (half by default), so the rest are
    always there for the agents, whose schedule the province's figures rest on. Where the server serves
    residents, a client naming no ticket is an agent only from the agents' networks; anyone else counts
    against the residents' share too (issue 38: 20 such clients took every slot).
    """

    capacity: int
    grace_s: float = 5.0
    retry_after_s: int = 30
    clock: Callable[[], float] = time.monotonic
    resident_capacity: int | None = None
    _active: dict[str, int] = field(default_factory=dict)
    _last_seen: dict[str, float] = field(default_factory=dict)
    _residents: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.resident_capacity is None:
            self.resident_capacity = self.capacity // 2

    def _expire(self, now: float) -> None:
        for client, seen in list(self._last_seen.items()):
            if self._active.get(client, 0) == 0 and now - seen > self.grace_s:
                del self._last_seen[client]
                self._active.pop(client, None)
                self._residents.discard(client)

    def acquire(self, client: str, resident: bool = False) -> bool:
        now = self.clock()
        self._expire(now)
        if client not in self._last_seen:
            if len(self._last_seen) >= self.capacity:
                return False
            if resident and len(self._residents) >= (self.resident_capacity or 0):
                return False
        if resident:
            self._residents.add(client)
        self._active[client] = self._active.get(client, 0) + 1
        self._last_seen[client] = now
        return True

    def release(self, client: str) -> None:
        self._active[client] = max(0, self._active.get(client, 1) - 1)
        self._last_seen[client] = self.clock()

    @property
    def in_use(self) -> int:
        self._expire(self.clock())
        return len(self._last_seen)

    @property
    def residents_in_use(self) -> int:
        self._expire(self.clock())
        return len(self._residents)


@dataclass(frozen=True)
class Voucher:
    """What the server signs its summaries as: its id (the collector's list names it) and its own key; and the
    collector's public key, whose tickets alone open a resident's test here."""

    server_id: str
    key: Ed25519PrivateKey
    ticket_key: Ed25519PublicKey


SLOTS = web.AppKey("slots", ConcurrencyCap)
CONNECTIONS = web.AppKey("connections", Connections)
GATE = web.AppKey("gate", TicketGate)
COUNTS = web.AppKey("counts", TicketCounts)
VOUCHER = web.AppKey("voucher", Voucher)
GARBAGE = web.AppKey("garbage", bytes)
AGENT_NETWORKS = web.AppKey("agent_networks", tuple)
STARTED = web.AppKey("started", float)


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


@dataclass(frozen=True)
class Holder:
    """Who holds a slot: a resident's test by its ticket (and the bytes it may still move that way), anyone
    else by address; whether it counts against the residents' share."""

    slot: str
    ticket: uuid.UUID | None = None
    allowance: int | None = None
    resident: bool = False


def _holder(request: web.Request, direction: int) -> Holder:
    """The request's holder; a ticket this server does not serve is refused here, before a byte moves."""
    if GATE not in request.app:
        return Holder(_client(request))  # no residents served here: every client is an agent
    if "ticket" not in request.query:
        return Holder(_client(request), resident=not _from_agents(request))
    try:
        ticket, allowance = request.app[GATE].admit(request.query["ticket"], direction)
    except TicketRefused as refused:
        raise _refusal(refused) from None
    return Holder(f"ticket:{ticket}", ticket, allowance, resident=True)


def _from_agents(request: web.Request) -> bool:
    try:
        address = ipaddress.ip_address(_client(request))
    except ValueError:
        return False
    return any(address in network for network in request.app[AGENT_NETWORKS])


def _refusal(refused: TicketRefused) -> web.HTTPException:
    answer = web.HTTPForbidden if refused.status == 403 else web.HTTPConflict
    return answer(text=json.dumps({"error": refused.reason, "message": str(refused)}), content_type="application/json",
                  headers=NO_CACHE)  # fmt: skip


def _socket(request: web.Request) -> Readable | None:
    return request.transport.get_extra_info("socket") if request.transport is not None else None


async def _read_counts(app: web.Application) -> AsyncIterator[None]:
    """Every live connection of residents' tests read at one instant, every SAMPLE_S (testserver/counting)."""

    async def forever() -> None:
        while True:
            await asyncio.sleep(SAMPLE_S)
            app[COUNTS].sample()

    task = asyncio.create_task(forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _busy(slots: ConcurrencyCap) -> web.Response:
    return web.Response(
        status=503,
        text="server busy: too many concurrent tests\n",
        headers={**NO_CACHE, "Retry-After": str(slots.retry_after_s)},
    )


def _ck_size(request: web.Request) -> int:
    raw = request.query.get("ckSize", str(DEFAULT_CK_SIZE))
    try:
        size = int(raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"ckSize must be a whole number of MiB, not {raw!r}\n") from exc
    return max(1, min(MAX_CK_SIZE, size))


async def _stream_bytes(request: web.Request, total: int, content_type: str) -> web.StreamResponse:
    slots = request.app[SLOTS]
    holder = _holder(request, DOWN)
    client, ticket = holder.slot, holder.ticket
    if holder.allowance is not None:
        total = min(total, holder.allowance)
    if not slots.acquire(client, resident=holder.resident):
        return _busy(slots)
    if ticket is not None:
        request.app[COUNTS].open(ticket, DOWN, _socket(request))
    try:
        response = web.StreamResponse(
            headers={
                **NO_CACHE,
                "Content-Type": content_type,
                "Content-Description": "File Transfer",
                "Content-Transfer-Encoding": "binary",
            }
        )
        response.content_length = total
        garbage = request.app[GARBAGE]
        view = memoryview(garbage)
        remaining = total
        began = request.app[COUNTS].clock()
        try:
            await response.prepare(request)
            while remaining > 0:
                n = min(remaining, len(garbage))
                await response.write(view[:n])
                remaining -= n
        except ConnectionError:
            pass  # clients end a test by closing mid-body: that is normal, not an error
        if ticket is not None:
            request.app[COUNTS].count(ticket, DOWN, total - remaining, began)
            request.app[GATE].moved(ticket, DOWN, total - remaining)
        return response
    finally:
        slots.release(client)
        if ticket is not None:
            request.app[COUNTS].close(ticket, DOWN)


async def garbage(request: web.Request) -> web.StreamResponse:
    return await _stream_bytes(request, _ck_size(request) * CHUNK, "application/octet-stream")


async def empty(request: web.Request) -> web.StreamResponse:
    if request.method == "POST" and request.can_read_body:
        return await _swallow(request, b"")
    return web.Response(body=b"", headers={**NO_CACHE, "Connection": "keep-alive"})


async def _swallow(request: web.Request, answer: bytes) -> web.StreamResponse:
    slots = request.app[SLOTS]
    holder = _holder(request, UP)
    client, ticket = holder.slot, holder.ticket
    if not slots.acquire(client, resident=holder.resident):
        return _busy(slots)
    if ticket is not None:
        request.app[COUNTS].open(ticket, UP, _socket(request))
    received = 0
    began = request.app[COUNTS].clock()
    limit = holder.allowance
    try:
        while chunk := await request.content.readany():
            received += len(chunk)
            if limit is not None and received > limit:  # beyond the ticket's bytes: not read, not counted
                received = limit
                return web.Response(status=413, text="the test's upload is over its bytes\n",
                                    headers={**NO_CACHE, "Connection": "close"})  # fmt: skip
    except ConnectionError:
        return web.Response(status=499)  # the client ended its test mid-upload; nobody reads this
    finally:
        slots.release(client)
        if ticket is not None:
            request.app[COUNTS].count(ticket, UP, received, began)
            request.app[COUNTS].close(ticket, UP)
            request.app[GATE].moved(ticket, UP, received)
    body = answer.replace(b"{size}", str(received).encode())
    return web.Response(body=body, headers={**NO_CACHE, "Connection": "keep-alive"})


async def get_ip(request: web.Request) -> web.Response:
    return web.json_response({"processedString": _client(request), "rawIspInfo": ""}, headers=NO_CACHE)


async def health(request: web.Request) -> web.Response:
    slots = request.app[SLOTS]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "tests_in_progress": slots.in_use,
            "capacity": slots.capacity,
            "residents_in_progress": slots.residents_in_use,
            "resident_capacity": slots.resident_capacity,
            "uptime_s": round(time.monotonic() - request.app[STARTED], 1),
            "connections_refused": request.app[CONNECTIONS].refused if CONNECTIONS in request.app else 0,
        },
        headers=NO_CACHE,
    )


async def summary(request: web.Request) -> web.Response:
    """``GET /summary?ticket=``: what this server counted of the ticket's test, signed with its key."""
    if VOUCHER not in request.app:
        raise web.HTTPNotFound(text="this test server signs no summaries (started without --signing-key)\n")
    if "ticket" not in request.query:
        raise web.HTTPNotFound(text="no test under this ticket here\n")
    try:
        ticket = request.app[GATE].summarised(request.query["ticket"])
    except TicketRefused as refused:
        raise _refusal(refused) from None
    voucher = request.app[VOUCHER]
    found = request.app[COUNTS].summary(ticket, voucher.server_id)
    if found is None:
        raise web.HTTPNotFound(text="no test under this ticket here\n")
    return web.json_response({"summary": seal(found, voucher.key)}, headers=NO_CACHE)


_MINI_IMAGE = re.compile(r"^random(\d{2,4})x(\d{2,4})\.jpg$")


async def mini_random(request: web.Request) -> web.StreamResponse:
    """Speedtest Mini's ``randomNxN.jpg``: about 2·N² bytes, as Ookla's legacy files are."""
    match = _MINI_IMAGE.match(request.match_info["name"])
    if match is None or match.group(1) != match.group(2):
        raise web.HTTPNotFound()
    side = int(match.group(1))
    return await _stream_bytes(request, 2 * side * side, "image/jpeg")


async def mini_upload(request: web.Request) -> web.StreamResponse:
    return await _swallow(request, b"size={size}")


async def mini_latency(request: web.Request) -> web.Response:
    return web.Response(text="test=test", headers=NO_CACHE)


def create_app(
    capacity: int = 20, grace_s: float = 5.0, retry_after_s: int = 30, voucher: Voucher | None = None,
    resident_capacity: int | None = None, agent_networks: tuple[Network, ...] = (),
) -> web.Application:  # fmt: skip
    app = web.Application(middlewares=[httpdoor.heads_in_time], client_max_size=MAX_CK_SIZE * CHUNK)
    app[SLOTS] = ConcurrencyCap(capacity=capacity, grace_s=grace_s, retry_after_s=retry_after_s,
                                resident_capacity=resident_capacity)  # fmt: skip
    app[COUNTS] = TicketCounts()
    app[AGENT_NETWORKS] = agent_networks
    app.cleanup_ctx.append(_read_counts)
    if voucher is not None:
        app[VOUCHER] = voucher
        app[GATE] = TicketGate(voucher.ticket_key, voucher.server_id)
    app[GARBAGE] = os.urandom(CHUNK)
    app[STARTED] = time.monotonic()
    for prefix in ("/backend/", "/"):
        for suffix in (".php", ""):
            app.router.add_get(f"{prefix}garbage{suffix}", garbage)
            app.router.add_route("*", f"{prefix}empty{suffix}", empty)
            app.router.add_get(f"{prefix}getIP{suffix}", get_ip)
    app.router.add_get("/healthz", health)
    app.router.add_get("/summary", summary)
    app.router.add_get("/speedtest/latency.txt", mini_latency)
    app.router.add_post("/speedtest/upload.php", mini_upload)
    app.router.add_get("/speedtest/{name}", mini_random)
    return app


def tls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A server TLS context; raises ValueError naming the file when the certificate or key is unusable."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot load the certificate {cert_file} with the key {key_file}: {exc}") from exc
    return context


async def start(
    host: str, port: int, capacity: int = 20, tls: ssl.SSLContext | None = None, voucher: Voucher | None = None,
    resident_capacity: int | None = None, agent_networks: tuple[Network, ...] = (),
) -> tuple[web.AppRunner, int]:  # fmt: skip
    """Start serving; returns the runner (to clean up) and the bound port (useful with port 0). A connection's
    first request head must arrive within HEAD_TIMEOUT_S; at most MAX_CONNECTIONS_PER_ADDRESS are open from one
    address (residents behind a carrier's NAT share one) and ``open_connections_bound()`` in all, so that
    half-sent heads cannot take every file descriptor (issue 38)."""
    app = create_app(capacity, voucher=voucher, resident_capacity=resident_capacity, agent_networks=agent_networks)
    connections = Connections(per_address=MAX_CONNECTIONS_PER_ADDRESS, total=open_connections_bound())
    app[CONNECTIONS] = connections
    listening: list[asyncio.Server] = []

    async def stop_listening(_app: web.Application) -> None:
        for server in listening:
            server.close()

    app.on_shutdown.append(stop_listening)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listening.append(await httpdoor.serve(runner, host, port, HEAD_TIMEOUT_S, connections, tls))
    return runner, int(listening[0].sockets[0].getsockname()[1])


def open_connections_bound() -> int:
    """Connections open at once: the file descriptors this process may hold, less a reserve for its own."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(64, min(MAX_CONNECTIONS, soft - FD_RESERVE))

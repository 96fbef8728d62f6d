"""An HTTP door bounded in time and in connections, for the collector and the test server (aiohttp has no
deadline for a request's head of its own): a connection's first request head, and on a kept-alive connection
each later one, must arrive within ``header_timeout_s`` of the connection's opening or of the previous answer,
so a client that sends a byte now and then (slowloris) holds it for seconds, not for ever; and the connections
open at once are bounded per address and in all, so that no one client, and no crowd, takes every file
descriptor. An app served here carries ``heads_in_time`` among its middlewares: it tells the connection when a
request's head has been read and when its answer is done. The collector also reads a request's body and answers within
``request_timeout_s``, one request per connection (``request_deadline``); the test server keeps its
connections alive between an agent's pings.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Connections:
    """The connections open now, by address; whether one more may open."""

    per_address: int | None = None
    total: int | None = None
    refused: int = 0  # connections closed at once for being over a bound
    _open: Counter[str] = field(default_factory=Counter)
    _in_all: int = 0  # the sum of _open, kept: a connection is admitted in constant time

    def admit(self, address: str) -> bool:
        over_total = self.total is not None and self._in_all >= self.total
        if over_total or (self.per_address is not None and self._open[address] >= self.per_address):
            self.refused += 1
            return False
        self._open[address] += 1
        self._in_all += 1
        return True

    def release(self, address: str) -> None:
        self._open[address] -= 1
        self._in_all -= 1
        if self._open[address] <= 0:
            del self._open[address]


class _HeadDeadline(asyncio.Protocol):
    """aiohttp's protocol for one connection, closed unless each request head arrives in time, or at once where
    the connections' bounds are reached (aiohttp then never sees it). The clock runs from the opening and from
    each answer's end until the next request reaches its handler (``heads_in_time``)."""

    def __init__(self, inner: asyncio.Protocol, seconds: float, connections: Connections | None = None) -> None:
        self._inner = inner
        self._seconds = seconds
        self._connections = connections
        self._address: str | None = None  # where an admitted connection comes from
        self._passed_on = False
        self._transport: asyncio.BaseTransport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._connections is not None:
            peer = transport.get_extra_info("peername")
            address = str(peer[0]) if peer else "unknown"
            if not self._connections.admit(address):
                transport.abort()  # type: ignore[attr-defined]
                return
            self._address = address
        self._transport = transport
        self._passed_on = True
        self.head_awaited()
        self._inner.connection_made(transport)

    def head_read(self) -> None:
        """A request's head was read whole: its handler has its own time."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def head_awaited(self) -> None:
        """The next head is awaited (the connection opened, or an answer ended): within the deadline."""
        self.head_read()
        if self._transport is not None and not self._transport.is_closing():
            self._timer = asyncio.get_running_loop().call_later(self._seconds, self._transport.close)

    def data_received(self, data: bytes) -> None:
        if self._passed_on:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._passed_on else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._connections is not None and self._address is not None:
            self._connections.release(self._address)
            self._address = None
        if not self._passed_on:
            return
        self.head_read()
        self._transport = None
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._passed_on:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._passed_on:
            self._inner.resume_writing()


@web.middleware
async def heads_in_time(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The connection's head clock stopped while a request is handled, and started again once it is answered, so
    a kept-alive connection's next head has the same deadline as its first."""
    door = request.transport.get_protocol() if request.transport is not None else None
    if not isinstance(door, _HeadDeadline):
        return await handler(request)
    door.head_read()
    try:
        response = await handler(request)
        try:  # written here (aiohttp's own prepare and write_eof then do nothing), so that the clock starts
            await response.prepare(request)  # after the answer, however long it took to send
            await response.write_eof()
        except ConnectionError:
            pass  # the client left before its answer: as aiohttp's own finish does, nothing to say (no traceback)
        return response
    finally:
        door.head_awaited()


def request_deadline(seconds: float) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware: the request's body read and its answer within ``seconds`` (408 otherwise), and the
    connection closed after it (one request per connection: the head deadline covers every request)."""

    @web.middleware
    async def deadline(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            async with asyncio.timeout(seconds):
                response = await handler(request)
        except TimeoutError:
            raise web.HTTPRequestTimeout(text=f"the request was not read and answered within {seconds:g} s\n",
                                         headers={"Connection": "close"}) from None  # fmt: skip
        except web.HTTPException as answer:
            answer.force_close()
            raise
        response.force_close()
        return response

    return deadline


async def serve(
    runner: web.AppRunner, host: str, port: int, header_timeout_s: float, connections: Connections | None = None,
    tls: ssl.SSLContext | None = None,
) -> asyncio.Server:  # fmt: skip
    """Listen on ``host:port`` with aiohttp's handler behind the head deadline and the connections' bounds."""
    handler = runner.server
    assert handler is not None, "runner.setup() first"
    assert isinstance(runner, web.AppRunner) and next(iter(runner.app.middlewares), None) is heads_in_time, (
        "heads_in_time must be the app's first middleware: without it a connection is cut after its first head"
    )
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _HeadDeadline(handler(), header_timeout_s, connections), host, port,
                                    ssl=tls, reuse_address=True)  # fmt: skip

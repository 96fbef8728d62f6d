"""The collector's HTTP door, bounded in time: a request's head must arrive within ``header_timeout_s`` of
the connection, its body be read and its answer made within ``request_timeout_s``, and each connection
serves one request. A client that sends a byte now and then (slowloris) holds a connection for seconds,
not for ever; aiohttp has no deadline for a request's head of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

HEAD_END = b"\r\n\r\n"


class _HeadDeadline(asyncio.Protocol):
    """aiohttp's protocol for one connection, closed unless a whole request head arrives in time."""

    def __init__(self, inner: asyncio.Protocol, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds
        self._tail = b""
        self._timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._timer = asyncio.get_running_loop().call_later(self._seconds, transport.close)
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:
            if HEAD_END in self._tail + data:
                self._timer.cancel()
                self._timer = None
            else:
                self._tail = (self._tail + data)[-(len(HEAD_END) - 1) :]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


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


async def serve(runner: web.AppRunner, host: str, port: int, header_timeout_s: float) -> asyncio.Server:
    """Listen on ``host:port`` with aiohttp's handler behind the head deadline."""
    handler = runner.server
    assert handler is not None, "runner.setup() first"
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _HeadDeadline(handler(), header_timeout_s), host, port)

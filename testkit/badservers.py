"""Misbehaving HTTP servers (real sockets, in a background thread) for the failure tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

EMPTY_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Type: text/html\r\n\r\n"
HTML = b"<html><body>Welcome to nginx!</body></html>"
REDIRECT = b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://speedtest.example.vn/\r\nContent-Length: 0\r\n\r\n"
BIG_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 104857600\r\n\r\n"


HITS: dict[str, int] = {}  # download requests seen, by mode


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def _handle(mode: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await _read_head(reader)
            if mode == "silent":
                await asyncio.Event().wait()
            path = head.split(b" ", 2)[1]
            is_download = b"garbage" in path
            if is_download:
                HITS[mode] = HITS.get(mode, 0) + 1
            if mode == "html":
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(HTML), HTML)
                )
            elif mode == "redirect":
                writer.write(REDIRECT)
            elif mode == "midstream" and is_download:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 104857600\r\n\r\n"
                )
                writer.write(b"\0" * (1 << 20))
                await writer.drain()
                writer.transport.abort()
                return
            elif mode == "busy" and is_download:
                writer.write(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n")
            elif mode == "notfound":
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            else:
                writer.write(EMPTY_OK)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        writer.close()


@contextmanager
def bad_server(mode: str) -> Iterator[str]:
    """Serve ``mode`` on a free loopback port; yields the base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _handle(mode, r, w), "127.0.0.1", 0)
        holder["port"] = server.sockets[0].getsockname()[1]
        holder["server"] = server
        ready.set()
        async with server:
            await server.serve_forever()

    thread = threading.Thread(target=_run, args=(loop, main), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{holder['port']}/"
    finally:
        loop.call_soon_threadsafe(lambda: [t.cancel() for t in asyncio.all_tasks(loop)])
        thread.join(10)


def _run(loop: asyncio.AbstractEventLoop, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main())
    except asyncio.CancelledError:
        pass
    finally:
        loop.close()

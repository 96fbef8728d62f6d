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
# A speed-test server in every other way, whose answers carry one hostile thing each.
HOSTILE = {
    "date9999": b"Date: Fri, 31 Dec 9999 23:59:59 GMT\r\n",  # a clock no agent should believe
    "control_chars": b"Date: \x1b[31mnot a date\x07\r\n",
}
HUGE_CHUNK_LINE = b"1" * 4000  # a chunk size of 4,000 hex digits


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            await reader.readexactly(int(value))


async def _answer_hostile(mode: str, is_download: bool, writer: asyncio.StreamWriter) -> None:
    """Test data and empty answers as a speed-test server gives them, with the mode's hostile part."""
    if mode == "hugechunk":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + HUGE_CHUNK_LINE + b"\r\n" + b"x" * 65536)  # fmt: skip
        return
    extra = HOSTILE[mode]
    if not is_download:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + extra + b"\r\n")
        return
    size = 8 << 20
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n" % size
                 + extra + b"\r\n")  # fmt: skip
    for _ in range(size >> 20):
        writer.write(bytes(1 << 20))
        await writer.drain()


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
            await _read_body(reader, head)
            if mode in HOSTILE or mode == "hugechunk":
                await _answer_hostile(mode, is_download, writer)
            elif mode == "html":
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

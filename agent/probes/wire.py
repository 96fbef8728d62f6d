"""Just enough HTTP/1.1 to measure: one kept-alive connection, bytes counted, none kept.

A general HTTP client would decode, decompress and copy every byte into Python objects; at a
gigabit on a Pi that work is the figure's ceiling. Here the socket reads into one reused
buffer (``asyncio.BufferedProtocol``) and a small state machine only finds the response
boundaries, so the client costs little more than the kernel's own copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.servers import Endpoint
from dokiem import __version__

USER_AGENT = f"dokiem/{__version__}"
MAX_HEAD = 64 << 10
KEEP_BODY_LIMIT = 64 << 10


class HttpFailure(Exception):
    """A failure with a short code (the Result's ``error.code``) and a readable message."""

    def __init__(self, code: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass
class Head:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class ResponseParser:
    """Parses one response as it streams: the head, then a body framed by length, chunks or EOF.

    Knows nothing of sockets or event loops: the asyncio connection and the bulk-transfer
    threads both feed it what they read.
    """

    def __init__(self, keep_body: bool = False) -> None:
        self.head: Head | None = None
        self.error: HttpFailure | None = None
        self.body_bytes = 0
        self.body = bytearray() if keep_body else None
        self.reusable = True
        self._headbuf = bytearray()
        self._state = "head"
        self._remaining = 0
        self._linebuf = bytearray()

    @property
    def done(self) -> bool:
        return self._state == "done"

    @property
    def body_remaining(self) -> int | None:
        """Bytes still due in a Content-Length body (None in any other state)."""
        return self._remaining if self._state == "length" else None

    def feed(self, data: memoryview) -> None:
        while data and self._state != "done":
            if self._state == "head":
                data = self._feed_head(data)
            elif self._state in ("length", "chunk_data"):
                data = self._feed_counted(data)
            elif self._state == "close":
                self._take(data)
                data = data[len(data) :]
            else:
                data = self._feed_line(data)

    def eof(self, exc: BaseException | None = None) -> None:
        if self._state == "close":
            self._finish()
        if self._state == "done":
            return
        where = "before the response head" if self._state == "head" else "in the middle of the body"
        message = f"the server closed the connection {where}"
        if exc is not None:
            message = f"the connection was lost {where}: {exc}"
        self._fail("closed_mid_stream", message)

    def _take(self, data: memoryview) -> None:
        self.body_bytes += len(data)
        if self.body is not None and len(self.body) < KEEP_BODY_LIMIT:
            self.body += data[: KEEP_BODY_LIMIT - len(self.body)]

    def _finish(self) -> None:
        self._state = "done"

    def _fail(self, code: str, message: str) -> None:
        self._state = "done"
        self.reusable = False
        if self.error is None:
            self.error = HttpFailure(code, message)

    def _feed_head(self, data: memoryview) -> memoryview:
        start = max(0, len(self._headbuf) - 3)
        self._headbuf += data
        end = self._headbuf.find(b"\r\n\r\n", start)
        if end < 0:
            if len(self._headbuf) > MAX_HEAD:
                self._fail("protocol_error", "the response head is larger than 64 KiB")
            return data[len(data) :]
        consumed = end + 4 - (len(self._headbuf) - len(data))
        head = parse_head(bytes(self._headbuf[:end]))
        if head is None:
            self._fail("protocol_error", "the server did not answer with HTTP/1.x")
            return data[len(data) :]
        self.head = head
        self._start_body(head)
        return data[consumed:]

    def _start_body(self, head: Head) -> None:
        if head.header("connection").lower() == "close":
            self.reusable = False
        if "chunked" in head.header("transfer-encoding").lower():
            self._state = "chunk_size"
        elif head.header("content-length"):
            try:
                self._remaining = int(head.header("content-length"))
            except ValueError:
                self._fail("protocol_error", "the server sent an invalid Content-Length")
                return
            self._state = "length"
            if self._remaining == 0 or head.status in (204, 304):
                self._finish()
        elif head.status in (204, 304):
            self._finish()
        else:
            self._state = "close"
            self.reusable = False

    def _feed_counted(self, data: memoryview) -> memoryview:
        n = min(self._remaining, len(data))
        self._take(data[:n])
        self._remaining -= n
        if self._remaining == 0:
            if self._state == "length":
                self._finish()
            else:
                self._state = "chunk_crlf"
        return data[n:]

    def _feed_line(self, data: memoryview) -> memoryview:
        start = max(0, len(self._linebuf) - 1)
        self._linebuf += data[:4096]
        end = self._linebuf.find(b"\r\n", start)
        if end < 0:
            if len(self._linebuf) > 4096:
                self._fail("protocol_error", "a chunk-size line is longer than 4 KiB")
            return data[min(len(data), 4096) :]
        consumed = end + 2 - (len(self._linebuf) - min(len(data), 4096))
        line = bytes(self._linebuf[:end])
        self._linebuf.clear()
        self._on_line(line)
        return data[consumed:]

    def _on_line(self, line: bytes) -> None:
        if self._state == "chunk_crlf":
            self._state = "chunk_size" if line == b"" else "done"
            if line != b"":
                self._fail("protocol_error", "a chunk was not followed by CRLF")
        elif self._state == "chunk_size":
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self._fail("protocol_error", "the server sent an invalid chunk size")
                return
            if size == 0:
                self._state = "trailers"
            else:
                self._remaining = size
                self._state = "chunk_data"
        elif self._state == "trailers" and line == b"":
            self._finish()


def parse_head(raw: bytes) -> Head | None:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        return None
    head = Head(status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "")
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            head.headers[name.strip().lower()] = value.strip()
    return head


class _Protocol(asyncio.BufferedProtocol):
    def __init__(self) -> None:
        self._buffer = memoryview(bytearray(64 << 10))
        self.parser: ResponseParser | None = None
        self.progress = asyncio.Event()
        self.lost = False

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        if self.parser is not None:
            self.parser.feed(self._buffer[:nbytes])
            self.progress.set()

    def eof_received(self) -> bool:
        if self.parser is not None:
            self.parser.eof()
        self.progress.set()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.parser is not None:
            self.parser.eof(exc)
        self.progress.set()


Address = tuple[int, tuple[Any, ...]]


async def resolve(endpoint: Endpoint, timeout: float) -> Address:
    """The endpoint's first address as (family, sockaddr); a clear failure if the name does not resolve."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise HttpFailure("dns_failed", f"resolving {endpoint.host} took over {timeout:.0f} s") from exc
    except socket.gaierror as exc:
        raise HttpFailure("dns_failed", f"cannot resolve {endpoint.host}: {exc.strerror}") from exc
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


def connect_failure(endpoint: Endpoint, exc: BaseException, timeout: float) -> HttpFailure:
    """The failure to report for an exception raised while connecting."""
    if isinstance(exc, TimeoutError | socket.timeout):
        where = f"{endpoint.host}:{endpoint.port}"
        return HttpFailure("connect_timeout", f"no TCP connection to {where} in {timeout:.0f} s")
    if isinstance(exc, ssl.SSLError):
        return HttpFailure("tls_failed", f"TLS with {endpoint.host} failed: {exc.reason}")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return HttpFailure("connect_failed", f"cannot connect to {endpoint.host}:{endpoint.port}: {reason}")


def request_head(endpoint: Endpoint, method: str, target: str, body_size: int | None = None) -> bytes:
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {endpoint.host_header}",
        f"User-Agent: {USER_AGENT}",
        "Accept-Encoding: identity",
        "Cache-Control: no-cache, no-store",
        "Connection: keep-alive",
    ]
    if body_size is not None:
        lines += ["Content-Type: application/octet-stream", f"Content-Length: {body_size}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def open_connection(endpoint: Endpoint, timeout: float) -> HttpConnection:
    loop = asyncio.get_running_loop()
    family, sockaddr = await resolve(endpoint, timeout)
    context = ssl.create_default_context() if endpoint.tls else None
    try:
        async with asyncio.timeout(timeout):
            transport, proto = await loop.create_connection(
                _Protocol,
                host=str(sockaddr[0]),
                port=endpoint.port,
                ssl=context,
                server_hostname=endpoint.host if context else None,
                family=family,
            )
    except (TimeoutError, OSError) as exc:
        raise connect_failure(endpoint, exc, timeout) from exc
    assert isinstance(transport, asyncio.Transport)
    return HttpConnection(endpoint, transport, proto)


class HttpConnection:
    """One kept-alive asyncio connection for small requests (latency); no pipelining."""

    def __init__(self, endpoint: Endpoint, transport: asyncio.Transport, proto: _Protocol) -> None:
        self.endpoint = endpoint
        self._transport = transport
        self._proto = proto
        self.reusable = True

    @property
    def closed(self) -> bool:
        return self._proto.lost or not self.reusable

    async def request(
        self, method: str, target: str, *, keep_body: bool = False, check: Callable[[Head], None] | None = None
    ) -> ResponseParser:
        """Send one request and wait for the response head (checked by ``check``)."""
        if self.closed:
            raise HttpFailure("closed_mid_stream", "the connection is already closed")
        parser = ResponseParser(keep_body)
        self._proto.parser = parser
        self._transport.write(request_head(self.endpoint, method, target))
        await self._wait(lambda: parser.head is not None, parser)
        assert parser.head is not None
        if check is not None:
            check(parser.head)
        return parser

    async def finish(self, parser: ResponseParser) -> None:
        """Wait for the rest of the body; the connection stays reusable if the server agrees."""
        await self._wait(lambda: parser.done, parser)
        self.reusable = self.reusable and parser.reusable

    async def _wait(self, ready: Callable[[], bool], parser: ResponseParser) -> None:
        while not ready() and parser.error is None:
            self._proto.progress.clear()
            await self._proto.progress.wait()
        if parser.error is not None:
            raise parser.error

    def close(self) -> None:
        self.reusable = False
        with contextlib.suppress(Exception):
            self._transport.close()

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

from agent.probes.tcpinfo import kernel_counters
from agent.servers import Endpoint
from dokiem import __version__

USER_AGENT = f"dokiem/{__version__}"
READ_BUFFER = 1 << 20
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


class ResponseReader:
    """Parses one response as it streams: the head, then a body framed by length, chunks or EOF."""

    def __init__(self, loop: asyncio.AbstractEventLoop, keep_body: bool) -> None:
        self.head: asyncio.Future[Head] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.body_bytes = 0
        self.body = bytearray() if keep_body else None
        self._headbuf = bytearray()
        self._state = "head"
        self._remaining = 0
        self._linebuf = bytearray()
        self.reusable = True

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
            return
        if self._state == "done":
            return
        where = "before the response head" if self._state == "head" else "in the middle of the body"
        failure = HttpFailure("closed_mid_stream", f"the server closed the connection {where}")
        if exc is not None:
            failure = HttpFailure("closed_mid_stream", f"the connection was lost {where}: {exc}")
        for fut in (self.head, self.done):
            if not fut.done():
                fut.set_exception(failure)
                fut.exception()  # marks it retrieved; the awaiting side re-raises it

    def _take(self, data: memoryview) -> None:
        self.body_bytes += len(data)
        if self.body is not None and len(self.body) < KEEP_BODY_LIMIT:
            self.body += data[: KEEP_BODY_LIMIT - len(self.body)]

    def _finish(self) -> None:
        self._state = "done"
        if not self.done.done():
            self.done.set_result(None)

    def _fail(self, message: str) -> None:
        self._state = "done"
        self.reusable = False
        failure = HttpFailure("protocol_error", message)
        for fut in (self.head, self.done):
            if not fut.done():
                fut.set_exception(failure)
                fut.exception()

    def _feed_head(self, data: memoryview) -> memoryview:
        start = max(0, len(self._headbuf) - 3)
        self._headbuf += data
        end = self._headbuf.find(b"\r\n\r\n", start)
        if end < 0:
            if len(self._headbuf) > MAX_HEAD:
                self._fail("the response head is larger than 64 KiB")
            return data[len(data) :]
        consumed = end + 4 - (len(self._headbuf) - len(data))
        head = parse_head(bytes(self._headbuf[:end]))
        if head is None:
            self._fail("the server did not answer with HTTP/1.x")
            return data[len(data) :]
        self._start_body(head)
        self.head.set_result(head)
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
                self._fail("the server sent an invalid Content-Length")
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
                self._fail("a chunk-size line is longer than 4 KiB")
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
                self._fail("a chunk was not followed by CRLF")
        elif self._state == "chunk_size":
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self._fail("the server sent an invalid chunk size")
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
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buffer = memoryview(bytearray(READ_BUFFER))
        self.reader: ResponseReader | None = None
        self.received = 0
        self.sent = 0
        self.transport: asyncio.Transport | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self.lost: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.received += nbytes
        if self.reader is not None:
            self.reader.feed(self._buffer[:nbytes])

    def eof_received(self) -> bool:
        if self.reader is not None:
            self.reader.eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.reader is not None:
            self.reader.eof(exc)
        self._writable.set()
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def writable(self) -> None:
        await self._writable.wait()
        if self.lost.done():
            raise HttpFailure("closed_mid_stream", "the server closed the connection during upload")


async def open_connection(endpoint: Endpoint, timeout: float) -> HttpConnection:
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context() if endpoint.tls else None
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise HttpFailure("dns_failed", f"resolving {endpoint.host} took over {timeout:.0f} s") from exc
    except socket.gaierror as exc:
        raise HttpFailure("dns_failed", f"cannot resolve {endpoint.host}: {exc.strerror}") from exc
    family, _, _, _, address = infos[0]
    try:
        async with asyncio.timeout(timeout):
            transport, proto = await loop.create_connection(
                lambda: _Protocol(loop),
                host=str(address[0]),
                port=endpoint.port,
                ssl=context,
                server_hostname=endpoint.host if context else None,
                family=family,
            )
    except TimeoutError as exc:
        raise HttpFailure(
            "connect_timeout", f"no TCP connection to {endpoint.host}:{endpoint.port} in {timeout:.0f} s"
        ) from exc
    except ssl.SSLError as exc:
        raise HttpFailure("tls_failed", f"TLS with {endpoint.host} failed: {exc.reason}") from exc
    except OSError as exc:
        raise HttpFailure(
            "connect_failed", f"cannot connect to {endpoint.host}:{endpoint.port}: {exc.strerror or exc}"
        ) from exc
    assert isinstance(transport, asyncio.Transport)
    transport.set_write_buffer_limits(high=4 << 20)
    return HttpConnection(endpoint, transport, proto)


class HttpConnection:
    """One kept-alive connection; requests are sequential (no pipelining)."""

    def __init__(self, endpoint: Endpoint, transport: asyncio.Transport, proto: _Protocol) -> None:
        self.endpoint = endpoint
        self._transport = transport
        self._proto = proto
        self._sock = transport.get_extra_info("socket")
        self.reusable = True

    @property
    def closed(self) -> bool:
        return self._proto.lost.done() or not self.reusable

    def counters(self) -> tuple[int, int]:
        """(bytes delivered to the server, bytes arrived from it) as the kernel counts them.

        Falls back to what was handed to / read from the socket where the kernel has no
        counters; that fallback overstates uploads by up to one send buffer.
        """
        if self._sock is not None:
            kernel = kernel_counters(self._sock)
            if kernel is not None:
                return kernel
        return self._proto.sent, self._proto.received

    def request_head(self, method: str, target: str, body_size: int | None = None) -> bytes:
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: {self.endpoint.host_header}",
            f"User-Agent: {USER_AGENT}",
            "Accept-Encoding: identity",
            "Cache-Control: no-cache, no-store",
            "Connection: keep-alive",
        ]
        if body_size is not None:
            lines += ["Content-Type: application/octet-stream", f"Content-Length: {body_size}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def request(
        self,
        method: str,
        target: str,
        *,
        body: memoryview | None = None,
        body_size: int = 0,
        keep_body: bool = False,
        check: Callable[[Head], None] | None = None,
    ) -> ResponseReader:
        """Send one request (body: ``body_size`` bytes cycled from ``body``) and await its head."""
        if self.closed:
            raise HttpFailure("closed_mid_stream", "the connection is already closed")
        reader = ResponseReader(asyncio.get_running_loop(), keep_body)
        self._proto.reader = reader
        head_bytes = self.request_head(method, target, body_size if body is not None else None)
        self._transport.write(head_bytes)
        self._proto.sent += len(head_bytes)
        if body is not None:
            await self._send_body(body, body_size, reader)
        head = await reader.head
        if check is not None:
            check(head)
        return reader

    async def _send_body(self, body: memoryview, size: int, reader: ResponseReader) -> None:
        remaining = size
        while remaining > 0 and not reader.head.done():
            await self._proto.writable()
            n = min(remaining, len(body))
            self._transport.write(body[:n])
            self._proto.sent += n
            remaining -= n

    async def finish(self, reader: ResponseReader) -> None:
        """Wait for the rest of the body; the connection is reusable afterwards if the server agrees."""
        await reader.done
        self.reusable = self.reusable and reader.reusable

    def abort(self) -> None:
        self.reusable = False
        self._transport.abort()

    def close(self) -> None:
        self.reusable = False
        with contextlib.suppress(Exception):
            self._transport.close()

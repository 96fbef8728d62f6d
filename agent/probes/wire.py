"""HTTP/1.1 for measuring: the control path on h11, the bulk bytes on a lean framer.

The control path (latency, warm-up, loaded pings) speaks through h11, a well-kept HTTP/1.1
state machine: it honours ``Connection: close`` however a server says it (PHP's built-in
server sends ``close`` and LibreSpeed's script adds ``keep-alive``), HTTP/1.0, chunked bodies
and early closes; a request after the server closed goes on a new connection, counted.

The bulk transfer cannot afford h11's copies at a gigabit on a Pi: its threads read into one
reused buffer and ``ResponseParser`` only finds the response boundaries (length, chunks or
EOF), so the client costs little more than the kernel's own copy. It reads headers the way
h11 does: a repeated header is one comma-joined value, and a connection is reused only if
neither side said ``close`` (HTTP/1.0: only if the server said ``keep-alive``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import h11

from dokiem import __version__
from dokiem.agent.servers import Endpoint
from dokiem.contract import ErrorCode, printable_message
from dokiem.tcpinfo import tcp_info, wire_bytes

USER_AGENT = f"dokiem/{__version__}"
MAX_HEAD = 64 << 10
KEEP_BODY_LIMIT = 64 << 10


MAX_CHUNK_DIGITS = 16  # a chunk of 2**64 bytes or more is no test data


class HttpFailure(Exception):
    """A failure with a short code (the Result's ``error.code``) and a readable message."""

    def __init__(self, code: ErrorCode, message: str, *, retry_after: float | None = None) -> None:
        message = printable_message(message, 300)  # a server chooses some of it: bounded and clean
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass
class Head:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)
    version: str = "1.1"

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def keeps_alive(self) -> bool:
        """Whether the server lets the connection carry another request (RFC 9112 §9.3)."""
        tokens = {token.strip().lower() for token in self.header("connection").split(",")}
        if "close" in tokens:
            return False
        return self.version != "1.0" or "keep-alive" in tokens


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

    def feed(self, data: memoryview) -> memoryview:
        """Take what belongs to this response; returns what follows it (the next pipelined response's)."""
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
        return data

    def eof(self, exc: BaseException | None = None) -> None:
        if self._state == "close":
            self._finish()
        if self._state == "done":
            return
        where = "before the response head" if self._state == "head" else "in the middle of the body"
        message = f"the server closed the connection {where}"
        if exc is not None:
            message = f"the connection was lost {where}: {exc}"
        self._fail(ErrorCode.CLOSED_MID_STREAM, message)

    def _take(self, data: memoryview) -> None:
        self.body_bytes += len(data)
        if self.body is not None and len(self.body) < KEEP_BODY_LIMIT:
            self.body += data[: KEEP_BODY_LIMIT - len(self.body)]

    def _finish(self) -> None:
        self._state = "done"

    def _fail(self, code: ErrorCode, message: str) -> None:
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
                self._fail(ErrorCode.PROTOCOL_ERROR, "the response head is larger than 64 KiB")
            return data[len(data) :]
        consumed = end + 4 - (len(self._headbuf) - len(data))
        head = parse_head(bytes(self._headbuf[:end]))
        if head is None:
            self._fail(ErrorCode.PROTOCOL_ERROR, "the server did not answer with HTTP/1.x")
            return data[len(data) :]
        self.head = head
        self._start_body(head)
        return data[consumed:]

    def _start_body(self, head: Head) -> None:
        if not head.keeps_alive:
            self.reusable = False
        if "chunked" in head.header("transfer-encoding").lower():
            self._state = "chunk_size"
        elif head.header("content-length"):
            try:
                self._remaining = int(head.header("content-length"))
            except ValueError:
                self._fail(ErrorCode.PROTOCOL_ERROR, "the server sent an invalid Content-Length")
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
                self._fail(ErrorCode.PROTOCOL_ERROR, "a chunk-size line is longer than 4 KiB")
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
                self._fail(ErrorCode.PROTOCOL_ERROR, "a chunk was not followed by CRLF")
        elif self._state == "chunk_size":
            digits = line.split(b";", 1)[0].strip()
            try:
                size = int(digits, 16) if len(digits) <= MAX_CHUNK_DIGITS else -1
            except ValueError:
                size = -1
            if size < 0:
                self._fail(ErrorCode.PROTOCOL_ERROR, "the server sent an invalid chunk size")
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
    if len(parts) < 2 or parts[0] not in ("HTTP/1.0", "HTTP/1.1") or not parts[1].isdigit():
        return None
    head = Head(status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "", version=parts[0][5:])
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key, value = name.strip().lower(), value.strip()
            # a repeated header is one list (RFC 9110 §5.3): "Connection: close" then "keep-alive"
            head.headers[key] = f"{head.headers[key]}, {value}" if key in head.headers else value
    return head


Address = tuple[int, tuple[Any, ...]]


HAPPY_EYEBALLS_DELAY_S = 0.25  # RFC 8305's recommended connection attempt delay


async def resolve(endpoint: Endpoint, timeout: float, family: int = socket.AF_UNSPEC) -> Address:
    """The endpoint's first address of ``family`` (any: AF_UNSPEC) as (family, sockaddr); a clear
    failure if the name does not resolve (to that family)."""
    infos = await _lookup(endpoint, timeout, family)
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


async def families(endpoint: Endpoint, timeout: float) -> list[int]:
    """The address families the endpoint's name resolves to: IPv6 first, then IPv4."""
    found = {info[0] for info in await _lookup(endpoint, timeout, socket.AF_UNSPEC)}
    return [f for f in (socket.AF_INET6, socket.AF_INET) if f in found]


async def _lookup(endpoint: Endpoint, timeout: float, family: int) -> list[Any]:
    loop = asyncio.get_running_loop()
    wanted = " over IPv4" if family == socket.AF_INET else " over IPv6" if family == socket.AF_INET6 else ""
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(endpoint.host, endpoint.port, family=family, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise HttpFailure(ErrorCode.DNS_FAILED, f"resolving {endpoint.host} took over {timeout:.0f} s") from exc
    except socket.gaierror as exc:
        raise HttpFailure(ErrorCode.DNS_FAILED, f"cannot resolve {endpoint.host}{wanted}: {exc.strerror}") from exc
    if not infos:
        raise HttpFailure(ErrorCode.DNS_FAILED, f"{endpoint.host} has no address{wanted}")
    return list(infos)


def connect_failure(endpoint: Endpoint, exc: BaseException, timeout: float) -> HttpFailure:
    """The failure to report for an exception raised while connecting."""
    if isinstance(exc, TimeoutError | socket.timeout):
        where = f"{endpoint.host}:{endpoint.port}"
        return HttpFailure(ErrorCode.CONNECT_TIMEOUT, f"no TCP connection to {where} in {timeout:.0f} s")
    if isinstance(exc, ssl.SSLError):
        return HttpFailure(ErrorCode.TLS_FAILED, f"TLS with {endpoint.host} failed: {exc.reason}")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return HttpFailure(ErrorCode.CONNECT_FAILED, f"cannot connect to {endpoint.host}:{endpoint.port}: {reason}")


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


async def open_connection(endpoint: Endpoint, timeout: float, family: int = socket.AF_UNSPEC) -> HttpConnection:
    """A connection over ``family``; with AF_UNSPEC, happy eyeballs (RFC 8305) across the name's
    IPv6 and IPv4 addresses: the first to connect wins, and says which family the run uses."""
    context = ssl.create_default_context() if endpoint.tls else None
    tls_name = endpoint.host if context else None
    if family == socket.AF_UNSPEC:
        await _lookup(endpoint, timeout, family)  # a name that does not resolve is dns_failed, not connect_failed
        host, delay = endpoint.host, HAPPY_EYEBALLS_DELAY_S
    else:
        family, sockaddr = await resolve(endpoint, timeout, family)
        host, delay = str(sockaddr[0]), None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                host=host, port=endpoint.port, ssl=context, server_hostname=tls_name, family=family,
                happy_eyeballs_delay=delay, interleave=1 if delay else None,
            )  # fmt: skip
    except (TimeoutError, OSError) as exc:
        raise connect_failure(endpoint, exc, timeout) from exc
    return HttpConnection(endpoint, reader, writer)


@dataclass
class Response:
    head: Head
    body: bytes
    body_bytes: int


class HttpConnection:
    """One connection for small requests (latency, warm-up), driven by h11; no pipelining."""

    def __init__(self, endpoint: Endpoint, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.endpoint = endpoint
        self._reader, self._writer = reader, writer
        self._h11 = h11.Connection(h11.CLIENT)
        sock = writer.get_extra_info("socket")
        self.family: int = sock.family if sock is not None else socket.AF_UNSPEC

    @property
    def closed(self) -> bool:
        """The server (or h11) says no further request may go on this connection."""
        states = (self._h11.our_state, self._h11.their_state)
        return self._writer.is_closing() or any(s in (h11.MUST_CLOSE, h11.CLOSED, h11.ERROR) for s in states)

    async def exchange(
        self, method: str, target: str, *, keep_body: bool = False, check: Callable[[Head], None] | None = None
    ) -> Response:
        """Send one request, read the whole response (its head checked by ``check``)."""
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
        if self.closed or self._h11.our_state is not h11.IDLE:
            raise HttpFailure(ErrorCode.CLOSED_MID_STREAM, "the connection is already closed")
        headers = [("Host", self.endpoint.host_header), ("User-Agent", USER_AGENT), ("Accept-Encoding", "identity"),
                   ("Cache-Control", "no-cache, no-store")]  # fmt: skip
        self._writer.write(self._h11.send(h11.Request(method=method, target=target, headers=headers)) or b"")
        self._writer.write(self._h11.send(h11.EndOfMessage()) or b"")
        head: Head | None = None
        body, size = bytearray(), 0
        while True:
            event = await self._next_event()
            if isinstance(event, h11.Response):
                head = _head_of(event)
                if check is not None:
                    check(head)
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if keep_body and len(body) < KEEP_BODY_LIMIT:
                    body += event.data[: KEEP_BODY_LIMIT - len(body)]
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return Response(head, bytes(body), size)

    async def _next_event(self) -> Any:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise HttpFailure(*_protocol_failure(exc)) from None
            if event is not h11.NEED_DATA:
                if isinstance(event, h11.ConnectionClosed):
                    raise HttpFailure(
                        ErrorCode.CLOSED_MID_STREAM, "the server closed the connection before the response"
                    )
                return event
            try:
                data = await self._reader.read(64 << 10)
            except OSError as exc:
                raise HttpFailure(ErrorCode.CLOSED_MID_STREAM, f"the connection was lost: {exc}") from exc
            self._h11.receive_data(data)  # b"" is the server's close; h11 says if that was too early

    def wire_bytes(self) -> tuple[int, int]:
        """What the connection has moved on the interface so far (in, out), headers included."""
        sock = self._writer.get_extra_info("socket")
        return (0, 0) if sock is None else wire_bytes(tcp_info(sock), self.family)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()


def _head_of(response: h11.Response) -> Head:
    head = Head(status=response.status_code, reason=response.reason.decode("latin-1"),
                version=response.http_version.decode("ascii"))  # fmt: skip
    for name, value in response.headers:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        head.headers[key] = f"{head.headers[key]}, {text}" if key in head.headers else text
    return head


def _protocol_failure(exc: h11.RemoteProtocolError) -> tuple[ErrorCode, str]:
    message = str(exc)
    if "incomplete" in message.lower() or "peer closed" in message.lower():
        return (ErrorCode.CLOSED_MID_STREAM,
                f"the server closed the connection in the middle of the response ({message})")  # fmt: skip
    return ErrorCode.PROTOCOL_ERROR, f"the server's answer is not valid HTTP/1.1: {message}"

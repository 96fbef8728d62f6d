"""Bulk transfer streams: one thread and one blocking socket each, for the least CPU per byte.

On a Pi-class CPU budget the cost of moving a gigabit is the cost of the system calls around
it. A blocking socket lets a download wait for a whole MiB in one ``recv_into(MSG_WAITALL)``
and an upload hand the kernel a MiB of page cache with one ``sendfile`` (no copy in Python);
measured in the lab, that is about a third of the CPU of an asyncio stream doing the same.
The figure never depends on these reads: it comes from the kernel's counters (``tcpinfo``).

A connection the server keeps alive carries two requests in flight (HTTP/1.1 pipelining): the next
request is already queued while the server serves one, so the gap between a response and the next
request (a round trip: a fifth of the time at 240 ms with requests of a second) never idles the stream.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Callable

from dokiem.agent.probes.wire import Address, Head, HttpFailure, ResponseParser, connect_failure, request_head
from dokiem.agent.servers import Endpoint
from dokiem.contract import ErrorCode
from dokiem.tcpinfo import TcpInfo, congestion_control, tcp_info, wire_bytes

BLOCK = 1 << 20
PIPELINE = 2  # requests in flight per connection


def _random_file() -> int:
    """A file descriptor holding one MiB of incompressible bytes, for sendfile."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None:
        fd: int = memfd_create("dokiem-upload")
    else:
        with tempfile.TemporaryFile() as backing:
            fd = os.dup(backing.fileno())
    os.write(fd, os.urandom(BLOCK))
    return fd


_UPLOAD_FD: int | None = None
_UPLOAD_LOCK = threading.Lock()


def upload_source() -> int:
    global _UPLOAD_FD
    with _UPLOAD_LOCK:
        if _UPLOAD_FD is None:
            _UPLOAD_FD = _random_file()
        return _UPLOAD_FD


class BulkStream(threading.Thread):
    """Moves data in one direction until stopped; any failure is kept for the phase to raise."""

    def __init__(
        self,
        direction: str,
        endpoint: Endpoint,
        address: Address,
        next_target: Callable[[], str],
        check: Callable[[Head], None],
        connect_timeout_s: float,
        upload_blob: Callable[[int, float], int] | None = None,
    ) -> None:
        super().__init__(daemon=True, name=f"dokiem-{direction}")
        self.direction = direction
        self.endpoint = endpoint
        self.address = address
        self.next_target = next_target
        self.check = check
        self.connect_timeout_s = connect_timeout_s
        self.upload_blob = upload_blob
        self.failure: HttpFailure | None = None
        self._halt = threading.Event()
        self._sock: socket.socket | None = None
        self._done_bytes = 0
        self._done_sent = 0  # bytes sent and sent again by closed connections (upload: the retransmitted share)
        self._done_retrans = 0
        self._done_wire = (0, 0)  # closed connections' bytes on the interface (in, out), headers included
        self._app_bytes = 0
        self._carry = b""  # what the last read took of the next pipelined response
        self.congestion: str | None = None
        self.app_counted = False  # the kernel's counters were unreadable at least once: we counted
        self._lock = threading.Lock()
        self._buffer = memoryview(bytearray(BLOCK))

    # --- called from the event loop ---------------------------------------------------

    def moved(self) -> int:
        """Bytes that reached the far side (upload) or this host (download) so far."""
        with self._lock:
            return self._done_bytes + (self._socket_bytes(self._sock) if self._sock is not None else 0)

    def _socket_bytes(self, sock: socket.socket) -> int:
        """This connection's bytes in our direction: the kernel's count, or what we moved ourselves."""
        info = tcp_info(sock)
        if info is None:
            self.app_counted = True
            return self._app_bytes
        return info.bytes_received if self.direction == "download" else info.bytes_acked

    def path(self) -> TcpInfo | None:
        """The kernel's view of the current connection (None between connections)."""
        with self._lock:
            return tcp_info(self._sock) if self._sock is not None else None

    def wire(self) -> tuple[int, int]:
        """This stream's bytes on the interface (in, out), headers included, over all its connections."""
        with self._lock:
            current = wire_bytes(tcp_info(self._sock), self._sock.family) if self._sock is not None else (0, 0)
            return _plus(self._done_wire, current)

    def sent_and_resent(self) -> tuple[int, int]:
        """Bytes this stream sent and sent again, over all its connections (0, 0 where the kernel lacks them)."""
        with self._lock:
            current = tcp_info(self._sock) if self._sock is not None else None
            sent, resent = self._done_sent, self._done_retrans
        if current is not None and current.bytes_sent is not None and current.bytes_retrans is not None:
            sent, resent = sent + current.bytes_sent, resent + current.bytes_retrans
        return sent, resent

    def stop(self) -> None:
        self._halt.set()
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)

    # --- the thread ---------------------------------------------------------------------

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                sock = self._connect()
                try:
                    self._transfer(sock)
                finally:
                    self._retire(sock)
        except HttpFailure as failure:
            if not self._halt.is_set():
                self.failure = failure
        except (OSError, ValueError) as exc:
            if not self._halt.is_set():
                self.failure = HttpFailure(ErrorCode.CLOSED_MID_STREAM, f"the {self.direction} stream broke: {exc}")

    def _connect(self) -> socket.socket:
        family, sockaddr = self.address
        raw = socket.socket(family, socket.SOCK_STREAM)
        raw.settimeout(self.connect_timeout_s)
        try:
            raw.connect(sockaddr)
            sock: socket.socket = raw
            if self.endpoint.tls:
                context = ssl.create_default_context()
                sock = context.wrap_socket(raw, server_hostname=self.endpoint.host)
        except OSError as exc:
            raw.close()
            raise connect_failure(self.endpoint, exc, self.connect_timeout_s) from exc
        sock.settimeout(None)
        with self._lock:
            self._sock = sock
            self._app_bytes = 0
            self._carry = b""
        self.congestion = self.congestion or congestion_control(raw)
        if self._halt.is_set():
            sock.shutdown(socket.SHUT_RDWR)
        return sock

    def _retire(self, sock: socket.socket) -> None:
        with self._lock:
            self._done_bytes += self._socket_bytes(sock)
            info = tcp_info(sock)
            self._done_wire = _plus(self._done_wire, wire_bytes(info, sock.family))
            if info is not None and info.bytes_sent is not None and info.bytes_retrans is not None:
                self._done_sent += info.bytes_sent
                self._done_retrans += info.bytes_retrans
            self._sock = None
        if self._halt.is_set():
            # Stopped mid-transfer: reset, not a half-close. A server that accepts the connection only
            # later (PHP's built-in server serves one at a time) would otherwise keep writing a 100 MiB
            # body into a socket that no longer reads, and stall every request behind it.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def _transfer(self, sock: socket.socket) -> None:
        """Requests until stopped or the server closes the connection: one at first, then ``PIPELINE`` in
        flight once the server has kept the connection alive (one that closes after each response, as PHP's
        built-in server does, is never sent a second request it would drop)."""
        download = self.direction == "download"
        blob = 256 << 10
        in_flight, depth = 0, 1
        last_sent: float | None = None
        while not self._halt.is_set():
            while in_flight < depth and not self._halt.is_set():
                if download:
                    sock.sendall(request_head(self.endpoint, "GET", self.next_target()))
                else:
                    assert self.upload_blob is not None
                    self._send_upload(sock, blob)
                    now = time.monotonic()
                    if last_sent is not None:  # a body's time through the send buffer: the line's pace
                        blob = self.upload_blob(blob, now - last_sent)
                    last_sent = now
                in_flight += 1
            if self._halt.is_set():
                return
            parser = self._read_response(sock, bulk=download)
            in_flight -= 1
            if download and parser.body_bytes == 0:
                raise HttpFailure(ErrorCode.NO_DATA, "the download endpoint returned an empty body")
            if not parser.reusable:
                return
            depth = PIPELINE

    def _read_response(self, sock: socket.socket, bulk: bool) -> ResponseParser:
        """The next response, whole (what a read took of the one after it is kept for it); whole MiBs at
        a time for a bulk body."""
        parser = ResponseParser()
        if self._carry:
            self._carry = bytes(parser.feed(memoryview(self._carry)))
            if parser.head is not None and not parser.done:
                self.check(parser.head)
        view = self._buffer
        waitall = bulk and not self.endpoint.tls
        while not parser.done:
            remaining = parser.body_remaining
            if waitall and remaining:
                n = sock.recv_into(view, min(remaining, BLOCK), socket.MSG_WAITALL)
            else:
                n = sock.recv_into(view, BLOCK if bulk else 4096)
            if n == 0:
                parser.eof()
                break
            self._app_bytes += n
            if rest := parser.feed(view[:n]):
                self._carry = bytes(rest)
            if parser.head is not None and parser.body_bytes == 0 and not parser.done:
                self.check(parser.head)
        if parser.error is not None:
            raise parser.error
        assert parser.head is not None
        self.check(parser.head)
        return parser

    def _send_upload(self, sock: socket.socket, size: int) -> None:
        sock.sendall(request_head(self.endpoint, "POST", self.next_target(), size))
        remaining = size
        fd = upload_source()
        while remaining > 0 and not self._halt.is_set():
            n = min(remaining, BLOCK)
            if self.endpoint.tls:
                sock.sendall(os.pread(fd, n, 0))
                sent = n
            else:
                sent = os.sendfile(sock.fileno(), fd, 0, n)
            self._app_bytes += sent
            remaining -= sent


def _plus(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]

"""Bulk transfer streams: one thread and one blocking socket each, for the least CPU per byte.

On a Pi-class CPU budget the cost of moving a gigabit is the cost of the system calls around
it. A blocking socket lets a download wait for a whole MiB in one ``recv_into(MSG_WAITALL)``
and an upload hand the kernel a MiB of page cache with one ``sendfile`` (no copy in Python);
measured in the lab, that is about a third of the CPU of an asyncio stream doing the same.
The figure never depends on these reads: it comes from the kernel's counters (``tcpinfo``).
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

from dokiem.agent.probes.tcpinfo import kernel_counters
from dokiem.agent.probes.wire import Address, Head, HttpFailure, ResponseParser, connect_failure, request_head
from dokiem.agent.servers import Endpoint
from dokiem.contract import ErrorCode

BLOCK = 1 << 20


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
        self._app_bytes = 0
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
        counters = kernel_counters(sock)
        if counters is None:
            self.app_counted = True
            return self._app_bytes
        acked, received = counters
        return received if self.direction == "download" else acked

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
        if self._halt.is_set():
            sock.shutdown(socket.SHUT_RDWR)
        return sock

    def _retire(self, sock: socket.socket) -> None:
        with self._lock:
            self._done_bytes += self._socket_bytes(sock)
            self._sock = None
        if self._halt.is_set():
            # Stopped mid-transfer: reset, not a half-close. A server that accepts the connection only
            # later (PHP's built-in server serves one at a time) would otherwise keep writing a 100 MiB
            # body into a socket that no longer reads, and stall every request behind it.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def _transfer(self, sock: socket.socket) -> None:
        blob = 256 << 10
        while not self._halt.is_set():
            if self.direction == "download":
                parser = self._download_one(sock)
            else:
                assert self.upload_blob is not None
                t0 = time.monotonic()
                parser = self._upload_one(sock, blob)
                blob = self.upload_blob(blob, time.monotonic() - t0)
            if not parser.reusable:
                return

    def _read_response(self, sock: socket.socket, parser: ResponseParser, bulk: bool) -> None:
        """Feed the parser until the response is complete; whole MiBs at a time for a bulk body."""
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
            parser.feed(view[:n])
            if parser.head is not None and parser.body_bytes == 0 and not parser.done:
                self.check(parser.head)
        if parser.error is not None:
            raise parser.error
        assert parser.head is not None
        self.check(parser.head)

    def _download_one(self, sock: socket.socket) -> ResponseParser:
        sock.sendall(request_head(self.endpoint, "GET", self.next_target()))
        parser = ResponseParser()
        self._read_response(sock, parser, bulk=True)
        if parser.body_bytes == 0:
            raise HttpFailure(ErrorCode.NO_DATA, "the download endpoint returned an empty body")
        return parser

    def _upload_one(self, sock: socket.socket, size: int) -> ResponseParser:
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
        parser = ResponseParser()
        self._read_response(sock, parser, bulk=False)
        return parser

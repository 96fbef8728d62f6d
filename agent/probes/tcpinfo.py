"""Kernel TCP byte counters: bytes counted where they arrive, not where they are handed over.

``tcpi_bytes_received`` counts payload that reached this host's socket; ``tcpi_bytes_acked``
counts payload the receiver acknowledged. Both are immune to the measuring process being
starved of CPU (a throttled Pi reads late, the kernel still counts on time) and neither counts
bytes still waiting in a send buffer, which is what makes naive upload figures read high.
"""

from __future__ import annotations

import socket
import struct
from typing import Protocol

# Offsets in Linux's struct tcp_info (include/uapi/linux/tcp.h, stable since 4.1).
_BYTES_ACKED = 120
_BYTES_RECEIVED = 128
_TCP_INFO_LEN = 136


class _SockLike(Protocol):
    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...


def kernel_counters(sock: _SockLike) -> tuple[int, int] | None:
    """(bytes_acked, bytes_received) of a TCP socket, or None where the kernel lacks them."""
    option = getattr(socket, "TCP_INFO", None)
    if option is None:
        return None
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, option, 256)
    except OSError:
        return None
    if len(raw) < _TCP_INFO_LEN:
        return None
    acked, received = struct.unpack_from("=QQ", raw, _BYTES_ACKED)
    return acked, received

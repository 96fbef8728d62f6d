"""The kernel's view of a TCP connection (``struct tcp_info``): bytes counted where they arrive, and the
path's own state.

``tcpi_bytes_received`` counts payload that reached this host's socket; ``tcpi_bytes_acked``
counts payload the receiver acknowledged. Both are immune to the measuring process being
starved of CPU (a throttled Pi reads late, the kernel still counts on time) and neither counts
bytes still waiting in a send buffer, which is what makes naive upload figures read high.

The path: the smoothed round trip (the sender's, ``tcpi_rtt``; the receiver's estimate,
``tcpi_rcv_rtt``), the least round trip seen (``tcpi_min_rtt``), the congestion window and slow-start
threshold, and the bytes sent and sent again (``tcpi_bytes_sent``/``tcpi_bytes_retrans``, Linux 4.19+).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Protocol

# Offsets in Linux's struct tcp_info (include/uapi/linux/tcp.h; each field's kernel is noted).
_SND_MSS = 16
_SACKED = 28  # segments the receiver SACKed beyond a hole, not yet acknowledged in order
_RTT = 68  # smoothed round trip, microseconds
_SND_SSTHRESH = 76
_SND_CWND = 80
_RCV_RTT = 92
_BYTES_ACKED = 120  # 4.1
_BYTES_RECEIVED = 128  # 4.1
_SEGS_OUT = 136  # 4.2
_SEGS_IN = 140  # 4.2
_MIN_RTT = 148  # 4.6
_DELIVERY_RATE = 160  # 4.9, bytes per second
_BYTES_SENT = 200  # 4.19
_BYTES_RETRANS = 208  # 4.19
_RCV_OOOPACK = 224  # 5.4: segments that arrived out of order (behind a hole), ever
_COUNTERS_LEN = 136
_PATH_LEN = 216
INFINITE_SSTHRESH = 0x7FFFFFFF  # the kernel's value until the connection first leaves slow start
# What a segment carries besides its payload on an Ethernet interface's byte counters: the frame header
# (14), IP (20; 40 for IPv6) and TCP with timestamps, Linux's default (32).
SEGMENT_OVERHEAD: dict[int, int] = {socket.AF_INET: 14 + 20 + 32, socket.AF_INET6: 14 + 40 + 32}


class _SockLike(Protocol):
    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...


@dataclass(frozen=True)
class TcpInfo:
    bytes_acked: int
    bytes_received: int
    rtt_us: int
    rcv_rtt_us: int
    min_rtt_us: int | None  # None where the kernel is older than the field
    snd_cwnd: int
    snd_ssthresh: int
    snd_mss: int
    delivery_rate: int | None
    bytes_sent: int | None
    bytes_retrans: int | None
    segs_out: int = 0
    segs_in: int = 0
    sacked: int = 0
    rcv_ooopack: int | None = None  # None where the kernel is older than the field

    @property
    def delivered_bytes(self) -> int:
        """What the receiver holds of what this side sent: acknowledged in order, and SACKed beyond a hole
        (during a loss's recovery ``bytes_acked`` alone lags by up to a window, then jumps)."""
        return self.bytes_acked + self.sacked * self.snd_mss

    @property
    def in_slow_start(self) -> bool:
        """The sender has not yet left slow start (no loss or HyStart exit on this connection)."""
        return self.snd_ssthresh >= INFINITE_SSTHRESH


def _raw(sock: _SockLike) -> bytes | None:
    option = getattr(socket, "TCP_INFO", None)
    if option is None:
        return None
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, option, 256)
    except OSError:
        return None


def tcp_info(sock: _SockLike) -> TcpInfo | None:
    """The connection's state, or None where the kernel lacks the byte counters."""
    raw = _raw(sock)
    if raw is None or len(raw) < _COUNTERS_LEN:
        return None
    acked, received = struct.unpack_from("=QQ", raw, _BYTES_ACKED)
    (mss,) = struct.unpack_from("=I", raw, _SND_MSS)
    rtt, _rttvar, ssthresh, cwnd = struct.unpack_from("=IIII", raw, _RTT)
    (rcv_rtt,) = struct.unpack_from("=I", raw, _RCV_RTT)
    longer = len(raw) >= _PATH_LEN
    min_rtt = struct.unpack_from("=I", raw, _MIN_RTT)[0] if len(raw) >= _MIN_RTT + 4 else None
    rate = struct.unpack_from("=Q", raw, _DELIVERY_RATE)[0] if len(raw) >= _DELIVERY_RATE + 8 else None
    sent, retrans = struct.unpack_from("=QQ", raw, _BYTES_SENT) if longer else (None, None)
    segs_out, segs_in = struct.unpack_from("=II", raw, _SEGS_OUT) if len(raw) >= _SEGS_IN + 4 else (0, 0)
    (sacked,) = struct.unpack_from("=I", raw, _SACKED)
    ooo = struct.unpack_from("=I", raw, _RCV_OOOPACK)[0] if len(raw) >= _RCV_OOOPACK + 4 else None
    return TcpInfo(acked, received, rtt, rcv_rtt, min_rtt, cwnd, ssthresh, mss, rate, sent, retrans, segs_out,
                   segs_in, sacked, ooo)  # fmt: skip


def wire_bytes(info: TcpInfo | None, family: int) -> tuple[int, int]:
    """(in, out): what the connection moved on the interface each way, payload (resent included) and every
    segment's headers, ACKs too: the test's own traffic, which no cross-traffic check may call someone
    else's."""
    if info is None:
        return 0, 0
    header = SEGMENT_OVERHEAD.get(family, SEGMENT_OVERHEAD[socket.AF_INET6])
    sent = info.bytes_sent if info.bytes_sent is not None else info.bytes_acked
    return info.bytes_received + info.segs_in * header, sent + info.segs_out * header


def kernel_counters(sock: _SockLike) -> tuple[int, int] | None:
    """(bytes_acked, bytes_received) of a TCP socket, or None where the kernel lacks them."""
    info = tcp_info(sock)
    return None if info is None else (info.bytes_acked, info.bytes_received)


def congestion_control(sock: _SockLike) -> str | None:
    """The connection's congestion control (cubic, bbr, reno, ...), or None where unknown."""
    option = getattr(socket, "TCP_CONGESTION", None)
    if option is None:
        return None
    try:
        name = sock.getsockopt(socket.IPPROTO_TCP, option, 16)
    except OSError:
        return None
    return name.split(b"\0", 1)[0].decode("ascii", "replace") or None

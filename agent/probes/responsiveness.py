"""Responsiveness under working conditions (IETF draft-ietf-ippm-responsiveness): how many round trips a
minute the line allows while it is full, as Apple's ``networkQuality`` reports it.

During a saturated phase (no extra load: the phase's own streams are the working conditions):

- foreign probes: every few hundred milliseconds a new connection to the server, timed for its TCP
  handshake (``tcp_f``), its TLS handshake where the server speaks TLS (``tls_f``), and one small GET
  (``http_f``);
- loaded probes (``http_l``): the draft sends a request on a load-generating connection; over HTTP/1.1
  a request cannot overtake the bulk transfer on its own connection, so dokiem takes the round trip TCP
  itself measures on those connections (``tcp_info``: the sender's smoothed RTT on upload, the
  receiver's estimate on download), which holds the same queue.

Each set is reduced by the draft's single-sided trimmed mean (the slowest 5% left out), then
``Foreign = 60000 / mean(TM(tcp_f), [TM(tls_f),] TM(http_f))``, ``Loaded = 60000 / TM(http_l)`` and the
responsiveness is their mean, in round trips per minute (RPM).
"""

from __future__ import annotations

import asyncio
import math
import socket
import ssl
import statistics
import time
from dataclasses import dataclass, field

from dokiem.agent.probes.wire import Address, HttpConnection, HttpFailure
from dokiem.agent.servers import Endpoint

TRIM_KEEP = 0.95  # the draft's TMP: the mean of the fastest 95% of a set


def trimmed_mean(values: list[float], keep: float = TRIM_KEEP) -> float | None:
    """The mean of the smallest ``keep`` share of ``values`` (at least one), or None of none."""
    if not values:
        return None
    ordered = sorted(values)
    return statistics.fmean(ordered[: max(1, math.floor(len(ordered) * keep))])


@dataclass
class Probes:
    """The probe times of one phase, in milliseconds."""

    tcp_ms: list[float] = field(default_factory=list)
    tls_ms: list[float] = field(default_factory=list)
    http_ms: list[float] = field(default_factory=list)
    loaded_ms: list[float] = field(default_factory=list)

    def rpm(self) -> float | None:
        """The draft's responsiveness, or None without both kinds of probe."""
        foreign_parts = [trimmed_mean(s) for s in (self.tcp_ms, self.tls_ms, self.http_ms) if s]
        loaded = trimmed_mean(self.loaded_ms)
        if not self.tcp_ms or not self.http_ms or loaded is None or loaded <= 0:
            return None
        foreign = statistics.fmean(p for p in foreign_parts if p is not None)
        if foreign <= 0:
            return None
        return (60_000 / foreign + 60_000 / loaded) / 2


@dataclass(frozen=True)
class ForeignProbe:
    tcp_ms: float
    tls_ms: float | None
    http_ms: float
    wire_bytes: tuple[int, int] = (0, 0)  # its bytes on the interface (in, out): the test's own traffic


async def foreign_probe(endpoint: Endpoint, address: Address, target: str, timeout_s: float) -> ForeignProbe:
    """One probe on a new connection to ``address``: its handshakes and one GET of ``target``, timed."""
    family, sockaddr = address
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    conn: HttpConnection | None = None
    try:
        async with asyncio.timeout(timeout_s):
            t0 = time.perf_counter()
            await loop.sock_connect(sock, sockaddr)
            t1 = time.perf_counter()
            context = ssl.create_default_context() if endpoint.tls else None
            name = endpoint.host if context else None
            reader, writer = await asyncio.open_connection(sock=sock, ssl=context, server_hostname=name)
            t2 = time.perf_counter()
            conn = HttpConnection(endpoint, reader, writer)
            await conn.exchange("GET", target)
            t3 = time.perf_counter()
            wire = conn.wire_bytes()
    except (OSError, TimeoutError, HttpFailure, ssl.SSLError) as exc:
        sock.close()
        raise ProbeFailed(str(exc) or type(exc).__name__) from exc
    finally:
        if conn is not None:
            conn.close()
    return ForeignProbe((t1 - t0) * 1000, (t2 - t1) * 1000 if context else None, (t3 - t2) * 1000, wire)


class ProbeFailed(Exception):
    """A probe that did not complete: it costs the sample, never the run."""

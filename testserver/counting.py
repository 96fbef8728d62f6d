"""What the test server counts of each resident's test, by ticket (issue 22): what it signs.

The kernel's count, as M-Lab's ndt7 takes it: every connection a ticket's requests came on is read
(``tcp_info``: bytes the client acknowledged of what the server sent, bytes that reached the server of
what it received) at the same instants, every ``SAMPLE_S`` while one of the ticket's requests of that
direction is in progress, and once more when the last of them ends. A figure's bytes and seconds thus
end at the same moment, and the bytes still in a send buffer when the page stops are not counted as
sent. A browser may carry a later request (an upload, a ping) on a connection a download used: what
that connection does while no download is in progress is no part of the download. The first
``WARMUP_SHARE`` of a direction (connections opening, slow start) is left out, as the agent leaves out
its warm-up.

Where the kernel gives no ``tcp_info`` (not Linux), or a direction is over before it could be read
``MIN_READINGS`` times, the application's own count is kept instead, and the tally says so
(``tcp_counted`` false).
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from dokiem.tcpinfo import TcpInfo, tcp_info
from dokiem.vouch import MAX_TICKETS_COUNTED, ServerSummary, Tally

DOWN, UP = 0, 1
SAMPLE_S = 0.1
WARMUP_SHARE = 0.25
MAX_FLOWS = 16  # connections counted per ticket and direction: a page opens four
MAX_SAMPLES = 3000  # five minutes of samples per direction; the oldest go first
# Fewer readings than this (a direction over in under half a second): too short for the kernel's count at
# SAMPLE_S to say a rate, and the application's count is kept
MIN_READINGS = 5


class Readable(Protocol):
    """What a flow reads: a socket (asyncio's TransportSocket, or a test's stand-in)."""

    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...


def _counted(info: TcpInfo, direction: int) -> int:
    return info.bytes_acked if direction == DOWN else info.bytes_received


@dataclass
class _Flow:
    """One connection of a ticket: its kernel count when first seen, and what it has moved since."""

    sock: Readable
    base: int
    moved: int = 0
    alive: bool = True
    min_rtt_us: int | None = None

    def read(self, direction: int) -> None:
        info = tcp_info(self.sock)  # a closed connection reads as None: its last reading stands
        if info is None:
            self.alive = False
            return
        self.moved = _counted(info, direction) - self.base
        if info.min_rtt_us:
            self.min_rtt_us = info.min_rtt_us


@dataclass
class _Direction:
    flows: dict[int, _Flow] = field(default_factory=dict)
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))
    kernel: bool = True  # every connection could be read
    active: int = 0  # requests of this direction in progress
    app_bytes: int = 0  # the application's count, kept where the kernel's is missing
    app_first: float | None = None
    app_last: float | None = None

    def open(self, sock: Readable | None, direction: int, now: float) -> None:
        self.active += 1
        if sock is None or id(sock) in self.flows:
            return
        info = tcp_info(sock)
        if info is None:
            self.kernel = False
            return
        if len(self.flows) < MAX_FLOWS:
            self.flows[id(sock)] = _Flow(sock, _counted(info, direction))
            if not self.samples:
                self.samples.append((now, 0))

    def close(self, direction: int, now: float) -> None:
        """A request has ended; when it was the last in progress, the connections are read once more."""
        self.active = max(0, self.active - 1)
        if self.active == 0 and self.flows:
            self.sample(direction, now)

    def sample(self, direction: int, now: float) -> None:
        for flow in self.flows.values():
            if flow.alive:
                flow.read(direction)
        self.samples.append((now, sum(flow.moved for flow in self.flows.values())))

    def app_count(self, moved: int, began: float, ended: float) -> None:
        self.app_bytes += moved
        self.app_first = began if self.app_first is None else min(self.app_first, began)
        self.app_last = ended if self.app_last is None else max(self.app_last, ended)

    def _kernel_counted(self) -> bool:
        return self.kernel and len(self.samples) >= MIN_READINGS

    def span(self) -> tuple[float, float] | None:
        """From the first byte to the last, by whichever count the tally uses."""
        if self._kernel_counted():
            return self.samples[0][0], self._last_moving()[0]
        if self.app_first is None or self.app_last is None:
            return None
        return self.app_first, self.app_last

    def _last_moving(self) -> tuple[float, int]:
        """The last sample where bytes still moved: after it the connections only idle or have closed."""
        samples = list(self.samples)
        for earlier, later in zip(reversed(samples[:-1]), reversed(samples), strict=True):
            if later[1] > earlier[1]:
                return later
        return samples[0]

    def tally(self) -> Tally | None:
        if not self._kernel_counted():
            span = self.span()
            return None if span is None else Tally(bytes=self.app_bytes, seconds=round(span[1] - span[0], 3))
        end_t, end_bytes = self._last_moving()
        begin_t = self.samples[0][0]
        warm_t = begin_t + WARMUP_SHARE * (end_t - begin_t)
        warm = next(s for s in self.samples if s[0] >= warm_t)
        if end_t - warm[0] <= 0:
            warm = self.samples[0]
        return Tally(bytes=end_bytes - warm[1], seconds=round(end_t - warm[0], 3), tcp_counted=True)

    def min_rtt_us(self) -> int | None:
        seen = [flow.min_rtt_us for flow in self.flows.values() if flow.min_rtt_us]
        return min(seen) if seen else None


@dataclass
class TicketCounts:
    """Each ticket's two directions, bounded: the oldest ticket is forgotten first."""

    limit: int = MAX_TICKETS_COUNTED
    clock: Callable[[], float] = time.time
    _tickets: OrderedDict[uuid.UUID, tuple[_Direction, _Direction]] = field(default_factory=OrderedDict)
    _reading: set[tuple[uuid.UUID, int]] = field(default_factory=set)  # directions with a live connection

    def _of(self, ticket: uuid.UUID) -> tuple[_Direction, _Direction]:
        if ticket not in self._tickets:
            self._tickets[ticket] = (_Direction(), _Direction())
            while len(self._tickets) > self.limit:
                forgotten, _ = self._tickets.popitem(last=False)
                self._reading -= {(forgotten, DOWN), (forgotten, UP)}
        return self._tickets[ticket]

    def open(self, ticket: uuid.UUID, direction: int, sock: Readable | None) -> None:
        """A request of ``ticket`` begins on the connection ``sock``: read it while it is in progress."""
        self._of(ticket)[direction].open(sock, direction, self.clock())
        self._reading.add((ticket, direction))

    def close(self, ticket: uuid.UUID, direction: int) -> None:
        """A request of ``ticket`` has ended (whatever its end: done, or the client gone)."""
        if ticket in self._tickets:
            self._tickets[ticket][direction].close(direction, self.clock())

    def count(self, ticket: uuid.UUID, direction: int, moved: int, began: float) -> None:
        """The application's count of a request that has ended (used where the kernel's is missing)."""
        self._of(ticket)[direction].app_count(moved, began, self.clock())

    def sample(self) -> None:
        """Read every live connection of every test in progress, at this one instant."""
        now = self.clock()
        for ticket, direction in list(self._reading):
            counted = self._tickets.get(ticket)
            if counted is None or counted[direction].active == 0:
                self._reading.discard((ticket, direction))
                continue
            counted[direction].sample(direction, now)

    @property
    def reading(self) -> int:
        return len(self._reading)

    def summary(self, ticket: uuid.UUID, server_id: str) -> ServerSummary | None:
        if ticket not in self._tickets:
            return None
        down, up = self._tickets[ticket]
        times = [t for span in (down.span(), up.span()) if span is not None for t in span]
        if not times:
            return None
        rtts = [r for r in (down.min_rtt_us(), up.min_rtt_us()) if r is not None]
        return ServerSummary(ticket_id=ticket, server_id=server_id, first_at=datetime.fromtimestamp(min(times), UTC),
                             last_at=datetime.fromtimestamp(max(times), UTC), download=down.tally(),
                             upload=up.tally(), min_rtt_ms=min(rtts) / 1000 if rtts else None)  # fmt: skip

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

One interval for bytes and time alike (issue 39): a figure's bytes are the difference between two readings
and its seconds the time between those same two instants, on the monotonic clock (a wall clock that is
set or slewed mid-test would change the seconds and not the bytes). The interval ends at the last reading
that saw every connection still moving read: a connection found closed while it was still moving may
have carried bytes after its last reading, and an end there would divide its missing bytes' time into the
others'. And where a segment is lost, what arrives behind it waits in the receiver out of order until the
resend fills the hole, then counts at once: an interval that begins in such a wait and ends after it would
count a window's bytes more than arrived in it (a 240 ms path's window is 5% of an 8 s figure), and the
reverse reads low. So the server counts, of what it sent, what the client acknowledged and what it
SACKed beyond a hole (``TcpInfo.delivered_bytes``); of what it received, whose holes it cannot see, only
readings at which nothing had arrived out of order since the one before may bound a figure. So a figure
never exceeds what arrived over its interval.

A count the server cannot vouch for says so instead of a number (``Tally.unsure``): a connection whose
``tcp_info`` could not be read (not Linux), more connections than ``MAX_FLOWS``, or a direction over before
``MIN_READINGS`` readings after its warm-up. The application's own count is kept beside, for the record.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Protocol

from dokiem.tcpinfo import TcpInfo, tcp_info
from dokiem.vouch import MAX_TICKETS_COUNTED, WARMUP_SHARE, ServerSummary, Tally, Unsure

DOWN, UP = 0, 1
SAMPLE_S = 0.1
MAX_FLOWS = 16  # connections counted per ticket and direction: a page opens six at most
MAX_SAMPLES = 3000  # five minutes of samples per direction; the oldest go first
# Fewer readings than this in the measured interval (under half a second): too short for the kernel's count
# at SAMPLE_S to say a rate
MIN_READINGS = 5


class Readable(Protocol):
    """What a flow reads: a socket (asyncio's TransportSocket, or a test's stand-in)."""

    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...


def _counted(info: TcpInfo, direction: int) -> int:
    return info.delivered_bytes if direction == DOWN else info.bytes_received


@dataclass
class _Flow:
    """One connection of a ticket: its kernel count when first seen, and what it has moved since."""

    sock: Readable
    base: int
    moved: int = 0
    alive: bool = True
    moving: bool = False  # its count grew between its last two readings
    clean: bool = True  # nothing arrived out of order since its last reading: no data waits behind a hole
    ooopack: int | None = None
    min_rtt_us: int | None = None

    def read(self, direction: int) -> bool:
        """Read the connection now; False when it closed while still moving (bytes after its last reading
        may be missing). A closed connection's last reading stands."""
        info = tcp_info(self.sock)
        if info is None:
            lost, self.alive, self.moving = self.alive and self.moving, False, False
            return not lost
        moved = _counted(info, direction) - self.base
        self.moving, self.moved = moved > self.moved, moved
        if direction == UP:
            self.clean = info.rcv_ooopack is None or info.rcv_ooopack == self.ooopack
            self.ooopack = info.rcv_ooopack
        if info.min_rtt_us:
            self.min_rtt_us = info.min_rtt_us
        return True


@dataclass(frozen=True)
class _Reading:
    """Every connection of a direction read at one instant: the monotonic time, the bytes moved so far, and
    whether it may end a figure's interval (no connection closed since the last reading while moving)."""

    at: float
    moved: int
    whole: bool = True
    clean: bool = True  # no connection held data behind a hole: its count is all that arrived


@dataclass
class _Direction:
    flows: dict[int, _Flow] = field(default_factory=dict)
    samples: deque[_Reading] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))
    unsure: Unsure | None = None  # why the kernel's count cannot be vouched for
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
            self.unsure = Unsure.UNREADABLE
        elif len(self.flows) >= MAX_FLOWS:
            self.unsure = Unsure.TOO_MANY_CONNECTIONS
        else:
            self.flows[id(sock)] = _Flow(sock, _counted(info, direction), ooopack=info.rcv_ooopack)
            if not self.samples:
                self.samples.append(_Reading(now, 0))

    def close(self, direction: int, now: float) -> None:
        """A request has ended; when it was the last in progress, the connections are read once more."""
        self.active = max(0, self.active - 1)
        if self.active == 0 and self.flows:
            self.sample(direction, now)

    def sample(self, direction: int, now: float) -> None:
        whole = all([flow.read(direction) for flow in self.flows.values() if flow.alive])  # every one read
        clean = all(flow.clean for flow in self.flows.values() if flow.alive)
        self.samples.append(_Reading(now, sum(flow.moved for flow in self.flows.values()), whole, clean))

    def app_count(self, moved: int, began: float, ended: float) -> None:
        self.app_bytes += moved
        self.app_first = began if self.app_first is None else min(self.app_first, began)
        self.app_last = ended if self.app_last is None else max(self.app_last, ended)

    def span(self) -> tuple[float, float] | None:
        """From the first byte to the last, by the kernel's readings, or else by the application's count."""
        if self.unsure is None and len(self.samples) > 1:
            return self.samples[0].at, self._end().at
        if self.app_first is None or self.app_last is None:
            return None
        return self.app_first, self.app_last

    def _end(self) -> _Reading:
        """The last reading that may end the interval: every connection read and none holding data behind a
        hole, and bytes still moving up to it (after it the connections only idled or closed)."""
        readings = list(self.samples)
        for earlier, later in reversed(list(pairwise(readings))):
            if later.whole and later.clean and later.moved > earlier.moved:
                return later
        return readings[0]

    def tally(self) -> Tally | None:
        if self.unsure is None and not self.samples:
            return None if self.app_first is None else self._unsure(Unsure.UNREADABLE)
        if self.unsure is not None:
            return self._unsure(self.unsure)
        end = self._end()
        begin = self.samples[0]
        warm_t = begin.at + WARMUP_SHARE * (end.at - begin.at)
        if len({r.at for r in self.samples if warm_t <= r.at <= end.at}) <= MIN_READINGS:
            return self._unsure(Unsure.TOO_SHORT)  # whichever reading began it
        warm = next((r for r in self.samples if warm_t <= r.at < end.at and r.clean), None)
        if warm is None:
            return self._unsure(Unsure.IN_RECOVERY)
        if len({r.at for r in self.samples if warm.at < r.at <= end.at}) < MIN_READINGS:
            return self._unsure(Unsure.TOO_SHORT)
        return Tally(bytes=end.moved - warm.moved, seconds=round(end.at - warm.at, 3), tcp_counted=True)

    def _unsure(self, why: Unsure) -> Tally:
        """The application's count, for the record, with why the kernel's could not be vouched for."""
        seconds = (self.app_last - self.app_first) if self.app_first is not None and self.app_last is not None else 0
        return Tally(bytes=self.app_bytes, seconds=round(seconds, 3), unsure=why)

    def min_rtt_us(self) -> int | None:
        seen = [flow.min_rtt_us for flow in self.flows.values() if flow.min_rtt_us]
        return min(seen) if seen else None


@dataclass
class TicketCounts:
    """Each ticket's two directions, bounded: the oldest ticket is forgotten first."""

    limit: int = MAX_TICKETS_COUNTED
    clock: Callable[[], float] = time.monotonic  # the intervals'
    wall: Callable[[], float] = time.time  # the summary's times of day only
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
        """The application's count of a request that has ended (kept for the record where the kernel's is
        unsure); ``began`` on ``clock``."""
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
        to_wall = self.wall() - self.clock()
        return ServerSummary(ticket_id=ticket, server_id=server_id,
                             first_at=datetime.fromtimestamp(min(times) + to_wall, UTC),
                             last_at=datetime.fromtimestamp(max(times) + to_wall, UTC), download=down.tally(),
                             upload=up.tally(), min_rtt_ms=min(rtts) / 1000 if rtts else None)  # fmt: skip

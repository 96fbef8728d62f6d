"""Which residents' requests the test server serves (issue 38): those of a ticket the collector signed, for this
server, unexpired, for one test, within its bytes and its time.

A resident's page names its ticket (the collector's signed token, ``?ticket=``) on every request of its test.
The server checks the collector's signature with the collector's public key, that the ticket names this
server and is within its life (with a clock slack), and that its test goes forwards: download, then upload,
then the summary, after which the ticket is spent. Each direction may move at most ``MAX_DIRECTION_BYTES``
(a gigabit line for the page's longest test, with room to spare) within ``MAX_DIRECTION_S`` of its first
request: a made-up ticket pulls nothing, and a real one cannot be used as a free firehose.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dokiem.contract import utcnow
from dokiem.vouch import MAX_TICKETS_COUNTED, BadToken, Ticket, unseal

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DOWN, UP = 0, 1
MAX_DIRECTION_BYTES = 4 * 10**9  # a gigabit line for 30 s: the page's longest test is far shorter
MAX_DIRECTION_S = 60.0  # from a direction's first request to the end of its last
CLOCK_SLACK = timedelta(seconds=30)  # the collector's clock and this server's may be this far apart


class TicketRefused(Exception):
    """A request this server does not serve under the ticket it names: ``status`` and a short ``reason``."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason = status, reason


@dataclass
class _Use:
    """What one ticket's test has done here: when each direction began, the bytes each moved, and whether its
    summary was given (the ticket is then spent)."""

    started: list[datetime | None] = field(default_factory=lambda: [None, None])
    moved: list[int] = field(default_factory=lambda: [0, 0])
    spent: bool = False


@dataclass
class TicketGate:
    key: Ed25519PublicKey  # the collector's: it signs the tickets
    server_id: str
    clock: Callable[[], datetime] = utcnow
    _uses: OrderedDict[uuid.UUID, _Use] = field(default_factory=OrderedDict)

    def ticket(self, token: str) -> Ticket:
        """The ticket a token carries, if it is the collector's, for this server and within its life."""
        try:
            ticket = unseal(token, Ticket, self.key)
        except BadToken as exc:
            raise TicketRefused(403, "ticket_invalid", f"not a ticket the collector signed: {exc}") from None
        if ticket.server_id != self.server_id:
            raise TicketRefused(403, "ticket_other_server", f"the ticket is for {ticket.server_id!r}, not this server")
        now = self.clock()
        if now > ticket.expires_at + CLOCK_SLACK or now < ticket.issued_at - CLOCK_SLACK:
            raise TicketRefused(403, "ticket_expired", f"the ticket is valid {ticket.issued_at:%H:%M:%S}–"
                                                       f"{ticket.expires_at:%H:%M:%S} UTC")  # fmt: skip
        return ticket

    def admit(self, token: str, direction: int) -> tuple[uuid.UUID, int]:
        """The ticket's id and the bytes its ``direction`` may still move; TicketRefused where it may not."""
        ticket = self.ticket(token)
        use = self._use(ticket.ticket_id)
        if use.spent:
            raise TicketRefused(403, "ticket_used", "this ticket's test is over: its summary was given")
        if direction == DOWN and use.started[UP] is not None:
            raise TicketRefused(409, "ticket_order", "the download comes before the upload, not after")
        now = self.clock()
        began = use.started[direction] = use.started[direction] or now
        if (now - began).total_seconds() > MAX_DIRECTION_S:
            raise TicketRefused(403, "ticket_time_up", f"a direction of a test lasts {MAX_DIRECTION_S:g} s at most")
        left = MAX_DIRECTION_BYTES - use.moved[direction]
        if left <= 0:
            raise TicketRefused(403, "ticket_bytes_up", f"a direction of a test moves {MAX_DIRECTION_BYTES:,} bytes"
                                                        " at most")  # fmt: skip
        return ticket.ticket_id, left

    def moved(self, ticket_id: uuid.UUID, direction: int, n_bytes: int) -> None:
        self._use(ticket_id).moved[direction] += n_bytes

    def summarised(self, token: str) -> uuid.UUID:
        """The ticket whose summary is asked for; it is spent from now on (a summary is given once)."""
        ticket = self.ticket(token)
        use = self._use(ticket.ticket_id)
        if use.spent:
            raise TicketRefused(403, "ticket_used", "this ticket's summary was given already")
        use.spent = True
        return ticket.ticket_id

    def _use(self, ticket_id: uuid.UUID) -> _Use:
        if ticket_id not in self._uses:
            while len(self._uses) >= MAX_TICKETS_COUNTED:
                self._uses.popitem(last=False)  # the oldest: long expired, with this bound
            self._uses[ticket_id] = _Use()
        return self._uses[ticket_id]

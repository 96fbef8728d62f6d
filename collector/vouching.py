"""The collector's side of residents' tests (issue 22): tickets it issues, summaries it accepts.

A ticket is single-use: the collector remembers the tickets it issued (in memory, for their few minutes
of life; a restart forgets them, which only refuses tests then in flight) and strikes one off when a
summary redeems it. A summary is accepted only when the named test server signed it with the key the
collector holds for that server, for this ticket, within the ticket's life. Every refusal names why;
the caller keeps the submission in the quarantine under that reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dokiem.collector.validate import Reason, Refusal
from dokiem.contract import utcnow
from dokiem.vouch import TICKET_LIFETIME, BadToken, ServerSummary, Ticket, seal, unseal

MAX_OUTSTANDING = 100_000  # tickets issued and not yet redeemed or expired (a flood of requests is bounded)
CLOCK_SLACK = timedelta(seconds=30)  # a test server's clock may be this far from the collector's


@dataclass
class TicketBook:
    """Issues signed single-use tickets and redeems them against test servers' signed summaries."""

    key: Ed25519PrivateKey  # the collector's: tickets are signed with it
    servers: dict[str, Ed25519PublicKey]  # each test server's public key, by its id
    lifetime: timedelta = TICKET_LIFETIME
    clock: Callable[[], datetime] = utcnow
    _outstanding: dict[uuid.UUID, Ticket] = field(default_factory=dict)

    def issue(self, server_id: str) -> str:
        """A new ticket for a test against ``server_id``, as the token the page carries."""
        if server_id not in self.servers:
            raise ValueError(f"no test server {server_id!r} in the collector's list")
        now = self.clock()
        self._forget_expired(now)
        if len(self._outstanding) >= MAX_OUTSTANDING:
            raise OverflowError("too many tickets outstanding: try again in a few minutes")
        ticket = Ticket(server_id=server_id, issued_at=now, expires_at=now + self.lifetime)
        self._outstanding[ticket.ticket_id] = ticket
        return seal(ticket, self.key)

    def redeem(self, ticket_token: str, summary_token: str) -> tuple[Ticket, ServerSummary]:
        """The ticket and the server's summary, once both hold; the ticket is spent. Refusal otherwise."""
        ticket = self._ticket(ticket_token)
        summary = self._summary(ticket, summary_token)
        del self._outstanding[ticket.ticket_id]
        return ticket, summary

    def _ticket(self, token: str) -> Ticket:
        try:
            ticket = unseal(token, Ticket, self.key.public_key())
        except BadToken as exc:
            raise Refusal(Reason.TICKET_INVALID, f"the ticket is not one this collector signed: {exc}") from None
        now = self.clock()
        if now > ticket.expires_at:
            self._outstanding.pop(ticket.ticket_id, None)
            raise Refusal(Reason.TICKET_EXPIRED, f"ticket {ticket.ticket_id} expired at {ticket.expires_at:%H:%M:%S}")
        if ticket.ticket_id not in self._outstanding:
            raise Refusal(Reason.TICKET_REPLAYED, f"ticket {ticket.ticket_id} was used already (or issued before a"
                                                  " restart)")  # fmt: skip
        return ticket

    def _summary(self, ticket: Ticket, token: str) -> ServerSummary:
        key = self.servers.get(ticket.server_id)
        if key is None:
            raise Refusal(Reason.SUMMARY_INVALID, f"test server {ticket.server_id!r} is no longer in the list")
        try:
            summary = unseal(token, ServerSummary, key)
        except BadToken as exc:
            raise Refusal(Reason.SUMMARY_INVALID, f"not a summary signed by {ticket.server_id}: {exc}") from None
        if summary.server_id != ticket.server_id:
            raise Refusal(Reason.SUMMARY_MISMATCH, f"the summary names server {summary.server_id!r}, the ticket"
                                                   f" {ticket.server_id!r}")  # fmt: skip
        if summary.ticket_id != ticket.ticket_id:
            raise Refusal(Reason.SUMMARY_MISMATCH, f"the summary is for ticket {summary.ticket_id}")
        if summary.first_at < ticket.issued_at - CLOCK_SLACK or summary.last_at > ticket.expires_at + CLOCK_SLACK:
            ran = f"{summary.first_at:%H:%M:%S}–{summary.last_at:%H:%M:%S}"
            raise Refusal(Reason.SUMMARY_MISMATCH, f"the test ran {ran}, outside the ticket's life")
        return summary

    def _forget_expired(self, now: datetime) -> None:
        for ticket_id in [t.ticket_id for t in self._outstanding.values() if t.expires_at < now]:
            del self._outstanding[ticket_id]


def disagrees(page_mbps: float | None, server_mbps: float | None, share: float = 0.10) -> bool:
    """The page's figure and the server's differ by more than ``share`` of the server's (flagged, kept)."""
    if page_mbps is None or server_mbps is None or server_mbps <= 0:
        return False
    return abs(page_mbps - server_mbps) > share * server_mbps

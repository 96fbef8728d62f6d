"""Figures a test server vouches for (issue 22): the ticket the collector issues and the summary the server signs.

A resident's browser is not trusted with its own figures. Before a test the collector hands it a
single-use ticket, signed, naming the test server and expiring in minutes; the test server counts, for
that ticket, the bytes it sent and received and over what time, from its own side, and at the end
signs a summary with its own Ed25519 key (a test server may be run by a third party: it holds its key,
the collector its public key). The collector stores the server's figures, not the page's.

Both documents travel as one compact token, ``base64url(JSON) "." base64url(Ed25519 signature)``, so
that what is verified is exactly the bytes that were signed. Each side reads them with the models here.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import AwareDatetime, Field, ValidationError

from dokiem.contract import BrowserConnection, Code, Count, Mbps, Millis, Tag, WireModel, first_error

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

TICKET_LIFETIME = timedelta(minutes=10)  # long enough for a test on a slow phone, short enough not to hoard
MAX_TOKEN_CHARS = 4096
MAX_TICKETS_COUNTED = 10_000  # tickets a test server keeps counts for at once (the oldest are forgotten)
# The first share of each direction left out of its figure (connections opening, slow start), by the test
# server's count and the page's alike; the page stretches its test with the round trip (PageTest) so that
# this share is at least ten round trips
WARMUP_SHARE = 0.25


@dataclass(frozen=True)
class PageTest:
    """How the residents' page shapes each direction of its test by the path, as the agent does (issue 39).

    A direction runs ``seconds`` on a short path and ``round_trips`` round trips on a long one (so that its
    warm-up, WARMUP_SHARE of it, is ten round trips: slow start and a first loss's recovery are counted in
    round trips, not seconds), up to ``max_seconds``. It starts ``first_streams`` streams and adds one for
    each ``stream_window_bytes`` the line holds in flight beyond them (a stream's window with a phone's
    default buffers), up to ``max_streams``: a browser opens six connections to a server over HTTP/1.1 and
    the pings beside the streams need one. On mobile data a direction stops at ``mobile_bytes``."""

    seconds: float  # the collector's [residents] test_seconds
    mobile_bytes: int  # its mobile_test_mb
    round_trips: int = 40
    max_seconds: float = 20.0  # the ticket's direction lasts a minute at most (testserver/tickets)
    first_streams: int = 4
    max_streams: int = 5
    stream_window_bytes: int = 2 << 20

    def direction_seconds(self, rtt_ms: float) -> float:
        """A direction's length on a path of this round trip (the page's plan() in do.js computes the same)."""
        return min(self.max_seconds, max(self.seconds, self.round_trips * rtt_ms / 1000))

    def for_page(self) -> dict[str, float | int]:
        return {**asdict(self), "warmup_share": WARMUP_SHARE}


M = TypeVar("M", bound=WireModel)


class Ticket(WireModel):
    """The collector's leave for one resident's test against one test server."""

    schema_: Literal["dokiem.ticket/1"] = Field(default="dokiem.ticket/1", alias="schema")
    ticket_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    server_id: Tag
    issued_at: AwareDatetime
    expires_at: AwareDatetime


class Unsure(StrEnum):
    """Why a test server cannot vouch for its count of a direction: the figure is left out, not guessed."""

    UNREADABLE = "unreadable"  # a connection's tcp_info could not be read (not Linux)
    TOO_MANY_CONNECTIONS = "too_many_connections"  # more than the server reads for one ticket
    TOO_SHORT = "too_short"  # over before enough readings after its warm-up
    IN_RECOVERY = "in_recovery"  # data waited behind a lost segment at every reading that could bound it


class Tally(WireModel):
    """One direction as the server counted it: the bytes between two readings of every connection and the
    time between those same two instants."""

    bytes: Count
    seconds: float = Field(ge=0, le=3600)
    tcp_counted: bool = False  # from the kernel's tcp_info (bytes acknowledged / received), not the app's count
    unsure: Unsure | None = None  # set: no figure; bytes and seconds are the application's, for the record

    @property
    def vouched(self) -> bool:
        return self.tcp_counted and self.unsure is None

    @property
    def mbps(self) -> float | None:
        return self.bytes * 8 / self.seconds / 1e6 if self.seconds > 0 else None


class ServerSummary(WireModel):
    """What a test server saw of one ticket's test, signed with its own key."""

    schema_: Literal["dokiem.summary/1"] = Field(default="dokiem.summary/1", alias="schema")
    ticket_id: uuid.UUID
    server_id: Tag
    first_at: AwareDatetime
    last_at: AwareDatetime
    download: Tally | None = None  # what the server sent
    upload: Tally | None = None  # what it received
    min_rtt_ms: Millis | None = None


class PageFigures(WireModel):
    """What the resident's page measured itself: kept beside the server's, never in place of them."""

    download_mbps: Mbps | None = None
    upload_mbps: Mbps | None = None
    latency_ms: Millis | None = None
    jitter_ms: Millis | None = None


class ResidentSubmission(WireModel):
    """``POST /do/result``: the ticket, the server's signed summary, the page's figures, and where and what
    the resident says the line is (a commune of 2025, the access, the ISP from the province's list)."""

    ticket: str = Field(max_length=MAX_TOKEN_CHARS)
    summary: str = Field(max_length=MAX_TOKEN_CHARS)
    commune_code: Code
    access: Literal["fixed", "mobile"]
    isp: Tag
    wifi: bool = False  # a home line tested over Wi-Fi: kept, and marked
    connection: BrowserConnection | None = None  # navigator.connection.type where the browser tells it
    page: PageFigures = Field(default_factory=PageFigures)


class LocateQuery(WireModel):
    """``POST /do/locate``: the point the browser located, to be turned into a commune and dropped."""

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class BadToken(ValueError):
    """A token that is not one, or whose signature does not hold (``reason`` says which)."""

    def __init__(self, reason: Literal["malformed", "signature"], detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file; ValueError (or OSError) saying what is wrong."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except TypeError as exc:  # a key under a pass phrase
        raise ValueError(str(exc)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def read_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file; ValueError (or OSError) saying what is wrong."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(document: WireModel, key: Ed25519PrivateKey) -> str:
    """The document and its signature, as one token."""
    body = document.model_dump_json(by_alias=True).encode()
    return f"{_b64(body)}.{_b64(key.sign(body))}"


def unseal(token: str, model: type[M], key: Ed25519PublicKey) -> M:
    """The document a token carries, once its signature holds; BadToken otherwise."""
    from cryptography.exceptions import InvalidSignature

    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise BadToken("malformed", f"not a signed token (two base64url parts, at most {MAX_TOKEN_CHARS} characters)")
    body_text, signature_text = token.split(".")
    try:
        body, signature = _unb64(body_text), _unb64(signature_text)
    except (binascii.Error, ValueError) as exc:
        raise BadToken("malformed", f"not base64url: {exc}") from None
    try:
        key.verify(signature, body)
    except InvalidSignature:
        raise BadToken("signature", f"the signature does not hold for this {model.__name__}") from None
    try:
        return model.model_validate_json(body, strict=True)
    except ValidationError as exc:
        first = first_error(exc)
        raise BadToken("malformed", f"signed, but not a {model.__name__}: {first.where}: {first.message}") from None

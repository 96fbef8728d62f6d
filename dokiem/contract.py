"""The wire contract: the Result message, the MQTT topics and the field types every message shares.

This module depends on pydantic and the registry of figures (plain data) only, so the agent can import
it without pulling in collector libraries. Bump ``SCHEMA`` (and the topic version) on any incompatible change.

Every field is bounded: strings by length and characters (no control characters, no lone
surrogates: a stored or tagged string must survive SQLite, JSON and InfluxDB), integers by int64,
floats finite. A message is refused whole rather than half-stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from dokiem import figures as registry

SCHEMA = "dokiem.result/1"
TOPIC_PREFIX = "dokiem/v1"

# Physical bounds: a figure outside them is a bug or a forgery, not a measurement.
MAX_MBPS = 100_000.0
MAX_MS = 600_000.0

# An agent id is also its MQTT username and a topic level: no '/', '+', '#' or spaces.
AGENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

# Vietnam keeps UTC+7 all year: quarters begin at local midnight, the `hour` tag is local time.
LOCAL_TIME = timezone(timedelta(hours=7), "ICT")

# The figures of a Result, by field name, from the registry (dokiem.figures): the archive, InfluxDB, the API read them.
FIGURES = registry.names()
DETAILS = registry.names(lambda f: f.detail)  # one direction of another figure: JSON only
HEADLINE_FIGURES = registry.names(lambda f: f.headline)  # the five every report and table shows
COUNTS = ("bytes_down", "bytes_up", "data_used_bytes")

INT64_MAX = 2**63 - 1
MAX_BYTES_COUNT = 10**15  # a petabyte: no run or interface counter comes near, and InfluxDB's int64 holds it


def _printable(value: str) -> str:
    for char in value:
        code = ord(char)
        if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000:
            raise ValueError(f"control character or lone surrogate U+{code:04X} is not allowed")
    return value


# Tag-like strings (ISP, server id, region codes): InfluxDB tags, CSV cells and file names take them.
TAG_PATTERN = r"^[\w .,&()+/:-]{1,64}$"
Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=TAG_PATTERN), AfterValidator(_printable)]
Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z]{1,16}$")]


def _no_trailing_backslash(value: str) -> str:
    if value.endswith("\\"):
        raise ValueError("must not end with a backslash (InfluxDB's line protocol cannot carry one there)")
    return value


Name = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_printable),
                 AfterValidator(_no_trailing_backslash)]  # fmt: skip
Message = Annotated[str, Field(max_length=1000), AfterValidator(_printable)]
Url = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_printable)]
Version = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}$")]
AgentId = Annotated[str, Field(min_length=1, max_length=64, pattern=AGENT_ID_PATTERN)]
Count = Annotated[int, Field(ge=0, le=MAX_BYTES_COUNT)]

Mbps = Annotated[float, Field(ge=0, le=MAX_MBPS)]
MIN_PLAN_MBPS = 0.1  # a plan below this is none (a plan of 0 made every figure/plan ratio infinite)
PlanMbps = Annotated[float, Field(ge=MIN_PLAN_MBPS, le=MAX_MBPS)]
Millis = Annotated[float, Field(ge=0, le=MAX_MS)]
Percent = Annotated[float, Field(ge=0, le=100)]
Seconds = Annotated[float, Field(ge=0, le=10 * 365 * 86_400)]
MAX_RPM = 60_000_000.0  # a round trip of a microsecond: loopback, never a line
Rpm = Annotated[float, Field(ge=0, le=MAX_RPM)]


def result_topic(agent_id: str) -> str:
    return f"{TOPIC_PREFIX}/{agent_id}/result"


def status_topic(agent_id: str) -> str:
    return f"{TOPIC_PREFIX}/{agent_id}/status"


def config_topic(agent_id: str) -> str:
    return f"{TOPIC_PREFIX}/{agent_id}/config"


def resend_topic(agent_id: str) -> str:
    return f"{TOPIC_PREFIX}/{agent_id}/resend"


def survey_topic(agent_id: str) -> str:
    return f"{TOPIC_PREFIX}/{agent_id}/survey"


class WireModel(BaseModel):
    """Every wire message and its parts: unknown keys refused, no NaN or Infinity, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


_Document = TypeVar("_Document", bound=BaseModel)


@dataclass(frozen=True)
class FirstError:
    """The first thing pydantic found wrong in a document, the one every door reports."""

    loc: tuple[str | int, ...]  # keys and list indices down to the wrong value
    kind: str  # pydantic's error type: "missing", "extra_forbidden", "json_invalid", …
    message: str
    input: object
    ctx: dict[str, Any] | None = None  # pydantic's context of the error (the bound crossed, the pattern)

    @property
    def where(self) -> str:
        """``schedule.interval_minutes``, ``measure.servers.1.url``; empty for the document itself."""
        return ".".join(str(part) for part in self.loc)


def first_error(exc: ValidationError) -> FirstError:
    error = exc.errors()[0]
    return FirstError(tuple(error["loc"]), error["type"], error["msg"], error.get("input"), error.get("ctx"))


def parse_document(model: type[_Document], payload: bytes, limit: int, what: str) -> _Document:
    """``payload`` as ``model``, strictly (JSON ``"5"`` is not a number); ValueError naming the first
    wrong key, e.g. ``"schedule.interval_minutes: Input should be ..."``."""
    if len(payload) > limit:
        raise ValueError(f"the {what} is {len(payload)} bytes, over the {limit} limit")
    try:
        return model.model_validate_json(payload, strict=True)
    except ValidationError as exc:
        first = first_error(exc)
        raise ValueError(f"{first.where or '(document)'}: {first.message}") from None


# The kind of line measured: figures of different kinds are never pooled, and are shown in this order.
# (A comment, not a docstring: the docstring would enter the wire schema.)
class Access(StrEnum):
    FIXED = "fixed"
    MOBILE = "mobile"
    PUBLIC_WIFI = "public_wifi"  # a hotspot the plan provides (tourist sites, hospitals): the Wi-Fi is the service


ACCESS_TYPES = tuple(access.value for access in Access)
# Where an agent stands: a public office (the default: a commune's figures are published from one agent)
# or a household, whose line is a family's own (its group keeps the report's min_agents rule).
Premises = Literal["office", "household"]
HOUSEHOLD: Premises = "household"


class Site(WireModel):
    """Where the agent stands and which line it measures."""

    province_code: Code | None = None
    province_name: Name | None = None
    district_code: Code | None = None
    district_name: Name | None = None
    commune_code: Code | None = None
    commune_name: Name | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    isp: Tag | None = None
    access: Access | None = None
    plan_down_mbps: PlanMbps | None = None
    plan_up_mbps: PlanMbps | None = None
    premises: Premises | None = None  # None: a public office


class ServerKind(StrEnum):
    LIBRESPEED = "librespeed"
    OOKLA = "ookla"


class ServerLocation(StrEnum):
    """Where a test server stands: i-Speed publishes domestic and international speed apart."""

    DOMESTIC = "domestic"
    INTERNATIONAL = "international"


class ServerRef(WireModel):
    id: Tag
    url: Url
    kind: ServerKind = ServerKind.LIBRESPEED
    name: Name | None = None
    location: ServerLocation = ServerLocation.DOMESTIC


class PathStats(WireModel):
    """The path as TCP saw it on one direction's connections while its figure was taken (M-Lab's ndt7
    records MinRTT and the retransmission rate the same way)."""

    min_rtt_ms: Millis | None = Field(default=None, description="the least round trip TCP measured")
    loaded_rtt_ms: Millis | None = Field(default=None, description="the connections' median round trip under load")
    retransmitted_pct: Percent | None = Field(default=None, description="bytes sent again, of all sent (our sends)")
    congestion_control: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,16}$")


# Who measured: the province's managed agents, or residents testing their own line (issue 22). Their figures
# are never pooled: residents are a self-selected sample, the agents a panel.
Source = Literal["agent", "resident"]
RESIDENT: Source = "resident"
TrafficSource = Literal["upnp", "snmp", "interface"]  # where others' traffic on the line was seen


class Method(WireModel):
    """How the figures were taken: figures from different methods are never mixed silently."""

    name: Tag
    version: Version
    streams_down: int | None = Field(default=None, ge=0, le=64)
    streams_up: int | None = Field(default=None, ge=0, le=64)
    warmup_s: float | None = Field(default=None, ge=0, le=60)
    measured_down_s: float | None = Field(default=None, ge=0, le=120)
    measured_up_s: float | None = Field(default=None, ge=0, le=120)
    sample_interval_s: float | None = Field(default=None, gt=0, le=10)
    latency_count: int | None = Field(default=None, ge=0, le=1000)
    latency_new_connections: int | None = Field(
        default=None, ge=0, le=1000,
        description="latency samples taken on a new connection (the server closed the previous one)",
    )  # fmt: skip
    counting: Tag | None = None
    moved_down_bytes: Count | None = Field(default=None, description="all bytes the download moved, warm-up included")
    moved_up_bytes: Count | None = Field(default=None, description="all bytes the upload moved, warm-up included")
    servers_tried: int | None = Field(default=None, ge=1, le=100, description="1 + the servers failed over from")
    path_down: PathStats | None = None
    path_up: PathStats | None = None
    traffic_source: TrafficSource | None = Field(
        default=None, description="where others' traffic on the line was watched: the router, or the agent's own port"
    )
    deferred: int | None = Field(default=None, ge=0, le=100, description="times the run waited for a busy line")


class Flag(StrEnum):
    CPU_SATURATED = "cpu_saturated"
    CPU_THROTTLED = "cpu_throttled"
    WIFI = "wifi"
    SERVER_BUSY = "server_busy"
    CROSS_TRAFFIC = "cross_traffic"
    CLOCK_UNSYNCED = "clock_unsynced"  # the agent measured before its clock was synchronised (waited, then went on)
    CLOCK_OFFSET = "clock_offset"  # the collector moved the run's times by its offset against the test server
    APP_COUNTED = "app_counted"  # bytes counted by the agent, not the kernel (no tcp_info): see method.counting
    SITE_MISMATCH = "site_mismatch"  # filed at the enrolled site, which the agent's own site disagreed with
    ABOVE_PLAN = "above_plan"  # a speed far above the subscribed plan: the plan on file is likely out of date
    OPERATOR_MISMATCH = "operator_mismatch"  # the modem's network is not the site's declared ISP
    PAGE_DISAGREES = "page_disagrees"  # a resident's page read over 10% off what the test server counted
    SERVER_UNSURE = "server_unsure"  # the test server could not vouch for a direction's count: no figure for it
    # the router's counters did not add up (below the run's own bytes, above the line, reset or jumped):
    # others' traffic is not given; the run's own figures stand
    ROUTER_UNUSABLE = "router_unusable"


# Vietnam's mobile networks by MCC-MNC, and the ISP names a site may declare for each (VinaPhone is VNPT's)
MOBILE_OPERATORS: dict[str, tuple[str, ...]] = {
    "452-01": ("MobiFone",),
    "452-02": ("VinaPhone", "VNPT"),
    "452-04": ("Viettel",),
    "452-05": ("Vietnamobile",),
}


def operator_name(code: str | None) -> str | None:
    """The operator's name for its MCC-MNC (``452-04`` → Viettel); the code itself for one not listed."""
    return MOBILE_OPERATORS.get(code or "", (code,))[0]


BrowserConnection = Literal["bluetooth", "cellular", "ethernet", "mixed", "none", "other", "unknown", "wifi", "wimax"]


class Technology(StrEnum):
    G2 = "2g"
    G3 = "3g"
    G4 = "4g"
    G5 = "5g"
    WIFI = "wifi"


class Radio(WireModel):
    """The radio the run went over: a mobile modem's network and cell, or the Wi-Fi it joined. ``missing``
    says why it is unknown (no ModemManager, no modem, not a wireless interface)."""

    technology: Technology | None = None
    operator_code: str | None = Field(default=None, pattern=r"^[0-9]{3}-[0-9]{2,3}$", description="MCC-MNC")
    operator_name: Name | None = None
    band: str | None = Field(default=None, pattern=r"^(B[0-9]{1,3}|n[0-9]{1,3}|[0-9](\.[0-9])?GHz)$")
    rsrp_dbm: float | None = Field(default=None, ge=-160, le=0)
    rsrq_db: float | None = Field(default=None, ge=-40, le=20)
    sinr_db: float | None = Field(default=None, ge=-40, le=60)
    signal_dbm: float | None = Field(default=None, ge=-150, le=0, description="RSSI: Wi-Fi's, or the modem's")
    cell_id: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f]{1,16}$")
    area_code: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f]{1,8}$", description="LAC or TAC")
    ssid: Name | None = None
    bitrate_mbps: Mbps | None = None
    channel: int | None = Field(default=None, ge=1, le=233)
    missing: Message | None = None

    def operator_isps(self) -> tuple[str, ...]:
        """The ISP names a site on this modem's network may declare (none where the network is unknown)."""
        return MOBILE_OPERATORS.get(self.operator_code or "", ())

    @classmethod
    def read_as(cls, fields: dict[str, Any]) -> Radio:
        """The radio as read, each reading a Radio cannot hold (RSRP +50, NaN, a name too long) dropped alone and
        named in ``missing``: one bad field never costs the others (issue 38)."""
        fields = dict(fields)
        dropped: list[str] = []
        for _ in range(len(fields) + 1):
            try:
                radio = cls.model_validate(fields)
            except ValidationError as exc:
                bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]} & fields.keys()
                if not bad:
                    raise
                dropped += sorted(bad)
                fields = {key: value for key, value in fields.items() if key not in bad}
                continue
            if not dropped:
                return radio
            said = f"readings out of range, left out: {', '.join(dropped)}"
            return radio.model_copy(update={"missing": f"{radio.missing}; {said}" if radio.missing else said})
        raise AssertionError("unreachable: every field was dropped")


class AgentLoad(WireModel):
    """The agent's own load during the run, so a result taken on a starved Pi can be told apart."""

    cpu_seconds: Seconds
    cpu_pct_of_core: float = Field(ge=0, le=100_000)
    system_cpu_pct: Percent | None = None
    throttled_s: Seconds | None = None
    rss_mb: float | None = Field(default=None, ge=0, le=10_000_000)


class PingStats(WireModel):
    """ICMP (or TCP connect) round trips to the server's host."""

    method: Literal["icmp", "icmp-raw", "tcp-connect"]
    target: Tag
    sent: int = Field(ge=0, le=100_000)
    received: int = Field(ge=0, le=100_000)
    min_ms: Millis | None = None
    avg_ms: Millis | None = None
    max_ms: Millis | None = None
    jitter_ms: Millis | None = None
    loss_pct: Percent


class DnsTiming(WireModel):
    resolver: Tag
    name: Annotated[str, Field(min_length=1, max_length=253), AfterValidator(_printable)]
    ms: Millis | None = None
    error: Message | None = None


class ErrorCode(StrEnum):
    """Why a run failed, as the agent says it (``error.code``). The wire takes any short code, so that a
    collector reads the codes of agents newer than itself; an agent sends only these."""

    DNS_FAILED = "dns_failed"
    CONNECT_FAILED = "connect_failed"
    CONNECT_TIMEOUT = "connect_timeout"
    TLS_FAILED = "tls_failed"
    SERVER_BUSY = "server_busy"
    REDIRECT = "redirect"
    HTTP_STATUS = "http_status"
    NOT_A_SPEEDTEST_SERVER = "not_a_speedtest_server"
    COMPRESSED = "compressed"
    CLOSED_MID_STREAM = "closed_mid_stream"
    PROTOCOL_ERROR = "protocol_error"
    TIMEOUT = "timeout"
    NO_DATA = "no_data"
    OOKLA_UNREACHABLE = "ookla_unreachable"
    INTERNAL_ERROR = "internal_error"
    BUDGET_EXHAUSTED = "budget_exhausted"
    CAPTIVE_PORTAL = "captive_portal"  # a hotspot's sign-in page answers in place of the internet


def printable_message(text: str, limit: int = 1000) -> str:
    """Any text (a server's header, an exception) as a Message takes it: control characters and lone
    surrogates become spaces, and it is cut to ``limit`` characters."""
    cleaned = "".join(" " if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) < 0xE000 else c for c in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


class ErrorInfo(WireModel):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    message: Message

    @classmethod
    def of(cls, code: ErrorCode, message: str) -> ErrorInfo:
        """The error of a run, whatever text the failure carried (a hostile server chooses some of it)."""
        return cls(code=code, message=printable_message(message, 300))


class Result(WireModel):
    """One measurement run, as sent on ``dokiem/v1/{agent_id}/result``."""

    schema_: Literal["dokiem.result/1"] = Field(default="dokiem.result/1", alias="schema")
    result_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    agent_id: AgentId
    agent_version: Version | None = None
    # absent on an agent's (so collectors from before it read agents' results as ever)
    source: Source | None = Field(default=None, description="resident: a resident's own test; absent: an agent's")
    started_at: AwareDatetime
    finished_at: AwareDatetime
    site: Site = Field(default_factory=Site)
    server: ServerRef | None = None
    ip_version: Literal[4, 6] | None = None  # the address family the run went over
    clock_offset_s: float | None = Field(default=None, ge=-1e10, le=1e10, description="test server's Date minus ours")

    download_mbps: Mbps | None = None
    upload_mbps: Mbps | None = None
    latency_ms: Millis | None = None
    jitter_ms: Millis | None = None
    loss_pct: Percent | None = None
    loaded_latency_ms: Millis | None = None
    loaded_latency_down_ms: Millis | None = None
    loaded_latency_up_ms: Millis | None = None
    dns_ms: Millis | None = None
    responsiveness_rpm: Rpm | None = Field(
        default=None,
        description="round trips per minute under load (draft-ietf-ippm-responsiveness), the worse direction",
    )
    responsiveness_down_rpm: Rpm | None = None
    responsiveness_up_rpm: Rpm | None = None
    cross_traffic_down_mbps: Mbps | None = Field(default=None, description="others' traffic on the line, towards it")
    cross_traffic_up_mbps: Mbps | None = None

    page_download_mbps: Mbps | None = Field(default=None, description="a resident's page's own reading, beside")
    page_upload_mbps: Mbps | None = None
    # what a resident's browser says its connection is (the Network Information API's type): its claim, unchecked
    browser_connection: BrowserConnection | None = None
    bytes_down: Count | None = None
    bytes_up: Count | None = None
    data_used_bytes: Count | None = Field(default=None, description="all bytes the run moved, warm-up included")
    samples_down_mbps: list[Mbps] = Field(default_factory=list, max_length=1000)
    samples_up_mbps: list[Mbps] = Field(default_factory=list, max_length=1000)

    ping: PingStats | None = None
    dns: list[DnsTiming] = Field(default_factory=list, max_length=50)

    method: Method
    flags: list[Flag] = Field(default_factory=list, max_length=len(Flag))
    agent_load: AgentLoad | None = None
    radio: Radio | None = None
    error: ErrorInfo | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    @model_validator(mode="after")
    def _times_in_order(self) -> Result:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def from_json(cls, data: str | bytes) -> Result:
        """Strictly, as it comes off the wire: JSON ``true`` is not a count, ``"5"`` is not a number."""
        return cls.model_validate_json(data, strict=True)


def utcnow() -> datetime:
    return datetime.now(UTC)

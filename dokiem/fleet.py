"""The fleet config: what the collector may set, retained, on ``dokiem/v1/{id}/config`` (``dokiem.config/1``).

The agent applies it from its next period; the collector checks it before publishing, so a typo is
caught at the desk, not an hour later in the field. Both sides validate with this one model.

A fleet config changes only what it names: a key it leaves out keeps the agent's local value (a
config that says nothing of the budget never makes a metered line unmetered). It may not schedule
tests more often than every ``MIN_FLEET_INTERVAL_MINUTES``, nor point an agent at a loopback or
link-local address unless the agent's own file allows it (``agent.allow_local_servers``).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, field_validator
from pydantic import Tag as PydanticTag

from dokiem.contract import Name, ServerLocation, Tag, Url, Version, WireModel, parse_document

CONFIG_SCHEMA = "dokiem.config/1"
MAX_SERVERS = 10
MAX_DNS_NAMES = 10
MAX_RESOLVERS = 5
MIN_FLEET_INTERVAL_MINUTES = 5.0  # speed tests: fewer would be a load test of the province's lines
MIN_FLEET_LIGHT_MINUTES = 1.0
MAX_CONFIG_BYTES = 64 << 10
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_server_url(url: str) -> str:
    """A test server's base URL: http(s) with a host and a valid port; ValueError says why not."""
    url = "http:" + url if url.startswith("//") else url
    if "://" not in url:
        raise ValueError(f"{url!r}: give a full URL such as http://{url}/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{url!r}: only http:// and https:// servers are supported")
    if not parts.hostname:
        raise ValueError(f"{url!r}: no host name")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ValueError(f"{url!r}: {exc}") from exc
    return url


def local_address(url: str) -> str | None:
    """The host of ``url`` when it is loopback, link-local or unspecified (``localhost``, 127.0.0.0/8,
    ::1, 169.254.0.0/16, fe80::/10, 0.0.0.0), else None. Names are judged as written, not resolved."""
    host = (urlsplit(check_server_url(url)).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return host if is_local_address(address) else None


def is_local_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, link-local or unspecified, an IPv4 address written as IPv6 (::ffff:127.0.0.1) included."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_link_local or address.is_unspecified


def check_release_url(url: str, release_host: str | None, allow_local: bool) -> str:
    """Where signed releases may be fetched from (``update.url``), as servers are judged and more: https
    from any host, http only from the province's release host; never a loopback or link-local address
    unless the agent's own file allows local servers. ValueError says why not."""
    parts = urlsplit(check_server_url(url))
    host = (parts.hostname or "").lower()
    if parts.scheme == "http" and host != (release_host or "").lower():
        raise ValueError(f"{url!r}: releases come over https, or over http only from the release host"
                         f" ({release_host or 'none set'})")  # fmt: skip
    if not allow_local and (local := local_address(url)):
        raise ValueError(f"{url!r}: {local} is a loopback or link-local address (agent.allow_local_servers is off)")
    return url


def _hostname(value: str) -> str:
    if not _HOSTNAME.match(value):
        raise ValueError(f"{value[:80]!r} is not a host name")
    return value


def _resolver(value: str) -> str:
    host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(f"{value[:80]!r} is not a resolver address (IP or IP:PORT)") from None
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"{value[:80]!r}: the port must be 1-65535")
    return value


HostName = Annotated[str, Field(max_length=253), AfterValidator(_hostname)]
Resolver = Annotated[str, Field(max_length=60), AfterValidator(_resolver)]


_HOURS = re.compile(r"^(\d{1,2})-(\d{1,2})$")


class Schedule(_Section):
    """When to measure. Part of what the fleet config may change."""

    interval_minutes: float = Field(default=60, ge=0, le=1440, description="0 = no scheduled speed tests")
    light_interval_minutes: float = Field(default=15, ge=0, le=1440, description="ping + DNS; 0 = off")
    heavy_hours: list[str] = Field(
        default_factory=lambda: ["0-24"], max_length=24, description="local hours for speed tests"
    )
    international_interval_minutes: float = Field(
        default=360, ge=0, le=10_080, description="speed tests against international servers; 0 = none"
    )
    busy_retry_minutes: float = Field(default=5, ge=0.1, le=720)
    clock_wait_minutes: float = Field(default=10, ge=0, le=120, description="wait this long for NTP before a test")
    monthly_budget_mb: float = Field(default=0, ge=0, description="0 = unmetered")

    @field_validator("heavy_hours")
    @classmethod
    def _hours(cls, value: list[str]) -> list[str]:
        for window in value:
            match = _HOURS.match(window)
            if not match or not (0 <= int(match[1]) < int(match[2]) <= 24):
                raise ValueError(f"{window!r} is not an hour window such as '0-6' or '19-23'")
        return value

    def heavy_allowed(self, hour: int) -> bool:
        return any(int(a) <= hour < int(b) for a, b in (w.split("-") for w in self.heavy_hours))


IpVersion = Literal["auto", "4", "6", "both"]


def _server_url(value: str) -> str:
    check_server_url(value)
    return value  # as written: a "//host/" URL keeps its form in the config kept on disk


ServerUrl = Annotated[Url, AfterValidator(_server_url)]


class ServerEntry(_Section):
    """A test server with what the agent needs to choose it: ``"http://…/"`` alone means a domestic server
    of priority 1."""

    url: ServerUrl
    name: Name | None = None
    location: ServerLocation = ServerLocation.DOMESTIC
    priority: int = Field(
        default=1, ge=1, le=9, description="1 first: the fastest reachable server of the best priority is measured"
    )


def _server_form(value: object) -> str:
    return "url" if isinstance(value, str) else "entry"


# A bare URL or an entry, told apart before validation so that an error names the entry's own key.
ServerSpec = Annotated[
    Annotated[Url, PydanticTag("url")] | Annotated[ServerEntry, PydanticTag("entry")],
    Discriminator(_server_form),
]


class Measure(_Section):
    """What to measure against. Part of what the fleet config may change."""

    servers: list[ServerSpec] = Field(default_factory=list, max_length=MAX_SERVERS)
    max_seconds: float = Field(default=9, ge=3, le=60)
    ping_count: int = Field(default=10, ge=0, le=100)
    dns_names: list[HostName] = Field(default_factory=list, max_length=MAX_DNS_NAMES)
    resolvers: list[Resolver] = Field(default_factory=list, max_length=MAX_RESOLVERS)
    ip_version: IpVersion = Field(
        default="auto", description="auto: happy eyeballs picks; 4 or 6: that family only; both: a Result for each"
    )
    portal_check_url: str = Field(default="http://connectivitycheck.gstatic.com/generate_204", max_length=2000,
                                  description="public Wi-Fi: asked before each test; any answer but an empty 204 "
                                  "is a sign-in page (captive portal)")  # fmt: skip

    @field_validator("portal_check_url")
    @classmethod
    def _portal_url(cls, value: str) -> str:
        _server_url(value)
        return value

    @field_validator("servers")
    @classmethod
    def _servers(cls, value: list[str | ServerEntry]) -> list[str | ServerEntry]:
        for server in value:  # bare URLs here, so that an error names the key as the file wrote it
            if isinstance(server, str):
                _server_url(server)
        return value

    def entries(self, location: ServerLocation | None = None) -> list[ServerEntry]:
        """The servers as entries (a bare URL is a domestic one of priority 1), of ``location`` if given."""
        every = [ServerEntry(url=s) if isinstance(s, str) else s for s in self.servers]
        return [e for e in every if location is None or e.location is location]


def require_servers(schedule: Schedule, measure: Measure) -> None:
    if schedule.interval_minutes > 0 and not measure.entries(ServerLocation.DOMESTIC):
        raise ValueError("measure.servers has no domestic server: give at least one test server URL")


class Update(_Section):
    """The agent version the province wants this agent to run, and where its signed releases are."""

    version: Version
    url: Url = Field(description="the releases folder: <url>/<version>/manifest.json (`dokiem release publish`)")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return check_server_url(value)


class FleetConfig(_Section):
    """What the collector may set through the retained config topic: only the keys it names apply."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    schema_: Literal["dokiem.config/1"] = Field(default="dokiem.config/1", alias="schema")
    version: Tag | None = None
    schedule: Schedule = Field(default_factory=Schedule)
    measure: Measure = Field(default_factory=Measure)
    update: Update | None = None

    @field_validator("schedule")
    @classmethod
    def _not_too_often(cls, schedule: Schedule) -> Schedule:
        for key, least in (("interval_minutes", MIN_FLEET_INTERVAL_MINUTES),
                           ("international_interval_minutes", MIN_FLEET_INTERVAL_MINUTES),
                           ("light_interval_minutes", MIN_FLEET_LIGHT_MINUTES)):  # fmt: skip
            value = getattr(schedule, key)
            if key in schedule.model_fields_set and 0 < value < least:
                raise ValueError(f"{key} is 0 (off) or at least {least:g} from the fleet config (got {value:g})")
        return schedule

    def named(self) -> tuple[dict[str, object], dict[str, object]]:
        """(schedule keys, measure keys) this config names: the only ones it changes."""
        return (self.schedule.model_dump(include=self.schedule.model_fields_set),
                self.measure.model_dump(include=self.measure.model_fields_set))  # fmt: skip

    def to_json(self) -> str:
        """What the agent keeps on disk: the named keys only, so a reload changes no more than this did."""
        return self.model_dump_json(by_alias=True, exclude_unset=True, indent=1)


def parse_fleet_config(payload: bytes) -> FleetConfig:
    """The fleet config in ``payload``; ValueError saying where it is wrong (agent and collector alike)."""
    return parse_document(FleetConfig, payload, MAX_CONFIG_BYTES, "config")


MAX_RESEND_BYTES = 1024


class ResendRequest(WireModel):
    """A collector restored from a backup asks, retained on dokiem/v1/{id}/resend: send again every result the
    broker acknowledged at or after since that you still keep. An agent serves each request_id once."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    schema_: Literal["dokiem.resend/1"] = Field(default="dokiem.resend/1", alias="schema")
    request_id: uuid.UUID
    since: AwareDatetime

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


def parse_resend_request(payload: bytes) -> ResendRequest:
    """The resend request in ``payload``; ValueError saying where it is wrong."""
    return parse_document(ResendRequest, payload, MAX_RESEND_BYTES, "resend request")

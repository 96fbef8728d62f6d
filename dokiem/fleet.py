"""The fleet config: what the collector may set, retained, on ``dokiem/v1/{id}/config`` (``dokiem.config/1``).

The agent applies it from its next period; the collector checks it before publishing, so a typo is
caught at the desk, not an hour later in the field. Both sides validate with this one model.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


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


_HOURS = re.compile(r"^(\d{1,2})-(\d{1,2})$")


class Schedule(_Section):
    """When to measure. Part of what the fleet config may change."""

    interval_minutes: float = Field(default=60, ge=0, le=1440, description="0 = no scheduled speed tests")
    light_interval_minutes: float = Field(default=15, ge=0, le=1440, description="ping + DNS; 0 = off")
    heavy_hours: list[str] = Field(default_factory=lambda: ["0-24"], description="local hours for speed tests")
    busy_retry_minutes: float = Field(default=5, ge=0.1, le=720)
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


class Measure(_Section):
    """What to measure against. Part of what the fleet config may change."""

    servers: list[str] = Field(default_factory=list)
    max_seconds: float = Field(default=9, ge=3, le=60)
    ping_count: int = Field(default=10, ge=0, le=100)
    dns_names: list[str] = Field(default_factory=list)
    resolvers: list[str] = Field(default_factory=list)

    @field_validator("servers")
    @classmethod
    def _servers(cls, value: list[str]) -> list[str]:
        for url in value:
            check_server_url(url)
        return value


def require_servers(schedule: Schedule, measure: Measure) -> None:
    if schedule.interval_minutes > 0 and not measure.servers:
        raise ValueError("measure.servers is empty: give at least one test server URL")


class FleetConfig(_Section):
    """What the collector may set through the retained config topic."""

    version: str | None = None
    schedule: Schedule = Field(default_factory=Schedule)
    measure: Measure = Field(default_factory=Measure)

    @model_validator(mode="after")
    def _needs_a_server(self) -> FleetConfig:
        require_servers(self.schedule, self.measure)
        return self


MAX_CONFIG_BYTES = 64 << 10


def parse_fleet_config(payload: bytes) -> FleetConfig:
    """The fleet config in ``payload``; ValueError saying where it is wrong (agent and collector alike)."""
    if len(payload) > MAX_CONFIG_BYTES:
        raise ValueError(f"the config is {len(payload)} bytes, over the {MAX_CONFIG_BYTES} limit")
    try:
        return FleetConfig.model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise ValueError(f"{where}: {first['msg']}") from None

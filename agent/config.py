"""The agent's configuration: a TOML file, every key overridable by a ``DOKIEM_`` variable.

A bad file or value stops the agent before anything starts, with an error that names the key,
the file and the line. The fleet part (schedule, servers, measuring options) can be replaced
from the centre through the retained ``config`` topic; see ``agent.fleet``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.servers import BadServerURL, librespeed_server
from dokiem.contract import AGENT_ID_PATTERN, Site
from dokiem.settings import BrokerSection, Settings

DEFAULT_DATA_DIR = "/var/lib/dokiem"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSection(_Section):
    id: str = Field(pattern=AGENT_ID_PATTERN)
    data_dir: Path = Path(DEFAULT_DATA_DIR)


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
            try:
                librespeed_server(url)
            except BadServerURL as exc:
                raise ValueError(str(exc)) from exc
        return value


class OutboxSection(_Section):
    max_age_days: float = Field(default=30, gt=0, le=3650)
    max_results: int = Field(default=20_000, ge=10, le=10_000_000)


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


class AgentConfig(_Section):
    agent: AgentSection
    site: Site = Field(default_factory=Site)
    broker: BrokerSection = Field(default_factory=BrokerSection)
    schedule: Schedule = Field(default_factory=Schedule)
    measure: Measure = Field(default_factory=Measure)
    outbox: OutboxSection = Field(default_factory=OutboxSection)

    @model_validator(mode="after")
    def _needs_a_server(self) -> AgentConfig:
        require_servers(self.schedule, self.measure)
        return self

    @property
    def mqtt_username(self) -> str:
        return self.broker.username or self.agent.id

    def with_fleet(self, fleet: FleetConfig) -> AgentConfig:
        return self.model_copy(update={"schedule": fleet.schedule, "measure": fleet.measure})


# The names ARCHITECTURE.md fixes; every other key is DOKIEM_<SECTION>_<KEY>.
ENV_ALIASES: dict[str, tuple[str, str]] = {
    "DOKIEM_AGENT_ID": ("agent", "id"),
    "DOKIEM_DATA_DIR": ("agent", "data_dir"),
    "DOKIEM_BROKER_URL": ("broker", "url"),
    "DOKIEM_MQTT_USERNAME": ("broker", "username"),
    "DOKIEM_MQTT_PASSWORD": ("broker", "password"),
    "DOKIEM_MQTT_CA_FILE": ("broker", "ca_file"),
    "DOKIEM_SITE_PROVINCE": ("site", "province_code"),
    "DOKIEM_SITE_DISTRICT": ("site", "district_code"),
    "DOKIEM_SITE_COMMUNE": ("site", "commune_code"),
    "DOKIEM_SITE_ISP": ("site", "isp"),
    "DOKIEM_SITE_ACCESS": ("site", "access"),
    "DOKIEM_PLAN_DOWN_MBPS": ("site", "plan_down_mbps"),
    "DOKIEM_PLAN_UP_MBPS": ("site", "plan_up_mbps"),
    "DOKIEM_SERVERS": ("measure", "servers"),
    "DOKIEM_INTERVAL_MINUTES": ("schedule", "interval_minutes"),
}

_SECTIONS: dict[str, type[BaseModel]] = {
    "agent": AgentSection,
    "site": Site,
    "broker": BrokerSection,
    "schedule": Schedule,
    "measure": Measure,
    "outbox": OutboxSection,
}


_SETTINGS = Settings(AgentConfig, _SECTIONS, ENV_ALIASES, required_sections=("agent",))


def env_names() -> dict[str, tuple[str, str]]:
    """Every environment variable the agent reads, and the key it overrides."""
    return _SETTINGS.env_names()


def load(path: Path | None, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read ``path`` (optional) and the environment into a validated AgentConfig."""
    return _SETTINGS.load(path, environ)

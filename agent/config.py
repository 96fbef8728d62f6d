"""The agent's configuration: a TOML file, every key overridable by a ``DOKIEM_`` variable.

A bad file or value stops the agent before anything starts, with an error that names the key,
the file and the line. The fleet part (schedule, servers, measuring options) can be replaced
from the centre through the retained ``config`` topic; see ``agent.fleet``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent.servers import BadServerURL, librespeed_server
from dokiem.contract import AGENT_ID_PATTERN, Access, Site

DEFAULT_DATA_DIR = "/var/lib/dokiem"


class ConfigError(Exception):
    """A configuration problem a technician can fix: where it is and what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSection(_Section):
    id: str = Field(pattern=AGENT_ID_PATTERN)
    data_dir: Path = Path(DEFAULT_DATA_DIR)


class BrokerSection(_Section):
    url: str = "mqtt://localhost:1883"
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    keepalive_s: int = Field(default=60, ge=5, le=3600)
    heartbeat_s: int = Field(default=300, ge=10, le=86_400)

    @field_validator("url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("use mqtt://host:1883 or mqtts://host:8883")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "localhost"

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)


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


class FleetConfig(_Section):
    """What the collector may set through the retained config topic."""

    version: str | None = None
    schedule: Schedule = Field(default_factory=Schedule)
    measure: Measure = Field(default_factory=Measure)


class AgentConfig(_Section):
    agent: AgentSection
    site: Site = Field(default_factory=Site)
    broker: BrokerSection = Field(default_factory=BrokerSection)
    schedule: Schedule = Field(default_factory=Schedule)
    measure: Measure = Field(default_factory=Measure)
    outbox: OutboxSection = Field(default_factory=OutboxSection)

    @model_validator(mode="after")
    def _needs_a_server(self) -> AgentConfig:
        if self.schedule.interval_minutes > 0 and not self.measure.servers:
            raise ValueError("measure.servers is empty: give at least one test server URL")
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


def env_names() -> dict[str, tuple[str, str]]:
    """Every environment variable the agent reads, and the key it overrides."""
    names = {
        f"DOKIEM_{section.upper()}_{key.upper()}": (section, key)
        for section, model in _SECTIONS.items()
        for key in model.model_fields
    }
    names.update(ENV_ALIASES)
    return names


def _env_value(section: str, key: str, raw: str) -> Any:
    field = _SECTIONS[section].model_fields[key]
    if "list" in str(field.annotation):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Overlay environment variables; returns {dotted key: variable} for error messages."""
    origin: dict[str, str] = {}
    for name, (section, key) in env_names().items():
        if name in environ:
            data.setdefault(section, {})[key] = _env_value(section, key, environ[name])
            origin[f"{section}.{key}"] = name
    return origin


def key_line(text: str, section: str, key: str) -> int | None:
    """The 1-based line of ``key`` inside ``[section]`` of a TOML text (None if absent)."""
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped.strip("[]").strip()
        elif current == section and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return None


def load(path: Path | None, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read ``path`` (optional) and the environment into a validated AgentConfig."""
    environ = os.environ if environ is None else environ
    text = ""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(str(path), f"cannot read the file: {exc.strerror}") from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    origin = _apply_env(data, environ)
    data.setdefault("agent", {})
    try:
        return AgentConfig.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, path, text, origin) from None


def _explain(exc: ValidationError, path: Path | None, text: str, origin: dict[str, str]) -> ConfigError:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    dotted = ".".join(loc[:2]) if loc else "(top level)"
    problem = error["msg"]
    if error["type"] == "missing":
        problem = "is required"
    elif error["type"] == "extra_forbidden":
        problem = "is not a known key (check its spelling and section)"
    if "input" in error and error["type"] not in ("missing", "extra_forbidden"):
        problem += f" (got {error['input']!r})"
    if dotted in origin:
        return ConfigError(f"environment variable {origin[dotted]} (key {dotted})", problem)
    where = f"key {dotted}"
    if path is not None:
        line = key_line(text, loc[0], loc[1]) if len(loc) >= 2 else None
        where = f"{path}, line {line}, key {dotted}" if line else f"{path}, key {dotted}"
    return ConfigError(where, problem)


__all__ = ["Access", "AgentConfig", "ConfigError", "FleetConfig", "Measure", "Schedule", "env_names", "load"]

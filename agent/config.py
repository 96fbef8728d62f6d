"""The agent's configuration: a TOML file, every key overridable by a ``DOKIEM_`` variable.

A bad file or value stops the agent before anything starts, with an error that names the key,
the file and the line. The fleet part (schedule, servers, measuring options) can be replaced
from the centre through the retained ``config`` topic; see ``agent.fleet``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from dokiem.agent.router import RouterSection
from dokiem.contract import AGENT_ID_PATTERN, Site
from dokiem.fleet import FleetConfig, Measure, Schedule, check_release_url, local_address, require_servers
from dokiem.settings import BrokerSection, Settings, parse_listen

DEFAULT_DATA_DIR = "/var/lib/dokiem"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSection(_Section):
    id: str = Field(pattern=AGENT_ID_PATTERN)
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    allow_local_servers: bool = Field(
        default=False, description="let the fleet config name loopback or link-local test servers (labs only)"
    )
    memory_hold: int = Field(default=50, ge=0, le=10_000, description="results held in memory while the disk is full")


class OutboxSection(_Section):
    max_age_days: float = Field(default=30, gt=0, le=3650)
    max_results: int = Field(default=20_000, ge=10, le=10_000_000)
    keep_sent_days: float = Field(
        default=14, ge=0, le=365, description="acknowledged results kept this long, for a restored collector to ask"
        " for again (0: none)",
    )  # fmt: skip
    keep_sent_max: int = Field(default=10_000, ge=0, le=1_000_000, description="at most this many of them (~2 KB each)")


class UpdateSection(_Section):
    """Where the updater keeps versions and which key a release must be signed with (see ``agent.update``)."""

    root: Path = Field(default=Path("/opt/dokiem"), description="versions/, current and good live here")
    public_key: Path = Field(default=Path("/etc/dokiem/release.pub"), description="the province's release key")
    health_minutes: float = Field(
        default=30, ge=1, le=1440, description="a new version that sends no heartbeat in this time is rolled back"
    )
    service: str = Field(default="dokiem-agent.service", pattern=r"^[A-Za-z0-9@._-]{1,100}\.service$")
    release_host: str | None = Field(
        default=None, description="the one host releases may come from over plain http (default: the broker's)"
    )


def _host_port(value: str) -> str:
    parse_listen(value)  # HOST:PORT as every listen address is read (raises ValueError with the reason)
    return value


class SurveySection(_Section):
    """``dokiem agent survey`` (issue 30): how often a sample is taken and a batch queued, where the position
    comes from (``auto``: the modem's GNSS through ModemManager, else gpsd)."""

    sample_seconds: float = Field(default=5, ge=1, le=600)
    batch_seconds: float = Field(default=60, ge=5, le=3600)
    position: Literal["auto", "modem", "gpsd"] = "auto"
    # a short speed test against the first [measure] server, where the modem has service: every test_every_s
    # or test_every_m, whichever comes first (0: never), each direction at most test_max_seconds
    test_every_s: float = Field(default=300, ge=0, le=86_400)
    test_every_m: float = Field(default=1000, ge=0, le=1_000_000)
    test_max_seconds: float = Field(default=3, ge=1, le=30)
    gpsd: Annotated[str, AfterValidator(_host_port)] = Field(
        default="127.0.0.1:2947", pattern=r"^[A-Za-z0-9.:\[\]-]{1,253}:[0-9]{1,5}$", description="gpsd's HOST:PORT"
    )


class AgentConfig(_Section):
    agent: AgentSection
    site: Site = Field(default_factory=Site)
    broker: BrokerSection = Field(default_factory=BrokerSection)
    schedule: Schedule = Field(default_factory=Schedule)
    measure: Measure = Field(default_factory=Measure)
    outbox: OutboxSection = Field(default_factory=OutboxSection)
    update: UpdateSection = Field(default_factory=UpdateSection)
    router: RouterSection = Field(default_factory=RouterSection)
    survey: SurveySection = Field(default_factory=SurveySection)

    @model_validator(mode="after")
    def _needs_a_server(self) -> AgentConfig:
        require_servers(self.schedule, self.measure)
        return self

    @property
    def mqtt_username(self) -> str:
        return self.broker.username or self.agent.id

    @property
    def release_host(self) -> str | None:
        return self.update.release_host or urlsplit(self.broker.url).hostname

    def check_release_url(self, url: str) -> None:
        """ValueError unless signed releases may be fetched from ``url`` (see ``dokiem.fleet``)."""
        check_release_url(url, self.release_host, self.agent.allow_local_servers)

    def with_fleet(self, fleet: FleetConfig) -> AgentConfig:
        """This config with what the fleet config names; ValueError when the result is unusable (no
        server left for a schedule, a loopback or link-local server the local file does not allow)."""
        schedule_keys, measure_keys = fleet.named()
        merged = self.model_copy(update={
            "schedule": self.schedule.model_copy(update=schedule_keys),
            "measure": self.measure.model_copy(update=measure_keys),
        })  # fmt: skip
        require_servers(merged.schedule, merged.measure)
        if fleet.update is not None:
            try:
                self.check_release_url(fleet.update.url)
            except ValueError as exc:
                raise ValueError(f"update.url: {exc}") from None
        if not self.agent.allow_local_servers:
            for entry in fleet.measure.entries():
                if host := local_address(entry.url):
                    raise ValueError(f"measure.servers: {host} is a loopback or link-local address"
                                     " (agent.allow_local_servers is off)")  # fmt: skip
        return merged


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
    "DOKIEM_SITE_PREMISES": ("site", "premises"),
    "DOKIEM_SERVERS": ("measure", "servers"),
    "DOKIEM_INTERVAL_MINUTES": ("schedule", "interval_minutes"),
}

_SETTINGS = Settings(AgentConfig, ENV_ALIASES, required_sections=("agent",))


def env_names() -> dict[str, tuple[str, str]]:
    """Every environment variable the agent reads, and the key it overrides."""
    return _SETTINGS.env_names()


def load(path: Path | None, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read ``path`` (optional) and the environment into a validated AgentConfig."""
    return _SETTINGS.load(path, environ)

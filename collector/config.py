"""The collector's configuration: ``collector.toml`` and ``DOKIEM_`` variables (see dokiem.settings)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from collector.influx import InfluxTarget
from collector.validate import Limits
from dokiem.settings import BrokerSection, Settings


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CollectorSection(_Section):
    data_dir: Path = Path("/var/lib/dokiem")
    archive_url: str | None = Field(default=None, description="sqlite:///path (default: data_dir/archive.db)")
    shared_group: str | None = Field(default=None, description="MQTT 5 shared subscription group")
    client_id: str = "dokiem-collector"
    batch_size: int = Field(default=2000, ge=1, le=100_000)
    linger_s: float = Field(default=0.02, ge=0, le=5, description="wait to fill a batch before committing")
    refusal_log_interval_s: float = Field(default=300, ge=1)
    regions_dir: Path | None = Field(default=None, description="more province folders, beside the shipped ones")


class InfluxSection(_Section):
    url: str | None = None
    db: str = "dokiem"
    token: str | None = None
    username: str | None = None
    password: str | None = None
    batch_size: int = Field(default=5000, ge=1, le=100_000)

    def target(self) -> InfluxTarget | None:
        if not self.url:
            return None
        return InfluxTarget(self.url, self.db, self.token, self.username, self.password)


class HttpSection(_Section):
    listen: str = "127.0.0.1:8081"
    api_token: str | None = None


class LimitsSection(_Section):
    max_bytes: int = Field(default=64 << 10, ge=1024)
    max_future_s: float = Field(default=300, ge=0)
    retention_days: float = Field(default=800, gt=0)
    max_mbps: float = Field(default=20_000, gt=0)
    max_ms: float = Field(default=60_000, gt=0)

    def limits(self) -> Limits:
        return Limits(**self.model_dump())


class CollectorConfig(_Section):
    collector: CollectorSection = Field(default_factory=CollectorSection)
    broker: BrokerSection = Field(default_factory=BrokerSection)
    influx: InfluxSection = Field(default_factory=InfluxSection)
    http: HttpSection = Field(default_factory=HttpSection)
    limits: LimitsSection = Field(default_factory=LimitsSection)

    @property
    def archive_url(self) -> str:
        # sqlite:///abs/path, as ARCHITECTURE.md writes it: a relative data_dir is taken from here
        return self.collector.archive_url or f"sqlite://{(self.collector.data_dir / 'archive.db').resolve()}"


ENV_ALIASES = {
    "DOKIEM_BROKER_URL": ("broker", "url"),
    "DOKIEM_MQTT_USERNAME": ("broker", "username"),
    "DOKIEM_MQTT_PASSWORD": ("broker", "password"),
    "DOKIEM_MQTT_CA_FILE": ("broker", "ca_file"),
    "DOKIEM_DATA_DIR": ("collector", "data_dir"),
    "DOKIEM_ARCHIVE_URL": ("collector", "archive_url"),
    "DOKIEM_INFLUX_URL": ("influx", "url"),
    "DOKIEM_INFLUX_DB": ("influx", "db"),
    "DOKIEM_INFLUX_TOKEN": ("influx", "token"),
    "DOKIEM_INFLUX_USERNAME": ("influx", "username"),
    "DOKIEM_INFLUX_PASSWORD": ("influx", "password"),
    "DOKIEM_HTTP_LISTEN": ("http", "listen"),
    "DOKIEM_API_TOKEN": ("http", "api_token"),
}
_SETTINGS = Settings(
    CollectorConfig,
    {"collector": CollectorSection, "broker": BrokerSection, "influx": InfluxSection, "http": HttpSection,
     "limits": LimitsSection},
    ENV_ALIASES,
)  # fmt: skip


def load(path: Path | None, environ: Mapping[str, str] | None = None) -> CollectorConfig:
    return _SETTINGS.load(path, environ)

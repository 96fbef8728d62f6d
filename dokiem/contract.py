"""The wire contract: the Result message and the MQTT topics, shared by agent and collector.

This module depends on pydantic only, so the agent can import it without pulling in
collector libraries. Bump ``SCHEMA`` (and the topic version) on any incompatible change.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

SCHEMA = "dokiem.result/1"
TOPIC_PREFIX = "dokiem/v1"

# Physical bounds: a figure outside them is a bug or a forgery, not a measurement.
MAX_MBPS = 100_000.0
MAX_MS = 600_000.0

# An agent id is also its MQTT username and a topic level: no '/', '+', '#' or spaces.
AGENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

# Vietnam keeps UTC+7 all year: quarters begin at local midnight, the `hour` tag is local time.
LOCAL_TIME = timezone(timedelta(hours=7), "ICT")

# The figures of a Result, by field name: written once here, read by the archive, InfluxDB, the API.
FIGURES = (
    "download_mbps", "upload_mbps", "latency_ms", "jitter_ms", "loss_pct", "loaded_latency_ms",
    "loaded_latency_down_ms", "loaded_latency_up_ms", "dns_ms",
)  # fmt: skip
HEADLINE_FIGURES = FIGURES[:5]  # the five every report and table shows
COUNTS = ("bytes_down", "bytes_up", "data_used_bytes")

Mbps = Annotated[float, Field(ge=0, le=MAX_MBPS)]
Millis = Annotated[float, Field(ge=0, le=MAX_MS)]
Percent = Annotated[float, Field(ge=0, le=100)]


def result_topic(agent_id: str) -> str:
    return f"{TOPIC_PREFIX}/{agent_id}/result"


def status_topic(agent_id: str) -> str:
    return f"{TOPIC_PREFIX}/{agent_id}/status"


def config_topic(agent_id: str) -> str:
    return f"{TOPIC_PREFIX}/{agent_id}/config"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Access(StrEnum):
    FIXED = "fixed"
    MOBILE = "mobile"


class Site(_Model):
    """Where the agent stands and which line it measures."""

    province_code: str | None = None
    province_name: str | None = None
    district_code: str | None = None
    district_name: str | None = None
    commune_code: str | None = None
    commune_name: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    isp: str | None = None
    access: Access | None = None
    plan_down_mbps: Mbps | None = None
    plan_up_mbps: Mbps | None = None


class ServerKind(StrEnum):
    LIBRESPEED = "librespeed"
    OOKLA = "ookla"


class ServerRef(_Model):
    id: str
    url: str
    kind: ServerKind = ServerKind.LIBRESPEED
    name: str | None = None


class Method(_Model):
    """How the figures were taken: figures from different methods are never mixed silently."""

    name: str
    version: str
    streams_down: int | None = Field(default=None, ge=0, le=64)
    streams_up: int | None = Field(default=None, ge=0, le=64)
    warmup_s: float | None = Field(default=None, ge=0, le=60)
    measured_down_s: float | None = Field(default=None, ge=0, le=120)
    measured_up_s: float | None = Field(default=None, ge=0, le=120)
    sample_interval_s: float | None = Field(default=None, gt=0, le=10)
    latency_count: int | None = Field(default=None, ge=0, le=1000)
    counting: str | None = None


class Flag(StrEnum):
    CPU_SATURATED = "cpu_saturated"
    CPU_THROTTLED = "cpu_throttled"
    WIFI = "wifi"
    SERVER_BUSY = "server_busy"
    CROSS_TRAFFIC = "cross_traffic"


class AgentLoad(_Model):
    """The agent's own load during the run, so a result taken on a starved Pi can be told apart."""

    cpu_seconds: float = Field(ge=0)
    cpu_pct_of_core: float = Field(ge=0)
    system_cpu_pct: float | None = Field(default=None, ge=0, le=100)
    throttled_s: float | None = Field(default=None, ge=0)
    rss_mb: float | None = Field(default=None, ge=0)


class PingStats(_Model):
    """ICMP (or TCP connect) round trips to the server's host."""

    method: Literal["icmp", "icmp-raw", "tcp-connect"]
    target: str
    sent: int = Field(ge=0)
    received: int = Field(ge=0)
    min_ms: Millis | None = None
    avg_ms: Millis | None = None
    max_ms: Millis | None = None
    jitter_ms: Millis | None = None
    loss_pct: Percent


class DnsTiming(_Model):
    resolver: str
    name: str
    ms: Millis | None = None
    error: str | None = None


class ErrorInfo(_Model):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    message: str = Field(max_length=1000)


class Result(_Model):
    """One measurement run, as sent on ``dokiem/v1/{agent_id}/result``."""

    schema_: Literal["dokiem.result/1"] = Field(default="dokiem.result/1", alias="schema")
    result_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    agent_id: str = Field(min_length=1, max_length=64, pattern=AGENT_ID_PATTERN)
    agent_version: str | None = None
    started_at: AwareDatetime
    finished_at: AwareDatetime
    site: Site = Field(default_factory=Site)
    server: ServerRef | None = None

    download_mbps: Mbps | None = None
    upload_mbps: Mbps | None = None
    latency_ms: Millis | None = None
    jitter_ms: Millis | None = None
    loss_pct: Percent | None = None
    loaded_latency_ms: Millis | None = None
    loaded_latency_down_ms: Millis | None = None
    loaded_latency_up_ms: Millis | None = None
    dns_ms: Millis | None = None

    bytes_down: int | None = Field(default=None, ge=0)
    bytes_up: int | None = Field(default=None, ge=0)
    data_used_bytes: int | None = Field(default=None, ge=0, description="all bytes the run moved, warm-up included")
    samples_down_mbps: list[Mbps] = Field(default_factory=list, max_length=1000)
    samples_up_mbps: list[Mbps] = Field(default_factory=list, max_length=1000)

    ping: PingStats | None = None
    dns: list[DnsTiming] = Field(default_factory=list, max_length=50)

    method: Method
    flags: list[Flag] = Field(default_factory=list)
    agent_load: AgentLoad | None = None
    error: ErrorInfo | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _times_in_order(self) -> Result:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def from_json(cls, data: str | bytes) -> Result:
        return cls.model_validate_json(data)


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_schema() -> dict[str, object]:
    """The JSON Schema of the Result, as checked in under ``dokiem/schema/``."""
    schema = Result.model_json_schema(by_alias=True)
    schema["$id"] = "urn:dokiem:schema:result:1"
    schema["title"] = "dokiem Result (dokiem.result/1)"
    return schema

"""The Status message (``dokiem.status/1``): an agent's retained heartbeat on ``dokiem/v1/{id}/status``.

``online`` with the agent's health (CPU, memory, temperature, disk, uptime, interface counters), its
outbox, the config in force and the faults it lives with (a corrupt outbox moved aside, a full
disk); ``offline`` is the broker's last will. The collector validates a status exactly as strictly
as a Result: it is stored, tagged and charted, so every field is bounded.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field, field_validator

from dokiem.contract import AgentId, Count, Message, Percent, Seconds, Tag, Version, WireModel

STATUS_SCHEMA = "dokiem.status/1"
MIN_INTERVAL_MINUTES = 1 / 60  # what an agent may report running at; below it, expected runs explode


class Health(WireModel):
    cpu_pct: Percent | None = None
    memory_pct: Percent | None = None
    temperature_c: float | None = Field(default=None, ge=-60, le=200)
    disk_pct: Percent | None = None
    uptime_s: Count | None = None
    load1: float | None = Field(default=None, ge=0, le=100_000)
    if_bytes_sent: Count | None = None
    if_bytes_recv: Count | None = None
    if_errors: Count | None = None
    if_drops: Count | None = None


class OutboxHealth(WireModel):
    depth: Count
    oldest_age_s: Seconds | None = None
    dropped_age: Count = 0
    dropped_size: Count = 0
    held_in_memory: Count = Field(default=0, description="results kept in memory while the disk is full")


class ConfigState(WireModel):
    fleet_version: Tag | None = None
    error: Message | None = None


class ScheduleState(WireModel):
    """The periods in force: missed runs are counted against them, and a flood beyond them refused."""

    interval_minutes: float | None = Field(default=None, ge=0, le=1440)
    light_interval_minutes: float | None = Field(default=None, ge=0, le=1440)
    international_interval_minutes: float | None = Field(default=None, ge=0, le=10_080)

    @field_validator("interval_minutes", "light_interval_minutes", "international_interval_minutes")
    @classmethod
    def _off_or_a_real_period(cls, value: float | None) -> float | None:
        if value is not None and 0 < value < MIN_INTERVAL_MINUTES:
            raise ValueError(f"a period is 0 (off) or at least {MIN_INTERVAL_MINUTES * 60:.0f} s")
        return value


class UpdateOutcome(StrEnum):
    INSTALLED = "installed"  # switched to the new version; it must send a heartbeat before the deadline
    CONFIRMED = "confirmed"  # the new version sent a heartbeat: it stays
    ROLLED_BACK = "rolled_back"  # it did not in time: the previous version runs again
    REFUSED = "refused"  # not installed (bad signature, a file that does not match, pip failed): nothing changed


class UpdateReport(WireModel):
    """The last thing the updater did, as it wrote it for the agent to report."""

    version: Version
    outcome: UpdateOutcome
    message: Message | None = None
    at: AwareDatetime


class Fault(StrEnum):
    """Something the agent lives with and a technician should know of."""

    OUTBOX_CORRUPT = "outbox_corrupt"  # the outbox was unreadable: moved aside, a new one opened
    DISK_FULL = "disk_full"  # results are held in memory until space returns


class Status(WireModel):
    schema_: Literal["dokiem.status/1"] = Field(default="dokiem.status/1", alias="schema")
    state: Literal["online", "offline"]
    agent_id: AgentId
    version: Version | None = None
    at: AwareDatetime | None = None
    health: Health | None = None
    outbox: OutboxHealth | None = None
    last_error: Message | None = None
    last_run_error: Message | None = None
    config: ConfigState | None = None
    skipped_runs: Count | None = None
    schedule: ScheduleState | None = None
    faults: list[Fault] = Field(default_factory=list, max_length=len(Fault))
    update: UpdateReport | None = None

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def from_json(cls, data: str | bytes) -> Status:
        """Strictly, as it comes off the wire: JSON ``true`` is not a count, ``"5"`` is not a number."""
        return cls.model_validate_json(data, strict=True)

    @property
    def interval_minutes(self) -> float | None:
        return self.schedule.interval_minutes if self.schedule else None


def offline_status(agent_id: str, at: datetime | None = None) -> Status:
    """The last will: what the broker announces when the agent vanishes."""
    return Status(state="offline", agent_id=agent_id, at=at)

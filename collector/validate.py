"""Validation: what comes off the broker becomes a Result or a Status, or a counted refusal with a reason.

A refused message never reaches the archive's results or InfluxDB and never crashes the collector:
the service keeps it in the quarantine with its reason. Each reason is counted, and logged once per
reason and agent per interval so a broken agent cannot flood the log.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from dokiem.collector.config import Limits
from dokiem.contract import TOPIC_PREFIX, Flag, Result, first_error
from dokiem.regions import Place, Regions, UnknownRegion
from dokiem.status import Status

log = logging.getLogger(__name__)


class Reason(StrEnum):
    """Why a message was kept in the quarantine instead of archived."""

    BAD_TOPIC = "bad_topic"
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    SCHEMA = "schema"
    TOPIC_MISMATCH = "topic_mismatch"
    IN_FUTURE = "in_future"
    TOO_OLD = "too_old"
    OUT_OF_BOUNDS = "out_of_bounds"
    UNKNOWN_REGION = "unknown_region"
    INTERNAL_ERROR = "internal_error"  # handling the message raised: a bug, kept to be re-admitted after a fix
    INFLUX_REFUSED = "influx_refused"  # InfluxDB refused the point (a 400): archived, kept out of InfluxDB


REASONS = tuple(reason.value for reason in Reason)
M = TypeVar("M", bound=BaseModel)


class Refusal(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_topic(topic: str) -> tuple[str, str]:
    """(agent id, kind) of ``dokiem/v1/{id}/{kind}``."""
    parts = topic.split("/")
    if len(parts) != 4 or "/".join(parts[:2]) != TOPIC_PREFIX or not parts[2] or parts[3] not in ("result", "status"):
        raise Refusal(Reason.BAD_TOPIC, f"not a dokiem/v1 result or status topic: {topic[:200]!r}")
    return parts[2], parts[3]


def _parse(model: type[M], payload: bytes, limits: Limits) -> M:
    """One strict parse: pydantic tells bad JSON from a bad schema."""
    if len(payload) > limits.max_bytes:
        raise Refusal(Reason.TOO_LARGE, f"{len(payload)} bytes, over the {limits.max_bytes} limit")
    try:
        return model.model_validate_json(payload, strict=True)
    except ValidationError as exc:
        first = first_error(exc)
        if first.kind == "json_invalid":
            raise Refusal(Reason.NOT_JSON, first.message[:200]) from None
        raise Refusal(Reason.SCHEMA, f"{first.where}: {first.message}"[:300]) from None


def validate_result(
    topic_agent: str, payload: bytes, limits: Limits, now: datetime | None = None, regions: Regions | None = None
) -> Result:
    result = _parse(Result, payload, limits)
    if result.agent_id != topic_agent:
        raise Refusal(Reason.TOPIC_MISMATCH, f"payload agent_id {result.agent_id!r} on agent {topic_agent!r}'s topic")
    result = corrected_clock(result, limits)
    _check_time(result, limits, now or datetime.now(UTC))
    _check_bounds(result, limits)
    if regions is not None:
        place_of(result, regions)
    return result


def place_of(result: Result, regions: Regions) -> Place:
    """Where the result is filed: its site's codes read in the era of its start time."""
    try:
        return regions.place_site(result.site, result.started_at)
    except UnknownRegion as exc:
        raise Refusal(Reason.UNKNOWN_REGION, str(exc)) from None


def corrected_clock(result: Result, limits: Limits) -> Result:
    """A run whose clock was off the test server's by more than ``max_clock_offset_s`` is filed at the
    server's time, flagged ``clock_offset`` (never at a wrong time, never silently)."""
    offset = result.clock_offset_s
    if offset is None or abs(offset) <= limits.max_clock_offset_s:
        return result
    shift = timedelta(seconds=offset)
    flags = sorted({*result.flags, Flag.CLOCK_OFFSET}, key=lambda f: f.value)
    try:
        started, finished = result.started_at + shift, result.finished_at + shift
    except OverflowError:
        raise Refusal(Reason.OUT_OF_BOUNDS, f"clock_offset_s {offset} puts the run outside the calendar") from None
    return result.model_copy(update={"started_at": started, "finished_at": finished, "flags": flags})


def validate_status(topic_agent: str, payload: bytes, limits: Limits) -> Status | None:
    """A heartbeat, validated as strictly as a Result (None for an empty payload: a retained status cleared)."""
    if not payload:
        return None
    status = _parse(Status, payload, limits)
    if status.agent_id != topic_agent:
        raise Refusal(Reason.TOPIC_MISMATCH, f"payload agent_id {status.agent_id!r} on agent {topic_agent!r}'s topic")
    return status


def _check_time(result: Result, limits: Limits, now: datetime) -> None:
    if result.started_at > now + timedelta(seconds=limits.max_future_s):
        raise Refusal(Reason.IN_FUTURE, f"started_at {result.started_at.isoformat()} is ahead of the collector's clock")
    if result.started_at < now - timedelta(days=limits.retention_days):
        raise Refusal(Reason.TOO_OLD, f"started_at {result.started_at.isoformat()} is older than the retention")


def _check_bounds(result: Result, limits: Limits) -> None:
    speeds = [result.download_mbps, result.upload_mbps, *result.samples_down_mbps, *result.samples_up_mbps]
    for value in speeds:
        if value is not None and value > limits.max_mbps:
            raise Refusal(Reason.OUT_OF_BOUNDS, f"{value} Mbit/s is over {limits.max_mbps}")
    for value in (result.latency_ms, result.jitter_ms, result.loaded_latency_ms, result.dns_ms):
        if value is not None and value > limits.max_ms:
            raise Refusal(Reason.OUT_OF_BOUNDS, f"{value} ms is over {limits.max_ms}")


@dataclass
class RefusalLog:
    """Counts refusals by reason; logs each (reason, agent) at most once per interval."""

    interval_s: float = 300
    counts: Counter[str] = field(default_factory=Counter)
    _last_logged: dict[tuple[str, str], float] = field(default_factory=dict)

    def record(self, refusal: Refusal, agent: str, topic: str) -> bool:
        """Count it; True when it was logged (the first of its kind in the interval)."""
        self.counts[refusal.reason] += 1
        key = (refusal.reason, agent)
        now = time.monotonic()
        if now - self._last_logged.get(key, -self.interval_s - 1) < self.interval_s:
            return False
        self._last_logged[key] = now
        log.warning("refused a message on %s (agent %s): %s", topic[:200], agent[:64], refusal)
        return True

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
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from dokiem.collector.config import Limits
from dokiem.contract import TOPIC_PREFIX, Flag, Result
from dokiem.regions import Place, Regions, UnknownRegion
from dokiem.status import Status

log = logging.getLogger(__name__)

REASONS = (
    "bad_topic",
    "too_large",
    "not_json",
    "schema",
    "topic_mismatch",
    "in_future",
    "too_old",
    "out_of_bounds",
    "unknown_region",
    "internal_error",  # handling the message raised: a bug, kept so the message can be re-admitted after a fix
    "influx_refused",  # InfluxDB refused the point (a 400): archived, kept out of InfluxDB
)
M = TypeVar("M", bound=BaseModel)


class Refusal(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_topic(topic: str) -> tuple[str, str]:
    """(agent id, kind) of ``dokiem/v1/{id}/{kind}``."""
    parts = topic.split("/")
    if len(parts) != 4 or "/".join(parts[:2]) != TOPIC_PREFIX or not parts[2] or parts[3] not in ("result", "status"):
        raise Refusal("bad_topic", f"not a dokiem/v1 result or status topic: {topic[:200]!r}")
    return parts[2], parts[3]


def _parse(model: type[M], payload: bytes, limits: Limits) -> M:
    """One strict parse: pydantic tells bad JSON from a bad schema."""
    if len(payload) > limits.max_bytes:
        raise Refusal("too_large", f"{len(payload)} bytes, over the {limits.max_bytes} limit")
    try:
        return model.model_validate_json(payload, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise Refusal("not_json", first["msg"][:200]) from None
        where = ".".join(str(p) for p in first["loc"])
        raise Refusal("schema", f"{where}: {first['msg']}"[:300]) from None


def validate_result(
    topic_agent: str, payload: bytes, limits: Limits, now: datetime | None = None, regions: Regions | None = None
) -> Result:
    result = _parse(Result, payload, limits)
    if result.agent_id != topic_agent:
        raise Refusal("topic_mismatch", f"payload agent_id {result.agent_id!r} on agent {topic_agent!r}'s topic")
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
        raise Refusal("unknown_region", str(exc)) from None


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
        raise Refusal("out_of_bounds", f"clock_offset_s {offset} puts the run outside the calendar") from None
    return result.model_copy(update={"started_at": started, "finished_at": finished, "flags": flags})


def validate_status(topic_agent: str, payload: bytes, limits: Limits) -> Status | None:
    """A heartbeat, validated as strictly as a Result (None for an empty payload: a retained status cleared)."""
    if not payload:
        return None
    status = _parse(Status, payload, limits)
    if status.agent_id != topic_agent:
        raise Refusal("topic_mismatch", f"payload agent_id {status.agent_id!r} on agent {topic_agent!r}'s topic")
    return status


def _check_time(result: Result, limits: Limits, now: datetime) -> None:
    if result.started_at > now + timedelta(seconds=limits.max_future_s):
        raise Refusal("in_future", f"started_at {result.started_at.isoformat()} is ahead of the collector's clock")
    if result.started_at < now - timedelta(days=limits.retention_days):
        raise Refusal("too_old", f"started_at {result.started_at.isoformat()} is older than the retention")


def _check_bounds(result: Result, limits: Limits) -> None:
    speeds = [result.download_mbps, result.upload_mbps, *result.samples_down_mbps, *result.samples_up_mbps]
    for value in speeds:
        if value is not None and value > limits.max_mbps:
            raise Refusal("out_of_bounds", f"{value} Mbit/s is over {limits.max_mbps}")
    for value in (result.latency_ms, result.jitter_ms, result.loaded_latency_ms, result.dns_ms):
        if value is not None and value > limits.max_ms:
            raise Refusal("out_of_bounds", f"{value} ms is over {limits.max_ms}")


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

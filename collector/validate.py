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
from statistics import fmean
from typing import TypeVar

import h3
from pydantic import BaseModel, ValidationError

from dokiem.collector.archive.surveys import PlacedSample
from dokiem.collector.config import Limits
from dokiem.collector.locate import CommuneLocator
from dokiem.contract import RESIDENT, TOPIC_PREFIX, Flag, Result, Site, first_error
from dokiem.regions import Place, Regions, UnknownRegion
from dokiem.regions.isps import Isps, shipped_isps
from dokiem.status import Status
from dokiem.survey import DropReason, SurveyBatch, SurveySample
from dokiem.thresholds import CoverageRules

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
    INCONSISTENT = "inconsistent"  # figures that disagree with each other (bytes, time, samples, an error)
    UNKNOWN_ISP = "unknown_isp"  # an unenrolled agent names an operator not on the reference list
    RATE = "rate"  # more results in an hour of measuring than the agent's schedule makes, with slack
    INTERNAL_ERROR = "internal_error"  # handling the message raised: a bug, kept to be re-admitted after a fix
    INFLUX_REFUSED = "influx_refused"  # InfluxDB refused the point (a 400): archived, kept out of InfluxDB
    # a resident's submission (issue 22): the ticket or the test server's signed summary does not hold
    TICKET_INVALID = "ticket_invalid"  # not a ticket this collector signed
    TICKET_EXPIRED = "ticket_expired"
    TICKET_REPLAYED = "ticket_replayed"  # used already, or issued before the collector restarted
    SUMMARY_INVALID = "summary_invalid"  # not signed by the ticket's test server (changed, or made up)
    SUMMARY_MISMATCH = "summary_mismatch"  # signed, but for another server, another ticket or another time
    # a resident's "no signal" report (issue 31)
    INACCURATE = "inaccurate"  # the position it was made at was less accurate than [coverage] allows
    OUTSIDE = "outside"  # its cell lies in none of the province's communes
    NOT_A_CELL = "not_a_cell"  # not an H3 cell, or not one of the coverage's resolution
    DUPLICATE = "duplicate"  # taken already (a report replayed, or sent again)


REASONS = tuple(reason.value for reason in Reason)
TOPIC_KINDS = ("result", "status", "survey")
M = TypeVar("M", bound=BaseModel)


class Refusal(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_topic(topic: str) -> tuple[str, str]:
    """(agent id, kind) of ``dokiem/v1/{id}/{kind}``."""
    parts = topic.split("/")
    if len(parts) != 4 or "/".join(parts[:2]) != TOPIC_PREFIX or not parts[2] or parts[3] not in TOPIC_KINDS:
        raise Refusal(Reason.BAD_TOPIC, f"not a dokiem/v1 result, status or survey topic: {topic[:200]!r}")
    return parts[2], parts[3]


def _parse(model: type[M], payload: bytes, limits: Limits, max_bytes: int | None = None) -> M:
    """One strict parse: pydantic tells bad JSON from a bad schema."""
    max_bytes = limits.max_bytes if max_bytes is None else max_bytes
    if len(payload) > max_bytes:
        raise Refusal(Reason.TOO_LARGE, f"{len(payload)} bytes, over the {max_bytes} limit")
    return parse_strict(model, payload)


def parse_strict(model: type[M], payload: bytes) -> M:
    """``payload`` as ``model``, strictly, or the Refusal naming the first fault (bad JSON, or where the schema
    fails): every door parses this way."""
    try:
        return model.model_validate_json(payload, strict=True)
    except ValidationError as exc:
        first = first_error(exc)
        if first.kind == "json_invalid":
            raise Refusal(Reason.NOT_JSON, first.message[:200]) from None
        raise Refusal(Reason.SCHEMA, f"{first.where}: {first.message}"[:300]) from None


def validate_result(
    topic_agent: str,
    payload: bytes,
    limits: Limits,
    now: datetime | None = None,
    regions: Regions | None = None,
    enrolled: Site | None = None,
    isps: Isps | None = None,
) -> Result:
    """The Result as the collector files it: checked, at the site enrolled for the agent when there is
    one (flagged ``site_mismatch`` where the agent said otherwise), under the operator's listed name."""
    result = _parse(Result, payload, limits)
    if result.source == RESIDENT:
        raise Refusal(Reason.INCONSISTENT, f"source {result.source!r} over MQTT: only agents send results there")
    if result.agent_id != topic_agent:
        raise Refusal(Reason.TOPIC_MISMATCH, f"payload agent_id {result.agent_id!r} on agent {topic_agent!r}'s topic")
    result = corrected_clock(result, limits)
    _check_time(result, limits, now or datetime.now(UTC))
    check_bounds(result, limits)
    check_figures(result)
    result = flag_above_plan(result)
    if regions is not None:
        result = at_enrolled_site(result, enrolled, regions, isps or shipped_isps())
        place_of(result, regions)
    return result


# How far a figure may stand from what its own bytes and samples say: the agent computes it from exactly
# those bytes (rounding moves it by well under 1%); its half-second samples average to it within a few %.
BYTES_TOLERANCE = 0.05
SAMPLES_TOLERANCE = 0.25
ABOVE_PLAN_FACTOR = 3.0  # a speed over three times the plan: the plan on file is out of date, not the line


def check_figures(result: Result) -> None:
    """Figures that agree with each other: a failed run carries no speed; each speed agrees with the bytes
    and the time it was measured over, and with its samples; the run lasted at least that long."""
    speeds = {"download": result.download_mbps, "upload": result.upload_mbps}
    if result.error is not None and any(v is not None for v in speeds.values()):
        raise Refusal(Reason.INCONSISTENT, f"a failed run ({result.error.code}) carries a speed figure")
    measured_total = 0.0
    for direction, short in (("download", "down"), ("upload", "up")):
        mbps = speeds[direction]
        if mbps is None:
            continue
        moved: int | None = getattr(result, f"bytes_{short}")
        seconds: float | None = getattr(result.method, f"measured_{short}_s")
        if moved is None or not seconds:
            raise Refusal(Reason.INCONSISTENT, f"{direction}_mbps without the bytes and the time it was measured over")
        implied = moved * 8 / seconds / 1e6
        if abs(implied - mbps) > BYTES_TOLERANCE * max(mbps, implied):
            raise Refusal(Reason.INCONSISTENT, f"{direction}_mbps {mbps} but {moved} bytes in {seconds} s"
                                               f" make {implied:.3f}")  # fmt: skip
        samples: list[float] = getattr(result, f"samples_{short}_mbps")
        if samples and abs(fmean(samples) - mbps) > SAMPLES_TOLERANCE * max(mbps, fmean(samples)):
            raise Refusal(Reason.INCONSISTENT, f"{direction}_mbps {mbps} but its samples average {fmean(samples):.3f}")
        measured_total += seconds
    if (result.finished_at - result.started_at).total_seconds() < measured_total:
        raise Refusal(Reason.INCONSISTENT, f"the run lasted less than the {measured_total} s it measured for")


def flag_above_plan(result: Result) -> Result:
    """A speed far above the plan is kept, flagged: the report leaves it out of every plan ratio."""
    site = result.site
    pairs = ((result.download_mbps, site.plan_down_mbps), (result.upload_mbps, site.plan_up_mbps))
    if any(speed is not None and plan and speed > ABOVE_PLAN_FACTOR * plan for speed, plan in pairs):
        return _flagged(result, Flag.ABOVE_PLAN)
    return result


def _flagged(result: Result, flag: Flag) -> Result:
    return result.model_copy(update={"flags": sorted({*result.flags, flag}, key=lambda f: f.value)})


def at_enrolled_site(result: Result, enrolled: Site | None, regions: Regions, isps: Isps) -> Result:
    """The enrolled site is the truth: a result is filed there, flagged where the agent's own site names
    another commune, operator or kind of line (a Pi moved or misconfigured: the run is kept, and the
    reports leave it out). An agent never enrolled is filed as it says, under a listed operator only."""
    if enrolled is None:
        isp = isps.canonical(result.site.isp)
        if result.site.isp is not None and isp is None:
            raise Refusal(Reason.UNKNOWN_ISP, f"{result.site.isp[:64]!r} is not an operator on the reference list")
        if isp == result.site.isp:
            return result
        return result.model_copy(update={"site": result.site.model_copy(update={"isp": isp})})
    filed = result.model_copy(update={"site": enrolled})
    return _flagged(filed, Flag.SITE_MISMATCH) if _disagrees(result.site, enrolled, result, regions, isps) else filed


def _disagrees(declared: Site, enrolled: Site, result: Result, regions: Regions, isps: Isps) -> bool:
    if declared.isp is not None and isps.canonical(declared.isp) != enrolled.isp:
        return True
    if declared.access is not None and declared.access != enrolled.access:
        return True
    if declared.commune_code is None and declared.district_code is None:
        return False
    try:
        said, truth = regions.place_site(declared, result.started_at), regions.place_site(enrolled, result.started_at)
    except UnknownRegion:
        return True
    return (said.province, said.district, said.commune) != (truth.province, truth.district, truth.commune)


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


def validate_survey(
    topic_agent: str, payload: bytes, limits: Limits, rules: CoverageRules, locator: CommuneLocator | None,
    now: datetime | None = None,
) -> tuple[SurveyBatch, list[PlacedSample], Counter[DropReason]]:  # fmt: skip
    """A survey's batch (refused whole where the message is bad), its samples placed in their communes and
    cells, and those that cannot be placed dropped and counted: outside the province, too old (beyond what an
    outbox keeps), ahead of the clock, or a fix the agent should have dropped (its accuracy, its age)."""
    batch = _parse(SurveyBatch, payload, limits, limits.max_survey_bytes)
    if batch.agent_id != topic_agent:
        raise Refusal(Reason.TOPIC_MISMATCH, f"payload agent_id {batch.agent_id!r} on agent {topic_agent!r}'s topic")
    now = now or datetime.now(UTC)
    dropped: Counter[DropReason] = Counter()
    filed = []
    for sample in batch.samples:
        reason, located = _survey_fault(sample, limits, rules, locator, now)
        if reason is not None:
            dropped[reason] += 1
        elif located is not None:
            position = sample.position
            cell = h3.latlng_to_cell(position.lat, position.lon, rules.cell_resolution)
            filed.append(PlacedSample(sample, located, cell))
    return batch, filed, dropped


def _survey_fault(
    sample: SurveySample, limits: Limits, rules: CoverageRules, locator: CommuneLocator | None, now: datetime
) -> tuple[DropReason | None, str | None]:
    if sample.at > now + timedelta(seconds=limits.max_future_s):
        return DropReason.IN_FUTURE, None
    if sample.at < now - timedelta(days=rules.max_age_days):
        return DropReason.TOO_OLD, None
    position = sample.position
    fault = rules.fix_fault(position.accuracy_m, abs((sample.at - position.fix_at).total_seconds()))
    if fault is not None:
        return fault, None
    located = locator.commune_at(position.lat, position.lon) if locator else None
    if located is None:
        return DropReason.OUTSIDE, None
    return None, located.commune_code


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
    if result.started_at < now - timedelta(days=limits.max_age_days):
        raise Refusal(Reason.TOO_OLD, f"started_at {result.started_at.isoformat()} is older than an agent's outbox"
                                      f" keeps results ({limits.max_age_days:g} days)")  # fmt: skip


def check_bounds(result: Result, limits: Limits) -> None:
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

"""A coverage survey's wire message (issue 30): samples of where a mobile agent was and what network it had there.

A survey is driven or carried: every few seconds a sample (the time, a position fix and its accuracy, the
modem's registration and radio). A place without service gives a sample too — no service is itself the
evidence of a hole — which is why samples wait in the agent's outbox through the stretches without a
network and go as a batch once it is back. A batch is its own kind of message on its own topic
(``dokiem/v1/{agent}/survey``), archived and written apart from speed tests and never pooled with them.

The agent drops, and counts in the batch, samples no rule could place (``DropReason``); the collector drops,
and counts, those it cannot (outside the province). Plain pydantic, as the rest of the contract.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from dokiem.contract import AgentId, Count, Mbps, Millis, Radio, WireModel

SURVEY_SCHEMA = "dokiem.survey/1"
MAX_SAMPLES = 720  # an hour at one sample every 5 s: a batch is never larger


class Registration(StrEnum):
    """The modem's registration on its network (ModemManager's Modem3gpp.RegistrationState, in words)."""

    HOME = "home"
    ROAMING = "roaming"
    SEARCHING = "searching"
    DENIED = "denied"
    IDLE = "idle"  # not registered, not searching
    UNKNOWN = "unknown"

    @property
    def has_service(self) -> bool:
        return self in (Registration.HOME, Registration.ROAMING)


class PositionSource(StrEnum):
    MODEM = "modem"  # the modem's GNSS through ModemManager's Location interface
    GPSD = "gpsd"  # a GPS receiver through gpsd


class DropReason(StrEnum):
    """Why a sample was left out: counted, never sent as a place."""

    NO_FIX = "no_fix"
    INACCURATE = "inaccurate"  # the fix's accuracy worse than the bound
    STALE = "stale"  # the fix older than the bound
    JUMP = "jump"  # a speed between fixes no vehicle makes
    OUTSIDE = "outside"  # outside the province's communes (the collector's rule)
    TOO_OLD = "too_old"  # older than a survey may wait in an outbox (the collector's rule)
    IN_FUTURE = "in_future"


class Position(WireModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float = Field(ge=0, le=100_000, description="horizontal, one standard deviation, metres")
    fix_at: AwareDatetime  # when the receiver computed the fix (a stale fix is an old place)
    source: PositionSource


class SurveySample(WireModel):
    at: AwareDatetime
    position: Position
    registration: Registration
    # the SIM's home network (MCC-MNC): whose coverage the sample says something of, with service or without
    sim_operator_code: str | None = Field(default=None, pattern=r"^[0-9]{3}-[0-9]{2,3}$")
    radio: Radio | None = None  # None: the modem could not be read
    # a short speed test taken at this sample, now and then (the survey's byte budget)
    download_mbps: Mbps | None = None
    upload_mbps: Mbps | None = None
    latency_ms: Millis | None = None


class SurveyBatch(WireModel):
    schema_: Literal["dokiem.survey/1"] = Field(default="dokiem.survey/1", alias="schema")
    survey_id: uuid.UUID = Field(default_factory=uuid.uuid4)  # the batch's key: a duplicate delivery is a no-op
    agent_id: AgentId
    samples: list[SurveySample] = Field(min_length=1, max_length=MAX_SAMPLES)
    dropped: dict[DropReason, Count] = Field(default_factory=dict, max_length=len(DropReason))

    @property
    def first_at(self) -> datetime:
        return min(sample.at for sample in self.samples)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)

"""A resident's "no signal" report (issue 31): where a mobile network failed, as the residents' page sends it.

The page turns the browser's position into the H3 cell of the coverage surveys (``[coverage]
cell_resolution``) before anything leaves the phone: the report names the cell, never the point. It is made
where there is often no network at all, so it waits in the browser with the time it was made and goes when
the phone is back online; its ``report_id`` (drawn by the page) makes a second delivery the same report.
Residents' reports are their own kind: never pooled with a survey's samples or with speed tests.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from dokiem.contract import Tag, WireModel

CELL_PATTERN = r"^[0-9a-f]{15}$"  # an H3 cell index as h3 writes it; whether it is one is the collector's check


class Failure(StrEnum):
    """What the resident says failed, in their words (the page's choices)."""

    NO_SIGNAL = "no_signal"  # "không có sóng"
    NO_DATA = "no_data"  # signal, but no data goes through
    TOO_SLOW = "too_slow"  # data, too slow to use


class NoSignalReport(WireModel):
    """``POST /do/report``: one report, made once and perhaps sent many times."""

    report_id: uuid.UUID
    made_at: AwareDatetime  # when the resident made it (it may have waited in the browser since)
    operator: Tag  # a mobile operator of the province's list
    failure: Failure
    cell: str = Field(pattern=CELL_PATTERN)
    accuracy_m: float = Field(ge=0, le=100_000, allow_inf_nan=False)  # the position's, one standard deviation
    consent: Literal[True]  # the page sends nothing before the resident agreed

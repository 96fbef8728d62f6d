"""Quality thresholds the department reports against (a TOML file it edits; the national ones ship).

Read by the quarterly report and by the dashboard builder, so both count "meeting a threshold" the
same way: every bound given is met (download/upload at least, latency at most) by a successful test
of the access type named.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dokiem.contract import Access, Radio, Technology, first_error
from dokiem.settings import ConfigError
from dokiem.survey import DropReason

SHIPPED = Path(__file__).resolve().parent / "thresholds.toml"
if TYPE_CHECKING:  # numpy is the reports' (a collector extra): the agent imports this module without it
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Bools = npt.NDArray[np.bool_]


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    name_vi: str
    name_en: str
    access: Access | None = None
    download_mbps: float | None = Field(default=None, gt=0)
    upload_mbps: float | None = Field(default=None, gt=0)
    latency_ms: float | None = Field(default=None, gt=0)
    source: str

    @model_validator(mode="after")
    def _some_bound(self) -> Threshold:
        if self.download_mbps is None and self.upload_mbps is None and self.latency_ms is None:
            raise ValueError("give at least one of download_mbps, upload_mbps, latency_ms")
        return self

    def name(self, lang: str) -> str:
        return self.name_vi if lang == "vi" else self.name_en


class ReportRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_samples: int = Field(default=300, ge=1)
    min_agents: int = Field(
        default=3,
        ge=1,
        description="a group with a household's agent and fewer agents than this: not published (privacy)",
    )
    min_resident_addresses: int = Field(
        default=3,
        ge=1,
        le=16,
        description=(
            "residents' tests from fewer addresses than this: not published (counted as keyed buckets, never kept)"
        ),
    )
    min_resident_days: int = Field(
        default=14,
        ge=1,
        le=92,
        description="residents' tests on fewer days of the quarter than this: not published (a burst is not a commune)",
    )
    min_resident_sender_days: int = Field(
        default=30,
        ge=1,
        description="residents' tests from fewer (day, sender) pairs than this: not published (senders over days)",
    )
    plan_good_ratio: float = Field(default=0.95, gt=0, le=2)
    plan_min_ratio: float = Field(default=0.80, gt=0, le=2)

    @model_validator(mode="after")
    def _ordered(self) -> ReportRules:
        if self.plan_min_ratio > self.plan_good_ratio:
            raise ValueError("plan_min_ratio must not exceed plan_good_ratio")
        return self


class ResponsivenessRules(BaseModel):
    """Where latency under load becomes something a person notices (issue 21): the classes of
    responsiveness in round trips a minute, and how far latency may rise under load before the line's
    buffer is called bloated. The report, the site and the dashboards say so in words by these."""

    model_config = ConfigDict(extra="forbid")

    low_below_rpm: float = Field(default=300, gt=0, description="under this: low (a round trip under load > 200 ms)")
    high_from_rpm: float = Field(default=1000, gt=0, description="from this: high (a round trip under load ≤ 60 ms)")
    bloat_added_ms: float = Field(default=100, gt=0, description="loaded minus idle latency from this: bloated buffer")

    @model_validator(mode="after")
    def _ordered(self) -> ResponsivenessRules:
        if self.low_below_rpm >= self.high_from_rpm:
            raise ValueError("low_below_rpm must be below high_from_rpm")
        return self

    def rpm_class(self, rpm: float | None) -> str | None:
        """``low``, ``medium`` or ``high``; None without a figure."""
        if rpm is None:
            return None
        return "low" if rpm < self.low_below_rpm else "high" if rpm >= self.high_from_rpm else "medium"

    @overload
    def bloated(self, added_ms: float, rpm: float) -> bool: ...

    @overload
    def bloated(self, added_ms: Floats, rpm: Floats) -> Bools: ...

    def bloated(self, added_ms: float | Floats, rpm: float | Floats) -> bool | Bools:
        """The buffer holds enough under load for a video call to notice: latency rises by
        ``bloat_added_ms`` or more under load, or the responsiveness is low. Takes floats or numpy arrays
        alike (one rule for a run and for a million); a figure not measured is NaN and says nothing."""
        return (added_ms >= self.bloat_added_ms) | (rpm < self.low_below_rpm)


class RadioRules(BaseModel):
    """Signal classes, so that a figure is read beside the radio it came over (issue 23): a mobile
    modem's RSRP, a hotspot's Wi-Fi RSSI. The dashboards break speeds down by these."""

    model_config = ConfigDict(extra="forbid")

    rsrp_good_from_dbm: float = Field(default=-90, ge=-160, le=0)
    rsrp_poor_below_dbm: float = Field(default=-105, ge=-160, le=0)
    wifi_good_from_dbm: float = Field(default=-60, ge=-150, le=0)
    wifi_poor_below_dbm: float = Field(default=-70, ge=-150, le=0)

    @model_validator(mode="after")
    def _ordered(self) -> RadioRules:
        if self.rsrp_poor_below_dbm >= self.rsrp_good_from_dbm or self.wifi_poor_below_dbm >= self.wifi_good_from_dbm:
            raise ValueError("each poor_below_dbm must be below its good_from_dbm")
        return self

    def signal_class(self, radio: Radio | None) -> str | None:
        """``good``, ``fair`` or ``poor``: by RSRP on a mobile network, by RSSI on Wi-Fi; None without one."""
        if radio is None:
            return None
        if radio.technology is Technology.WIFI:
            value, good, poor = radio.signal_dbm, self.wifi_good_from_dbm, self.wifi_poor_below_dbm
        else:
            value, good, poor = radio.rsrp_dbm, self.rsrp_good_from_dbm, self.rsrp_poor_below_dbm
        if value is None:
            return None
        return "good" if value >= good else "poor" if value < poor else "fair"


class CoverageClass(StrEnum):
    """What an operator gives at a place, from a survey's samples (issue 30), worst first."""

    NONE = "none"  # no service, a signal too weak to use, or data too slow to use
    LEGACY = "2g3g"  # service on 2G or 3G only: no mobile broadband
    G4 = "4g"
    G5 = "5g"

    @property
    def broadband(self) -> bool:
        return self in (CoverageClass.G4, CoverageClass.G5)


class CoverageRules(BaseModel):
    """How survey samples become cells and classes, and what makes a hole (``[coverage]`` in the file)."""

    model_config = ConfigDict(extra="forbid")

    cell_resolution: int = Field(default=8, ge=5, le=11, description="H3 resolution: 8 is about 0.74 km²")
    max_accuracy_m: float = Field(default=50, gt=0, le=1000)
    max_fix_age_s: float = Field(default=10, gt=0, le=3600)
    max_speed_kmh: float = Field(default=200, gt=0, le=1200)
    usable_rsrp_dbm: float = Field(default=-110, ge=-160, le=0)
    usable_mbps: float = Field(default=2.0, gt=0, le=1000)
    max_age_days: float = Field(default=30, gt=0, le=365)
    hole_min_days: int = Field(default=2, ge=1, le=365)
    hole_min_samples: int = Field(default=10, ge=1)
    hole_broadband_share_below: float = Field(default=0.5, gt=0, le=1)
    report_max_accuracy_m: float = Field(default=200, gt=0, le=5000)
    report_max_age_days: float = Field(default=7, gt=0, le=90)
    report_min_senders: int = Field(default=3, ge=1, le=16)  # 16: the senders' buckets (archive/senders.py)
    report_min_days: int = Field(default=2, ge=1, le=365)
    report_keep_days: int = Field(default=730, ge=92, le=3650)  # at least a quarter: its report reads them

    def fix_fault(self, accuracy_m: float, age_s: float) -> DropReason | None:
        """What keeps a fix from placing a sample, by these bounds: its accuracy, then its age (the agent drops
        such a fix; the collector drops a sample whose fix is one)."""
        if accuracy_m > self.max_accuracy_m:
            return DropReason.INACCURATE
        if age_s > self.max_fix_age_s:
            return DropReason.STALE
        return None

    def sample_class(self, has_service: bool, technology: Technology | None, rsrp_dbm: float | None,
                     download_mbps: float | None) -> CoverageClass:  # fmt: skip
        """One sample's class: service on a technology, at a usable signal, fast enough where it was tested."""
        if not has_service or technology is None or technology is Technology.WIFI:
            return CoverageClass.NONE
        if rsrp_dbm is not None and rsrp_dbm < self.usable_rsrp_dbm:
            return CoverageClass.NONE
        if download_mbps is not None and download_mbps < self.usable_mbps:
            return CoverageClass.NONE
        if technology in (Technology.G2, Technology.G3):
            return CoverageClass.LEGACY
        return CoverageClass.G5 if technology is Technology.G5 else CoverageClass.G4


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report: ReportRules = ReportRules()
    responsiveness: ResponsivenessRules = ResponsivenessRules()
    radio: RadioRules = RadioRules()
    coverage: CoverageRules = CoverageRules()
    thresholds: list[Threshold] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> Thresholds:
        ids = [t.id for t in self.thresholds]
        if len(ids) != len(set(ids)):
            raise ValueError(f"threshold ids must be unique (got {ids})")
        return self


def load_thresholds(path: Path | None = None) -> Thresholds:
    """The given file, or the shipped national thresholds; ConfigError names the file and key."""
    path = path or SHIPPED
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read the file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    try:
        return Thresholds.model_validate(data)
    except ValidationError as exc:
        error = first_error(exc)
        loc = error.loc
        if len(loc) >= 2 and loc[0] == "thresholds" and isinstance(loc[1], int):
            key = f"[[thresholds]] number {loc[1] + 1}" + (f", key {loc[2]}" if len(loc) > 2 else "")
        else:
            key = "key " + (error.where or "(top level)")
        raise ConfigError(f"{path}, {key}", error.message, error.kind, error.ctx) from None

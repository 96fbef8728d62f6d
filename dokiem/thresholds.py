"""Quality thresholds the department reports against (a TOML file it edits; the national ones ship).

Read by the quarterly report and by the dashboard builder, so both count "meeting a threshold" the
same way: every bound given is met (download/upload at least, latency at most) by a successful test
of the access type named.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dokiem.contract import Access, first_error
from dokiem.settings import ConfigError

SHIPPED = Path(__file__).resolve().parent / "thresholds.toml"


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
    min_agents: int = Field(default=3, ge=1, description="fewer agents than this: not published (privacy)")
    plan_good_ratio: float = Field(default=0.95, gt=0, le=2)
    plan_min_ratio: float = Field(default=0.80, gt=0, le=2)

    @model_validator(mode="after")
    def _ordered(self) -> ReportRules:
        if self.plan_min_ratio > self.plan_good_ratio:
            raise ValueError("plan_min_ratio must not exceed plan_good_ratio")
        return self


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report: ReportRules = ReportRules()
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
        raise ConfigError(f"{path}, {key}", error.message) from None

"""The quarterly report's figures: the archive's results of one quarter, grouped and summarised.

Groups are the province, each former district and 2025 commune (the archive's columns, filed by
the collector), each ISP and each access type. **Fixed and mobile lines are never one group**: the
province, district and commune groups are per access type (an ISP's key carries it too), so no
figure pools a 250 Mbit/s fibre line with a 60 Mbit/s 4G one. Speeds are taken over successful
tests that no flag marks as unsound (a CPU-starved or throttled Pi, Wi-Fi, cross traffic on the
line: ``INVALIDATING``); failed and left-out tests are counted. Percentiles interpolate linearly between ranks
(numpy's default). The "80/80" speed is the speed 80% of agents get at least 80% of the time: the
20th percentile, across the group's agents, of each agent's own 20th percentile. A group with fewer
successful tests than ``min_samples`` is flagged, not dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from dokiem import figures as registry
from dokiem.collector.archive import REPORT_COLUMNS, SenderSpread
from dokiem.contract import ACCESS_TYPES, HOUSEHOLD, LOCAL_TIME, Access, Flag, Technology
from dokiem.figures import Stat
from dokiem.regions.isps import shipped_isps
from dokiem.reports.coverage import CellCoverage, ReportedCell
from dokiem.thresholds import Threshold, Thresholds

WEEK_MS = 7 * 86_400_000
BREAKDOWNS = ("province", "district", "commune", "isp", "access", "technology")
PER_ACCESS = ("province", "district", "commune", "technology")  # grouped by (code, access type)
# the frame's column -> the archive's (REPORT_COLUMNS), so rows are read by name, never by position
_TEXT_COLUMNS = {"agent": "agent_id", "province": "province_code", "district": "district_code",
                 "commune": "commune_code", "isp": "isp", "access": "access", "technology": "technology",
                 "flags": "flags", "premises": "premises"}  # fmt: skip
# Flags that make a run's figures unsound as a measure of the line: left out of every figure, counted
INVALIDATING = frozenset({Flag.CPU_SATURATED, Flag.CPU_THROTTLED, Flag.WIFI, Flag.CROSS_TRAFFIC,
                          Flag.SITE_MISMATCH, Flag.ABOVE_PLAN, Flag.OPERATOR_MISMATCH})  # fmt: skip
# the frame's numbers, by the archive's column names: the registry's reported figures and the subscribed plan
PLAN = "plan_down_mbps"
DOWN, UP, LATENCY, LOADED, RPM = "download_mbps", "upload_mbps", "latency_ms", "loaded_latency_ms", "responsiveness_rpm"


def _number_columns() -> tuple[str, ...]:
    return (*registry.names(lambda f: f.report), PLAN)


Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def isp_key(isp: str | None, access: str | None) -> str | None:
    """An ISP's fixed and mobile networks are different services: they are grouped apart. Only a listed
    operator's name is shown (an archive from before the list may hold whatever an agent wrote)."""
    isp = shipped_isps().canonical(isp)
    return f"{isp}|{access}" if isp and access else isp


def split_isp_key(key: str) -> tuple[str, str | None]:
    isp, _, access = key.partition("|")
    return isp, access or None


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = re.fullmatch(r"(\d{4})\s*-?\s*Q([1-4])", text.strip(), flags=re.IGNORECASE)
        if match is None:
            raise ValueError(f"{text!r} is not a quarter: write it as YEARQn, e.g. 2026Q3")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, moment: datetime) -> Quarter:
        local = moment.astimezone(LOCAL_TIME)
        return cls(local.year, (local.month - 1) // 3 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=LOCAL_TIME)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"


@dataclass
class Frame:
    """One quarter's results as columns: text columns as integer codes into ``labels`` (-1 = none)."""

    codes: dict[str, Ints]
    labels: dict[str, list[str]]
    started_ms: Ints
    failed: npt.NDArray[np.bool_]
    numbers: dict[str, Floats]

    def __len__(self) -> int:
        return len(self.started_ms)

    def where(self, column: str, holds: Callable[[str], bool]) -> npt.NDArray[np.bool_]:
        """Rows whose ``column`` label ``holds``; a row without one (code -1) never does."""
        said = np.array([*(bool(holds(label)) for label in self.labels[column]), False])
        return said[self.codes[column]]  # code -1 indexes the trailing False

    @property
    def invalid(self) -> npt.NDArray[np.bool_]:
        """Runs a flag marks as unsound (INVALIDATING)."""
        return self.where("flags", lambda label: bool(INVALIDATING & set(label.split(","))))


class _Interner:
    def __init__(self) -> None:
        self.index: dict[str | None, int] = {None: -1}
        self.labels: list[str] = []

    def code(self, value: str | None) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.labels)
            self.labels.append(str(value))
        return found


def load_frame(rows: Iterable[tuple[Any, ...]], chunk: int = 65_536) -> Frame:
    """Columns from rows of the archive's REPORT_COLUMNS, read a chunk at a time."""
    interners = {name: _Interner() for name in _TEXT_COLUMNS}
    numbers = _number_columns()
    parts: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in (*_TEXT_COLUMNS, "started", "failed", *numbers)}

    def flush(batch: list[tuple[Any, ...]]) -> None:
        column = dict(zip(REPORT_COLUMNS, zip(*batch, strict=True), strict=True))
        column["isp"] = tuple(map(isp_key, column["isp"], column["access"]))
        for name, source in _TEXT_COLUMNS.items():
            values = column[source]
            parts[name].append(np.fromiter(map(interners[name].code, values), np.int64, len(values)))
        parts["started"].append(np.asarray(column["started_ms"], np.int64))
        parts["failed"].append(np.asarray(column["failed"], np.bool_))
        for name in numbers:
            parts[name].append(np.asarray(column[name], np.float64))  # None becomes nan

    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == chunk:
            flush(batch)
            batch = []
    if batch:
        flush(batch)

    def joined(name: str, dtype: type) -> npt.NDArray[Any]:
        return np.concatenate(parts[name]) if parts[name] else np.empty(0, dtype)

    return Frame(
        codes={name: joined(name, np.int64) for name in _TEXT_COLUMNS},
        labels={name: interners[name].labels for name in _TEXT_COLUMNS},
        started_ms=joined("started", np.int64),
        failed=joined("failed", np.bool_),
        numbers={name: joined(name, np.float64) for name in numbers},
    )


@dataclass
class Spread:
    """Median, mean, 10th and 90th percentile of one figure (None when nothing was measured)."""

    median: float | None = None
    mean: float | None = None
    p10: float | None = None
    p90: float | None = None


@dataclass
class GroupStats:
    key: str  # the group's code (district, commune), ISP key, access type, or the province code
    access: str | None  # fixed or mobile (None: the sites did not say)
    agents: int
    tests: int
    failed: int
    figures: dict[str, Spread]  # each reported figure (dokiem.figures) by name: its spread over the sound tests
    excluded: int  # successful tests left out of the figures: flagged unsound (INVALIDATING)
    plan_tests: int  # successful tests whose site gave a subscribed plan
    plan_good: float | None  # shares of plan_tests at >= good ratio, between, < min ratio
    plan_mid: float | None
    plan_low: float | None
    plan_mean_ratio: float | None  # mean download / plan (QCVN 34: at least 0.8)
    speed_80_80: float | None
    thresholds: dict[str, float | None]
    few_samples: bool
    previous: GroupStats | None = None
    household_agents: int = 0  # of ``agents``, those standing in a household (reports.disclosure)
    bloated: float | None = None  # share of the tests with latency under load this says is a bloated buffer

    def rpm_class(self, rules: Thresholds) -> str | None:
        return rules.responsiveness.rpm_class(self.rpm_median)

    def stat(self, figure: str, stat: Stat) -> float | None:
        """One statistic of one figure (None when nothing was measured)."""
        return getattr(self.figures[figure], stat.value)  # type: ignore[no-any-return]

    @property
    def download(self) -> Spread:
        return self.figures[DOWN]

    @property
    def upload(self) -> Spread:
        return self.figures[UP]

    @property
    def latency_median(self) -> float | None:
        return self.figures[LATENCY].median

    @property
    def loaded_latency_median(self) -> float | None:
        return self.figures[LOADED].median

    @property
    def rpm_median(self) -> float | None:
        """Responsiveness: round trips a minute under load."""
        return self.figures[RPM].median

    def change(self, figure: str) -> float | None:
        """This quarter's value minus the previous quarter's (None when either is missing)."""
        if self.previous is None:
            return None
        now, before = _figure(self, figure), _figure(self.previous, figure)
        return None if now is None or before is None else now - before

    def change_pct(self, figure: str) -> float | None:
        """The change from the previous quarter as a share of the previous value, in percent to one decimal
        (what the tables print and the findings say: one number, one unit)."""
        change = self.change(figure)
        before = _figure(self.previous, figure) if self.previous is not None else None
        return None if change is None or not before else round(100 * change / before, 1)


def _figure(stats: GroupStats, figure: str) -> float | None:
    if figure == "download_median":
        return stats.download.median
    if figure == "upload_median":
        return stats.upload.median
    if figure == "tests":
        return float(stats.tests)
    raise KeyError(figure)


@dataclass
class ResidentFigures:
    """Residents' own tests of the quarter (issue 22), apart from the agents': by commune and by ISP, each
    by access type. Their Wi-Fi is part of what they get, so a test over Wi-Fi counts here (and is counted)."""

    groups: dict[str, list[GroupStats]]
    tests: int
    wifi: int  # tests the resident said ran over Wi-Fi
    senders: dict[tuple[str, str], SenderSpread] = field(default_factory=dict)  # (commune, access) -> their spread


@dataclass
class QuarterlyFigures:
    quarter: Quarter
    rules: Thresholds
    groups: dict[str, list[GroupStats]]  # breakdown -> groups, largest first
    isp_trend: dict[str, list[tuple[datetime, float]]]  # ISP key -> (week start, median download)
    tests: int  # every result of the quarter, with or without a site
    previous_tests: int
    # runs against international servers, by access type (province-wide): never part of the figures above
    international: list[GroupStats] = field(default_factory=list)
    residents: ResidentFigures | None = None  # residents' own tests, never pooled with the figures above
    coverage: list[CellCoverage] = field(default_factory=list)  # the surveys' cells (issue 30): apart again
    reported: list[ReportedCell] = field(default_factory=list)  # residents' "no signal" reports (issue 31): apart
    agents_on_5g: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (commune, operator) -> last seen
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    cutoff: datetime = field(default_factory=lambda: datetime.now(UTC))  # results received by then are read
    demo: bool = False  # read from an archive dokiem up --demo filled: every document says so first

    @property
    def reported_shown(self) -> list[ReportedCell]:
        """The cells residents reported that their rule shows (``[coverage] report_min_*``): all any output shows."""
        return [c for c in self.reported if c.shown(self.rules.coverage)]

    def group(self, breakdown: str, key: str, access: str | None) -> GroupStats | None:
        return next((g for g in self.groups.get(breakdown, []) if (g.key, g.access) == (key, access)), None)

    def province(self, access: str) -> GroupStats | None:
        """The whole province's figures for one access type (there is no figure over both)."""
        found = [g for g in self.groups.get("province", []) if g.access == access]
        return found[0] if len(found) == 1 else None


def _measured(values: Floats) -> Floats:
    return values[~np.isnan(values)]


def _spread(values: Floats) -> Spread:
    if values.size == 0:
        return Spread()
    p10, median, p90 = np.percentile(values, [10, 50, 90])
    return Spread(float(median), float(values.mean()), float(p10), float(p90))


def _share(hits: npt.NDArray[np.bool_]) -> float | None:
    return float(hits.mean()) if hits.size else None


class _Summariser:
    def __init__(self, frame: Frame, rules: Thresholds) -> None:
        self.frame = frame
        self.rules = rules
        self.invalid = frame.invalid
        self.ok = ~frame.failed & ~self.invalid
        self.agent_p20 = self._agent_p20()
        # access label by code; the trailing "" is what code -1 (no access type) indexes
        self.access = np.array([*frame.labels["access"], ""])
        # a run from a household's agent (code -1, no premises said: a public office)
        self.household = frame.where("premises", lambda label: label == HOUSEHOLD)

    def _agent_p20(self) -> Floats:
        """Each agent's own 20th-percentile download (nan for an agent with no successful download)."""
        codes = self.frame.codes["agent"]
        down = self.frame.numbers[DOWN]
        keep = self.ok & ~np.isnan(down) & (codes >= 0)
        out = np.full(len(self.frame.labels["agent"]), np.nan)
        for agent, rows in _groups(codes[keep]):
            out[agent] = np.percentile(down[keep][rows], 20)
        return out

    def summarise(self, key: str, access: str | None, rows: Ints) -> GroupStats:
        f = self.frame
        ok = rows[self.ok[rows]]
        n = f.numbers
        plan_ratio = _measured(n[DOWN][ok] / n[PLAN][ok])
        rules = self.rules.report
        agents = np.unique(f.codes["agent"][rows])
        agent_speeds = _measured(self.agent_p20[agents[agents >= 0]])
        return GroupStats(
            key=key,
            access=access,
            agents=int((agents >= 0).sum()),
            household_agents=int((np.unique(f.codes["agent"][rows[self.household[rows]]]) >= 0).sum()),
            tests=int(rows.size),
            failed=int(self.frame.failed[rows].sum()),
            excluded=int((self.invalid[rows] & ~self.frame.failed[rows]).sum()),
            figures={f.name: _spread(_measured(n[f.name][ok])) for f in registry.reported()},
            plan_tests=int(plan_ratio.size),
            plan_good=_share(plan_ratio >= rules.plan_good_ratio),
            plan_mid=_share((plan_ratio >= rules.plan_min_ratio) & (plan_ratio < rules.plan_good_ratio)),
            plan_low=_share(plan_ratio < rules.plan_min_ratio),
            plan_mean_ratio=float(plan_ratio.mean()) if plan_ratio.size else None,
            speed_80_80=float(np.percentile(agent_speeds, 20)) if agent_speeds.size else None,
            thresholds={t.id: self._threshold_share(ok, t) for t in self.rules.thresholds},
            few_samples=int(ok.size) < rules.min_samples,
            bloated=self._bloated_share(ok),
        )

    def _bloated_share(self, ok: Ints) -> float | None:
        """The share of tests with latency under load measured whose buffer the rules call bloated."""
        n = self.frame.numbers
        loaded, rpm = n[LOADED][ok], n[RPM][ok]
        known = ~np.isnan(loaded) | ~np.isnan(rpm)
        if not known.any():
            return None
        bloated = self.rules.responsiveness.bloated(loaded - n[LATENCY][ok], rpm)
        return float((bloated & known).sum() / known.sum())

    def _threshold_share(self, ok: Ints, threshold: Threshold) -> float | None:
        n = self.frame.numbers
        if threshold.access is not None:
            ok = ok[self.access[self.frame.codes["access"][ok]] == threshold.access.value]
        bounds = [
            (n[DOWN][ok], threshold.download_mbps, np.greater_equal),
            (n[UP][ok], threshold.upload_mbps, np.greater_equal),
            (n[LATENCY][ok], threshold.latency_ms, np.less_equal),
        ]
        measured = np.ones(ok.size, np.bool_)
        met = np.ones(ok.size, np.bool_)
        for values, bound, compare in bounds:
            if bound is not None:
                measured &= ~np.isnan(values)
                met &= compare(values, bound)
        return _share(met[measured])


def _groups(codes: Ints) -> Iterator[tuple[int, Ints]]:
    """(code, row indices) for each code present, in code order."""
    if codes.size == 0:
        return
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    for start, rows in zip(starts, np.split(order, starts[1:]), strict=True):
        yield int(ordered[start]), rows


def summarise(frame: Frame, rules: Thresholds) -> dict[str, list[GroupStats]]:
    """Every breakdown's groups, most tests first (rows without a code form no group)."""
    summariser = _Summariser(frame, rules)
    accesses = frame.labels["access"]
    out: dict[str, list[GroupStats]] = {}
    for breakdown in BREAKDOWNS:
        codes = frame.codes[breakdown]
        labels = frame.labels[breakdown]
        if breakdown in PER_ACCESS:  # one group per (code, access type): code × (n + 1) + access + 1
            width = len(accesses) + 1
            pairs = np.where(codes >= 0, codes * width + frame.codes["access"] + 1, -1)
            groups = [summariser.summarise(labels[pair // width], accesses[pair % width - 1] if pair % width else None,
                                           rows) for pair, rows in _groups(pairs) if pair >= 0]  # fmt: skip
        else:
            groups = [summariser.summarise(labels[code], _access_of(breakdown, labels[code]), rows)
                      for code, rows in _groups(codes) if code >= 0]  # fmt: skip
        out[breakdown] = sorted(groups, key=lambda g: (-g.tests, g.key))
    out["commune_isp"] = _commune_isp(frame, summariser)
    return out


def _commune_isp(frame: Frame, summariser: _Summariser) -> list[GroupStats]:
    """Each ISP network in each commune (key "COMMUNE/ISP|ACCESS"), for the commune's own page."""
    communes, isps = frame.codes["commune"], frame.codes["isp"]
    width = len(frame.labels["isp"])
    pairs = np.where((communes >= 0) & (isps >= 0), communes * width + isps, -1)
    groups = []
    for pair, rows in _groups(pairs):
        if pair >= 0:
            isp = frame.labels["isp"][pair % width]
            key = f"{frame.labels['commune'][pair // width]}/{isp}"
            groups.append(summariser.summarise(key, split_isp_key(isp)[1], rows))
    return groups


def _access_of(breakdown: str, key: str) -> str | None:
    if breakdown == "access":
        return key
    return split_isp_key(key)[1] if breakdown == "isp" else None


def access_rank(access: str | None) -> int:
    """Fixed first, then mobile, then a group whose sites gave none."""
    return ACCESS_TYPES.index(access) if access in ACCESS_TYPES else len(ACCESS_TYPES)


def isp_trend(frame: Frame, since: datetime) -> dict[str, list[tuple[datetime, float]]]:
    """Median download of each ISP's successful tests, week by week from ``since``."""
    down = frame.numbers[DOWN]
    keep = ~frame.failed & ~frame.invalid & ~np.isnan(down)
    week = (frame.started_ms - int(since.timestamp() * 1000)) // WEEK_MS
    labels = frame.labels["isp"]
    trend: dict[str, list[tuple[datetime, float]]] = {}
    for isp, rows in _groups(frame.codes["isp"][keep]):
        if isp < 0:
            continue
        weeks = week[keep][rows]
        values = down[keep][rows]
        trend[labels[isp]] = [
            (since + timedelta(weeks=int(w)), float(np.median(values[in_week])))
            for w, in_week in ((w, weeks == w) for w in np.unique(weeks))
        ]
    return trend


def resident_figures(
    rows: Iterable[tuple[Any, ...]], rules: Thresholds, senders: dict[tuple[str, str], SenderSpread] | None = None
) -> ResidentFigures:
    flags_at = REPORT_COLUMNS.index("flags")
    down_at, up_at = REPORT_COLUMNS.index("download_mbps"), REPORT_COLUMNS.index("upload_mbps")
    wifi = 0
    kept: list[tuple[Any, ...]] = []
    for row in rows:
        if row[down_at] is None or row[up_at] is None:
            continue  # a test without both figures is no test for any count (issue 38: 1-byte uploads)
        flags = set((row[flags_at] or "").split(",")) - {""}
        if Flag.WIFI.value in flags:
            wifi += 1
            row = (*row[:flags_at], ",".join(sorted(flags - {Flag.WIFI.value})) or None, *row[flags_at + 1 :])
        kept.append(row)
    frame = load_frame(kept)
    return ResidentFigures(groups=summarise(frame, rules), tests=len(frame), wifi=wifi, senders=senders or {})


def quarterly_figures(
    current: Iterable[tuple[Any, ...]],
    previous: Iterable[tuple[Any, ...]],
    quarter: Quarter,
    rules: Thresholds,
    international: Iterable[tuple[Any, ...]] = (),
) -> QuarterlyFigures:
    frame = load_frame(current)
    groups = summarise(frame, rules)
    before_frame = load_frame(previous)
    before = summarise(before_frame, rules)
    for breakdown, stats in groups.items():
        earlier = {(g.key, g.access): g for g in before.get(breakdown, [])}
        for group in stats:
            group.previous = earlier.get((group.key, group.access))
    return QuarterlyFigures(
        quarter=quarter,
        rules=rules,
        groups=groups,
        isp_trend=isp_trend(frame, quarter.start),
        tests=len(frame),
        previous_tests=len(before_frame),
        international=summarise(load_frame(international), rules).get("province", []),
        agents_on_5g=agents_on_5g(frame),
    )


def agents_on_5g(frame: Frame) -> dict[tuple[str, str], datetime]:
    """(commune, operator) -> the last time a mobile agent filed there ran a sound test over 5G (issue 30: the
    commune centre's 5G, where an agent stands at the People's Committee)."""
    on_5g = frame.where("technology", lambda label: label == Technology.G5.value)
    mobile = frame.where("access", lambda label: label == Access.MOBILE.value)
    keep = on_5g & mobile & ~frame.failed & ~frame.invalid & (frame.codes["commune"] >= 0) & (frame.codes["isp"] >= 0)
    width = len(frame.labels["isp"])
    pairs = frame.codes["commune"][keep] * width + frame.codes["isp"][keep]  # one code per (commune, operator)
    started = frame.started_ms[keep]
    seen: dict[tuple[str, str], datetime] = {}
    for pair, rows in _groups(pairs):
        commune, isp = frame.labels["commune"][pair // width], frame.labels["isp"][pair % width]
        seen[(commune, split_isp_key(isp)[0])] = datetime.fromtimestamp(int(started[rows].max()) / 1000, UTC)
    return seen

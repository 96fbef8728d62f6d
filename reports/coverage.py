"""Coverage from the surveys' samples (issue 30): cells and classes per operator, the holes, the commune centres.

Each archived sample (collector/archive/surveys.py) is classed by the ``[coverage]`` rules in force
(``CoverageRules.sample_class``: no service, 2G/3G only, 4G, 5G; a weak signal or a slow short test is no
usable broadband). Per H3 cell and operator (the SIM's home network: a sample without service still says
whose coverage is missing): its samples, the days it was seen on, the best class seen, the share of samples
giving mobile broadband, the best signal, the median speed where tested. A cell is filed in the commune most
of its samples lie in. A hole ("khu vực lõm sóng") is a cell where under ``hole_broadband_share_below`` of an
operator's samples give mobile broadband, seen on ``hole_min_days`` days with ``hole_min_samples`` samples. A
commune centre is on 5G for an operator when its cell (the commune's point) saw usable 5G from it.

Residents' "no signal" reports (issue 31) are read here too, apart: per cell and operator, how many reports,
from how many senders on how many days; a cell is shown only by the ``report_min_*`` rules, and never
pooled with the surveys' classes.

Nothing here holds a position: cells only, which is all any output of a survey or a report shows.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import h3

from dokiem.collector.archive.nosignal import NOSIGNAL_COLUMNS
from dokiem.collector.archive.surveys import SAMPLE_COLUMNS
from dokiem.contract import LOCAL_TIME, Technology, operator_name
from dokiem.regions import Regions
from dokiem.survey import Registration
from dokiem.thresholds import CoverageClass, CoverageRules

_RANK = {cls: n for n, cls in enumerate(CoverageClass)}  # worst first


def _day(at_ms: int) -> date:
    return datetime.fromtimestamp(at_ms / 1000, LOCAL_TIME).date()


@dataclass
class CellCoverage:
    cell: str
    operator: str
    commune_code: str
    samples: int
    days: int
    first: date
    last: date
    best: CoverageClass
    broadband_share: float  # of the samples, those giving mobile broadband (4G or 5G, usable)
    service_share: float  # of the samples, those with the modem registered at all
    best_rsrp_dbm: float | None
    download_median_mbps: float | None  # the short tests taken in the cell
    five_g_days: tuple[date, ...] = ()  # the days usable 5G was seen

    def is_hole(self, rules: CoverageRules) -> bool:
        return (self.broadband_share < rules.hole_broadband_share_below and self.days >= rules.hole_min_days
                and self.samples >= rules.hole_min_samples)  # fmt: skip


def coverage_cells(rows: Iterable[tuple[Any, ...]], rules: CoverageRules) -> list[CellCoverage]:
    """Every (cell, operator) the samples saw, most samples first (rows of the archive's SAMPLE_COLUMNS)."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for values in rows:
        row = dict(zip(SAMPLE_COLUMNS, values, strict=True))
        grouped[(str(row["cell"]), operator_name(row["operator_code"]) or "?")].append(row)
    cells = [_cell(cell, operator, samples, rules) for (cell, operator), samples in grouped.items()]
    return sorted(cells, key=lambda c: (-c.samples, c.operator, c.cell))


def _cell(cell: str, operator: str, rows: list[dict[str, Any]], rules: CoverageRules) -> CellCoverage:
    classes, days, five_g = [], set(), set()
    for row in rows:
        service = Registration(row["registration"]).has_service
        technology = Technology(row["technology"]) if row["technology"] else None
        cls = rules.sample_class(service, technology, row["rsrp_dbm"], row["download_mbps"])
        classes.append(cls)
        days.add(_day(int(row["at_ms"])))
        if cls is CoverageClass.G5:
            five_g.add(_day(int(row["at_ms"])))
    speeds = [float(r["download_mbps"]) for r in rows if r["download_mbps"] is not None]
    signals = [float(r["rsrp_dbm"]) for r in rows if r["rsrp_dbm"] is not None]
    communes = Counter(str(r["commune_code"]) for r in rows)
    return CellCoverage(
        cell=cell, operator=operator, commune_code=communes.most_common(1)[0][0], samples=len(rows),
        days=len(days), first=min(days), last=max(days), best=max(classes, key=_RANK.__getitem__),
        broadband_share=sum(c.broadband for c in classes) / len(classes),
        service_share=sum(Registration(r["registration"]).has_service for r in rows) / len(rows),
        best_rsrp_dbm=max(signals) if signals else None,
        download_median_mbps=statistics.median(speeds) if speeds else None, five_g_days=tuple(sorted(five_g)),
    )  # fmt: skip


def holes(cells: Iterable[CellCoverage], rules: CoverageRules) -> list[CellCoverage]:
    """The coverage holes, by operator, commune and cell."""
    return sorted((c for c in cells if c.is_hole(rules)), key=lambda c: (c.operator, c.commune_code, c.cell))


@dataclass(frozen=True)
class CentreCoverage:
    """Whether an operator's usable 5G was seen at a commune's centre (the 2030 target), with the evidence."""

    commune_code: str
    operator: str
    cell: str
    five_g: bool
    samples: int
    last_five_g: date | None
    by_agent: bool = False  # the evidence is a mobile agent standing in the commune, not a survey


def commune_centres(
    cells: Iterable[CellCoverage], regions: Regions, rules: CoverageRules,
    agents_on_5g: dict[tuple[str, str], datetime] | None = None,
) -> list[CentreCoverage]:  # fmt: skip
    """Each commune centre surveyed (the cell of the commune's point) per operator surveyed there, and each where
    a mobile agent (enrolled in the commune, at its People's Committee) ran its tests over 5G."""
    by_cell: dict[str, list[CellCoverage]] = defaultdict(list)
    for cell in cells:
        by_cell[cell.cell].append(cell)
    out = []
    for province in regions.provinces.values():
        for code, commune in sorted(province.communes.items()):
            if commune.lat is None or commune.lon is None:
                continue
            centre = h3.latlng_to_cell(commune.lat, commune.lon, rules.cell_resolution)
            surveyed = {seen.operator: seen for seen in by_cell.get(centre, [])}
            agents = {operator: at for (commune, operator), at in (agents_on_5g or {}).items() if commune == code}
            for operator in sorted(surveyed.keys() | agents.keys()):
                seen = surveyed.get(operator)
                if seen is not None and (seen.five_g_days or operator not in agents):
                    out.append(CentreCoverage(code, operator, centre, bool(seen.five_g_days), seen.samples,
                                              seen.five_g_days[-1] if seen.five_g_days else None))  # fmt: skip
                else:
                    last = agents[operator].astimezone(LOCAL_TIME).date()
                    out.append(CentreCoverage(code, operator, centre, True, seen.samples if seen else 0, last,
                                              by_agent=True))  # fmt: skip
    return out


@dataclass(frozen=True)
class ReportedCell:
    """Residents' "no signal" reports of one operator in one cell (issue 31): never a survey's sample. Senders
    are the collector's keyed buckets (at least that many people), days the days the reports arrived."""

    cell: str
    operator: str
    commune_code: str
    reports: int
    senders: int
    days: int
    first: date  # the first and last report's day as the residents made them
    last: date
    failures: tuple[tuple[str, int], ...]  # (failure, reports), most first

    def reports_of(self, failure: str) -> int:
        """How many of the reports said ``failure`` (a nosignal.Failure's value)."""
        return dict(self.failures).get(failure, 0)

    def shown(self, rules: CoverageRules) -> bool:
        """Whether the cell is shown: reports from enough senders on enough days (one person makes no hole)."""
        return self.senders >= rules.report_min_senders and self.days >= rules.report_min_days


def reported_cells(rows: Iterable[tuple[Any, ...]]) -> list[ReportedCell]:
    """Every (cell, operator) residents reported, most reports first (rows of the archive's NOSIGNAL_COLUMNS)."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for values in rows:
        row = dict(zip(NOSIGNAL_COLUMNS, values, strict=True))
        grouped[(str(row["cell"]), str(row["operator"]))].append(row)
    cells = []
    for (cell, operator), reports in grouped.items():
        made = [_day(int(r["made_ms"])) for r in reports]
        failures = Counter(str(r["failure"]) for r in reports).most_common()
        commune = Counter(str(r["commune_code"]) for r in reports).most_common(1)[0][0]
        cells.append(ReportedCell(
            cell=cell, operator=operator, commune_code=commune,
            reports=len(reports), senders=len({int(r["bucket"]) for r in reports}),
            days=len({_day(int(r["received_ms"])) for r in reports}), first=min(made), last=max(made),
            failures=tuple(failures),
        ))  # fmt: skip
    return sorted(cells, key=lambda c: (-c.reports, c.operator, c.cell))

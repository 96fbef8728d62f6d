"""One quarterly report from the archive: read, summarise, write each format asked for."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from dokiem.collation import collation_key
from dokiem.collector.archive import Archive
from dokiem.contract import LOCAL_TIME, RESIDENT, ServerLocation
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.reports.charts import DistrictBars, Picture, commune_map, coverage_map, district_chart, trend_chart
from dokiem.reports.coverage import coverage_cells, reported_cells
from dokiem.reports.docx import PICTURE_SIZE, write_docx
from dokiem.reports.findings import finding_groups, key_figures, resident_sentences
from dokiem.reports.letterhead import Letterhead
from dokiem.reports.outline import outline
from dokiem.reports.pdf import write_pdf
from dokiem.reports.quarterly import Quarter, QuarterlyFigures, quarterly_figures, resident_figures
from dokiem.reports.shading import fixed_edges
from dokiem.reports.sheets import write_csv, write_keyed_csv, write_xlsx
from dokiem.reports.tables import (
    Table,
    coverage_tables,
    isp_name,
    report_tables,
    resident_tables,
    slug,
    thresholds_table,
)
from dokiem.thresholds import Thresholds

PDF_PICTURE = (10.5, 6.9)  # inches a landscape A4 page holds inside the PDF's margins
ROMAN = ("I", "II", "III", "IV")


def counted(rows: Iterable[tuple[Any, ...]], progress: Callable[[int], None], every: int = 100_000) -> Iterator[Any]:
    n = 0
    for n, row in enumerate(rows, start=1):
        if n % every == 0:
            progress(n)
        yield row
    progress(n)


def read_figures(
    archive: Archive,
    quarter: Quarter,
    rules: Thresholds,
    progress: Callable[[int], None] = lambda n: None,
    cutoff: datetime | None = None,
) -> QuarterlyFigures:
    """The quarter's figures from what the archive had received by ``cutoff`` (default: now), which the
    report states: the same archive and cut-off give the same report, whatever arrives later."""
    cutoff = cutoff or datetime.now(UTC)
    rows = archive.results.report_rows
    current = counted(rows(quarter.start, quarter.end, received_by=cutoff), progress)
    before = quarter.previous()
    abroad = rows(quarter.start, quarter.end, ServerLocation.INTERNATIONAL, received_by=cutoff)
    previous = rows(before.start, before.end, received_by=cutoff)
    figures = quarterly_figures(current, previous, quarter, rules, abroad)
    residents = rows(quarter.start, quarter.end, received_by=cutoff, source=RESIDENT)
    figures.residents = resident_figures(residents, rules, archive.senders.spread(quarter.start, quarter.end))
    figures.coverage = coverage_cells(archive.surveys.samples(quarter.start, quarter.end), rules.coverage)
    figures.reported = reported_cells(archive.nosignal.rows(quarter.start, quarter.end, cutoff))
    figures.cutoff = cutoff
    figures.demo = archive.meta.demo
    return figures


def quarter_label(quarter: Quarter, tr: Translator) -> str:
    return tr("rpt_quarter", roman=ROMAN[quarter.number - 1], number=quarter.number, year=quarter.year)


def _names(figures: QuarterlyFigures, regions: Regions, in_text: bool = False) -> str:
    """The report's province(s) by name ("tỉnh Thanh Hóa" in a sentence with ``in_text``), once each (a province
    has a group per access type)."""
    provinces = dict.fromkeys(g.key for g in figures.groups.get("province", []))
    known = regions.provinces
    return ", ".join((known[p].in_text if in_text else known[p].name) if p in known else p for p in provinces) or "–"


def _intro(figures: QuarterlyFigures, tr: Translator, regions: Regions) -> list[str]:
    names = _names(figures, regions)
    groups = figures.groups.get("province", [])
    rules = figures.rules.report
    last_day = figures.quarter.end - timedelta(days=1)
    lines = [tr("demo_notice")] if figures.demo else []
    lines += [
        tr("rpt_subtitle", province=names, start=f"{figures.quarter.start:%d/%m/%Y}",
           end=f"{last_day:%d/%m/%Y}",
           generated=f"{figures.generated_at.astimezone(LOCAL_TIME):%d/%m/%Y %H:%M}",
           cutoff=f"{figures.cutoff.astimezone(LOCAL_TIME):%d/%m/%Y %H:%M}"),
    ]  # fmt: skip
    if groups:  # counts add up across access types (an agent measures one line); speeds never do
        lines.append(tr("rpt_summary", tests=tr.number(sum(g.tests for g in groups), 0),
                        agents=tr.number(sum(g.agents for g in groups), 0),
                        failed=tr.number(sum(g.failed for g in groups), 0),
                        previous=tr.number(figures.previous_tests, 0)))  # fmt: skip
    lines.append(tr("rpt_method", good=round(rules.plan_good_ratio * 100), low=round(rules.plan_min_ratio * 100),
                    minimum=rules.min_samples))  # fmt: skip
    return lines


def pictures(
    figures: QuarterlyFigures, regions: Regions, tr: Translator, width: float, height: float
) -> dict[str, Picture]:
    """The district chart, the ISP trend and the commune map, for a page ``width`` × ``height`` inches."""
    out = {}
    districts = district_medians(figures, regions)
    if districts:
        out["districts"] = district_chart(districts, tr("rpt_chart_districts"), tr, width, height)
    if figures.isp_trend:
        names = {key: isp_name(key, tr) for key in figures.isp_trend}
        out["trend"] = trend_chart(figures.isp_trend, names, tr("rpt_chart_isp_trend"), tr, width, min(height, 5.0))
    shaded = commune_shading(figures, regions)
    if shaded is not None:
        features, values, thin = shaded
        edges = fixed_edges(figures.rules)
        out["map"] = commune_map(features, values, thin, edges, tr("rpt_map_title"), tr, min(width, 6.8), height)
    return out


def coverage_pictures(figures: QuarterlyFigures, regions: Regions, tr: Translator, width: float, height: float
                      ) -> list[Picture]:  # fmt: skip
    """Each operator's surveyed cells and the cells residents reported (shown by their rule) on the communes'
    outlines (none without a survey, a shown report or boundaries)."""
    reported = figures.reported_shown
    places = [c.commune_code for c in figures.coverage] + [c.commune_code for c in reported]
    province = next((found[0] for code in places if (found := regions.commune(code))), None)
    if province is None or province.boundaries is None:
        return []
    features = json.loads(province.boundaries.read_text(encoding="utf-8"))["features"]
    operators = sorted({c.operator for c in figures.coverage} | {c.operator for c in reported}, key=collation_key)
    return [coverage_map(features, {c.cell: c.best for c in figures.coverage if c.operator == operator},
                         tr("pub_cov_map", operator=operator), tr, width, min(height, 6.0),
                         [c.cell for c in reported if c.operator == operator])
            for operator in operators]  # fmt: skip


def district_medians(figures: QuarterlyFigures, regions: Regions) -> list[DistrictBars]:
    """Each former district with results: its median download by access type, which are too thin."""
    medians: dict[str, dict[str, float | None]] = {}
    thin: dict[str, set[str]] = {}
    for group in figures.groups.get("district", []):
        medians.setdefault(group.key, {})[group.access or ""] = group.download.median
        if group.few_samples:
            thin.setdefault(group.key, set()).add(group.access or "")
    names = {code: d.name for p in regions.provinces.values() for code, d in p.districts.items()}
    return [
        DistrictBars(names.get(code, code), m, frozenset(thin.get(code, ()))) for code, m in sorted(medians.items())
    ]


def commune_shading(
    figures: QuarterlyFigures, regions: Regions
) -> tuple[list[dict[str, Any]], dict[str, float], set[str]] | None:
    """The boundaries of the report's province, each commune's median fixed download, and the communes
    with too few fixed tests to be shaded by a figure; None when the province has no boundaries."""
    codes = [g.key for g in figures.groups.get("province", [])]
    province = next((regions.provinces[c] for c in codes if c in regions.provinces), None)
    if province is None or province.boundaries is None:
        return None
    features = json.loads(province.boundaries.read_text(encoding="utf-8"))["features"]
    fixed = [g for g in figures.groups.get("commune", []) if g.access == "fixed"]
    values = {g.key: g.download.median for g in fixed if not g.few_samples and g.download.median is not None}
    return features, values, {g.key for g in fixed if g.few_samples}


@dataclass(frozen=True)
class ReportDocument:
    """One quarter's report as data, built once: every format renders the same tables and words."""

    figures: QuarterlyFigures
    regions: Regions
    tr: Translator
    letterhead: Letterhead
    stem: str  # the files' names begin with it
    title: str
    groups: list[list[str]]  # the findings, sentence by sentence, a list per subject
    tables: list[Table]  # the key figures first, then one per breakdown
    thresholds: Table
    residents: tuple[list[str], list[Table]]  # residents' sentences and tables: never pooled with the agents'
    coverage: list[Table]  # the surveys' holes, commune centres (issue 30), residents' reports (31); or none

    @property
    def sentences(self) -> list[str]:
        return [sentence for group in self.groups for sentence in group]

    @property
    def every_table(self) -> list[Table]:
        """What CSV and XLSX write whole: every table, the thresholds, the residents'."""
        return [*self.tables, self.thresholds, *self.residents[1]]


class Renderer(Protocol):
    """One output format: writes the report under ``out_dir``, returns the files written."""

    def __call__(self, report: ReportDocument, out_dir: Path) -> list[Path]: ...


def _csv(report: ReportDocument, out_dir: Path) -> list[Path]:
    written = write_csv(report.every_table, out_dir, report.stem)
    if report.coverage:  # the holes to send to the operators: columns named for programs, a file per operator too
        holes, centres, reported = report.coverage
        written += write_keyed_csv(holes, out_dir / f"{report.stem}-coverage-holes.csv", "operator")
        written += write_keyed_csv(centres, out_dir / f"{report.stem}-coverage-centres.csv")
        written += write_keyed_csv(reported, out_dir / f"{report.stem}-coverage-reported.csv", "operator")
    return written


def _xlsx(report: ReportDocument, out_dir: Path) -> list[Path]:
    notes = [report.title, *_intro(report.figures, report.tr, report.regions), *report.sentences]
    tables = [*report.every_table, *report.coverage]
    written = [write_xlsx(tables, notes, out_dir / f"{report.stem}.xlsx", report.tr("rpt_few_samples"))]
    for operator, table in report.coverage[0].split_by("operator") if report.coverage else ():
        path = out_dir / f"{report.stem}-coverage-holes-{slug(operator)}.xlsx"
        written.append(write_xlsx([table], [report.tr("rpt_cov_letter", operator=operator)], path,
                                  report.tr("rpt_few_samples")))  # fmt: skip
    return written


def _pdf(report: ReportDocument, out_dir: Path) -> list[Path]:
    figures, tr, regions = report.figures, report.tr, report.regions
    drawn = list(pictures(figures, regions, tr, *PDF_PICTURE).values())
    paragraphs = [*_intro(figures, tr, regions), *(" ".join(group) for group in report.groups)]
    covered = coverage_pictures(figures, regions, tr, *PDF_PICTURE)
    return [write_pdf(out_dir / f"{report.stem}.pdf", report.title, paragraphs, report.tables, report.thresholds,
                      drawn, tr, report.residents, report.coverage, figures.rules.coverage, covered)]  # fmt: skip


def _docx(report: ReportDocument, out_dir: Path) -> list[Path]:
    """The Word report: its title, subtitle and sections (reports.outline) on the letterhead."""
    figures, tr, regions = report.figures, report.tr, report.regions
    drawn = pictures(figures, regions, tr, *PICTURE_SIZE)
    method = [*_intro(figures, tr, regions)[1 + figures.demo :], tr("docx_p_method")]
    subtitle = tr(
        "docx_subtitle",
        quarter=quarter_label(figures.quarter, tr),
        province=_names(figures, regions),
        province_in_text=_names(figures, regions, in_text=True),
    )
    if figures.demo:
        subtitle = f"{tr('demo_notice')} {subtitle}"
    tables = {t.id: t for t in report.tables}
    covered = coverage_pictures(figures, regions, tr, *PICTURE_SIZE)
    sections = outline(tables, report.thresholds, report.sentences, method, drawn, tr, report.residents,
                       report.coverage, figures.rules.coverage, covered)  # fmt: skip
    return [write_docx(out_dir / f"{report.stem}.docx", report.letterhead, tr("docx_title"), subtitle, sections, tr)]


# A format is one renderer here; adding one is a function and a line.
RENDERERS: dict[str, Renderer] = {"xlsx": _xlsx, "pdf": _pdf, "csv": _csv, "docx": _docx}
FORMATS = tuple(RENDERERS)


def report_document(
    figures: QuarterlyFigures, tr: Translator, regions: Regions, letterhead: Letterhead | None = None
) -> ReportDocument:
    title = tr("rpt_title", quarter=quarter_label(figures.quarter, tr))
    if figures.demo:
        title = f"{title} · {tr('demo_short')}"
    return ReportDocument(
        figures=figures, regions=regions, tr=tr, letterhead=(letterhead or Letterhead()).for_province(
            next((regions.provinces[g.key] for g in figures.groups.get("province", []) if g.key in regions.provinces),
                 None)),
        stem=f"dokiem-quarterly-{figures.quarter}{'-demo' if figures.demo else ''}-{tr.lang}", title=title,
        groups=finding_groups(figures, regions, tr),
        tables=[key_figures(figures, regions, tr), *report_tables(figures, tr, regions)],
        thresholds=thresholds_table(figures, tr),
        residents=(resident_sentences(figures, tr), resident_tables(figures, tr, regions)),
        coverage=coverage_tables(figures, tr, regions),
    )  # fmt: skip


def write_report(
    figures: QuarterlyFigures, formats: Iterable[str], out_dir: Path, tr: Translator, regions: Regions,
    letterhead: Letterhead | None = None,
) -> list[Path]:  # fmt: skip
    formats = list(formats)
    unknown = [fmt for fmt in formats if fmt not in RENDERERS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = report_document(figures, tr, regions, letterhead)
    return [path for fmt in formats for path in RENDERERS[fmt](report, out_dir)]

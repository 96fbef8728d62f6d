"""One quarterly report from the archive: read, summarise, write each format asked for."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from collector.archive import Archive
from dokiem.contract import LOCAL_TIME
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.thresholds import Thresholds
from reports.pdf import write_pdf
from reports.quarterly import Quarter, QuarterlyFigures, quarterly_figures
from reports.sheets import write_csv, write_xlsx
from reports.tables import report_tables, thresholds_table

FORMATS = ("xlsx", "pdf", "csv")
ROMAN = ("I", "II", "III", "IV")


def counted(rows: Iterable[tuple[Any, ...]], progress: Callable[[int], None], every: int = 100_000) -> Iterator[Any]:
    n = 0
    for n, row in enumerate(rows, start=1):
        if n % every == 0:
            progress(n)
        yield row
    progress(n)


def read_figures(
    archive: Archive, quarter: Quarter, rules: Thresholds, progress: Callable[[int], None] = lambda n: None
) -> QuarterlyFigures:
    current = counted(archive.report_rows(quarter.start, quarter.end), progress)
    before = quarter.previous()
    return quarterly_figures(current, archive.report_rows(before.start, before.end), quarter, rules)


def quarter_label(quarter: Quarter, tr: Translator) -> str:
    return tr("rpt_quarter", roman=ROMAN[quarter.number - 1], number=quarter.number, year=quarter.year)


def _intro(figures: QuarterlyFigures, tr: Translator, regions: Regions) -> list[str]:
    provinces = [g.key for g in figures.groups.get("province", [])]
    names = ", ".join(regions.provinces[p].name if p in regions.provinces else p for p in provinces) or "–"
    total = figures.total
    rules = figures.rules.report
    last_day = figures.quarter.end - timedelta(days=1)
    lines = [
        tr("rpt_subtitle", province=names, start=f"{figures.quarter.start:%d/%m/%Y}",
           end=f"{last_day:%d/%m/%Y}",
           generated=f"{figures.generated_at.astimezone(LOCAL_TIME):%d/%m/%Y %H:%M}"),
    ]  # fmt: skip
    if total is not None:
        lines.append(tr("rpt_summary", tests=total.tests, agents=total.agents, failed=total.failed,
                        previous=figures.previous_tests))  # fmt: skip
    lines.append(tr("rpt_method", good=round(rules.plan_good_ratio * 100), low=round(rules.plan_min_ratio * 100),
                    minimum=rules.min_samples))  # fmt: skip
    return lines


def write_report(
    figures: QuarterlyFigures, formats: Iterable[str], out_dir: Path, tr: Translator, regions: Regions
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = report_tables(figures, tr, regions)
    thresholds = thresholds_table(figures, tr)
    title = tr("rpt_title", quarter=quarter_label(figures.quarter, tr))
    intro = _intro(figures, tr, regions)
    stem = f"dokiem-quarterly-{figures.quarter}-{tr.lang}"
    written: list[Path] = []
    for fmt in formats:
        if fmt == "csv":
            written += write_csv([*tables, thresholds], out_dir, stem)
        elif fmt == "xlsx":
            written.append(
                write_xlsx([*tables, thresholds], [title, *intro], out_dir / f"{stem}.xlsx", tr("rpt_few_samples"))
            )
        elif fmt == "pdf":
            written.append(write_pdf(out_dir / f"{stem}.pdf", title, intro, tables, thresholds, figures.isp_trend, tr))
        else:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    return written

"""``dokiem publish``: the quarter's results as a static site for the people, and open data.

What is shown follows one rule (``reports.disclosure.publishable``); the figures are the quarterly
report's (the same ``QuarterlyFigures``), so the two never disagree.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from dokiem import __version__
from dokiem import figures as registry
from dokiem.collector.archive import REPORT_COLUMNS, Archive, SenderSpread
from dokiem.contract import ACCESS_TYPES, LOCAL_TIME, RESIDENT, Flag
from dokiem.files import COMMUNES_LEVEL, OPEN_DATA
from dokiem.i18n import Translator
from dokiem.regions import Province, Regions
from dokiem.reports.disclosure import publishable, residents_publishable
from dokiem.reports.letterhead import department_of
from dokiem.reports.opendata import (
    BLOATED_COLUMN,
    CHANGE_COLUMN,
    COVERAGE_COLUMNS,
    RECORD_PLACE_COLUMNS,
    REPORTED_CSV_COLUMNS,
    Licence,
    column_notes,
    figure_columns,
    hour_of,
    record_columns,
    unit_columns,
    write_coverage,
    write_dictionary,
    write_level,
    write_licence,
    write_records,
    write_reported,
)
from dokiem.reports.quarterly import INVALIDATING, GroupStats, QuarterlyFigures, split_isp_key
from dokiem.reports.site import Page, commune_names, commune_page, coverage_page, index_page
from dokiem.reports.tables import reported_records
from dokiem.thresholds import ReportRules

LEVELS = (COMMUNES_LEVEL, "districts", "isps")


@dataclass
class Published:
    """What a publication wrote, for the command's message and the benchmark."""

    files: list[Path] = field(default_factory=list)
    records: int = 0
    held_back_records: int = 0
    excluded_records: int = 0

    @property
    def bytes(self) -> int:
        return sum(path.stat().st_size for path in self.files)


def _figures_of(group: GroupStats, rules: ReportRules, shown: bool | None = None) -> dict[str, Any]:
    """A group's published figures (``shown`` overrides the agents' rule: residents have their own), every figure
    column empty where it is not published."""
    if not (publishable(group, rules) if shown is None else shown):
        return {"published": False, "tests": group.tests, "agents": None, **dict.fromkeys(figure_columns())}
    return {
        "published": True, "tests": group.tests, "agents": group.agents if shown is None else None,
        **{f.column(stat): group.stat(f.name, stat) for f in registry.published() for stat in f.published},
        CHANGE_COLUMN: group.change("download_median") if publishable(group.previous, rules) else None,
        BLOATED_COLUMN: group.bloated,
    }  # fmt: skip


def level_rows(figures: QuarterlyFigures, province: Province) -> dict[str, list[dict[str, Any]]]:
    """Every group of each level, in code order, fixed before mobile: figures only where publishable."""
    rules = figures.rules.report
    order = {a: n for n, a in enumerate(ACCESS_TYPES)}
    rows: dict[str, list[dict[str, Any]]] = {level: [] for level in LEVELS}
    for group in sorted(figures.groups.get("commune", []), key=lambda g: (g.key, order.get(g.access or "", 9))):
        unit = province.communes.get(group.key) or province.old_communes.get(group.key)
        districts = province.communes[group.key].districts if group.key in province.communes else ()
        rows["communes"].append(unit_columns(code=group.key, name=unit.name if unit else group.key,
                                             district=", ".join(districts), access=group.access)
                                | _figures_of(group, rules))  # fmt: skip
    for group in sorted(figures.groups.get("district", []), key=lambda g: (g.key, order.get(g.access or "", 9))):
        district = province.districts.get(group.key)
        rows["districts"].append(unit_columns(code=group.key, name=district.name if district else group.key,
                                              access=group.access) | _figures_of(group, rules))  # fmt: skip
    for group in sorted(figures.groups.get("isp", []), key=lambda g: (order.get(g.access or "", 9), g.key)):
        rows["isps"].append(
            unit_columns(isp=split_isp_key(group.key)[0], access=group.access) | _figures_of(group, rules)
        )
    return rows


def resident_rows(figures: QuarterlyFigures, province: Province) -> list[dict[str, Any]]:
    """Residents' own tests per commune and access type, apart from the agents': figures only where a
    commune has ``min_samples`` of them from ``min_resident_addresses`` addresses (issue 22)."""
    if figures.residents is None:
        return []
    rules, order = figures.rules.report, {a: n for n, a in enumerate(ACCESS_TYPES)}
    rows = []
    for group in sorted(figures.residents.groups.get("commune", []),
                        key=lambda g: (g.key, order.get(g.access or "", 9))):  # fmt: skip
        unit = province.communes.get(group.key)
        senders = figures.residents.senders.get((group.key, group.access or ""), SenderSpread())
        rows.append(unit_columns(code=group.key, name=unit.name if unit else group.key,
                                 district=", ".join(unit.districts) if unit else "", access=group.access)
                    | _figures_of(group, rules, residents_publishable(group, senders, rules)))  # fmt: skip
    return rows


def coverage_rows(figures: QuarterlyFigures, province: Province) -> list[dict[str, Any]]:
    """The surveys' cells as open data, by operator and cell: the cell is the finest place given."""
    rules = figures.rules.coverage
    return [{"operator": c.operator, "cell": c.cell, "commune_code": c.commune_code,
             "commune_name": province.communes[c.commune_code].name if c.commune_code in province.communes else "",
             "best_class": c.best.value, "samples": c.samples, "days": c.days, "first_seen": c.first.isoformat(),
             "last_seen": c.last.isoformat(), "broadband_share": c.broadband_share, "service_share": c.service_share,
             "hole": c.is_hole(rules)}
            for c in sorted(figures.coverage, key=lambda c: (c.operator, c.cell))]  # fmt: skip


def reported_rows(figures: QuarterlyFigures, province: Province) -> list[dict[str, Any]]:
    """The cells residents reported, shown by their rule, as open data (the report's table's records): the cell
    is the finest place given."""
    return reported_records(figures, {code: unit.name for code, unit in province.communes.items()})


def records(
    rows: Iterable[tuple[Any, ...]], published: set[tuple[str, str]], outcome: Published,
    unsound: frozenset[Flag] = INVALIDATING,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Per-test records of the published (commune, access) groups, anonymised; counts what is held back."""
    index = {name: n for n, name in enumerate(REPORT_COLUMNS)}
    for row in rows:
        flags = row[index["flags"]]
        if flags and unsound & set(flags.split(",")):
            outcome.excluded_records += 1
            continue
        if (row[index["commune_code"]], row[index["access"]]) not in published:
            outcome.held_back_records += 1
            continue
        yield {
            "hour": hour_of(row[index["started_ms"]]), "province": row[index["province_code"]],
            "district": row[index["district_code"]], "commune": row[index["commune_code"]], "isp": row[index["isp"]],
            "access": row[index["access"]], "failed": bool(row[index["failed"]]),
            **{name: row[index[name]] for name in registry.names(lambda f: f.headline)},
        }  # fmt: skip


def publish_site(
    archive: Archive, figures: QuarterlyFigures, regions: Regions, out_dir: Path, tr: Translator, licence: Licence
) -> Published:
    """The quarter's site and open data from ``archive``, written beside ``out_dir`` and put in its place whole:
    the old site stays served until the new one is complete, and a failure leaves it as it was."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    start, end, cut = figures.quarter.start, figures.quarter.end, figures.cutoff
    try:
        theirs = archive.results.report_rows(start, end, received_by=cut, source=RESIDENT)
        rows = archive.results.report_rows(start, end, received_by=cut)
        done = publish(figures, rows, regions, partial, tr, licence, cut.astimezone(LOCAL_TIME), theirs)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        out_dir.rename(old)
        partial.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        partial.rename(out_dir)
    done.files = [out_dir / path.relative_to(partial) for path in done.files]
    return done


def publish(
    figures: QuarterlyFigures, report_rows: Iterable[tuple[Any, ...]], regions: Regions, out: Path, tr: Translator,
    licence: Licence, cut: datetime | None = None, residents_rows: Iterable[tuple[Any, ...]] = (),
) -> Published:  # fmt: skip
    """Write the site and the open data under ``out``; returns what was written."""
    codes = [g.key for g in figures.groups.get("province", [])]  # the agents' province, else the surveys'
    places = [c.commune_code for c in figures.coverage[:1]] + [c.commune_code for c in figures.reported[:1]]
    codes += [found[0].code for code in places if (found := regions.commune(code))]
    province = next((regions.provinces[c] for c in codes if c in regions.provinces), None)
    if province is None:
        raise ValueError(tr("pub_no_province"))
    cut = cut or datetime.now(LOCAL_TIME)
    licence = licence if licence.holder else replace(licence, holder=department_of(province))
    outcome = Published()
    (out / "communes").mkdir(parents=True, exist_ok=True)
    (out / OPEN_DATA).mkdir(exist_ok=True)
    rows = level_rows(figures, province) | {"residents": resident_rows(figures, province)}
    footer = tr("pub_footer", cut=f"{cut:%d/%m/%Y %H:%M}", version=__version__, licence=licence.name)
    page = Page(figures=figures, province=province, rows=rows, tr=tr, licence=licence, footer=footer)
    outcome.files.append(_write(out / "index.html", index_page(page)))
    outcome.files.append(_write(out / "coverage.html", coverage_page(page)))
    outcome.files.append(write_coverage(out / OPEN_DATA, coverage_rows(figures, province)))
    reported = reported_rows(figures, province)
    outcome.files.append(write_reported(out / OPEN_DATA, reported))
    for code, _ in commune_names(page):  # every commune: the map and the list link to each
        outcome.files.append(_write(out / "communes" / f"{code}.html", commune_page(page, code)))
    for level in (*LEVELS, "residents"):
        outcome.files += write_level(out / OPEN_DATA, level, rows[level])
    shown = {(row["code"], row["access"]) for row in rows["communes"] if row["published"]}
    path, outcome.records = write_records(out / OPEN_DATA, records(report_rows, shown, outcome))
    outcome.files.append(path)
    theirs = Published()  # residents' records: their Wi-Fi is part of what they get, so it is no flaw here
    shown = {(row["code"], row["access"]) for row in rows["residents"] if row["published"]}
    wifi_kept = INVALIDATING - {Flag.WIFI}
    path, theirs.records = write_records(
        out / OPEN_DATA, records(residents_rows, shown, theirs, wifi_kept), "residents"
    )
    outcome.files.append(path)
    outcome.files.append(write_licence(out / OPEN_DATA, licence, tr.lang))
    dictionary = [tr("pub_dictionary", minimum=figures.rules.report.min_samples, agents=figures.rules.report.min_agents,
                     records=outcome.records, held=outcome.held_back_records, excluded=outcome.excluded_records,
                     cut=f"{cut:%d/%m/%Y %H:%M}", licence=licence.name, columns=column_notes(tr),
                     record_figures=", ".join(record_columns()[len(RECORD_PLACE_COLUMNS):])),
                  tr("pub_dictionary_residents", minimum=figures.rules.report.min_samples,
                     addresses=figures.rules.report.min_resident_addresses, days=figures.rules.report.min_resident_days,
                     sender_days=figures.rules.report.min_resident_sender_days, records=theirs.records,
                     held=theirs.held_back_records),
                  tr("pub_dictionary_coverage", cells=len(figures.coverage),
                     columns=", ".join(COVERAGE_COLUMNS)),
                  tr("pub_dictionary_reported", cells=len(reported), columns=", ".join(REPORTED_CSV_COLUMNS),
                     senders=figures.rules.coverage.report_min_senders,
                     days=figures.rules.coverage.report_min_days)]  # fmt: skip
    if figures.demo:
        dictionary.insert(0, tr("demo_notice"))
    outcome.files.append(write_dictionary(out / OPEN_DATA, dictionary))
    _readable_by_all(out)
    return outcome


def _readable_by_all(out: Path) -> None:
    """A site a web server serves as its own user: folders 0755, files 0644 (nothing in it is private)."""
    out.chmod(0o755)
    for path in out.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

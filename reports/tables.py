"""The report's figures as named tables with translated headers: what every output format writes.

CSV and XLSX write every column with raw numbers; the PDF picks columns by key and formats them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from dokiem import figures as registry
from dokiem.collation import collation_key
from dokiem.figures import Figure, Labels, Stat, Unit
from dokiem.i18n import Translator
from dokiem.nosignal import Failure
from dokiem.regions import Regions
from dokiem.regions.isps import spelling_key
from dokiem.reports.coverage import commune_centres, holes
from dokiem.reports.quarterly import PER_ACCESS, GroupStats, QuarterlyFigures, access_rank, split_isp_key

Kind = Literal[
    "text", "int", "mbps", "ms", "pct", "share", "ratio", "delta_pct", "delta_int", "flag", "number", "date"
]  # a date's value is ISO (2026-12-07, as data); a person reads it 07/12/2026
Value = str | int | float | None

# breakdown -> table id (file and sheet names stay English and stable)
TABLE_IDS = {"province": "province", "district": "districts", "commune": "communes", "isp": "isps", "access": "access",
             "technology": "technologies"}  # fmt: skip


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: Kind


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    rows: list[list[Value]]
    flagged: list[bool]

    def only(self, keys: Sequence[str]) -> Table:
        """The same table with the columns named in ``keys`` alone, in their order."""
        at = [[c.key for c in self.columns].index(key) for key in keys]
        return Table(self.id, self.title, [self.columns[i] for i in at], [[row[i] for i in at] for row in self.rows],
                     self.flagged)  # fmt: skip

    def split_by(self, key: str) -> list[tuple[str, Table]]:
        """A table of its own for each value of column ``key`` (a file per operator), in that value's order."""
        at = [c.key for c in self.columns].index(key)
        out = []
        for value in sorted({str(row[at]) for row in self.rows}):
            picked = [n for n, row in enumerate(self.rows) if str(row[at]) == value]
            out.append((value, Table(self.id, f"{self.title}: {value}", self.columns, [self.rows[n] for n in picked],
                                     [self.flagged[n] for n in picked])))  # fmt: skip
        return out

    def column(self, key: str) -> list[Value]:
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


# a figure's unit -> how its column is written (RPM: a whole number of round trips)
UNIT_KINDS: dict[Unit, Kind] = {Unit.MBPS: "mbps", Unit.MS: "ms", Unit.PCT: "pct", Unit.RPM: "int"}

Getter = Callable[[GroupStats], Value]


def figure_column(figure: Figure, stat: Stat, labels: Labels) -> tuple[Column, Getter]:
    """One statistic of one registry figure as a report column."""
    kind = UNIT_KINDS[figure.unit]

    def get(group: GroupStats) -> Value:
        value = group.stat(figure.name, stat)
        return round(value) if kind == "int" and value is not None else value

    return Column(figure.table_key(stat), labels.title(figure, stat), kind), get


def _figure_columns(tr: Translator, figures: QuarterlyFigures) -> list[tuple[Column, Getter]]:
    def col(key: str, kind: Kind, get: Getter) -> tuple[Column, Getter]:
        return Column(key, tr(f"rpt_{key}"), kind), get

    labels = Labels(tr)
    columns = [
        col("agents", "int", lambda g: g.agents),
        col("tests", "int", lambda g: g.tests),
        col("failed", "int", lambda g: g.failed),
        col("excluded", "int", lambda g: g.excluded),
        *(figure_column(f, stat, labels) for f in registry.reported() for stat in f.report),
        col("bloated", "share", lambda g: g.bloated),
        col("plan_good", "share", lambda g: g.plan_good),
        col("plan_mid", "share", lambda g: g.plan_mid),
        col("plan_low", "share", lambda g: g.plan_low),
        col("plan_mean_ratio", "ratio", lambda g: g.plan_mean_ratio),
        col("speed_80_80", "mbps", lambda g: g.speed_80_80),
    ]
    for threshold in figures.rules.thresholds:
        title = tr("rpt_threshold_share", name=threshold.name(tr.lang))
        columns.append((Column(f"threshold_{threshold.id}", title, "share"), _threshold_share(threshold.id)))
    columns += [
        col("change_down_median", "delta_pct", lambda g: g.change_pct("download_median")),
        col("change_up_median", "delta_pct", lambda g: g.change_pct("upload_median")),
        col("change_tests", "delta_int", lambda g: None if (c := g.change("tests")) is None else int(c)),
        col("few_samples", "flag", lambda g: tr("rpt_flag_few", minimum=figures.rules.report.min_samples)
            if g.few_samples else ""),
    ]  # fmt: skip
    return columns


def _threshold_share(threshold_id: str) -> Callable[[GroupStats], Value]:
    return lambda group: group.thresholds.get(threshold_id)


def _name_columns(breakdown: str, tr: Translator, regions: Regions) -> list[tuple[Column, Callable[[str], Value]]]:
    provinces = {p.code: p.name for p in regions.provinces.values()}
    districts = {code: d.name for p in regions.provinces.values() for code, d in p.districts.items()}
    # 2025 communes (what the collector files); a pre-reform code only in rows archived before it did
    communes = {code: (c.name, c.districts) for p in regions.provinces.values() for code, c in p.communes.items()}
    old = {code: (c.name, (c.district,)) for p in regions.provinces.values() for code, c in p.old_communes.items()}

    def commune_name(code: str) -> str:
        return (communes.get(code) or old.get(code) or (code,))[0]

    def commune_district(code: str) -> str:
        _, former = communes.get(code) or old.get(code) or ("", ())
        return ", ".join(districts.get(d, d) for d in former)

    name = Column("name", tr(f"rpt_by_{breakdown}"), "text")
    code = Column("code", tr("rpt_code"), "text")
    if breakdown == "commune":
        district = Column("district", tr("rpt_by_district"), "text")
        return [(name, commune_name), (district, commune_district), (code, lambda c: c)]
    if breakdown == "district":
        return [(name, lambda c: districts.get(c, c)), (code, lambda c: c)]
    if breakdown == "province":
        return [(name, lambda c: provinces.get(c, c)), (code, lambda c: c)]
    if breakdown == "access":
        return [(name, lambda c: access_name(c, tr))]
    if breakdown == "technology":
        return [(name, lambda c: tr(f"technology_{c}") if tr.has(f"technology_{c}") else c)]
    return [(name, lambda c: isp_name(c, tr))]


def access_name(access: str, tr: Translator) -> str:
    return tr(f"access_{access}") if tr.has(f"access_{access}") else (access or tr("access_unknown"))


def isp_name(key: str, tr: Translator) -> str:
    """``Viettel (Di động)`` for the ISP key ``Viettel|mobile``."""
    isp, access = split_isp_key(key)
    return f"{isp} ({access_name(access, tr)})" if access else isp


def report_tables(figures: QuarterlyFigures, tr: Translator, regions: Regions) -> list[Table]:
    figure_columns = _figure_columns(tr, figures)
    return [_table(table_id, breakdown, figures.groups.get(breakdown, []), figure_columns, tr, regions)
            for breakdown, table_id in TABLE_IDS.items()]  # fmt: skip


# Residents' tables (issue 22): breakdown -> table id, and the figures a self-selected sample can give (the
# headline figures the page measures, as medians)
RESIDENT_TABLE_IDS = {"commune": "residents_communes", "isp": "residents_isps"}
RESIDENT_FIGURES = ("tests", *(f.table_key(Stat.MEDIAN) for f in registry.on_page() if f.headline))


def resident_tables(figures: QuarterlyFigures, tr: Translator, regions: Regions) -> list[Table]:
    """Residents' own tests by commune and by ISP, apart from the agents' tables (empty without any)."""
    if figures.residents is None or not figures.residents.tests:
        return []
    columns = [c for c in _figure_columns(tr, figures) if c[0].key in RESIDENT_FIGURES]
    return [_table(table_id, breakdown, figures.residents.groups.get(breakdown, []), columns, tr, regions)
            for breakdown, table_id in RESIDENT_TABLE_IDS.items()]  # fmt: skip


def _table(
    table_id: str, breakdown: str, groups: list[GroupStats],
    figure_columns: list[tuple[Column, Callable[[GroupStats], Value]]], tr: Translator, regions: Regions,
) -> Table:  # fmt: skip
    names = _name_columns(breakdown, tr, regions)
    if breakdown == "commune" and not any(
        get(g.key) for column, get in names if column.key == "district" for g in groups
    ):
        names = [n for n in names if n[0].key != "district"]  # a province without the former-district layer
    access_column = (Column("access", tr("rpt_by_access"), "text"), lambda g: access_name(g.access or "", tr))
    per_group: list[tuple[Column, Callable[[GroupStats], Value]]] = [access_column] if breakdown in PER_ACCESS else []
    if breakdown in PER_ACCESS:  # official code order, as GSO lists them (4G before 5G); fixed before mobile
        groups = sorted(groups, key=lambda g: (g.key, access_rank(g.access)))
    return Table(
        id=table_id,
        title=tr(f"rpt_table_{table_id}"),
        columns=[c for c, _ in names] + [c for c, _ in per_group] + [c for c, _ in figure_columns],
        rows=[[get(g.key) for _, get in names] + [get(g) for _, get in (*per_group, *figure_columns)] for g in groups],
        flagged=[g.few_samples for g in groups],
    )


def thresholds_table(figures: QuarterlyFigures, tr: Translator) -> Table:
    rules = figures.rules
    rows: list[list[Value]] = [
        [t.id, t.name(tr.lang), tr(f"access_{t.access.value}") if t.access else tr("rpt_any_access"),
         t.download_mbps, t.upload_mbps, t.latency_ms, t.source]
        for t in rules.thresholds
    ]  # fmt: skip
    return Table(
        id="thresholds",
        title=tr("rpt_table_thresholds"),
        columns=[
            Column("id", "id", "text"),
            Column("name", tr("rpt_threshold"), "text"),
            Column("access", tr("rpt_by_access"), "text"),
            Column("download", tr("rpt_min_download"), "mbps"),
            Column("upload", tr("rpt_min_upload"), "mbps"),
            Column("latency", tr("rpt_max_latency"), "ms"),
            Column("source", tr("rpt_source"), "text"),
        ],
        rows=rows,
        flagged=[False] * len(rows),
    )


def format_value(value: Value, kind: str, tr: Translator) -> str:
    """A cell as a person reads it (PDF, DOCX, the findings): Vietnamese number format in Vietnamese."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        return "/".join(reversed(value.split("-"))) if kind == "date" else value
    if kind == "number":  # a key figure: a count (int) without decimals, a measured value with one
        return tr.number(value, 0 if isinstance(value, int) else 1)
    if kind in ("int", "delta_int"):
        text = f"{int(value):,}".replace(",", "." if tr.lang == "vi" else ",")
        return f"+{text}" if kind == "delta_int" and value > 0 else text
    if kind == "share":
        return tr.number(100 * value, 1) + "%"
    if kind == "ratio":
        return tr.number(value, 2)
    if kind == "pct":
        return tr.number(value, 2)
    if kind == "delta_pct":
        return f"{'+' if value > 0 else ''}{tr.number(value, 1)}%"
    return tr.number(value, 1)


# The surveys' coverage (issue 30): the holes to send to the operators, and the commune centres on 5G. Keys stay
# English: the holes' CSV is named by them for the operators' programs (reports/sheets.write_keyed_csv).
HOLE_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("operator", "text"), ("commune_name", "text"), ("commune_code", "text"), ("cell", "text"), ("samples", "int"),
    ("days", "int"), ("first_seen", "date"), ("last_seen", "date"), ("best_class", "text"),
    ("broadband_share", "share"), ("service_share", "share"), ("best_rsrp_dbm", "number"),
    ("download_median_mbps", "mbps"),
)  # fmt: skip
# what the PDF and the Word report show of them (CSV and XLSX: every column)
HOLE_KEYS = ("operator", "commune_name", "cell", "best_class", "samples", "days", "broadband_share", "last_seen")
CENTRE_KEYS = ("commune_name", "operator", "five_g", "samples", "last_five_g")
CENTRE_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("commune_name", "text"), ("commune_code", "text"), ("operator", "text"), ("cell", "text"), ("five_g", "text"),
    ("samples", "int"), ("last_five_g", "date"), ("evidence", "text"),
)  # fmt: skip

# Residents' "no signal" reports (issue 31), the cells shown by the [coverage] report_min_* rules: apart from the
# surveys' holes, with what failed by count
REPORTED_COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("operator", "text"), ("commune_name", "text"), ("commune_code", "text"), ("cell", "text"), ("reports", "int"),
    ("senders", "int"), ("days", "int"), ("first_reported", "date"), ("last_reported", "date"),
    *((f"failure_{failure.value}", "int") for failure in Failure),
)  # fmt: skip
REPORTED_KEYS = ("operator", "commune_name", "cell", "reports", "senders", "days",
                 *(f"failure_{failure.value}" for failure in Failure), "last_reported")  # fmt: skip
COVERAGE_KEYS = {"coverage_holes": HOLE_KEYS, "coverage_centres": CENTRE_KEYS, "coverage_reported": REPORTED_KEYS}


def reported_records(figures: QuarterlyFigures, names: dict[str, str]) -> list[dict[str, Value]]:
    """The cells residents reported that their rule shows, by operator, commune and cell, keyed by
    REPORTED_COLUMNS: the report's table and the open data's coverage_reported.csv alike."""
    shown = sorted(
        figures.reported_shown,
        key=lambda c: (collation_key(c.operator), collation_key(names.get(c.commune_code, "")), c.cell),
    )
    return [{"operator": c.operator, "commune_name": names.get(c.commune_code, c.commune_code),
             "commune_code": c.commune_code, "cell": c.cell, "reports": c.reports, "senders": c.senders,
             "days": c.days, "first_reported": c.first.isoformat(), "last_reported": c.last.isoformat(),
             **{f"failure_{failure.value}": c.reports_of(failure.value) for failure in Failure}}
            for c in shown]  # fmt: skip


def _commune_names(regions: Regions) -> dict[str, str]:
    return {code: c.name for p in regions.provinces.values() for code, c in p.communes.items()}


def coverage_tables(figures: QuarterlyFigures, tr: Translator, regions: Regions) -> list[Table]:
    """The holes (operator, commune, cell), the surveyed commune centres and the cells residents reported (each
    shown by its rule); none without a survey or a report."""
    if not figures.coverage and not figures.agents_on_5g and not figures.reported:
        return []
    rules, names = figures.rules.coverage, _commune_names(regions)
    found = holes(figures.coverage, rules)
    hole_rows: list[list[Value]] = [
        [c.operator, names.get(c.commune_code, c.commune_code), c.commune_code, c.cell, c.samples, c.days,
         c.first.isoformat(), c.last.isoformat(), tr(f"cov_class_{c.best.value}"), c.broadband_share,
         c.service_share, c.best_rsrp_dbm, c.download_median_mbps]
        for c in found
    ]  # fmt: skip
    centres = commune_centres(figures.coverage, regions, rules, figures.agents_on_5g)
    centre_rows: list[list[Value]] = [
        [names.get(c.commune_code, c.commune_code), c.commune_code, c.operator, c.cell,
         tr("cov_yes") if c.five_g else tr("cov_no"), c.samples, c.last_five_g.isoformat() if c.last_five_g else None,
         tr("cov_by_agent") if c.by_agent else tr("cov_by_survey")]
        for c in centres
    ]  # fmt: skip
    reported_rows: list[list[Value]] = [
        [record[key] for key, _ in REPORTED_COLUMNS] for record in reported_records(figures, names)
    ]
    return [
        Table("coverage_holes", tr("rpt_table_coverage_holes"),
              [Column(key, tr(f"rpt_cov_{key}"), kind) for key, kind in HOLE_COLUMNS], hole_rows,
              [False] * len(hole_rows)),
        Table("coverage_centres", tr("rpt_table_coverage_centres"),
              [Column(key, tr(f"rpt_cov_{key}"), kind) for key, kind in CENTRE_COLUMNS], centre_rows,
              [False] * len(centre_rows)),
        Table("coverage_reported", tr("rpt_table_coverage_reported"),
              [Column(key, tr(f"rpt_cov_{key}"), kind) for key, kind in REPORTED_COLUMNS], reported_rows,
              [False] * len(reported_rows)),
    ]  # fmt: skip


def slug(name: str) -> str:
    """A file name's part for an operator: its spelling key ("VinaPhone" → "vinaphone")."""
    return spelling_key(name) or "operator"

"""The summary of findings: the key figures as a table, and sentences built from that table alone.

Every number a sentence says is a cell of the key-figures table (or of the group tables it names),
formatted the same way, so an officer who edits a sentence can check it against the annex. Former
districts and communes with fewer successful tests than ``min_samples`` are counted and listed,
never ranked: the lowest and highest are taken among the groups with enough tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import h3

from dokiem.contract import ACCESS_TYPES, Access
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.reports.quarterly import GroupStats, QuarterlyFigures, split_isp_key
from dokiem.reports.tables import Column, Table, Value, format_value, isp_name
from dokiem.thresholds import CoverageRules


@dataclass(frozen=True)
class AccessFacts:
    """What the sentences say about one access type."""

    access: str
    median: float | None  # the province's median download
    target: int | float | None  # the lowest national download threshold for this access type
    ranked: int  # former districts with enough tests
    meeting: int  # of those, with a median at or above the target
    lowest: GroupStats | None
    highest: GroupStats | None
    thin_communes: list[str]  # commune codes with too few tests of this access type
    fastest_isp: GroupStats | None
    rpm: float | None = None  # the province's median responsiveness under load
    bloated: list[str] = field(default_factory=list)  # ranked former districts bloated in most of their tests


def access_facts(figures: QuarterlyFigures, access: str) -> AccessFacts:
    province = figures.province(access)
    targets = [t.download_mbps for t in figures.rules.thresholds if t.download_mbps and t.access is not None
               and t.access.value == access]  # fmt: skip
    lowest_target = min(targets) if targets else None
    # a threshold is a whole number of Mbit/s as the decisions write it ("200 Mbit/s", not "200,0")
    target = int(lowest_target) if lowest_target is not None and lowest_target.is_integer() else lowest_target
    districts = [g for g in figures.groups.get("district", []) if g.access == access]
    ranked = sorted((g for g in districts if not g.few_samples and g.download.median is not None),
                    key=lambda g: (g.download.median or 0, g.key))  # fmt: skip
    isps = [g for g in figures.groups.get("isp", []) if g.access == access and not g.few_samples]
    return AccessFacts(
        access=access,
        median=province.download.median if province else None,
        target=target,
        ranked=len(ranked),
        meeting=sum(1 for g in ranked if target is not None and (g.download.median or 0) >= target),
        lowest=ranked[0] if ranked else None,
        highest=ranked[-1] if len(ranked) > 1 else None,
        thin_communes=sorted(g.key for g in figures.groups.get("commune", []) if g.access == access and g.few_samples),
        fastest_isp=max(isps, key=lambda g: g.download.median or 0, default=None),
        rpm=province.rpm_median if province else None,
        bloated=[g.key for g in ranked if g.bloated is not None and g.bloated > 0.5],
    )


def change_pct(group: GroupStats | None) -> float | None:
    """The median download's change from the previous quarter, in percent."""
    return None if group is None else group.change_pct("download_median")


def key_figures(figures: QuarterlyFigures, regions: Regions, tr: Translator) -> Table:
    """The numbers the findings say, one row each, fixed and mobile apart."""
    names = _district_names(regions)
    by_district = bool(figures.groups.get("district"))  # no rows about a layer the province's data lacks
    rows: list[list[Value]] = []
    for access in ACCESS_TYPES:
        facts = access_facts(figures, access)
        if figures.province(access) is None and access == Access.PUBLIC_WIFI:
            continue  # most provinces' quarters have no hotspot agent: no block of dashes
        kind = tr(f"access_{access}")
        if access == Access.PUBLIC_WIFI:  # hotspots, by site: no national threshold, no district ranking
            rows.append([tr("kf_median"), kind, facts.median])
            rows += [[tr("kf_rpm"), kind, round(facts.rpm)]] if facts.rpm is not None else []
            continue
        rows += [[tr("kf_median"), kind, facts.median], [tr("kf_target"), kind, facts.target]]
        if by_district:
            rows += [[tr("kf_ranked"), kind, facts.ranked], [tr("kf_meeting"), kind, facts.meeting]]
        for label, group in (("kf_lowest", facts.lowest), ("kf_highest", facts.highest)):
            if group is not None:
                rows.append([tr(label, name=names.get(group.key, group.key)), kind, group.download.median])
        if (change := change_pct(facts.lowest)) is not None:
            rows.append([tr("kf_lowest_change"), kind, change])
        rows.append([tr("kf_thin_communes"), kind, len(facts.thin_communes)])
        if facts.fastest_isp is not None:
            rows.append([tr("kf_fastest_isp", isp=split_isp_key(facts.fastest_isp.key)[0]), kind,
                         facts.fastest_isp.download.median])  # fmt: skip
        if facts.rpm is not None:
            rows += [[tr("kf_rpm"), kind, round(facts.rpm)]]
            rows += [[tr("kf_bloated"), kind, len(facts.bloated)]] if by_district else []
    rows.append([tr("kf_min_samples"), "", figures.rules.report.min_samples])
    if any(row[0] == tr("kf_rpm") for row in rows):
        rows.append([tr("kf_bloat_added"), "", int(figures.rules.responsiveness.bloat_added_ms)])
    return Table(
        id="summary",
        title=tr("rpt_table_summary"),
        columns=[
            Column("name", tr("kf_indicator"), "text"),
            Column("access", tr("rpt_by_access"), "text"),
            Column("value", tr("kf_value"), "number"),
        ],
        rows=rows,
        flagged=[False] * len(rows),
    )


def _district_names(regions: Regions) -> dict[str, str]:
    return {code: d.name for p in regions.provinces.values() for code, d in p.districts.items()}


def _responsiveness(
    facts: AccessFacts, figures: QuarterlyFigures, kind: str, names: dict[str, str], tr: Translator
) -> list[str]:
    """Latency under load in words: the province's level, what a low one means, the bloated districts."""
    if facts.rpm is None:
        return []
    rules = figures.rules.responsiveness
    level = rules.rpm_class(facts.rpm)
    said = [tr("fd_rpm", access=kind, rpm=format_value(round(facts.rpm), "number", tr), level=tr(f"rpm_level_{level}"))]
    if level == "low":
        said.append(tr("fd_rpm_low"))
    if facts.bloated:
        said.append(tr("fd_bloated", count=format_value(len(facts.bloated), "number", tr),
                       ranked=format_value(facts.ranked, "number", tr),
                       added=format_value(int(rules.bloat_added_ms), "number", tr),
                       names=", ".join(names.get(key, key) for key in facts.bloated)))  # fmt: skip
    return said


def findings(figures: QuarterlyFigures, regions: Regions, tr: Translator) -> list[str]:
    """The summary's sentences, in the reader's language, from the same figures as ``key_figures``."""
    return [sentence for group in finding_groups(figures, regions, tr) for sentence in group]


def finding_groups(figures: QuarterlyFigures, regions: Regions, tr: Translator) -> list[list[str]]:
    """The summary's sentences, a group per access type and one for the international servers: the PDF
    sets each group as one paragraph, so that the key figures still fit on the first page."""
    names = _district_names(regions)
    groups: list[list[str]] = []

    def number(value: int | float | None) -> str:
        return format_value(value, "number", tr)

    minimum = number(figures.rules.report.min_samples)
    for access in ACCESS_TYPES:
        facts = access_facts(figures, access)
        if facts.median is None and access == Access.PUBLIC_WIFI:
            continue  # a quarter without hotspot agents says nothing of them
        kind = tr(f"access_{access}")
        sentences: list[str] = []
        groups.append(sentences)
        if facts.median is None:
            sentences.append(tr("fd_no_tests", access=kind))
            continue
        sentences.append(tr("fd_median", access=kind, median=number(facts.median)))
        if access == Access.PUBLIC_WIFI:  # hotspots, by site: no national threshold, no district ranking
            sentences += _responsiveness(facts, figures, kind, names, tr)
            continue
        if facts.target is not None and facts.ranked:
            sentences.append(tr("fd_meeting", meeting=number(facts.meeting), ranked=number(facts.ranked),
                                target=number(facts.target), access=kind.lower()))  # fmt: skip
        if facts.lowest is not None:
            change = change_pct(facts.lowest)
            trend = "" if change is None else tr("fd_up" if change > 0 else "fd_down", pct=number(abs(change)))
            sentences.append(tr("fd_lowest", name=names.get(facts.lowest.key, facts.lowest.key),
                                median=number(facts.lowest.download.median), change=trend))  # fmt: skip
        if facts.highest is not None:
            sentences.append(tr("fd_highest", name=names.get(facts.highest.key, facts.highest.key),
                                median=number(facts.highest.download.median)))  # fmt: skip
        if facts.thin_communes:
            sentences.append(tr("fd_thin", count=number(len(facts.thin_communes)), access=kind.lower(),
                                minimum=minimum))  # fmt: skip
        if facts.fastest_isp is not None:
            sentences.append(tr("fd_fastest_isp", isp=isp_name(facts.fastest_isp.key, tr),
                                median=number(facts.fastest_isp.download.median)))  # fmt: skip
        sentences += _responsiveness(facts, figures, kind, names, tr)
    abroad_said = [tr("fd_international", access=tr(f"access_{abroad.access}"), tests=number(abroad.tests),
                      down=number(abroad.download.median), up=number(abroad.upload.median))
                   for abroad in figures.international if abroad.download.median is not None]  # fmt: skip
    return [group for group in (*groups, abroad_said) if group]


def resident_sentences(figures: QuarterlyFigures, tr: Translator) -> list[str]:
    """The residents' section's words: how many tests (how many over Wi-Fi), and why the sample stands apart."""
    residents = figures.residents
    if residents is None or not residents.tests:
        return [tr("rpt_residents_none")]
    counts = tr("rpt_residents_counts", tests=tr.number(residents.tests, 0), wifi=tr.number(residents.wifi, 0))
    return [counts, tr("rpt_residents_sample")]


def coverage_sentences(coverage: Sequence[Table], tr: Translator, rules: CoverageRules) -> list[str]:
    """What the coverage section says before its tables: the holes found and the rule, or that no survey ran."""
    if not coverage:
        return [tr("rpt_cov_none")]
    found, centres = coverage[0], coverage[1]
    operators = len({row[0] for row in found.rows})
    on_5g = sum(1 for row in centres.rows if row[4] == tr("cov_yes"))
    rule = tr("rpt_cov_rule", area=tr.number(h3.average_hexagon_area(rules.cell_resolution, unit="km^2"), 2),
              share=tr.number(100 * rules.hole_broadband_share_below, 0), rsrp=tr.number(rules.usable_rsrp_dbm, 0),
              mbps=tr.number(rules.usable_mbps, 1), days=tr.number(rules.hole_min_days, 0),
              samples=tr.number(rules.hole_min_samples, 0))  # fmt: skip
    said = [tr("rpt_cov_found", holes=tr.number(len(found.rows), 0), operators=tr.number(operators, 0),
               centres=tr.number(len(centres.rows), 0), on_5g=tr.number(on_5g, 0)), rule]  # fmt: skip
    return [*said, _reported_sentence(coverage[2], tr, rules)]


def _reported_sentence(reported: Table, tr: Translator, rules: CoverageRules) -> str:
    """Residents' "no signal" reports: the cells shown, the reports in them, and the rule that shows a cell."""
    at = [c.key for c in reported.columns].index("reports")
    reports = sum(int(row[at] or 0) for row in reported.rows)
    return tr("rpt_cov_reported", cells=tr.number(len(reported.rows), 0), reports=tr.number(reports, 0),
              senders=tr.number(rules.report_min_senders, 0), days=tr.number(rules.report_min_days, 0))  # fmt: skip

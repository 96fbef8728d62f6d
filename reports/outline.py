"""What the Word report says, section by section, from the same tables and pictures as every format."""

from __future__ import annotations

from collections.abc import Sequence

from dokiem import figures as registry
from dokiem.i18n import Translator
from dokiem.reports.charts import Picture
from dokiem.reports.docx import Section
from dokiem.reports.findings import coverage_sentences
from dokiem.reports.tables import COVERAGE_KEYS, Table
from dokiem.thresholds import CoverageRules

BRIEF = registry.brief_keys()  # the registry's figures for the short tables: down_median, up_median, latency_median
DISTRICT_KEYS = ("name", "access", "agents", "tests", *BRIEF)
COMMUNE_KEYS = ("name", "district", "code", "access", "tests", *BRIEF)
ISP_KEYS = ("name", "agents", "tests", *BRIEF)
QUALITY_KEYS = ("name", "access", "plan_good", "plan_mid", "plan_low", "plan_mean_ratio")
CHANGE_KEYS = ("name", "access", "down_median", "change_down_median", "change_up_median", "change_tests")
RESIDENT_COMMUNE_KEYS = ("name", "district", "access", "tests", "down_median", "up_median", "latency_median")
RESIDENT_ISP_KEYS = ("name", "tests", "down_median", "up_median", "latency_median")
THRESHOLD_KEYS = ("name", "access", "download", "upload", "latency")


def outline(
    tables: dict[str, Table], thresholds: Table, findings: list[str], method: list[str],
    pictures: dict[str, Picture], tr: Translator, residents: tuple[list[str], list[Table]] = ([], []),
    coverage: Sequence[Table] = (), rules: CoverageRules | None = None, covered: Sequence[Picture] = (),
) -> list[Section]:  # fmt: skip
    """The sections of the document (heading, paragraphs, tables with their columns, pictures)."""
    province, districts, communes = tables["province"], tables["districts"], tables["communes"]
    threshold_keys = tuple(c.key for c in province.columns if c.key.startswith("threshold_"))
    # a province without former districts has no such section; its change is the province's
    by_district: list[Section] = [(tr("docx_s_districts"), [tr("docx_p_districts")], [(districts, DISTRICT_KEYS)],
                                   _some(pictures, "districts"))] if districts.rows else []  # fmt: skip
    changed = districts if districts.rows else province
    sections: list[Section] = [
        (tr("docx_s_summary"), findings, [(tables["summary"], ("name", "access", "value"))], []),
        (tr("docx_s_method"), method, [], []),
        *by_district,
        (tr("docx_s_communes"), [tr("docx_p_communes")], [], _some(pictures, "map")),
        (tr("docx_s_isps"), [tr("docx_p_isps")], [(tables["isps"], ISP_KEYS)], _some(pictures, "trend")),
        (tr("docx_s_thresholds"), [tr("docx_p_thresholds")],
         [(province, QUALITY_KEYS), (province, ("name", "access", *threshold_keys)), (thresholds, THRESHOLD_KEYS)],
         []),
        (tr("docx_s_change"), [tr("docx_p_change")], [(changed, CHANGE_KEYS)], []),
        (tr("docx_s_thin"), thin_groups([districts, communes], tr), [], []),
        (tr("docx_s_residents"), residents[0],
         [(t, RESIDENT_COMMUNE_KEYS if t.id == "residents_communes" else RESIDENT_ISP_KEYS) for t in residents[1]], []),
        (tr("docx_s_coverage"), coverage_sentences(coverage, tr, rules or CoverageRules()),
         [(t, COVERAGE_KEYS[t.id]) for t in coverage if t.rows], list(covered)),
        (tr("docx_s_annex"), [], [(communes, COMMUNE_KEYS)], []),
    ]  # fmt: skip
    return _numbered(sections)


ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def _numbered(sections: list[Section]) -> list[Section]:
    """Sections numbered as they stand (a province without former districts has one fewer); the annex is not."""
    body, annex = sections[:-1], sections[-1]
    return [(f"{ROMAN[n]}. {heading}", text, tables, pictures)
            for n, (heading, text, tables, pictures) in enumerate(body)] + [annex]  # fmt: skip


def _some(pictures: dict[str, Picture], name: str) -> list[Picture]:
    return [pictures[name]] if name in pictures else []


def thin_groups(tables: Sequence[Table], tr: Translator) -> list[str]:
    """Each level's groups under the sample minimum, in code order: listed, never ranked."""
    lines = []
    for table in tables:
        names, accesses = table.column("name"), table.column("access")
        listed = [f"{name} ({access})" for name, access, flagged in zip(names, accesses, table.flagged, strict=True)
                  if flagged]  # fmt: skip
        if listed:
            lines.append(tr("docx_thin", level=table.title, count=len(listed), groups="; ".join(listed)))
    return lines or [tr("docx_thin_none")]

"""The public site's pages: plain HTML and inline SVG, no script, no external file, readable on a
360 px phone (tables scroll inside their box), with text alternatives for the maps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Any

import h3

from dokiem import figures as registry
from dokiem.collation import collation_key, unit_key
from dokiem.contract import ACCESS_TYPES
from dokiem.figures import SPREAD, Labels, Stat
from dokiem.i18n import Translator
from dokiem.regions import Province
from dokiem.reports.coverage import CellCoverage, ReportedCell
from dokiem.reports.disclosure import publishable, threshold_counts
from dokiem.reports.opendata import BLOATED_COLUMN, CHANGE_COLUMN, Licence
from dokiem.reports.quarterly import QuarterlyFigures
from dokiem.reports.shading import CLASS_COLORS, COVERAGE_COLORS, NO_DATA, THIN, class_labels, fixed_edges, shade
from dokiem.reports.svgmap import Area, commune_svg
from dokiem.reports.tables import format_value, slug
from dokiem.thresholds import CoverageClass

DOWN, UP, RPM, LOADED = (registry.figure(name) for name in ("download_mbps", "upload_mbps", "responsiveness_rpm",
                                                             "loaded_latency_ms"))  # fmt: skip
DOWN_MEDIAN = DOWN.column(Stat.MEDIAN)  # what the map shades and the district table gives
STYLE = """
body{font-family:system-ui,"DejaVu Sans",sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.45}
header,main,footer{max-width:960px;margin:0 auto;padding:0 12px}
header{border-bottom:3px solid #0b5394}h1{font-size:1.5rem;margin:.6em 0 .2em}h2{font-size:1.2rem;margin-top:1.6em}
a{color:#0b5394}a:focus,summary:focus{outline:3px solid #f1c232;outline-offset:2px}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem;min-width:100%}
th,td{border:1px solid #999;padding:3px 6px;text-align:left}td.n{text-align:right;white-space:nowrap}
th{background:#dde8f5}.thin{color:#595959;font-style:italic}svg{width:100%;height:auto;max-height:80vh}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;padding:0;list-style:none;font-size:.85rem}
.legend span{display:inline-block;width:1em;height:1em;border:1px solid #555;vertical-align:-2px;margin-right:4px}
.legend span.reported{border:2px dashed #c00000;background:none}
.demo{background:#fff2cc;border:2px solid #bf9000;padding:6px 10px;font-weight:bold}
footer{border-top:1px solid #999;margin-top:2em;font-size:.85rem;color:#404040}
""".strip()


@dataclass(frozen=True)
class Page:
    figures: QuarterlyFigures
    province: Province
    rows: dict[str, list[dict[str, Any]]]
    tr: Translator
    licence: Licence
    footer: str


def _html(page: Page, title: str, body: str, depth: int) -> str:
    home = "../" * depth
    return (
        f'<!doctype html><html lang="{page.tr.lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<header><p><a href="{home}index.html">{escape(page.tr("pub_site", province=page.province.name))}</a></p>'
        f"<h1>{escape(title)}</h1>{_demo_banner(page)}</header><main>{body}</main>"
        f'<footer><p>{escape(page.footer)} <a href="{home}data/README.txt">'
        f"{escape(page.tr('pub_open_data'))}</a></p></footer>"
        "</body></html>\n"
    )


def _demo_banner(page: Page) -> str:
    return f'<p class="demo" role="note">{escape(page.tr("demo_notice"))}</p>' if page.figures.demo else ""


def _mbps(value: float | None, tr: Translator) -> str:
    return format_value(value, "mbps", tr) if value is not None else "–"


def _table(head: list[str], rows: list[list[str]], numeric_from: int) -> str:
    """Cells are HTML already escaped by the caller."""
    th = "".join(f'<th scope="col">{h}</th>' for h in head)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if n >= numeric_from else f"<td>{c}</td>" for n, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def _figure_or_thin(row: dict[str, Any] | None, key: str, tr: Translator) -> str:
    if row is None:
        return "–"
    if not row["published"]:
        return f'<span class="thin">{escape(tr("pub_thin"))}</span>'
    return escape(_mbps(row.get(key), tr))


def _by(rows: list[dict[str, Any]], key: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row[key], row["access"]): row for row in rows}


def _legend(page: Page) -> str:
    labels = class_labels(fixed_edges(page.figures.rules), lambda v: page.tr.number(v, 0))
    items = [(c, f"{label} Mbit/s") for c, label in zip(CLASS_COLORS, labels, strict=True)]
    items += [(THIN, page.tr("pub_thin")), (NO_DATA, page.tr("pub_no_tests"))]
    return (
        '<ul class="legend">'
        + "".join(f'<li><span style="background:{c}"></span>{escape(text)}</li>' for c, text in items)
        + "</ul>"
    )


def _maps(page: Page) -> str:
    """The communes shaded by their median fixed download, then the same by former district."""
    if page.province.boundaries is None:
        return ""
    tr, edges = page.tr, fixed_edges(page.figures.rules)
    features = json.loads(page.province.boundaries.read_text(encoding="utf-8"))["features"]
    communes = {row["code"]: row for row in page.rows["communes"] if row["access"] == "fixed"}
    districts = {row["code"]: row for row in page.rows["districts"] if row["access"] == "fixed"}
    by_commune, by_district = {}, {}
    for feature in features:
        code = feature["id"]
        unit = page.province.communes.get(code)
        name = unit.name if unit else code
        by_commune[code] = _area(code, name, communes.get(code), edges, f"communes/{code}.html", tr)
        district = unit.districts[0] if unit and unit.districts else ""
        district_name = page.province.districts[district].name if district in page.province.districts else ""
        by_district[code] = _area(code, f"{name} ({district_name})", districts.get(district), edges, None, tr)
    commune_map = commune_svg(features, by_commune, tr("pub_map_title"), tr("pub_map_desc"), "communes-map")
    shown = (
        f"<h2>{escape(tr('pub_map_title'))}</h2>{commune_map}{_legend(page)}"
        f'<p>{escape(tr("pub_map_alternative"))} <a href="#communes">{escape(tr("pub_communes"))}</a></p>'
    )
    if not page.province.districts:  # no former-district layer in this province's data
        return shown
    district_map = commune_svg(features, by_district, tr("pub_map_districts"), tr("pub_map_desc"), "districts-map")
    return f"{shown}<details><summary>{escape(tr('pub_map_districts'))}</summary>{district_map}</details>"


def _area(code: str, name: str, row: dict[str, Any] | None, edges: list[float], href: str | None,
          tr: Translator) -> Area:  # fmt: skip
    if row is None:
        return Area(code, name, NO_DATA, f"{name}: {tr('pub_no_tests')}", href)
    if not row["published"]:
        return Area(code, name, THIN, f"{name}: {tr('pub_thin')}", href)
    value = row[DOWN_MEDIAN]
    return Area(code, name, shade(value, edges), f"{name}: {_mbps(value, tr)} Mbit/s", href)


def _quarter(page: Page) -> str:
    quarter = page.figures.quarter
    return page.tr("rpt_quarter", roman=("I", "II", "III", "IV")[quarter.number - 1], number=quarter.number,
                   year=quarter.year)  # fmt: skip


def index_page(page: Page) -> str:
    tr, figures = page.tr, page.figures
    quarter = _quarter(page)
    intro = tr("pub_intro", quarter=quarter, province=page.province.name, province_in_text=page.province.in_text)
    parts = [f"<p>{escape(intro)}</p>"]
    summary = []
    for access in ACCESS_TYPES:
        group = figures.province(access)
        if group is not None and group.download.median is not None:
            summary.append(tr("pub_province_median", access=tr(f"access_{access}"),
                              median=_mbps(group.download.median, tr)))  # fmt: skip
    for threshold in figures.rules.thresholds:
        met, shown = threshold_counts(figures, threshold)
        if shown:
            summary.append(
                tr("pub_threshold", met=tr.number(met, 0), shown=tr.number(shown, 0), name=threshold.name(tr.lang))
            )
    parts.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in summary) + "</ul>")
    parts.append(_maps(page))
    parts.append(f'<p><a href="coverage.html">{escape(tr("pub_cov_link"))}</a></p>')
    districts = _by(page.rows["districts"], "code")
    names = {code: row["name"] for (code, _), row in districts.items()}
    district_rows = [
        [escape(names[code]), *(_figure_or_thin(districts.get((code, a)), DOWN_MEDIAN, tr) for a in ACCESS_TYPES),
         escape(_mbps(districts.get((code, "fixed"), {}).get(CHANGE_COLUMN), tr))]
        for code in sorted(names)
    ]  # fmt: skip
    if district_rows:
        parts.append(f"<h2>{escape(tr('pub_districts'))}</h2>")
        parts.append(_table([escape(tr("rpt_by_district")), escape(tr("pub_fixed_median")),
                             escape(tr("pub_mobile_median")), escape(tr("pub_change"))], district_rows, 1))  # fmt: skip
    isp_rows = [
        [escape(r["isp"]), escape(tr(f"access_{r['access']}")),
         *(_figure_or_thin(r, f.column(Stat.MEDIAN), tr) for f in (DOWN, UP)), escape(tr.number(r["tests"], 0))]
        for r in page.rows["isps"]
    ]  # fmt: skip
    medians = [escape(Labels(tr).title(f, Stat.MEDIAN)) for f in (DOWN, UP)]
    parts.append(f"<h2>{escape(tr('pub_isps'))}</h2>")
    parts.append(_table([escape(tr("rpt_by_isp")), escape(tr("rpt_by_access")), *medians, escape(tr("rpt_tests"))],
                        isp_rows, 2))  # fmt: skip
    communes = _by(page.rows["communes"], "code")
    commune_rows = [
        [f'<a href="communes/{escape(code)}.html">{escape(name)}</a>',
         *(_figure_or_thin(communes.get((code, a)), DOWN_MEDIAN, tr) for a in ACCESS_TYPES)]
        for code, name in commune_names(page)
    ]  # fmt: skip
    parts.append(f'<h2 id="communes">{escape(tr("pub_communes"))}</h2><p>{escape(tr("pub_not_ranked"))}</p>')
    parts.append(_table([escape(tr("rpt_by_commune")), escape(tr("pub_fixed_median")),
                         escape(tr("pub_mobile_median"))], commune_rows, 1))  # fmt: skip
    parts.append(f"<h2>{escape(tr('pub_method_title'))}</h2><p>{escape(_method(page))}</p>")
    return _html(page, tr("pub_title", quarter=quarter, province=page.province.name), "".join(parts), 0)


def _method(page: Page) -> str:
    rules = page.figures.rules.report
    return page.tr("pub_method", minimum=rules.min_samples, agents=rules.min_agents)


def commune_names(page: Page) -> list[tuple[str, str]]:
    """(code, name) of every commune of the province, and of any other the quarter's rows name, in
    Vietnamese alphabetical order of their own names."""
    names = {code: unit.name for code, unit in page.province.communes.items()}
    names |= {row["code"]: row["name"] for row in page.rows["communes"] if row["code"] not in names}
    return sorted(names.items(), key=lambda item: unit_key(item[1]))


def _responsiveness_words(row: dict[str, Any], page: Page) -> list[str]:
    """Latency under load for a resident: the level in words, and what a bloated buffer means for a call."""
    tr, rules = page.tr, page.figures.rules.responsiveness
    rpm = row.get(RPM.column(Stat.MEDIAN))
    if rpm is None:
        return []
    level = rules.rpm_class(rpm)
    said = [tr("pub_rpm", rpm=tr.number(rpm, 0), level=tr(f"rpm_level_{level}"),
               loaded=_mbps(row.get(LOADED.column(Stat.MEDIAN)), tr))]  # fmt: skip
    bloated = row.get(BLOATED_COLUMN)
    if level == "low" or (bloated is not None and bloated > 0.5):
        said.append(tr("pub_bloated", share=tr.number(100 * (bloated or 0), 0)))
    return [f"<p>{escape(' '.join(said))}</p>"]


def commune_page(page: Page, code: str) -> str:
    """A commune's figures for the quarter, fixed and mobile apart; a commune without a test this
    quarter gets its page too (the map links every commune)."""
    tr = page.tr
    rows = [row for row in page.rows["communes"] if row["code"] == code]
    unit = page.province.communes.get(code)
    name = unit.name if unit else rows[0]["name"]
    former = unit.districts if unit else tuple(rows[0]["district"].split(", "))
    districts = [page.province.districts[d].name for d in former if d in page.province.districts]
    first, last = page.figures.quarter.start, page.figures.quarter.end - timedelta(days=1)
    period = tr("pub_period", quarter=_quarter(page), start=f"{first:%d/%m/%Y}", end=f"{last:%d/%m/%Y}")
    parts = [f"<p><strong>{escape(period)}</strong></p>"]
    if page.province.districts:
        parts.append(f"<p>{escape(tr('pub_former_district', districts=', '.join(districts) or '–'))}</p>")
    if not rows:
        parts.append(f'<p class="thin">{escape(tr("pub_no_tests_long"))}</p>')
    for row in sorted(rows, key=lambda r: ACCESS_TYPES.index(r["access"]) if r["access"] in ACCESS_TYPES else 9):
        parts.append(f"<h2>{escape(_access_title(row, tr))}</h2>")
        if not row["published"]:
            parts.append(f'<p class="thin">{escape(tr("pub_thin_long", tests=tr.number(row["tests"], 0)))}</p>')
            continue
        parts.append(_spread_table(row, tr))
        parts += _responsiveness_words(row, page)
        counts = tr(
            "pub_counts",
            tests=tr.number(row["tests"], 0),
            agents=tr.number(row["agents"], 0),
        )
        parts.append(f"<p>{escape(counts)}</p>")
    isps = [g for g in page.figures.groups.get("commune_isp", []) if g.key.startswith(f"{code}/")]
    if isps:
        isp_rows = []
        for group in sorted(isps, key=lambda g: collation_key(g.key)):
            isp = group.key.split("/", 1)[1].split("|")[0]
            shown = publishable(group, page.figures.rules.report)
            value = (
                escape(_mbps(group.download.median, tr))
                if shown
                else f'<span class="thin">{escape(tr("pub_thin"))}</span>'
            )
            isp_rows.append([escape(isp), escape(tr(f"access_{group.access}") if group.access else ""), value])
        parts.append(f"<h2>{escape(tr('pub_isps'))}</h2>")
        down_median = Labels(tr).title(DOWN, Stat.MEDIAN)
        parts.append(_table([escape(tr("rpt_by_isp")), escape(tr("rpt_by_access")), escape(down_median)], isp_rows, 2))
    parts += _residents_part(page, code)
    parts.append(f"<h2>{escape(tr('pub_method_title'))}</h2><p>{escape(_method(page))}</p>")
    return _html(page, name, "".join(parts), 1)


def _spread_table(row: dict[str, Any], tr: Translator) -> str:
    """A published group's figures whose spread the open data gives (download, upload, latency): median, p10, p90."""
    labels = Labels(tr)
    spread = [[escape(labels.with_unit(f)), *(escape(_mbps(row[f.column(stat)], tr)) for stat in SPREAD)]
              for f in registry.published() if set(SPREAD) <= set(f.published)]  # fmt: skip
    return _table([escape(tr("pub_figure")), escape(tr("pub_median")), "p10", "p90"], spread, 1)


def _access_title(row: dict[str, Any], tr: Translator) -> str:
    return tr(f"access_{row['access']}") if row["access"] else tr("access_unknown")


def _residents_part(page: Page, code: str) -> list[str]:
    """Residents' own tests in the commune, apart from the agents' figures above (issue 22)."""
    tr, rules = page.tr, page.figures.rules.report
    rows = [row for row in page.rows.get("residents", []) if row["code"] == code]
    parts = [f"<h2>{escape(tr('pub_residents'))}</h2>", f"<p>{escape(tr('pub_residents_about'))}</p>"]
    if not rows:
        return [*parts, f'<p class="thin">{escape(tr("pub_residents_none"))}</p>']
    for row in sorted(rows, key=lambda r: ACCESS_TYPES.index(r["access"]) if r["access"] in ACCESS_TYPES else 9):
        parts.append(f"<h3>{escape(_access_title(row, tr))}</h3>")
        if not row["published"]:
            thin = tr("pub_residents_thin", tests=tr.number(row["tests"], 0), minimum=tr.number(rules.min_samples, 0),
                      addresses=tr.number(rules.min_resident_addresses, 0),
                      days=tr.number(rules.min_resident_days, 0))  # fmt: skip
            parts.append(f'<p class="thin">{escape(thin)}</p>')
            continue
        parts.append(_spread_table(row, tr))
        parts.append(f"<p>{escape(tr('pub_residents_counts', tests=tr.number(row['tests'], 0)))}</p>")
    return parts


REPORTED_ID = "r"  # a reported cell's shape beside the same cell surveyed: its own id on the map
REPORTED_OUTLINE = "#c00000"


def _cell_feature(cell: str, prefix: str = "") -> dict[str, Any]:
    ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
    return {"id": prefix + cell, "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}}


def coverage_page(page: Page) -> str:
    """The surveys' cells per operator, coloured by the best class seen, with the warning that only the surveyed
    places are shown, and the holes listed by commune: cells only, never a position."""
    tr, figures = page.tr, page.figures
    first, last = figures.quarter.start, figures.quarter.end - timedelta(days=1)
    intro = tr("pub_cov_intro", quarter=_quarter(page), start=f"{first:%d/%m/%Y}", end=f"{last:%d/%m/%Y}")
    parts = [f"<p>{escape(intro)}</p>", f'<p class="demo" role="note">{escape(tr("pub_cov_warning"))}</p>']
    if not figures.coverage:
        parts.append(f"<p>{escape(tr('rpt_cov_none'))}</p>")
    boundaries = page.province.boundaries
    features = json.loads(boundaries.read_text(encoding="utf-8"))["features"] if boundaries else []
    rules = figures.rules.coverage
    reported = figures.reported_shown
    if reported:
        said = tr("pub_cov_reported_intro", senders=tr.number(rules.report_min_senders, 0),
                  days=tr.number(rules.report_min_days, 0))  # fmt: skip
        parts.append(f"<p>{escape(said)}</p>")
    for operator in sorted({c.operator for c in figures.coverage} | {c.operator for c in reported}, key=collation_key):
        parts += _operator_coverage(page, operator, [c for c in figures.coverage if c.operator == operator],
                                    [c for c in reported if c.operator == operator], features)  # fmt: skip
    return _html(page, tr("pub_cov_title"), "".join(parts), 0)


def _commune_name(page: Page, code: str) -> str:
    unit = page.province.communes.get(code)
    return unit.name if unit else code


def _operator_coverage(page: Page, operator: str, cells: list[CellCoverage], reported: list[ReportedCell],
                       features: list[dict[str, Any]]) -> list[str]:  # fmt: skip
    """One operator's map of cells on the communes' outlines (the cells residents reported outlined over the
    surveyed ones), its legend, its holes by commune, and the residents' reports apart."""
    tr = page.tr
    areas = {c.cell: Area(c.cell, c.cell, COVERAGE_COLORS[c.best],
                          tr("pub_cov_cell", commune=_commune_name(page, c.commune_code),
                             best=tr(f"cov_class_{c.best.value}"), samples=tr.number(c.samples, 0)), None)
             for c in cells}  # fmt: skip
    for c in reported:
        label = tr("pub_cov_reported_cell", commune=_commune_name(page, c.commune_code),
                   reports=tr.number(c.reports, 0), senders=tr.number(c.senders, 0))  # fmt: skip
        areas[REPORTED_ID + c.cell] = Area(c.cell, c.cell, "none", label, None, REPORTED_OUTLINE)
    title = tr("pub_cov_map", operator=operator)
    shapes = [*features, *(_cell_feature(c.cell) for c in cells),
              *(_cell_feature(c.cell, REPORTED_ID) for c in reported)]  # fmt: skip
    legend = "".join(f'<li><span style="background:{COVERAGE_COLORS[cls]}"></span>'
                     f"{escape(tr(f'cov_class_{cls.value}'))}</li>" for cls in CoverageClass)  # fmt: skip
    if reported:
        legend += f'<li><span class="reported"></span>{escape(tr("pub_cov_reported_key"))}</li>'
    parts = [f"<h2>{escape(title)}</h2>", commune_svg(shapes, areas, title, tr("pub_cov_map_desc"),
             f"coverage-{slug(operator)}"), f'<ul class="legend">{legend}</ul>']  # fmt: skip
    found = sorted((c for c in cells if c.is_hole(page.figures.rules.coverage)),
                   key=lambda c: unit_key(_commune_name(page, c.commune_code)))  # fmt: skip
    parts.append(f"<h3>{escape(tr('pub_cov_holes', operator=operator, count=tr.number(len(found), 0)))}</h3>")
    if found:
        head = [escape(tr(key)) for key in ("rpt_cov_commune_name", "rpt_cov_cell", "rpt_cov_samples", "rpt_cov_days",
                                            "rpt_cov_broadband_share", "rpt_cov_last_seen")]  # fmt: skip
        rows = [[escape(_commune_name(page, c.commune_code)), escape(c.cell), escape(tr.number(c.samples, 0)),
                 escape(tr.number(c.days, 0)), escape(tr.number(100 * c.broadband_share, 0)) + "%",
                 escape(f"{c.last:%d/%m/%Y}")] for c in found]  # fmt: skip
        parts.append(_table(head, rows, 2))
    return parts + _reported_list(page, operator, reported)


def _reported_list(page: Page, operator: str, reported: list[ReportedCell]) -> list[str]:
    """The cells residents reported for ``operator``, by commune: their word, counted, apart from the survey."""
    tr = page.tr
    shown = sorted(reported, key=lambda c: (unit_key(_commune_name(page, c.commune_code)), c.cell))
    parts = [f"<h3>{escape(tr('pub_cov_reported', operator=operator, count=tr.number(len(shown), 0)))}</h3>"]
    if shown:
        head = [escape(tr(key)) for key in ("rpt_cov_commune_name", "rpt_cov_cell", "rpt_cov_reports",
                                            "rpt_cov_senders", "rpt_cov_days", "rpt_cov_last_reported")]  # fmt: skip
        rows = [[escape(_commune_name(page, c.commune_code)), escape(c.cell), escape(tr.number(c.reports, 0)),
                 escape(tr.number(c.senders, 0)), escape(tr.number(c.days, 0)), escape(f"{c.last:%d/%m/%Y}")]
                for c in shown]  # fmt: skip
        parts.append(_table(head, rows, 2))
    return parts

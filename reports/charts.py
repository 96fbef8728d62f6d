"""The report's pictures, drawn once as PNG for both the PDF and the DOCX: median download by
former district (fixed and mobile side by side, never one bar over both), the weekly trend by ISP,
and the map of the 2025 communes shaded by median fixed download.

Drawn with matplotlib's object API (no pyplot: no global state, safe in a server) in DejaVu Sans,
which matplotlib ships and which carries every Vietnamese letter. Legends sit inside each figure,
and each figure is sized for the page it goes on.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import h3
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.dates import date2num, num2date
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch, Polygon
from matplotlib.textpath import TextPath
from matplotlib.ticker import FuncFormatter

from dokiem.i18n import Translator
from dokiem.regions.insets import outer_rings, split_far
from dokiem.reports.shading import CLASS_COLORS, COVERAGE_COLORS, NO_DATA, THIN, class_labels, shade
from dokiem.thresholds import CoverageClass

COLORS = {"fixed": "#1f77b4", "mobile": "#ff7f0e"}
LINE_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")
DPI = 200


@dataclass(frozen=True)
class Picture:
    """A PNG and the size it is drawn for, in inches."""

    png: bytes
    width: float
    height: float


def _picture(figure: Figure) -> Picture:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    width, height = figure.get_size_inches()
    return Picture(out.getvalue(), float(width), float(height))


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    figure.set_facecolor("white")
    return figure


TITLE = FontProperties(family="DejaVu Sans", size=10, weight="bold")


def wrap_to_width(text: str, width_pt: float, font: FontProperties = TITLE) -> list[str]:
    """``text`` in lines no wider than ``width_pt`` points as ``font`` draws them (measured, not guessed)."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and TextPath((0, 0), trial, prop=font).get_extents().width <= width_pt:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def _title(axes: Axes, title: str, width: float) -> None:
    """A bold title at the figure's left edge (not the axes', which the labels push right), wrapped to the
    figure's width less its margins."""
    lines = wrap_to_width(title, (width - 0.3) * 72)
    axes.figure.suptitle("\n".join(lines), x=0.01, ha="left", fontproperties=TITLE)


def _speed_axis(axis: Any, tr: Translator) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: tr.number(value, 0)))


@dataclass(frozen=True)
class DistrictBars:
    """A former district's medians; ``thin`` names the access types with too few tests to be read."""

    name: str
    medians: dict[str, float | None]
    thin: frozenset[str]


def district_chart(
    rows: Sequence[DistrictBars], title: str, tr: Translator, width: float, max_height: float
) -> Picture:
    """Median download by former district: a bar per access type each, fastest fixed first; a bar of
    too few tests is pale, hatched and starred, as the tables star it. As tall as the rows need, no
    taller than ``max_height`` inches."""
    ordered = sorted(rows, key=lambda row: -(row.medians.get("fixed") or 0))
    height = min(max_height, 1.2 + 0.3 * len(ordered))
    figure = _figure(width, height)
    axes: Axes = figure.add_subplot()
    positions = range(len(ordered))
    for offset, access in ((-0.2, "fixed"), (0.2, "mobile")):
        medians = [row.medians.get(access) for row in ordered]
        thin = [access in row.thin for row in ordered]
        bars = axes.barh([p + offset for p in positions], [m or 0.0 for m in medians], height=0.38,
                         color=COLORS[access], label=tr(f"access_{access}"))  # fmt: skip
        for bar, is_thin in zip(bars, thin, strict=True):
            if is_thin:
                bar.set_alpha(0.35)
                bar.set_hatch("////")
        labels = [
            ("–" if m is None else tr.number(m, 1)) + (" *" if t else "") for m, t in zip(medians, thin, strict=True)
        ]
        axes.bar_label(bars, labels=labels, padding=2, fontsize=6)
    axes.set_yticks(list(positions), [row.name for row in ordered], fontsize=7)
    axes.invert_yaxis()
    _speed_axis(axes.xaxis, tr)
    axes.tick_params(axis="x", labelsize=7)
    axes.margins(x=0.12)
    _title(axes, title, width)
    # the legend's own swatches: a bar's (the first may be a pale, hatched one) would mislead
    handles = [Patch(facecolor=COLORS[access], label=tr(f"access_{access}")) for access in ("fixed", "mobile")]
    if any(row.thin for row in ordered):
        handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="////", label=tr("rpt_chart_thin")))
    axes.legend(handles=handles, loc="lower right", fontsize=8, frameon=True)
    return _picture(figure)


def trend_chart(
    trend: dict[str, list[tuple[datetime, float]]], names: dict[str, str], title: str, tr: Translator,
    width: float = 9.5, height: float = 4.6,
) -> Picture:  # fmt: skip
    """Weekly median download, a line per ISP network; the legend under the plot, inside the figure."""
    figure = _figure(width, height)
    axes: Axes = figure.add_subplot()
    for n, key in enumerate(sorted(trend)):
        days = [_day(when) for when, _ in trend[key]]
        axes.plot(days, [value for _, value in trend[key]], marker="o", markersize=2.5, linewidth=1.4,
                  color=LINE_COLORS[n % len(LINE_COLORS)], label=names.get(key, key))  # fmt: skip
    _speed_axis(axes.yaxis, tr)
    axes.xaxis.set_major_formatter(FuncFormatter(_day_month))
    axes.tick_params(labelsize=7)
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", linewidth=0.3)
    _title(axes, title, width)
    figure.legend(loc="outside lower center", ncols=min(4, max(1, len(trend))), fontsize=7, frameon=False)
    return _picture(figure)


def _day(moment: datetime) -> float:
    return float(date2num(moment))  # type: ignore[no-untyped-call]


def _day_month(value: float, _: int) -> str:
    return f"{num2date(value):%d/%m}"  # type: ignore[no-untyped-call]


def commune_map(
    features: Sequence[dict[str, Any]], values: dict[str, float], thin: set[str], edges: Sequence[float], title: str,
    tr: Translator, width: float = 6.8, height: float = 8.2,
) -> Picture:  # fmt: skip
    """Each commune shaded by its class of median fixed download; grey where there are too few tests to
    publish (never shaded by a figure), white where there is none."""
    figure = _figure(width, height)
    axes: Axes = figure.add_subplot()

    def color(code: str) -> str:
        return THIN if code in thin else shade(values[code], edges) if code in values else NO_DATA

    near, far = split_far(features)
    _draw_shaded(axes, near, color)
    if far:  # islands far out at sea, in a frame of their own at the top right
        inset = axes.inset_axes((0.7, 0.72, 0.29, 0.27))
        _draw_shaded(inset, far, color)
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_title(", ".join(f["properties"].get("name", f["id"]) for f in far), fontsize=6)
    axes.set_axis_off()
    _title(axes, title, width)
    axes.legend(handles=_legend(edges, tr), loc="lower left", fontsize=7, frameon=True, title="Mbit/s",
                title_fontsize=7)  # fmt: skip
    return _picture(figure)


def _draw_shaded(axes: Axes, features: Sequence[dict[str, Any]], color: Callable[[str], str]) -> None:
    patches = [Polygon(ring, closed=True) for f in features for ring in outer_rings(f["geometry"])]
    colors = [color(f["id"]) for f in features for _ in outer_rings(f["geometry"])]
    axes.add_collection(PatchCollection(patches, facecolors=colors, edgecolors="#555555", linewidths=0.25))
    axes.autoscale_view()
    axes.set_aspect(1 / 0.94)  # a degree of longitude is ~0.94 of a degree of latitude at 20° N


REPORTED_EDGE = "#c00000"  # residents' reported cells, as the site draws them


def coverage_map(
    features: Sequence[dict[str, Any]], cells: dict[str, CoverageClass], title: str, tr: Translator,
    width: float = 6.8, height: float = 6.0, reported: Sequence[str] = (),
) -> Picture:  # fmt: skip
    """One operator's surveyed cells coloured by their best class, and the cells residents reported (issue 31)
    outlined over them, on the communes' outlines around them (the map zooms to these cells: a cell is a few
    hundred metres across)."""
    figure = _figure(width, height)
    axes: Axes = figure.add_subplot()
    outlines = [Polygon(ring, closed=True) for feature in features for ring in outer_rings(feature["geometry"])]
    axes.add_collection(PatchCollection(outlines, facecolors=NO_DATA, edgecolors="#888888", linewidths=0.4))
    hexagons = [Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)], closed=True) for cell in cells]
    axes.add_collection(PatchCollection(hexagons, facecolors=[COVERAGE_COLORS[c] for c in cells.values()],
                                        edgecolors="#333333", linewidths=0.3))  # fmt: skip
    outlined = [Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)], closed=True) for cell in reported]
    axes.add_collection(PatchCollection(outlined, facecolors="none", edgecolors=REPORTED_EDGE, linewidths=1.4,
                                        linestyles="--"))  # fmt: skip
    corners = [point for hexagon in [*hexagons, *outlined] for point in hexagon.get_xy()]
    margin = 0.03  # degrees around the surveyed cells: the communes they lie in stay readable
    axes.set_xlim(min(p[0] for p in corners) - margin, max(p[0] for p in corners) + margin)
    axes.set_ylim(min(p[1] for p in corners) - margin, max(p[1] for p in corners) + margin)
    axes.set_aspect(1 / 0.94)
    axes.set_axis_off()
    _title(axes, title, width)
    handles = [Patch(facecolor=COVERAGE_COLORS[c], edgecolor="#333333", label=tr(f"cov_class_{c.value}"))
               for c in CoverageClass]  # fmt: skip
    if reported:
        handles.append(Patch(facecolor="none", edgecolor=REPORTED_EDGE, linestyle="--",
                             label=tr("pub_cov_reported_key")))  # fmt: skip
    axes.legend(handles=handles, loc="lower left", fontsize=7, frameon=True)
    return _picture(figure)


def _legend(edges: Sequence[float], tr: Translator) -> list[Patch]:
    labels = class_labels(edges, lambda edge: tr.number(edge, 0))
    handles = [Patch(facecolor=color, edgecolor="#555555", label=label) for color, label in
               zip(CLASS_COLORS, labels, strict=True)]  # fmt: skip
    handles.append(Patch(facecolor=THIN, edgecolor="#555555", label=tr("rpt_map_thin")))
    handles.append(Patch(facecolor=NO_DATA, edgecolor="#555555", label=tr("rpt_map_none")))
    return handles

"""The registry of figures: one row per figure a Result carries, and everything that shows it derives from it.

A row says what the figure is (its Result field, unit, which way is better, its label in the core's
catalogue) and where it appears: the headline five every table shows, the statistics the quarterly
report gives (each such figure is a column of the archive), those the open data publishes (a column
each, named ``{stem}_{stat}_{unit}``), the dashboards' ranking tables, the residents' page. The
contract's lists, the archive's columns, the report's frame and tables, the open data, the site, the
dashboards' labels and the page's labels are read from here (``tests/test_figures.py`` holds each to
it). README's "Adding a figure" says what else a new figure needs: its field in the Result, its label.

Plain data, no pydantic: the agent and every room import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dokiem.i18n import Translator


class Unit(StrEnum):
    MBPS = "mbps"
    MS = "ms"
    PCT = "pct"
    RPM = "rpm"

    @property
    def symbol(self) -> str:
        """As a reader sees it, in every language."""
        return _SYMBOLS[self]


_SYMBOLS = {Unit.MBPS: "Mbit/s", Unit.MS: "ms", Unit.PCT: "%", Unit.RPM: "RPM"}
# decimals of one run's reading (a group's statistics are the report's: reports.tables.format_value)
_READING_DIGITS = {Unit.MBPS: 1, Unit.MS: 2, Unit.PCT: 1, Unit.RPM: 0}


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Stat(StrEnum):
    """A statistic over a group's tests (percentiles interpolate linearly, as numpy's default)."""

    MEDIAN = "median"
    MEAN = "mean"
    P10 = "p10"
    P90 = "p90"


ALL_STATS = (Stat.MEDIAN, Stat.MEAN, Stat.P10, Stat.P90)
SPREAD = (Stat.MEDIAN, Stat.P10, Stat.P90)


@dataclass(frozen=True)
class Figure:
    name: str  # the Result's field, InfluxDB's field, the archive's column
    unit: Unit
    better: Better
    label: str  # its name in the core's catalogue (dokiem/messages.py): "Tải xuống"
    key: str  # the report's column keys begin with it: "down" → down_median, down_p10
    headline: bool = False  # one of the figures every table, the per-test open data and the trial's table show
    report: tuple[Stat, ...] = ()  # the quarterly report's statistics; a reported figure is an archive column
    published: tuple[Stat, ...] = ()  # the open data's statistics per commune, district and ISP
    dashboards: tuple[Stat, ...] = ()  # the dashboards' ranking tables
    page: bool = False  # the residents' page shows it beside the test
    brief: bool = False  # its median is in the short tables: the Word report's by district, commune and ISP
    detail: bool = False  # one direction of another figure: in JSON, never a CSV column

    @property
    def stem(self) -> str:
        """The name without its unit: "download" of download_mbps."""
        return self.name.removesuffix(f"_{self.unit.value}")

    def column(self, stat: Stat) -> str:
        """The open data's column for one statistic: download_median_mbps."""
        return f"{self.stem}_{stat.value}_{self.unit.value}"

    def table_key(self, stat: Stat) -> str:
        """The report table's column key for one statistic: down_median."""
        return f"{self.key}_{stat.value}"


REGISTRY: tuple[Figure, ...] = (
    Figure("download_mbps", Unit.MBPS, Better.HIGHER, "download", "down", headline=True, page=True, brief=True,
           report=ALL_STATS, published=SPREAD, dashboards=(Stat.MEDIAN, Stat.P10)),
    Figure("upload_mbps", Unit.MBPS, Better.HIGHER, "upload", "up", headline=True, page=True, brief=True,
           report=ALL_STATS, published=SPREAD, dashboards=(Stat.MEDIAN, Stat.P10)),
    Figure("latency_ms", Unit.MS, Better.LOWER, "latency", "latency", headline=True, page=True, brief=True,
           report=(Stat.MEDIAN,), published=SPREAD, dashboards=(Stat.MEDIAN,)),
    Figure("jitter_ms", Unit.MS, Better.LOWER, "jitter", "jitter", headline=True, page=True, report=(Stat.MEDIAN,)),
    Figure("loss_pct", Unit.PCT, Better.LOWER, "loss", "loss", headline=True, report=(Stat.MEAN,),
           dashboards=(Stat.MEAN,)),
    Figure("loaded_latency_ms", Unit.MS, Better.LOWER, "loaded_latency", "loaded_latency", page=True,
           report=(Stat.MEDIAN,), published=(Stat.MEDIAN,)),
    Figure("loaded_latency_down_ms", Unit.MS, Better.LOWER, "loaded_latency_down", "loaded_latency_down", detail=True),
    Figure("loaded_latency_up_ms", Unit.MS, Better.LOWER, "loaded_latency_up", "loaded_latency_up", detail=True),
    Figure("dns_ms", Unit.MS, Better.LOWER, "dns", "dns"),
    Figure("responsiveness_rpm", Unit.RPM, Better.HIGHER, "responsiveness", "rpm", report=(Stat.MEDIAN,),
           published=(Stat.MEDIAN,)),
    Figure("responsiveness_down_rpm", Unit.RPM, Better.HIGHER, "responsiveness_down", "rpm_down", detail=True),
    Figure("responsiveness_up_rpm", Unit.RPM, Better.HIGHER, "responsiveness_up", "rpm_up", detail=True),
    Figure("cross_traffic_down_mbps", Unit.MBPS, Better.LOWER, "cross_traffic_down", "cross_down", detail=True),
    Figure("cross_traffic_up_mbps", Unit.MBPS, Better.LOWER, "cross_traffic_up", "cross_up", detail=True),
)  # fmt: skip


def figure(name: str) -> Figure:
    """The row of ``name``; an unknown name is a programming error, said with the names there are."""
    for row in REGISTRY:
        if row.name == name:
            return row
    raise KeyError(f"no figure {name!r} in dokiem.figures.REGISTRY ({', '.join(f.name for f in REGISTRY)})")


def names(where: Callable[[Figure], object] = lambda f: True) -> tuple[str, ...]:
    return tuple(f.name for f in REGISTRY if where(f))


def headline() -> tuple[Figure, ...]:
    return tuple(f for f in REGISTRY if f.headline)


def reported() -> tuple[Figure, ...]:
    """The figures the quarterly report summarises: each is a column of the archive."""
    return tuple(f for f in REGISTRY if f.report)


def published() -> tuple[Figure, ...]:
    return tuple(f for f in REGISTRY if f.published)


def published_columns() -> tuple[str, ...]:
    """The open data's figure columns per level, in the registry's order."""
    return tuple(f.column(stat) for f in published() for stat in f.published)


def on_dashboards() -> tuple[Figure, ...]:
    return tuple(f for f in REGISTRY if f.dashboards)


def on_page() -> tuple[Figure, ...]:
    return tuple(f for f in REGISTRY if f.page)


def table_keys(where: Callable[[Figure], object]) -> tuple[str, ...]:
    """The report table's keys of every statistic of the reported figures ``where`` picks."""
    return tuple(f.table_key(stat) for f in reported() if where(f) for stat in f.report)


def brief_keys() -> tuple[str, ...]:
    """The medians the short tables give (the Word report's)."""
    return tuple(f.table_key(Stat.MEDIAN) for f in reported() if f.brief and Stat.MEDIAN in f.report)


class Labels:
    """A figure's words in one language, from the core's catalogue: a column's title is its label, the
    statistic and the unit ("Tải xuống trung vị (Mbit/s)"), the same in the report, the dashboards and
    the site."""

    def __init__(self, tr: Translator) -> None:
        self._tr = tr

    def name(self, row: Figure) -> str:
        return self._tr(row.label)

    def with_unit(self, row: Figure) -> str:
        return self._tr("figure_unit", figure=self._tr(row.label), unit=row.unit.symbol)

    def reading(self, row: Figure, value: float | None, missing: str = "—") -> str:
        """One run's value with its unit, in the reader's number format: "271,4 Mbit/s"."""
        return missing if value is None else f"{self._tr.number(value, _READING_DIGITS[row.unit])} {row.unit.symbol}"

    def title(self, row: Figure, stat: Stat) -> str:
        # a percentile is a symbol in both languages (p10), as a unit is; median and mean are words
        word = stat.value if stat in (Stat.P10, Stat.P90) else self._tr(f"stat_{stat.value}")
        return self._tr("figure_stat", figure=self._tr(row.label), stat=word, unit=row.unit.symbol)

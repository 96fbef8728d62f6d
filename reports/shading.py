"""How a map shades a median download (the classes, their colours and their limits) and a survey's coverage
class, for the report's maps (matplotlib) and the public site's (SVG) alike."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from dokiem.thresholds import CoverageClass, Thresholds

CLASS_COLORS = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")  # slow → fast (red → green)
NO_DATA, THIN = "#ffffff", "#d9d9d9"
# a coverage class's colour: no broadband red, 2G/3G only orange, 4G light blue, 5G dark blue
COVERAGE_COLORS = {CoverageClass.NONE: "#b2182b", CoverageClass.LEGACY: "#ef8a62", CoverageClass.G4: "#67a9cf",
                   CoverageClass.G5: "#2166ac"}  # fmt: skip


def class_edges(fixed_thresholds: Sequence[float]) -> list[float]:
    """Class limits for the map from the national fixed-line targets: half the lowest, the lowest,
    half the highest, the highest (100, 200, 500, 1.000 Mbit/s for 200 and 1.000)."""
    targets = sorted({t for t in fixed_thresholds if t > 0}) or [200.0]
    low, high = targets[0], targets[-1]
    if high <= low:
        return [low / 2, low, low * 2, low * 4]
    return [low / 2, low, high / 2 if high / 2 > low else (low + high) / 2, high]


def fixed_edges(rules: Thresholds) -> list[float]:
    """The classes of a map of median fixed download, from the thresholds file in force."""
    return class_edges([t.download_mbps for t in rules.thresholds
                        if t.download_mbps and (t.access is None or t.access.value == "fixed")])  # fmt: skip


def shade(value: float, edges: Sequence[float]) -> str:
    """The colour of a median download."""
    return CLASS_COLORS[sum(value >= edge for edge in edges)]


def class_labels(edges: Sequence[float], number: Callable[[float], str]) -> list[str]:
    """The classes' labels ("< 100", "100 – 200", …, "≥ 1.000"), ``number`` formatting each limit."""
    bounds = [number(edge) for edge in edges]
    return [f"< {bounds[0]}", *(f"{a} – {b}" for a, b in itertools.pairwise(bounds)), f"≥ {bounds[-1]}"]

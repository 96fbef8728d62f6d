"""Which units of a province lie far out at sea (Trường Sa of Khánh Hòa, Hoàng Sa of Đà Nẵng, Côn Đảo of Hồ Chí
Minh): one frame holding them would shrink the mainland to a speck. The report's and the site's maps
(reports.charts, reports.svgmap) draw them in an inset; the dashboards' map (grafana.panels) opens on the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Box = tuple[float, float, float, float]  # west, south, east, north


def outer_rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [polygon[0] for polygon in polygons]


def box_of(features: Sequence[dict[str, Any]]) -> Box:
    points = [p for f in features for ring in outer_rings(f["geometry"]) for p in ring]
    return min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points), max(p[1] for p in points)


FAR = 2.0  # a unit that alone makes the frame this many times larger is drawn apart


def _area(box: Box) -> float:
    return max(box[2] - box[0], 1e-9) * max(box[3] - box[1], 1e-9)


def _joined(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def far_boxes(boxes: Sequence[Box]) -> set[int]:
    """The indexes of the boxes (a unit's extent, or its point as a box of no size) far from all the others."""
    far = set()
    for n, box in enumerate(boxes):
        others = [*boxes[:n], *boxes[n + 1 :]]
        if not others:
            break
        frame = (min(b[0] for b in others), min(b[1] for b in others), max(b[2] for b in others),
                 max(b[3] for b in others))  # fmt: skip
        if _area(_joined(frame, box)) > FAR * _area(frame):
            far.add(n)
    return far if len(far) < len(boxes) else set()


def split_far(features: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the mainland's features, those far out at sea to draw in an inset); the second empty when none is."""
    far = far_boxes([box_of([f]) for f in features])
    return [f for n, f in enumerate(features) if n not in far], [f for n, f in enumerate(features) if n in far]

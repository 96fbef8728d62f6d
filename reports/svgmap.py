"""The communes as an inline SVG map: no tile server, no script, small enough for a phone on a slow
line. Each commune is a link to its page with a text title; the whole map has a title and a
description for screen readers, and the page lists the same figures in a table."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from dokiem.regions.insets import box_of, outer_rings, split_far

WIDTH = 640  # the SVG's own units; it scales to the screen


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    fill: str
    label: str  # what its title says: the name and the figure, or "not enough data"
    href: str | None
    outline: str | None = None  # drawn as a dashed outline of this colour over what lies below (fill "none")


INSET = 0.3  # the inset's share of the map's width (islands far out at sea: reports.insets)


class Projection:
    """Longitude/latitude to the SVG's whole units: an equirectangular view true at the middle latitude, ``width``
    wide with its top left corner at ``left``, ``top``."""

    def __init__(self, features: Sequence[dict[str, Any]], width: float = WIDTH, left: int = 0, top: int = 0) -> None:
        self.west, self.south, self.east, self.north = box_of(features)
        self.squash = math.cos(math.radians((self.north + self.south) / 2))
        self.scale = width / max((self.east - self.west) * self.squash, 1e-6)
        self.height = math.ceil((self.north - self.south) * self.scale)
        self.left, self.top = left, top

    def __call__(self, lon: float, lat: float) -> tuple[int, int]:
        return (self.left + round((lon - self.west) * self.squash * self.scale),
                self.top + round((self.north - lat) * self.scale))  # fmt: skip


def _path(geometry: dict[str, Any], project: Projection) -> str:
    """Outer rings as relative moves in whole units, repeated points dropped (a few KB a commune)."""
    parts = []
    for ring in outer_rings(geometry):
        points: list[tuple[int, int]] = []
        for lon, lat in ring:
            point = project(lon, lat)
            if not points or point != points[-1]:
                points.append(point)
        if len(points) < 3:
            continue
        steps = " ".join(f"{x - px} {y - py}" for (px, py), (x, y) in itertools.pairwise(points))
        parts.append(f"M{points[0][0]} {points[0][1]}l{steps}z")
    return "".join(parts)


def commune_svg(
    features: Sequence[dict[str, Any]], areas: dict[str, Area], title: str, description: str, ident: str
) -> str:
    """The map; a feature without an area entry is drawn plain, one far out at sea in a framed inset at the top
    right. ``ident`` keeps two maps' ids apart."""
    near, far = split_far(features)
    main = Projection(near)
    projections = {f["id"]: main for f in near}
    frame, height = "", main.height
    if far:
        inset = Projection(far, WIDTH * INSET - 8, left=round(WIDTH * (1 - INSET)) + 4, top=4)
        projections |= {f["id"]: inset for f in far}
        frame = (f'<rect x="{inset.left - 4}" y="0" width="{round(WIDTH * INSET)}" height="{inset.height + 8}"'
                 ' fill="#ffffff" stroke="#555" stroke-width="0.8"/>')  # fmt: skip
        height = max(height, inset.height + 8)
    shapes = []
    for feature in (*near, *far):
        if feature is (far[0] if far else None):
            shapes.append(frame)  # over the mainland, under the islands
        project = projections[feature["id"]]
        area = areas.get(feature["id"])
        fill = area.fill if area else "#ffffff"
        label = f"<title>{escape(area.label)}</title>" if area else ""
        stroke = f' stroke="{area.outline}" stroke-width="1.6" stroke-dasharray="4 2"' if area and area.outline else ""
        path = f'<path d="{_path(feature["geometry"], project)}" fill="{fill}"{stroke}>{label}</path>'
        if area and area.href:
            path = f'<a href="{escape(area.href)}" aria-label="{escape(area.label)}">{path}</a>'
        shapes.append(path)
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{ident}-t {ident}-d"'
        ' xmlns="http://www.w3.org/2000/svg" stroke="#555" stroke-width="0.4">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(description)}</desc>'
        + "".join(shapes)
        + "</svg>"
    )

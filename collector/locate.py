"""A resident's located point to the commune it lies in, on the province's simplified boundaries.

The point is used here and dropped: the door that calls this never stores, logs or returns it, only the
commune's code (collector/residents.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from dokiem.regions import Regions

# The boundaries are simplified (about 60 m): a point in a sliver between two communes' outlines, or just
# over the province's edge, goes to the nearest commune within this distance (degrees; 0.01 ≈ 1 km).
NEAREST_WITHIN_DEG = 0.01


@dataclass(frozen=True)
class Located:
    commune_code: str
    name: str


class CommuneLocator:
    def __init__(self, regions: Regions) -> None:
        self._codes: list[str] = []
        self._names: list[str] = []
        shapes: list[BaseGeometry] = []
        for province in regions.provinces.values():
            if province.boundaries is None:
                continue
            features = json.loads(province.boundaries.read_text(encoding="utf-8"))["features"]
            for feature in features:
                code = str(feature["id"])
                if code in province.communes:
                    self._codes.append(code)
                    self._names.append(province.communes[code].name)
                    shapes.append(shape(feature["geometry"]))
        self._shapes = shapes
        self._tree = STRtree(shapes)

    def __bool__(self) -> bool:
        return bool(self._codes)

    def commune_at(self, lat: float, lon: float) -> Located | None:
        """The commune the point lies in (or the nearest one within about a kilometre), or None."""
        point = Point(lon, lat)
        inside = self._tree.query(point, predicate="within")  # the point within each candidate's shape
        if len(inside) == 0:
            inside = self._tree.query(point, predicate="dwithin", distance=NEAREST_WITHIN_DEG)
        if len(inside) == 0:
            return None
        index = min(inside, key=lambda i: self._shapes[i].distance(point))
        return Located(self._codes[index], self._names[index])

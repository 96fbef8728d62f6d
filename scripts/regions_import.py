"""Import the province's reference data from ``../shared/regions/`` into ``dokiem/regions/38/``.

Copies the lists as they are (renamed to dokiem's folder format) and writes a simplified copy of
the 166 commune boundaries for Grafana and the reports: rings repaired (some self-intersect in the
source: ``make_valid``), simplified to about 60 m, coordinates rounded to 5 decimals (about 1 m),
each feature's ``id`` and ``code`` the official code, ``name`` its name. Run it again when the
department's data changes; ``dokiem regions check FILE`` compares a list against the shipped one.

    python scripts/regions_import.py [--source ../shared/regions] [--tolerance 0.0006]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from pathlib import Path
from typing import Any

from shapely import make_valid, set_precision
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "dokiem" / "regions" / "38"
COPIED = {
    "thanh-hoa-districts.csv": "districts.csv",
    "thanh-hoa-communes-2025-03.csv": "communes-2025-03.csv",
    "thanh-hoa-communes-2025-07.csv": "communes-2025-07.csv",
    "thanh-hoa-merger-2025-07.csv": "merger-2025-07.csv",
}


def polygons_only(geometry: Any) -> MultiPolygon:
    """make_valid may return a collection with stray lines; keep the areas."""
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    if isinstance(geometry, MultiPolygon):
        return geometry
    if not hasattr(geometry, "geoms"):  # a stray line or point: no area
        return MultiPolygon()
    return MultiPolygon([g for part in geometry.geoms for g in polygons_only(part).geoms])


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value


def smaller(area: MultiPolygon, tolerance: float) -> MultiPolygon:
    """Simplified, snapped to a 1e-5° grid (about 1 m) and still valid."""
    return polygons_only(set_precision(area.simplify(tolerance, preserve_topology=True), 1e-5))


def simplify(source: Path, tolerance: float, names: dict[str, str], points: dict[str, Point]) -> dict[str, Any]:
    collection = json.loads(source.read_text(encoding="utf-8"))
    features = []
    for feature in collection["features"]:
        code = str(feature.get("id") or feature["properties"]["code"])
        area = polygons_only(make_valid(shape(feature["geometry"])))
        small = smaller(area, tolerance)
        if not small.contains(points[code]):  # the shipped point must stay inside its commune
            small = smaller(area, tolerance / 4)
        geometry = mapping(small)
        features.append({
            "type": "Feature", "id": code, "properties": {"code": code, "name": names[code]},
            "geometry": {"type": geometry["type"], "coordinates": rounded(geometry["coordinates"])},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": sorted(features, key=lambda f: f["id"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "regions")
    parser.add_argument("--tolerance", type=float, default=0.0006, help="degrees (0.0006 ≈ 60 m)")
    args = parser.parse_args()
    for name, target in COPIED.items():
        shutil.copyfile(args.source / name, TARGET / target)
    with (args.source / "thanh-hoa-communes-2025-07.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    names = {r["commune_code"]: r["name"] for r in rows}
    points = {r["commune_code"]: Point(float(r["lon"]), float(r["lat"])) for r in rows}
    simplified = simplify(args.source / "thanh-hoa-communes-2025-07.geojson", args.tolerance, names, points)
    out = TARGET / "communes-2025-07.geojson"
    out.write_text(json.dumps(simplified, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{out.relative_to(ROOT)}: {len(simplified['features'])} communes, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

"""Build the folders of every province since the 2025 reform into ``dokiem/regions/<code>/``.

Two public sources, joined on the official codes (both MIT; their licences are in
``dokiem/regions/LICENSES/``):

- units: thanglequoc/vietnamese-provinces-database, ``json/vn_only_simplified_json_generated_data_vn_units_*.json``
  (the statistics office's list as of Resolution 30/2026/QH16: codes, full names, the provinces' names);
- boundaries, areas and a point: lamngockhuong/vietnam-3d-map, ``public/wards/<province>.json`` (simplified
  polygons of the 3,321 units of 2025-07-01, ids equal to the codes).

Names are written once in one convention (NFC; the tone mark of an open "oa", "oe", "uy" on its first vowel
as the statistics office writes "Thanh Hóa", "Thủy"; the apostrophe a keyboard types). The units list is the
truth for codes (it corrects "Xã Ba Chẽ" to 06978); the boundaries' file is the 2025-07-01 list, so a unit
whose type or name changed since (Đồng Nai's ten new wards of 2026-04-30) is written to a later era's list,
``communes-<date>.csv``, and older results stay in the unit they were measured in. A province folder that
has richer data (``districts.csv``, the pre-reform list and the merger table: Thanh Hóa's, from
``scripts/regions_import.py``) keeps them; only its ``province.csv`` is rewritten.

    python scripts/regions_national.py --units FILE --boundaries DIR [--tolerance 0.0006]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from shapely import make_valid, unary_union
from shapely.geometry import MultiPolygon, Point, Polygon, mapping

sys.path.insert(0, str(Path(__file__).resolve().parent))
from regions_import import polygons_only, rounded, smaller

from dokiem.collation import normal_name

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "dokiem" / "regions"
KINDS = {"Xã": "xa", "Phường": "phuong", "Đặc khu": "dac_khu"}
WORDS = {kind: word for word, kind in KINDS.items()}
PROVINCE_KINDS = ("Tỉnh ", "Thành phố ")
# Resolution 30/2026/QH16 and 237/NQ-UBTVQH16 (Đồng Nai: a city, ten communes made wards), in force from
ERAS = {"75": "2026-04-30"}
COMMUNE_COLUMNS = ["commune_code", "name", "type", "lat", "lon", "area_km2"]


def kind_of(full_name: str) -> tuple[str, str]:
    """("xa", "An Nông") of "Xã An Nông"."""
    for word, kind in KINDS.items():
        if full_name.startswith(word + " "):
            return kind, full_name[len(word) + 1 :]
    raise ValueError(f"no unit type in {full_name!r}")


def codes_of(drawn: list[dict[str, Any]], current: dict[str, str]) -> list[tuple[dict[str, Any], str]]:
    """Each drawn unit with its code in the units list: its own id, or (where the list corrects a code) the
    listed code no drawing has whose name is the drawn unit's."""
    drawn_codes = {w["id"].zfill(5) for w in drawn}
    spare = {kind_of(n)[1]: c for c, n in current.items() if c not in drawn_codes}
    paired = []
    for ward in drawn:
        ward_code = ward["id"].zfill(5)
        if ward_code not in current:
            ward_code = spare.pop(normal_name(ward["name"]))
        paired.append((ward, ward_code))
    return paired


def shape_of(ward: dict[str, Any]) -> MultiPolygon:
    """The unit's area: its rings repaired one by one, then joined (parts of some touch or overlap)."""
    parts = [make_valid(Polygon(ring)) for ring in ward["polygons"] if len(ring) >= 4]
    return polygons_only(unary_union(parts))


def point_inside(ward: dict[str, Any], area: MultiPolygon) -> Point:
    """The source's centre where it lies inside the unit, else a point inside its largest part."""
    centre = Point(ward["center"])
    if area.contains(centre):
        return centre
    largest = max(area.geoms, key=lambda g: g.area)
    return largest.representative_point()


def province_names(full_name: str) -> tuple[str, str]:
    full = normal_name(full_name)
    short = next((full[len(k) :] for k in PROVINCE_KINDS if full.startswith(k)), full)
    return short, full


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build_province(unit: dict[str, Any], boundaries: Path, tolerance: float) -> str:
    code = unit["Code"]
    folder = TARGET / code
    folder.mkdir(exist_ok=True)
    short, full = province_names(unit["FullName"])
    write_csv(folder / "province.csv", ["province_code", "name", "full_name"],
              [{"province_code": code, "name": short, "full_name": full}])  # fmt: skip
    if (folder / "districts.csv").exists():  # a richer folder (its own lists and boundaries): names only
        return f"{code} {short}: kept its own lists"
    drawn = json.loads((boundaries / f"{code}.json").read_text(encoding="utf-8"))["wards"]
    current = {w["Code"]: normal_name(w["FullName"]) for w in unit["Wards"]}
    if len(drawn) != len(current):
        raise SystemExit(f"{code}: {len(drawn)} units drawn, {len(current)} listed: the sources disagree")
    rows_2025, rows_now, features = [], [], []
    for ward, ward_code in codes_of(drawn, current):
        name_now = current[ward_code]
        drawn_kind = KINDS[normal_name(ward["type"])]
        kind_now, own = kind_of(name_now)
        name_2025 = name_now if drawn_kind == kind_now else f"{WORDS[drawn_kind]} {own}"
        area = shape_of(ward)
        point = point_inside(ward, area)
        small = smaller(area, tolerance)
        if not small.contains(point):
            small = smaller(area, tolerance / 4)
        geometry = mapping(small)
        drawn_as = {"type": geometry["type"], "coordinates": rounded(geometry["coordinates"])}
        features.append({"type": "Feature", "id": ward_code, "properties": {"code": ward_code, "name": name_2025},
                         "geometry": drawn_as})  # fmt: skip
        base = {"commune_code": ward_code, "lat": round(point.y, 6), "lon": round(point.x, 6),
                "area_km2": ward["area"]}  # fmt: skip
        rows_2025.append({**base, "name": name_2025, "type": drawn_kind})
        rows_now.append({**base, "name": name_now, "type": kind_now})
    rows_2025.sort(key=lambda r: r["commune_code"])
    rows_now.sort(key=lambda r: r["commune_code"])
    write_csv(folder / "communes-2025-07.csv", COMMUNE_COLUMNS, rows_2025)
    changed = [r for r, old in zip(rows_now, rows_2025, strict=True) if r != old]
    if changed:
        era = ERAS[code]  # a change in the list without a known date stops the import: add its date above
        write_csv(folder / f"communes-{era}.csv", COMMUNE_COLUMNS, rows_now)
    collection = {"type": "FeatureCollection", "features": sorted(features, key=lambda f: f["id"])}
    (folder / "communes-2025-07.geojson").write_text(json.dumps(collection, ensure_ascii=False,
                                                                separators=(",", ":")), encoding="utf-8")  # fmt: skip
    size = (folder / "communes-2025-07.geojson").stat().st_size
    return f"{code} {short}: {len(rows_2025)} units, {len(changed)} changed since, boundaries {size:,} bytes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--units", type=Path, required=True, help="the units list (thanglequoc's vn_only_simplified JSON)"
    )
    parser.add_argument("--boundaries", type=Path, required=True, help="vietnam-3d-map's public/wards folder")
    parser.add_argument("--tolerance", type=float, default=0.0006, help="degrees (0.0006 ≈ 60 m)")
    args = parser.parse_args()
    for unit in json.loads(args.units.read_text(encoding="utf-8")):
        print(build_province(unit, args.boundaries, args.tolerance), flush=True)


if __name__ == "__main__":
    main()

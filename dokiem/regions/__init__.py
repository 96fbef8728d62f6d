"""Regions: province → district → commune, as data (one folder of CSV files per province).

``dokiem/regions/38/`` ships Thanh Hóa: ``province.csv``, ``districts.csv`` (GSO codes, a
point for each district, which were merged or abolished and when), ``communes.csv`` (the 549
communes under their districts before the 2025 reform) and ``communes-2025-07.csv`` (the 166
after it, codes to be confirmed). Another province drops in as another folder (here or in
``collector.regions_dir``) with no change to the code. The collector refuses a Result whose
site names a code that is not in these files.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SHIPPED = Path(__file__).resolve().parent


@dataclass(frozen=True)
class District:
    code: str
    name: str
    kind: str
    lat: float | None
    lon: float | None
    merged_into: str | None = None


@dataclass
class Province:
    code: str
    name: str
    districts: dict[str, District] = field(default_factory=dict)
    communes: dict[str, tuple[str, str]] = field(default_factory=dict)  # commune code -> (district code, name)


class UnknownRegion(ValueError):
    pass


class Regions:
    def __init__(self, provinces: Iterable[Province]) -> None:
        self.provinces = {p.code: p for p in provinces}

    @classmethod
    def load(cls, *folders: Path) -> Regions:
        """Every province folder under the shipped data and the given folders (later ones win)."""
        found: dict[str, Province] = {}
        for root in (SHIPPED, *folders):
            for folder in sorted(p for p in root.iterdir() if (p / "province.csv").exists()):
                province = _load_province(folder)
                found[province.code] = province
        return cls(found.values())

    @classmethod
    def for_config(cls, regions_dir: Path | None) -> Regions:
        """The shipped provinces plus those in ``collector.regions_dir`` (DOKIEM_COLLECTOR_REGIONS_DIR): what
        every command uses, so a province added there is ingested, enrolled, reported and mapped alike."""
        return cls.load(regions_dir) if regions_dir else cls.load()

    def check(self, province: str | None, district: str | None, commune: str | None) -> None:
        """Raise UnknownRegion when a given code is not known (or not inside its parent)."""
        if province is None:
            if district or commune:
                raise UnknownRegion("a district or commune code without a province code")
            return
        known = self.provinces.get(province)
        if known is None:
            raise UnknownRegion(f"province {province!r} is not in the region files")
        if district is not None and district not in known.districts:
            raise UnknownRegion(f"district {district!r} is not in province {province} ({known.name})")
        if commune is not None:
            place = known.communes.get(commune)
            if place is None:
                raise UnknownRegion(f"commune {commune!r} is not in province {province} ({known.name})")
            if district is not None and place[0] != district:
                raise UnknownRegion(f"commune {commune!r} lies in district {place[0]}, not {district}")

    def names(self, province: str | None, district: str | None, commune: str | None) -> tuple[str | None, str | None]:
        """The region files' names of a (checked) district and commune, None where unknown."""
        known = self.provinces.get(province or "")
        if known is None:
            return None, None
        place = known.districts.get(district or "")
        commune_place = known.communes.get(commune or "")
        return (place.name if place else None), (commune_place[1] if commune_place else None)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _float(value: str) -> float | None:
    return float(value) if value.strip() else None


def _load_province(folder: Path) -> Province:
    (head,) = _rows(folder / "province.csv")
    province = Province(code=head["province_code"], name=head["name"])
    for row in _rows(folder / "districts.csv"):
        province.districts[row["district_code"]] = District(
            code=row["district_code"], name=row["name"], kind=row["type"], lat=_float(row["lat"]),
            lon=_float(row["lon"]), merged_into=row.get("merged_into") or None,
        )  # fmt: skip
    for row in _rows(folder / "communes.csv"):
        province.communes[row["commune_code"]] = (row["district_code"], row["name"])
    for row in _rows(folder / "communes-2025-07.csv"):
        if row.get("commune_code"):
            province.communes[row["commune_code"]] = (row.get("former_district_code") or "", row["name"])
    return province

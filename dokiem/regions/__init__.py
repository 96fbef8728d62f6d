"""Regions: the provinces, their communes since the 2025 reform, and the former districts, as data.

One folder of files per province, named by its code (``dokiem/regions/<code>/`` ships all 34; more, or a
department's own, in ``collector.regions_dir``; ``collector.province`` chooses the one a server serves):
``province.csv`` (code, name, full name); ``communes-2025-07.csv`` (the units since 2025-07-01: code, name,
type, a point inside, area); ``communes-2025-07.geojson`` (their boundaries, simplified by
``scripts/regions_national.py``); ``communes-YYYY-MM-DD.csv`` (the list again from a later change in force
on that day: an era of its own, as the reform is). Where a source has them: ``districts.csv`` (the former
district-level units, with a point each); ``communes-2025-03.csv`` (the communes under their districts
before the reform); ``merger-2025-07.csv`` (which old units formed each new one). A province folder
without them has no former-district layer; one without the 2025 files keeps its pre-reform list.

Placing a site (``Regions.place``) reads its commune code in the era of the result's time: from
the reform date a code in the 2025 list is that unit and a code only in the old list is mapped
through the merger table; before it the old list applies (codes overlap: a new unit kept the code
of one unit merged into it). The former district of a 2025 unit that spans two is the one the
site declares, else the one that contributed most of its old units.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dokiem.collation import UNIT_TYPES
from dokiem.contract import LOCAL_TIME, Result, Site
from dokiem.regions.isps import spelling_key

SHIPPED = Path(__file__).resolve().parent
REFORM = datetime(2025, 7, 1, tzinfo=LOCAL_TIME)  # Resolution 202/2025/QH15: no district level from this day
WHOLE = frozenset({"Nhập toàn bộ", "Giữ nguyên", "Đổi loại hình"})  # the conversion table's "taken whole" notes
BOUNDARIES = "communes-2025-07.geojson"
FIRST_LIST = "communes-2025-07.csv"
LATER_LIST = re.compile(r"^communes-(\d{4})-(\d{2})-(\d{2})\.csv$")  # a change in force from that day


@dataclass(frozen=True)
class District:
    """A former district-level unit (huyện, thị xã, thành phố), kept for comparison with the plans."""

    code: str
    name: str
    kind: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Commune:
    """A commune-level unit since the reform; ``districts`` are its former districts, the one that
    contributed most of its old units first."""

    code: str
    name: str
    kind: str
    lat: float | None
    lon: float | None
    area_km2: float | None
    districts: tuple[str, ...]
    merged: tuple[str, ...]  # the old units' codes that formed it


@dataclass(frozen=True)
class OldCommune:
    """A commune-level unit before the reform and the unit(s) it went into."""

    code: str
    name: str
    kind: str
    district: str
    successors: tuple[str, ...] = ()
    whole_into: str | None = None  # the successor the conversion table says took it whole


@dataclass(frozen=True)
class Place:
    """A site as the collector files it: the 2025 commune and its former district, with names.
    ``declared`` is the pre-reform code the site gave when it was mapped; ``candidates`` the
    units a split old commune went into when none took it whole (then ``commune`` is None)."""

    province: str | None = None
    province_name: str | None = None
    district: str | None = None
    district_name: str | None = None
    commune: str | None = None
    commune_name: str | None = None
    declared: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.declared is not None and self.commune is None

    @classmethod
    def as_sent(cls, site: Site) -> Place:
        """The site's codes and names as the agent sent them, unchecked (when the region files no
        longer know a code that was accepted once)."""
        return cls(site.province_code, site.province_name, site.district_code, site.district_name,
                   site.commune_code, site.commune_name)  # fmt: skip

    @classmethod
    def as_sent_by(cls, result: Result) -> Place:
        return cls.as_sent(result.site)


@dataclass(frozen=True)
class Era:
    """A list of units in force from ``start`` until the next era's."""

    start: datetime
    communes: dict[str, Commune]
    starts_at: float = field(init=False)  # the start as a timestamp: each result's site is read in its era

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", self.start.timestamp())


@dataclass
class Province:
    code: str
    name: str  # as running text names it: "Thanh Hóa", "Hà Nội"
    folder: Path
    full_name: str = ""  # with its kind, as a title names it: "Tỉnh Thanh Hóa", "Thành phố Hà Nội"
    districts: dict[str, District] = field(default_factory=dict)
    communes: dict[str, Commune] = field(default_factory=dict)  # the units in force now (the last era's)
    old_communes: dict[str, OldCommune] = field(default_factory=dict)  # before the reform
    eras: list[Era] = field(default_factory=list)  # since the reform, oldest first

    @property
    def reformed(self) -> bool:
        return bool(self.communes)

    @property
    def in_text(self) -> str:
        """The full name as a sentence carries it: "tỉnh Thanh Hóa", "thành phố Hà Nội"."""
        return self.full_name[:1].lower() + self.full_name[1:] if self.full_name != self.name else self.name

    def era_at(self, at: datetime) -> int:
        """The index of the era in force at ``at``; -1 before the reform."""
        moment, n = at.timestamp(), len(self.eras)
        while n and moment < self.eras[n - 1].starts_at:
            n -= 1
        return n - 1

    @property
    def boundaries(self) -> Path | None:
        """The simplified commune boundaries (GeoJSON, feature id = commune code), if the folder has them."""
        path = self.folder / BOUNDARIES
        return path if path.exists() else None


class UnknownRegion(ValueError):
    pass


class UnknownProvince(UnknownRegion):
    """A province key no region folder has: what the server was told to serve does not exist."""

    def __init__(self, code: str, known: dict[str, Path]) -> None:
        listed = ", ".join(f"{c} {_province_head(folder)['name']}" for c, folder in sorted(known.items()))
        super().__init__(f"province {code!r} has no region folder; known: {listed}")
        self.code = code


def province_folders(*roots: Path) -> dict[str, Path]:
    """Each province's folder by its code, from the shipped data and then ``roots`` (a later one wins)."""
    found: dict[str, Path] = {}
    for root in (SHIPPED, *roots):
        for folder in sorted(p for p in root.iterdir() if (p / "province.csv").exists()):
            found[_province_head(folder)["province_code"]] = folder
    return found


def _folded(text: str) -> str:
    """Words of ``text`` as a person may type them: without diacritics (đ is d) or case, single spaces."""
    return " ".join("".join(spelling_key(ch) or " " for ch in word) for word in text.split()).strip()


_TYPES_FOLDED = tuple(_folded(t) + " " for t in UNIT_TYPES)


def _own_name(text: str) -> str:
    """ "hoang hoa" of "Xã Hoằng Hóa" (or of "xa hoang hoa"): folded, without the word for the unit's type."""
    folded = _folded(text)
    kind = next((t for t in _TYPES_FOLDED if folded.startswith(t)), "")
    return folded[len(kind) :]


def find_communes(province: Province, text: str) -> list[Commune]:
    """The 2025 units ``text`` names: a code, or a name with or without the word for its type and its diacritics
    ("hoang hoa", "Xã Hoằng Hóa", "Hoằng Hoá"); several where a ward and a commune share a name. When no name
    is that, the units with a word that begins so ("hac" finds "Phường Hạc Thành")."""
    if text.strip() in province.communes:
        return [province.communes[text.strip()]]
    wanted = _own_name(text)
    if not wanted:
        return []
    units = list(province.communes.values())
    exact = [u for u in units if _own_name(u.name) == wanted]
    if len(exact) > 1 and _folded(text) != wanted:  # the type was named too ("phường ..."): that type's unit
        exact = [u for u in exact if _folded(u.name) == _folded(text)] or exact
    return exact or [u for u in units if f" {wanted}" in f" {_folded(u.name)}"]


MAX_PLACES_KEPT = 100_000  # distinct site codes remembered before starting afresh (memory stays bounded)


class Regions:
    def __init__(self, provinces: Iterable[Province]) -> None:
        self.provinces = {p.code: p for p in provinces}
        # a site's place by its codes and era: the collector asks for each of thousands of results a second
        self._placed: dict[tuple[str | None, str | None, str | None, int], Place] = {}

    @classmethod
    def load(cls, *folders: Path, only: str | None = None) -> Regions:
        """Every province folder under the shipped data and the given folders (later ones win); with ``only``,
        that province's alone (UnknownProvince when no folder has it)."""
        found = province_folders(*folders)
        if only is not None and only not in found:
            raise UnknownProvince(only, found)
        chosen = [found[only]] if only is not None else found.values()
        return cls(load_province(folder) for folder in chosen)

    @classmethod
    def for_config(cls, regions_dir: Path | None, province: str | None = None) -> Regions:
        """What every command uses: the province of ``collector.province`` (DOKIEM_COLLECTOR_PROVINCE) alone, or
        without it every province (a national server), from the shipped folders and ``collector.regions_dir``
        (DOKIEM_COLLECTOR_REGIONS_DIR), so a province added there is ingested, enrolled, reported and mapped
        alike."""
        return cls.load(*([regions_dir] if regions_dir else []), only=province)

    def commune(self, code: str) -> tuple[Province, Commune] | None:
        """The 2025 commune of ``code`` and its province (None for a code no province has)."""
        return next(((p, p.communes[code]) for p in self.provinces.values() if code in p.communes), None)

    def place_site(self, site: Site, at: datetime | None = None) -> Place:
        return self.place(site.province_code, site.district_code, site.commune_code, at)

    def place(
        self, province: str | None, district: str | None, commune: str | None, at: datetime | None = None
    ) -> Place:
        """Where a site's codes put it at ``at`` (now if None); UnknownRegion when they name nothing."""
        when = at or datetime.now(LOCAL_TIME)
        known_province = self.provinces.get(province) if province else None
        era = known_province.era_at(when) if known_province else (0 if when >= REFORM else -1)
        key = (province, district, commune, era)
        if (known := self._placed.get(key)) is not None:
            return known
        if len(self._placed) >= MAX_PLACES_KEPT:
            self._placed.clear()
        placed = self._placed[key] = self._place(*key)
        return placed

    def _place(self, province: str | None, district: str | None, commune: str | None, era: int) -> Place:
        if province is None:
            if district or commune:
                raise UnknownRegion("a district or commune code without a province code")
            return Place()
        known = self.provinces.get(province)
        if known is None:
            raise UnknownRegion(f"province {province!r} is not in the region files")
        if district is not None and district not in known.districts:
            raise UnknownRegion(f"former district {district!r} is not in province {province} ({known.name})")
        base = Place(province=province, province_name=known.name)
        if commune is None:
            return _with_district(base, known, district)
        units = known.eras[max(era, 0)].communes if known.eras else {}
        if commune in units and (era >= 0 or commune not in known.old_communes):
            return _new_unit(base, known, units[commune], district)
        if commune in known.old_communes:
            return _old_unit(base, known, known.old_communes[commune], district)
        raise UnknownRegion(f"commune {commune!r} is in neither list of province {province} ({known.name})")


def _with_district(place: Place, province: Province, district: str | None) -> Place:
    name = province.districts[district].name if district else None
    return Place(place.province, place.province_name, district, name)


def _new_unit(place: Place, province: Province, unit: Commune, declared_district: str | None) -> Place:
    if declared_district is not None and unit.districts and declared_district not in unit.districts:
        raise UnknownRegion(
            f"commune {unit.code} ({unit.name}) lies in former district {', '.join(unit.districts)},"
            f" not {declared_district}"
        )
    district = declared_district or (unit.districts[0] if unit.districts else None)
    return Place(**{**_with_district(place, province, district).__dict__, "commune": unit.code,
                    "commune_name": unit.name})  # fmt: skip


def _old_unit(place: Place, province: Province, old: OldCommune, declared_district: str | None) -> Place:
    if declared_district is not None and declared_district != old.district:
        raise UnknownRegion(f"commune {old.code} ({old.name}) lay in district {old.district}, not {declared_district}")
    located = _with_district(place, province, old.district)
    if not province.reformed:  # no 2025 list for this province: the old unit is the unit
        return Place(**{**located.__dict__, "commune": old.code, "commune_name": old.name})
    successor = old.successors[0] if len(old.successors) == 1 else old.whole_into
    if successor is None:
        return Place(**{**located.__dict__, "declared": old.code, "candidates": old.successors})
    unit = province.communes[successor]
    return Place(**{**located.__dict__, "commune": unit.code, "commune_name": unit.name, "declared": old.code})


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _float(value: str | None) -> float | None:
    return float(value) if value and value.strip() else None


def _province_head(folder: Path) -> dict[str, str]:
    (head,) = _rows(folder / "province.csv")
    return head


def load_province(folder: Path) -> Province:
    head = _province_head(folder)
    province = Province(code=head["province_code"], name=head["name"], folder=folder,
                        full_name=head.get("full_name") or head["name"])  # fmt: skip
    for row in _rows(folder / "districts.csv"):
        province.districts[row["district_code"]] = District(
            code=row["district_code"], name=row["name"], kind=row["type"], lat=_float(row.get("lat")),
            lon=_float(row.get("lon")),
        )  # fmt: skip
    merger = _rows(folder / "merger-2025-07.csv")
    successors: dict[str, list[str]] = {}
    whole: dict[str, str] = {}
    shares: dict[str, Counter[str]] = {}
    merged: dict[str, list[str]] = {}
    for row in merger:
        successors.setdefault(row["old_code"], []).append(row["new_code"])
        if row["note"] in WHOLE:
            whole[row["old_code"]] = row["new_code"]
        shares.setdefault(row["new_code"], Counter())[row["old_district_code"]] += 1
        merged.setdefault(row["new_code"], []).append(row["old_code"])
    for row in _rows(folder / "communes-2025-03.csv"):
        code = row["commune_code"]
        province.old_communes[code] = OldCommune(
            code=code, name=row["name"], kind=row["type"], district=row["district_code"],
            successors=tuple(successors.get(code, ())), whole_into=whole.get(code),
        )  # fmt: skip
    first: dict[str, Commune] = {}
    for row in _rows(folder / FIRST_LIST):
        code = row["commune_code"]
        # ties (none in the shipped data) go to the lower code, so the rule gives one answer
        ranked = sorted(shares.get(code, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))
        first[code] = _commune(row, tuple(d for d, _ in ranked), tuple(merged.get(code, ())))
    if first:
        province.eras.append(Era(REFORM, first))
    for path in sorted(folder.glob("communes-*-*-*.csv")):
        if (day := LATER_LIST.match(path.name)) is None:
            continue
        before = province.eras[-1].communes if province.eras else {}
        later = {row["commune_code"]: _commune(row, before[c].districts if (c := row["commune_code"]) in before else (),
                                               before[c].merged if c in before else ())
                 for row in _rows(path)}  # fmt: skip
        year, month, date = (int(part) for part in day.groups())
        start = datetime(year, month, date, tzinfo=LOCAL_TIME)
        province.eras.append(Era(start, later))
    province.communes = province.eras[-1].communes if province.eras else {}
    return province


def _commune(row: dict[str, str], districts: tuple[str, ...], merged: tuple[str, ...]) -> Commune:
    return Commune(code=row["commune_code"], name=row["name"], kind=row["type"], lat=_float(row.get("lat")),
                   lon=_float(row.get("lon")), area_km2=_float(row.get("area_km2")), districts=districts,
                   merged=merged)  # fmt: skip

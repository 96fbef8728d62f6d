"""Every province of Vietnam (issue 34): the 34 provinces' units and boundaries load and agree with each other,
a change in a list is an era of its own, one key chooses the server's province, and nothing in the code names
the province the project started with."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from dokiem.collation import normal_name, unit_key
from dokiem.collector.config import configured_regions, load
from dokiem.contract import LOCAL_TIME
from dokiem.regions import SHIPPED, Regions
from dokiem.settings import ConfigError

Run = Callable[..., subprocess.CompletedProcess[str]]
REGIONS = Regions.load()
TYPE_WORDS = {"xa": "Xã ", "phuong": "Phường ", "dac_khu": "Đặc khu "}
PACKAGE = SHIPPED.parent


def test_the_34_provinces_load_with_their_3321_units_named_once_and_each_point_inside_its_boundary() -> None:
    assert len(REGIONS.provinces) == 34
    codes = [code for p in REGIONS.provinces.values() for code in p.communes]
    assert len(codes) == len(set(codes)) == 3321  # the statistics office's count since 2025-07-01
    for province in REGIONS.provinces.values():
        assert re.fullmatch(r"\d{2}", province.code) and province.full_name.endswith(province.name)
        assert province.boundaries is not None, province.name
        features = {f["id"]: f for f in json.loads(province.boundaries.read_text(encoding="utf-8"))["features"]}
        first = province.eras[0].communes  # the boundaries are those of 2025-07-01
        assert set(features) == set(first), province.name
        for unit in province.communes.values():
            assert re.fullmatch(r"\d{5}", unit.code), unit
            assert unit.name.startswith(TYPE_WORDS[unit.kind]) and unit.name == normal_name(unit.name), unit
            assert unit.area_km2 and unit.area_km2 > 0, unit
            boundary = shape(features[unit.code]["geometry"])
            assert boundary.contains(Point(unit.lon, unit.lat)), f"{province.name}: {unit.name}"


def test_names_from_either_convention_are_one_name() -> None:
    assert normal_name("Xã Hoằng Hoá") == normal_name("Xã Hoằng Hóa") == "Xã Hoằng Hóa"
    assert normal_name("Xã Sơn Thuỷ") == "Xã Sơn Thủy" and normal_name("Xã Quý Lộc") == "Xã Quý Lộc"
    assert normal_name("Phường B’Lao") == "Phường B'Lao" and normal_name("xã  Bắc Sơn") == "Xã Bắc Sơn"


def test_the_province_with_most_units_lists_them_in_vietnamese_order(run_dokiem: Run) -> None:
    most = max(REGIONS.provinces.values(), key=lambda p: len(p.communes))
    listed = run_dokiem("regions", "list", "--province", most.code)
    assert listed.returncode == 0, listed.stderr
    names = [line.split("\t")[1] for line in listed.stdout.splitlines()]
    assert names == sorted(names, key=unit_key) and len(names) == len(most.communes)
    provinces = run_dokiem("regions", "provinces")
    shown = [line.split("\t")[1] for line in provinces.stdout.splitlines()]
    assert len(shown) == 34 and shown[0] == "Tỉnh An Giang"  # by name, "Tỉnh"/"Thành phố" aside


def test_a_later_change_in_a_list_is_an_era_and_older_results_stay_in_their_unit() -> None:
    changed = [p for p in REGIONS.provinces.values() if len(p.eras) > 1]
    assert changed, "the shipped data has a change after 2025-07-01 (Đồng Nai, 2026-04-30)"
    province = changed[0]
    before, after = province.eras[-2], province.eras[-1]
    code = next(c for c, unit in after.communes.items() if before.communes[c].name != unit.name)
    day_before = after.start.replace(day=after.start.day - 1)
    assert REGIONS.place(province.code, None, code, day_before).commune_name == before.communes[code].name
    assert REGIONS.place(province.code, None, code, after.start).commune_name == after.communes[code].name
    assert province.communes[code] is after.communes[code]  # what reports and maps name now


def test_one_key_chooses_the_servers_province_and_a_wrong_one_is_refused_by_name(tmp_path: Path) -> None:
    chosen = max(REGIONS.provinces.values(), key=lambda p: sum(u.area_km2 or 0 for u in p.communes.values()))
    config = load(None, environ={"DOKIEM_COLLECTOR_PROVINCE": chosen.code, "DOKIEM_DATA_DIR": str(tmp_path)})
    assert list(configured_regions(config).provinces) == [chosen.code]
    national = load(None, environ={"DOKIEM_DATA_DIR": str(tmp_path)})
    assert len(configured_regions(national).provinces) == 34
    with pytest.raises(ConfigError) as refused:
        load(None, environ={"DOKIEM_COLLECTOR_PROVINCE": "99"})
    assert "DOKIEM_COLLECTOR_PROVINCE" in str(refused.value) and f"{chosen.code} {chosen.name}" in str(refused.value)
    with pytest.raises(ConfigError):
        load(None, environ={"DOKIEM_COLLECTOR_PROVINCE": "Thanh Hoa"})


def test_a_department_folder_replaces_the_shipped_province(tmp_path: Path) -> None:
    ours = REGIONS.provinces["01"]
    theirs = tmp_path / "regions" / "hn"
    theirs.mkdir(parents=True)
    (theirs / "province.csv").write_text("province_code,name,full_name\n01,Hà Nội,Thành phố Hà Nội\n", "utf-8")
    first = next(iter(ours.communes.values()))
    (theirs / "communes-2025-07.csv").write_text(
        f"commune_code,name,type,lat,lon,area_km2\n{first.code},{first.name},{first.kind},{first.lat},{first.lon},1\n",
        "utf-8",
    )
    regions = Regions.for_config(tmp_path / "regions", "01")
    assert list(regions.provinces["01"].communes) == [first.code] and regions.provinces["01"].boundaries is None
    placed = regions.place("01", None, first.code, datetime(2026, 1, 1, tzinfo=LOCAL_TIME))
    assert placed.commune_name == first.name and placed.district is None


SCANNED = (".py", ".js", ".html", ".css", ".toml", ".md")


def test_nothing_in_the_code_names_one_province() -> None:
    """Only the data (regions/<code>/, the operators' spellings) and the example letterhead may name one."""
    found = []
    for path in PACKAGE.rglob("*"):
        if path.suffix not in SCANNED or ("regions" in path.relative_to(PACKAGE).parts[:1] and path.suffix == ".md"):
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (r"Thanh H[oó]", r"THANH H", r"\"38\"", r"regions/38"):
            found += [f"{path.relative_to(PACKAGE)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    allowed = {"regions/__init__.py"}  # its docstrings' examples of a name's two forms
    assert [f for f in found if f.split(":")[0] not in allowed] == []


def test_only_the_units_far_out_at_sea_are_set_apart_for_an_inset() -> None:
    """The report's and the site's maps draw a province's far islands apart, so the mainland keeps its size:
    those and no other unit in all 34 provinces (a coastal island close in, Cát Bà, Phú Quốc, stays)."""
    from dokiem.regions.insets import split_far

    apart = {}
    for province in REGIONS.provinces.values():
        assert province.boundaries is not None
        features = json.loads(province.boundaries.read_text(encoding="utf-8"))["features"]
        near, far = split_far(features)
        assert len(near) + len(far) == len(features) and near
        if far:
            apart[province.name] = sorted(province.communes[f["id"]].name for f in far)
    assert apart == {"Hải Phòng": ["Đặc khu Bạch Long Vĩ"], "Hồ Chí Minh": ["Đặc khu Côn Đảo"],
                     "Khánh Hòa": ["Đặc khu Trường Sa"], "Đà Nẵng": ["Đặc khu Hoàng Sa"]}  # fmt: skip

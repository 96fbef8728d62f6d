"""Regions as data: Thanh Hóa shipped, another province dropped in, unknown codes refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.validate import Limits, Refusal, validate_result
from dokiem.contract import Site
from dokiem.regions import Regions, UnknownRegion
from tests.agentkit import make_result


def test_thanh_hoa_has_its_27_district_units_with_points() -> None:
    th = Regions.load().provinces["38"]
    assert th.name == "Thanh Hóa" and len(th.districts) == 27
    assert th.districts["389"].name == "Huyện Ngọc Lặc" and th.districts["389"].lat == pytest.approx(20.062)
    assert th.districts["405"].merged_into == "380"
    assert all(d.lat and d.lon for d in th.districts.values())
    assert len(th.communes) == 549 and th.communes["14755"] == ("380", "Phường Hàm Rồng")


def test_codes_are_checked_against_their_parents() -> None:
    regions = Regions.load()
    regions.check("38", "380", "14755")
    regions.check("38", None, None)
    regions.check(None, None, None)
    for codes in (
        ("01", None, None),
        ("38", "383", None),
        ("38", "381", "14755"),
        ("38", None, "99999"),
        (None, "380", None),
    ):
        with pytest.raises(UnknownRegion):
            regions.check(*codes)


def test_another_province_drops_in_without_code_changes(tmp_path: Path) -> None:
    folder = tmp_path / "40"
    folder.mkdir()
    (folder / "province.csv").write_text("province_code,name\n40,Nghệ An\n", encoding="utf-8")
    (folder / "districts.csv").write_text(
        "province_code,district_code,name,type,lat,lon,valid_until,merged_into\n"
        "40,412,Thành phố Vinh,Thành phố,18.67,105.68,,\n", encoding="utf-8",
    )  # fmt: skip
    regions = Regions.load(tmp_path)
    regions.check("40", "412", None)
    assert "38" in regions.provinces  # the shipped one stays


def test_a_result_with_an_unknown_code_is_refused() -> None:
    bad = make_result().model_copy(update={"site": Site(province_code="38", district_code="383")})
    with pytest.raises(Refusal) as info:
        validate_result("th-380-001", bad.to_json().encode(), Limits(), regions=Regions.load())
    assert info.value.reason == "unknown_region" and "383" in info.value.detail
    good = make_result().model_copy(update={"site": Site(province_code="38", district_code="380")})
    assert validate_result("th-380-001", good.to_json().encode(), Limits(), regions=Regions.load())

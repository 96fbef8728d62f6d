"""Regions as data, both eras: Thanh Hóa's 166 communes since 2025-07-01 and the 549 before, the
merger map between them, the former districts derived; another province dropped in; unknown codes
refused."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, shape

from dokiem.collector.validate import Limits, Refusal, validate_result
from dokiem.contract import Site
from dokiem.regions import REFORM, Regions, UnknownRegion
from testkit.agentkit import make_result

REGIONS = Regions.load()
TH = REGIONS.provinces["38"]
BEFORE = datetime(2025, 6, 30, 16, 59, 59, tzinfo=UTC)  # 23:59:59 on 30 June in Vietnam
AFTER = datetime(2025, 6, 30, 17, 0, tzinfo=UTC)  # 00:00 on 1 July in Vietnam
SPANNING = {"14812": ("381", "392"), "15448": ("394", "398"), "15853": ("380", "398"), "16369": ("404", "403"),
            "16516": ("382", "406")}  # fmt: skip


def test_thanh_hoa_both_eras_are_shipped() -> None:
    assert TH.name == "Thanh Hóa" and len(TH.districts) == 27
    assert TH.districts["389"].name == "Huyện Ngọc Lặc" and TH.districts["389"].lat == pytest.approx(20.062)
    assert all(d.lat and d.lon for d in TH.districts.values())
    assert len(TH.old_communes) == 549 and TH.old_communes["14755"].name == "Phường Hàm Rồng"
    assert len(TH.communes) == 166
    assert Counter(c.kind for c in TH.communes.values()) == {"xa": 147, "phuong": 19}
    assert sum(c.area_km2 or 0 for c in TH.communes.values()) == pytest.approx(11_114.78, abs=0.5)
    assert AFTER.astimezone(REFORM.tzinfo) == REFORM


def test_the_merger_map_covers_every_unit() -> None:
    fed = {old for c in TH.communes.values() for old in c.merged}
    assert len(fed) == 547 and all(c.merged and c.districts for c in TH.communes.values())
    # the two entries of the 2025-03 list no act names: accepted from an old archive, mapped nowhere
    assert set(TH.old_communes) - fed == {"16387", "16411"}
    split = {code for code, old in TH.old_communes.items() if len(old.successors) > 1}
    assert len(split) == 10 and "14758" in split
    spanning = {code: c.districts for code, c in TH.communes.items() if len(c.districts) > 1}
    assert spanning == SPANNING  # the majority former district first


def test_a_2025_code_is_that_unit_with_its_former_district() -> None:
    place = REGIONS.place("38", None, "14797", AFTER)
    assert (place.commune, place.commune_name, place.district, place.district_name, place.declared) == (
        "14797", "Phường Hạc Thành", "380", "Thành phố Thanh Hóa", None)  # fmt: skip
    assert REGIONS.place("38", None, "14758", AFTER).commune_name == "Phường Hàm Rồng"  # was Phường Đông Thọ


def test_a_pre_reform_code_is_mapped_to_its_2025_unit() -> None:
    place = REGIONS.place("38", None, "14755", AFTER)  # old Hàm Rồng, no longer a code of its own
    assert (place.commune, place.district, place.declared) == ("14758", "380", "14755")
    assert REGIONS.place("38", "380", "14755", AFTER).commune == "14758"  # the old three-part form


def test_codes_are_read_in_the_era_of_the_result() -> None:
    # 14797 was Phường Đông Hải until 30 June 2025 and is Phường Hạc Thành from 1 July
    before, after = REGIONS.place("38", None, "14797", BEFORE), REGIONS.place("38", None, "14797", AFTER)
    assert before.declared == "14797" and after.declared is None
    assert before.commune == after.commune == "14797"  # Đông Hải went whole into Hạc Thành
    # 14758 was Phường Đông Thọ, split between the new Hàm Rồng and Hạc Thành: no single 2025 unit
    split = REGIONS.place("38", None, "14758", BEFORE)
    assert split.ambiguous and split.commune is None and split.candidates == ("14758", "14797")
    assert split.district == "380"  # its former district is still known


def test_a_commune_spanning_two_former_districts() -> None:
    for code, (majority, other) in SPANNING.items():
        assert REGIONS.place("38", None, code, AFTER).district == majority
        assert REGIONS.place("38", other, code, AFTER).district == other  # the agent's declaration wins
    with pytest.raises(UnknownRegion, match="380, 398"):
        REGIONS.place("38", "392", "15853", AFTER)


def test_list_errors_are_accepted_but_never_placed() -> None:
    place = REGIONS.place("38", None, "16387", AFTER)
    assert place.ambiguous and place.candidates == () and place.district == TH.old_communes["16387"].district


@given(st.sampled_from(sorted(TH.old_communes)), st.sampled_from([BEFORE, AFTER]))
def test_every_old_code_lands_in_its_old_district(code: str, at: datetime) -> None:
    place = REGIONS.place("38", None, code, at)
    old = TH.old_communes[code]
    if place.declared is not None:  # read as the old unit
        assert place.district == old.district
        assert place.commune is None or place.commune in old.successors
        assert place.commune is None or place.district in TH.communes[place.commune].districts


def test_wrong_codes_are_refused_with_the_reason() -> None:
    REGIONS.place("38", None, None)
    assert REGIONS.place(None, None, None).province is None
    for codes, reason in (
        (("99", None, None), "province '99'"),
        (("38", "383", None), "former district '383'"),
        (("38", "381", "14755"), "lay in district 380, not 381"),
        (("38", None, "99999"), "neither list"),
        ((None, "380", None), "without a province"),
    ):
        with pytest.raises(UnknownRegion, match=reason):
            REGIONS.place(*codes, at=AFTER)


def test_another_province_drops_in_without_code_changes(tmp_path: Path) -> None:
    folder = tmp_path / "40"
    folder.mkdir()
    (folder / "province.csv").write_text("province_code,name\n40,Nghệ An\n", encoding="utf-8")
    (folder / "districts.csv").write_text(
        "province_code,district_code,name,type,lat,lon\n40,412,Thành phố Vinh,Thành phố,18.67,105.68\n",
        encoding="utf-8",
    )
    (folder / "communes-2025-03.csv").write_text(
        "province_code,district_code,commune_code,name,type\n40,412,16681,Phường Đông Vĩnh,Phường\n",
        encoding="utf-8",
    )
    regions = Regions.load(tmp_path)
    place = regions.place("40", None, "16681", AFTER)  # no 2025 files: the old list stays the list
    assert (place.commune, place.district, place.declared) == ("16681", "412", None)
    assert "38" in regions.provinces  # the shipped one stays


def test_a_result_with_an_unknown_code_is_refused() -> None:
    bad = make_result().model_copy(update={"site": Site(province_code="38", district_code="383")})
    with pytest.raises(Refusal) as info:
        validate_result("th-380-001", bad.to_json().encode(), Limits(), regions=REGIONS)
    assert info.value.reason == "unknown_region" and "383" in info.value.detail
    good = make_result().model_copy(update={"site": Site(province_code="38", commune_code="14797")})
    assert validate_result("th-380-001", good.to_json().encode(), Limits(), regions=REGIONS)


def test_every_commune_has_a_polygon_holding_its_point() -> None:
    path = TH.boundaries
    assert path is not None and path.stat().st_size < 1_000_000
    features = {f["id"]: f for f in json.loads(path.read_text(encoding="utf-8"))["features"]}
    assert set(features) == set(TH.communes)
    for code, commune in TH.communes.items():
        area = shape(features[code]["geometry"])
        assert area.is_valid and area.contains(Point(commune.lon, commune.lat)), code
        assert features[code]["properties"] == {"code": code, "name": commune.name}

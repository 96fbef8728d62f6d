"""Trust no participant beyond its own line (issue 26), against a real collector on real Mosquitto and
InfluxDB: the enrolled site is where a result is filed, operators come from the reference list, figures
must agree with each other, and no agent can flood the archive."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import aiomqtt
import pytest

from dokiem.collector.admission import runs_per_hour
from dokiem.collector.influx import radio_tags
from dokiem.collector.service import Collector
from dokiem.contract import Access, ErrorInfo, Flag, Radio, Result, Site, result_topic, utcnow
from dokiem.regions.isps import shipped_isps
from dokiem.series import Tag
from dokiem.status import ScheduleState, Status
from testkit.agentkit import make_result
from testkit.collectorkit import wait_stored

AGENT = "th-380-001"
ENROLLED = Site(province_code="38", commune_code="14797", isp="VNPT", access=Access.FIXED, plan_down_mbps=300)


async def _send(collector: Collector, *payloads: bytes, agent: str = AGENT) -> None:
    async with aiomqtt.Client("127.0.0.1", collector.config.broker.port) as client:
        for payload in payloads:
            await client.publish(result_topic(agent), payload, qos=1)


def _handled(collector: Collector) -> int:
    return collector.stats["accepted"] + collector.stats["duplicates"] + collector.stats["quarantined"]


async def test_a_result_is_filed_at_the_enrolled_site_whatever_the_agent_says(running: Collector) -> None:
    running.archive.registry.register(AGENT, ENROLLED.model_dump_json(exclude_none=True))
    elsewhere = Site(province_code="38", commune_code="16522", isp="Viettel", access=Access.MOBILE)
    lying = make_result(1).model_copy(update={"site": elsewhere})
    honest = make_result(2).model_copy(update={"site": Site(province_code="38", commune_code="14797", isp="vnpt")})
    await _send(running, lying.to_json().encode(), honest.to_json().encode())
    await wait_stored(running, lambda: running.archive.results.count() == 2)
    rows = {r["result_id"]: r for r in running.archive.results.query()}
    for result, flagged in ((lying, True), (honest, False)):
        row = rows[str(result.result_id)]
        assert row["filed"]["commune_code"] == "14797" and row["site"]["isp"] == "VNPT"
        assert row["site"]["access"] == "fixed"
        assert ("site_mismatch" in row["flags"]) is flagged
    assert running.archive.registry.site_of(AGENT) == json.loads(ENROLLED.model_dump_json(exclude_none=True))


@pytest.mark.parametrize(
    ("isp", "filed"),
    [("VNPT lừa đảo - gọi 0900.000.000", None), ("http://vnpt.example.com/", None), ("VNРТ", None),
     ("VN\u200dPT", "VNPT"), ("viettel telecom", "Viettel"), ("Tập đoàn Bưu chính Viễn thông Việt Nam", "VNPT")],
)  # fmt: skip
async def test_an_operator_is_filed_under_its_listed_name_or_refused(
    running: Collector, isp: str, filed: str | None
) -> None:
    result = make_result(3).model_copy(update={"site": Site(province_code="38", district_code="380", isp=isp)})
    await _send(running, result.to_json().encode())
    await wait_stored(running, lambda: _handled(running) == 1)
    if filed is None:
        assert running.archive.quarantine.counts() == {"unknown_isp": 1}
    else:
        (row,) = running.archive.results.query()
        assert row["site"]["isp"] == filed


def _consistent(mbps: float, seconds: float = 10.0) -> dict[str, Any]:
    return {"download_mbps": mbps, "bytes_down": round(mbps * 1e6 / 8 * seconds)}


def _with(result: Result, **changes: Any) -> bytes:
    data = json.loads(result.to_json())
    for key, value in changes.items():
        *parents, last = key.split(".")
        target = data
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    return json.dumps(data).encode()


async def test_figures_that_disagree_are_refused_each_by_its_rule(running: Collector) -> None:
    base = make_result(4).model_copy(update={"site": ENROLLED})
    now = utcnow()
    cases = {
        "bytes_down 10 at 1,000 Mbit/s": _with(base, download_mbps=1000.0, bytes_down=10),
        "19,999 Mbit/s whose samples are all 0.1": _with(base, **_consistent(19_999.0), samples_down_mbps=[0.1] * 20),
        "a zero-length run": _with(base, finished_at=base.started_at.isoformat()),
        "a speed without its bytes": _with(base, bytes_down=None),
        "a failed run carrying a speed": _with(base, error={"code": "timeout", "message": "x"}),
        "a plan of 0": _with(base, **{"site.plan_down_mbps": 0}),
        "a plan of 0.001": _with(base, **{"site.plan_down_mbps": 0.001}),
        "700 days back": _with(base, started_at=(now - timedelta(days=700)).isoformat(),
                               finished_at=(now - timedelta(days=700, seconds=-20)).isoformat()),
    }  # fmt: skip
    expected = {"inconsistent": 5, "schema": 2, "too_old": 1}
    await _send(running, *cases.values())
    await wait_stored(running, lambda: _handled(running) == len(cases))
    assert running.archive.quarantine.counts() == expected
    assert running.archive.results.count() == 0
    reasons = {kept.detail for kept in running.archive.quarantine.listed()}
    assert any("samples average" in r for r in reasons) and any("without the bytes" in r for r in reasons)


async def test_a_speed_far_above_the_plan_is_kept_and_flagged(running: Collector) -> None:
    site = ENROLLED.model_copy(update={"plan_down_mbps": 10.0})
    running.archive.registry.register(AGENT, site.model_dump_json(exclude_none=True))
    fast = make_result(5).model_copy(update={"site": site, **_consistent(19_000.0)})
    await _send(running, fast.to_json().encode())
    await wait_stored(running, lambda: running.archive.results.count() == 1)
    (row,) = running.archive.results.query()
    assert Flag.ABOVE_PLAN.value in row["flags"]  # the report leaves it out of every figure and ratio


async def test_an_agent_cannot_send_beyond_its_schedule(running: Collector) -> None:
    schedule = ScheduleState(interval_minutes=60, light_interval_minutes=15, international_interval_minutes=360)
    running.archive.registry.record_status(Status(state="online", agent_id=AGENT, schedule=schedule))
    allowed = runs_per_hour(Status(state="online", agent_id=AGENT, schedule=schedule), unscheduled=1)
    hour = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    flood = []
    for n in range(allowed + 25):
        result = make_result(n)
        start = hour + timedelta(seconds=n)
        flood.append(result.model_copy(update={"started_at": start, "finished_at": start + timedelta(seconds=20)}))
    await _send(running, *(r.to_json().encode() for r in flood))
    await wait_stored(running, lambda: _handled(running) == len(flood))
    assert running.archive.results.count() == allowed
    assert running.archive.quarantine.counts() == {"rate": 25}
    await _send(running, flood[0].to_json().encode())  # a duplicate of an archived one: a no-op, not a flood
    await wait_stored(running, lambda: _handled(running) == len(flood) + 1)
    assert running.archive.quarantine.counts() == {"rate": 25} and running.stats["duplicates"] == 1
    later = make_result(999)  # the next hour is the agent's again
    assert later.started_at > hour + timedelta(hours=1)
    await _send(running, later.to_json().encode())
    await wait_stored(running, lambda: running.archive.results.count() == allowed + 1)


def test_an_agent_without_a_schedule_gets_the_unscheduled_rate() -> None:
    assert runs_per_hour(None, unscheduled=12) == 12
    idle = ScheduleState(interval_minutes=0, light_interval_minutes=0, international_interval_minutes=0)
    assert runs_per_hour(Status(state="online", agent_id=AGENT, schedule=idle), unscheduled=12) == 12
    hourly = ScheduleState(interval_minutes=60, light_interval_minutes=0, international_interval_minutes=0)
    assert runs_per_hour(Status(state="online", agent_id=AGENT, schedule=hourly), unscheduled=12) == 2 * 2 + 4


def test_the_reference_list_names_the_mobile_operators_by_network_code() -> None:
    codes = {isp.mccmnc: isp.name for isp in shipped_isps().all if isp.mccmnc}
    assert {"452-01": "MobiFone", "452-02": "VinaPhone", "452-04": "Viettel", "452-05": "Vietnamobile"}.items() <= (
        codes.items()
    )


def test_a_failed_result_of_the_agent_carries_no_speed() -> None:
    from dokiem.collector.validate import check_figures

    failed = make_result(6).model_copy(update={"error": ErrorInfo(code="timeout", message="x")})
    with pytest.raises(Exception, match="carries a speed"):
        check_figures(failed)


def test_one_bad_radio_reading_drops_that_reading_alone() -> None:
    """A modem that says RSRP +50 (or NaN) keeps its network, technology and other readings (issue 38)."""
    fields = {"technology": "4g", "operator_code": "452-04", "rsrp_dbm": 50.0, "rsrq_db": -11.0,
              "sinr_db": float("nan"), "band": "B3"}  # fmt: skip
    radio = Radio.read_as(fields)
    assert (radio.technology, radio.operator_code, radio.rsrq_db, radio.band) == ("4g", "452-04", -11.0, "B3")
    assert radio.rsrp_dbm is None and radio.sinr_db is None
    assert radio.missing is not None and "rsrp_dbm" in radio.missing and "sinr_db" in radio.missing
    assert Radio.read_as({"technology": "4g", "rsrp_dbm": -90.0}).missing is None


def test_the_operator_tag_is_the_reference_lists_name_never_the_modems_text() -> None:
    hostile = "<img src=x onerror=alert(1)>"
    known = Radio(technology="4g", operator_code="452-04", operator_name=hostile)  # type: ignore[arg-type]
    unknown = Radio(technology="4g", operator_code="452-99", operator_name=hostile)  # type: ignore[arg-type]
    assert radio_tags(known)[Tag.OPERATOR] == "Viettel"
    assert radio_tags(unknown)[Tag.OPERATOR] == "452-99"
    assert radio_tags(Radio(technology="4g", operator_name=hostile))[Tag.OPERATOR] is None  # type: ignore[arg-type]

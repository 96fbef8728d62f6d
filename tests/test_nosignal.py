"""Residents' "no signal" reports (issue 31): made on the residents' page in Chromium where there is no network,
kept in the browser and sent once it is back; filed at the collector's door as a cell, never a point; each
bad report refused with its reason and counted; a cell shown only from three senders on two days, apart from
the surveys, in the report, the site and its open data."""

from __future__ import annotations

import asyncio
import csv
import http.client
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dokiem.collector.archive import FiledReport
from dokiem.collector.residents import TURNED_AWAY
from dokiem.collector.service import Collector
from dokiem.collector.validate import Reason
from dokiem.contract import LOCAL_TIME
from dokiem.i18n import Translator
from dokiem.nosignal import Failure, NoSignalReport
from dokiem.regions import Regions
from dokiem.reports.build import FORMATS, read_figures, write_report
from dokiem.reports.coverage import reported_cells
from dokiem.reports.opendata import Licence
from dokiem.reports.publish import publish_site
from dokiem.reports.quarterly import Quarter
from dokiem.thresholds import load_thresholds
from testkit.brokers import Broker
from testkit.browser import Phone, browser
from testkit.collectorkit import collector_config, collector_running
from testkit.residentkit import commune_points, residents_section

RULES = load_thresholds().coverage
REGIONS = Regions.load(only="38")  # the department of these tests serves province 38
CODE, (LAT, LON) = next(iter(commune_points().items()))
POINT = (LAT + 0.0000321, LON - 0.0000187)  # a few metres off the commune's point: digits of its own
CELL = h3.latlng_to_cell(*POINT, RULES.cell_resolution)
SERVICE_LOGGERS = ("dokiem", "aiohttp")


@pytest.fixture
async def door(
    tmp_path: Path, broker: Broker, test_point: str, server_key: Ed25519PrivateKey
) -> AsyncIterator[Collector]:
    residents = residents_section(tmp_path, server_key, test_point, per_address_per_hour=1000, max_per_second=1000)
    async with collector_running(collector_config(tmp_path, broker, None).model_copy(
            update={"residents": residents})) as collector:  # fmt: skip
        yield collector


def _report(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"report_id": str(uuid.uuid4()), "made_at": datetime.now(UTC).isoformat(),
                            "operator": "Viettel", "failure": "no_signal", "cell": CELL, "accuracy_m": 15.0,
                            "consent": True}  # fmt: skip
    return {**body, **changes}


def _post(collector: Collector, body: bytes, source: str = "127.0.0.1") -> tuple[int, dict[str, Any]]:
    """POST /do/report from the loopback address ``source`` (each its own sender)."""
    host, port = collector.config.http.listen.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        connection.request("POST", "/do/report", body, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")
    finally:
        connection.close()


async def _send(collector: Collector, body: dict[str, Any] | bytes, source: str = "127.0.0.1") -> tuple[int, str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, answer = await asyncio.to_thread(_post, collector, raw, source)
    return status, str(answer.get("error", answer.get("commune_code")))


async def test_a_report_is_filed_as_its_cell_once_however_often_it_comes(door: Collector) -> None:
    report = _report()
    assert await _send(door, report) == (200, CODE)
    assert await _send(door, report) == (409, "duplicate")  # the page sent it again: the same report
    rows = list(door.archive.nosignal.rows(datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(
        days=1), datetime.now(UTC) + timedelta(days=1)))  # fmt: skip
    assert [(r[2], r[3], r[4], r[5]) for r in rows] == [(CODE, CELL, "Viettel", "no_signal")]
    assert [q.reason for q in door.archive.quarantine.listed()] == [Reason.DUPLICATE.value]


HANOI = h3.latlng_to_cell(21.0285, 105.8542, RULES.cell_resolution)
REFUSED = {  # what, body, answer, reason
    "outside the province": (_report(cell=HANOI), 422, "outside"),
    "accuracy 500 m": (_report(accuracy_m=500.0), 422, "inaccurate"),
    "30 days old": (_report(made_at=(datetime.now(UTC) - timedelta(days=30)).isoformat()), 422, "too_old"),
    "made tomorrow": (_report(made_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()), 422, "in_future"),
    "a fixed-line ISP": (_report(operator="FPT"), 422, "unknown_isp"),
    "not an operator": (_report(operator="Nobody"), 422, "unknown_isp"),
    "a coarser cell": (_report(cell=h3.cell_to_parent(CELL, 6)), 422, "not_a_cell"),
    "no cell at all": (_report(cell="8f0000000000000"), 422, "not_a_cell"),
    "the point itself": (_report(lat=POINT[0], lon=POINT[1]), 422, "schema"),
    "without consent": (_report(consent=False), 422, "schema"),
    "a failure not offered": (_report(failure="everything"), 422, "schema"),
    "no time zone": (_report(made_at=datetime.now(UTC).replace(tzinfo=None).isoformat()), 422, "schema"),
    "not JSON": (b"\xff{", 422, "not_json"),
    "a list": (b"[1, 2]", 422, "schema"),
    "70 KB": (json.dumps(_report(pad="x" * 70_000)).encode(), 422, "too_large"),
}


async def test_a_bad_report_is_refused_with_its_reason_counted_and_kept(door: Collector) -> None:
    for what, (body, status, reason) in REFUSED.items():
        assert await _send(door, body) == (status, reason), what
    kept = [q.reason for q in door.archive.quarantine.listed()]
    assert sorted(kept) == sorted(reason for _, _, reason in REFUSED.values())
    assert door.archive.nosignal.count() == 0
    assert door.stats["quarantined"] == len(REFUSED)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(sorted(_report())), st.none() | st.booleans() | st.integers()
                            | st.floats(allow_nan=False) | st.text(max_size=40), max_size=8))  # fmt: skip
async def test_whatever_a_report_holds_it_is_filed_or_refused_by_name(door: Collector, body: dict[str, Any]) -> None:
    status, reason = await _send(door, _report() | body)
    assert (status, reason) == (200, CODE) or (status in (409, 422) and reason in {r.value for r in Reason})


async def _senders_on(door: Collector, day: datetime, addresses: range, reports_each: int = 1) -> None:
    door.clock = lambda: day.timestamp()
    for n in addresses:
        for _ in range(reports_each):
            made = day - timedelta(minutes=5)
            assert (await _send(door, _report(made_at=made.isoformat()), f"127.0.0.{n}"))[0] == 200


async def test_a_cell_is_shown_from_three_senders_on_two_days_and_not_from_one_sender(door: Collector) -> None:
    """Through the door: eight addresses (three or more of the 16 keyed buckets, but for once in a million) on
    two days show the cell; one address's reports on three days, however many, do not. The rule at its edge
    (three senders, two days) on the archive's rows."""
    first = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    await _senders_on(door, first, range(10, 14))
    await _senders_on(door, first + timedelta(days=1), range(14, 18))
    lone = _report(operator="MobiFone")["operator"]
    for day in range(3):
        door.clock = lambda d=day: (first + timedelta(days=d)).timestamp()  # type: ignore[misc]
        for _ in range(5):
            made = (first + timedelta(days=day) - timedelta(minutes=1)).isoformat()
            assert (await _send(door, _report(operator=lone, made_at=made), "127.0.0.99"))[0] == 200
    now = datetime.now(UTC)
    cells = {c.operator: c for c in reported_cells(door.archive.nosignal.rows(first - timedelta(days=1), now, now))}
    assert cells["Viettel"].shown(RULES) and cells["Viettel"].days == 2 and cells["Viettel"].senders >= 3
    assert not cells["MobiFone"].shown(RULES)
    assert (cells["MobiFone"].reports, cells["MobiFone"].senders, cells["MobiFone"].days) == (15, 1, 3)


def _rows(*pairs: tuple[int, int]) -> list[tuple[object, ...]]:
    """Report rows of one cell: (bucket, day) each."""
    base = int(datetime(2026, 10, 5, 9, tzinfo=LOCAL_TIME).timestamp() * 1000)
    return [(base, base + day * 86_400_000, CODE, CELL, "Viettel", "no_signal", bucket) for bucket, day in pairs]


@pytest.mark.parametrize(("pairs", "shown"), [
    (((1, 0), (2, 0), (3, 1)), True),  # three senders, two days
    (((1, 0), (2, 0), (2, 1)), False),  # two senders
    (((1, 0), (2, 0), (3, 0)), False),  # one day
    (((1, 0),) * 40 + ((1, 1),) * 40, False),  # one sender, however often
])  # fmt: skip
def test_the_rule_at_its_edge(pairs: tuple[tuple[int, int], ...], shown: bool) -> None:
    (cell,) = reported_cells(_rows(*pairs))
    assert cell.shown(RULES) is shown


async def test_a_report_past_its_retention_is_deleted(door: Collector) -> None:
    old = datetime.now(UTC) - timedelta(days=RULES.report_keep_days + 1)
    stale = NoSignalReport.model_validate(_report(made_at=old.isoformat()))
    assert door.archive.nosignal.add(FiledReport(stale, CODE, 1, old))
    assert await _send(door, _report()) == (200, CODE)
    assert door.archive.nosignal.count() == 1 and not door.archive.nosignal.has(str(stale.report_id))


async def test_reports_are_apart_in_the_report_the_site_and_open_data_and_hold_no_point(
    door: Collector, tmp_path: Path
) -> None:
    """Shown cells in the report's table and its CSV, on the site's coverage page (360 px, looked at) and in
    coverage_reported.csv, beside no survey; a cell one sender reported is in none of them."""
    made = datetime.now(UTC) - timedelta(days=1)
    await _senders_on(door, made, range(10, 18))
    door.clock = lambda: made.timestamp() + 86_400
    assert await _send(door, _report(made_at=made.isoformat()), "127.0.0.30") == (200, CODE)
    lonely = h3.latlng_to_cell(*commune_points()[sorted(commune_points())[7]], RULES.cell_resolution)
    assert (await _send(door, _report(cell=lonely, made_at=made.isoformat()), "127.0.0.31"))[0] == 200
    figures = read_figures(door.archive, Quarter.containing(made), load_thresholds())
    written = write_report(figures, FORMATS, tmp_path / "report", Translator("vi"), REGIONS)
    reported_csv = next(p for p in written if p.name.endswith("-coverage-reported.csv"))
    rows = list(csv.DictReader(reported_csv.open(encoding="utf-8")))
    assert [(r["operator"], r["commune_code"], r["cell"], r["reports"]) for r in rows] == [("Viettel", CODE, CELL, "9")]
    assert int(rows[0]["failure_no_signal"]) == 9 and int(rows[0]["failure_no_data"]) == 0
    site = tmp_path / "site"
    publish_site(door.archive, figures, REGIONS, site, Translator("vi"), Licence())
    published = list(csv.DictReader((site / "data" / "coverage_reported.csv").open(encoding="utf-8")))
    assert [(r["cell"], r["reports"], r["days"]) for r in published] == [(CELL, "9", "2")]
    assert list(csv.DictReader((site / "data" / "coverage.csv").open(encoding="utf-8"))) == []  # no survey
    page = (site / "coverage.html").read_text(encoding="utf-8")
    assert "Viettel: người dân báo mất sóng ở 1 ô" in page and CELL in page and lonely not in page
    driver = await asyncio.to_thread(browser, 360)
    try:
        await asyncio.to_thread(driver.get, (site / "coverage.html").as_uri())
        await asyncio.to_thread(driver.save_screenshot, str(tmp_path / "coverage-360.png"))
        await asyncio.to_thread(driver.execute_script, "window.scrollTo(0, document.body.scrollHeight)")
        await asyncio.to_thread(driver.save_screenshot, str(tmp_path / "coverage-list-360.png"))
    finally:
        await asyncio.to_thread(driver.quit)
    files = [p for p in [*written, *site.rglob("*")] if p.is_file()]
    _no_point_in(files)


def _no_point_in(files: list[Path], logged: str = "") -> None:
    for trace in (f"{POINT[0]:.4f}", f"{POINT[1]:.4f}"):
        assert trace not in logged
        assert not [p for p in files if trace.encode() in p.read_bytes()], trace


@pytest.mark.parametrize("width", [360])
async def test_a_report_made_offline_waits_and_arrives_once_the_network_is_back(
    tmp_path: Path, broker: Broker, test_point: str, server_key: Ed25519PrivateKey, width: int,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """In Chromium: the page kept by its service worker; the network cut (the page offline, the collector
    gone); the page reloaded without a network still works; a report made then waits, saying so; the
    collector back and the network with it, the report arrives, once, with its cell and never its point."""
    for logger in SERVICE_LOGGERS:
        caplog.set_level("DEBUG", logger=logger)
    residents = residents_section(tmp_path, server_key, test_point)
    config = collector_config(tmp_path, broker, None).model_copy(update={"residents": residents})
    phone = await asyncio.to_thread(Phone, f"http://{config.http.listen}/do/", width, POINT)
    try:
        async with collector_running(config):  # the first visit, online: the service worker keeps the page
            await asyncio.to_thread(phone.open)
            await asyncio.to_thread(phone.shot, tmp_path / f"form-{width}.png")
        await asyncio.to_thread(phone.network, False)
        await asyncio.to_thread(phone.reload)  # no network, no collector: the service worker's copy
        assert await asyncio.to_thread(phone.text, "report-title") == "Báo mất sóng di động"
        assert await asyncio.to_thread(phone.report, "Viettel", Failure.NO_DATA.value) == "report_waiting"
        assert await asyncio.to_thread(phone.waiting) == 1
        assert "sẽ gửi khi có mạng" in await asyncio.to_thread(phone.text, "report-note")
        await asyncio.to_thread(phone.shot, tmp_path / f"waiting-{width}.png")
        async with collector_running(config) as back:
            await asyncio.to_thread(phone.network, True)  # the phone back in coverage: the page sends
            await asyncio.to_thread(phone.wait_sent)
            assert await asyncio.to_thread(phone.text, "report-note") == "Đã gửi lời báo. Cảm ơn bạn!"
            await asyncio.to_thread(phone.shot, tmp_path / f"sent-{width}.png")
            now = datetime.now(UTC)
            rows = list(back.archive.nosignal.rows(now - timedelta(days=1), now, now))
            assert [(r[2], r[3], r[4], r[5]) for r in rows] == [(CODE, CELL, "Viettel", "no_data")]
            assert back.archive.quarantine.listed() == []
    finally:
        await asyncio.to_thread(phone.close)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(SERVICE_LOGGERS))
    assert logged  # the collector's log was captured
    _no_point_in([p for p in (tmp_path / "collector").rglob("*") if p.is_file()], logged)


async def test_a_handful_of_reports_an_hour_from_one_address_and_the_rest_turned_away(
    tmp_path: Path, broker: Broker, test_point: str, server_key: Ed25519PrivateKey
) -> None:
    """The door's hourly allowance per address holds for reports as for tests: past it, 429 by name, counted,
    nothing filed; another address is not held back by it."""
    residents = residents_section(tmp_path, server_key, test_point, per_address_per_hour=3)
    async with collector_running(collector_config(tmp_path, broker, None).model_copy(
            update={"residents": residents})) as collector:  # fmt: skip
        answers = [await _send(collector, _report(), "127.0.0.40") for _ in range(5)]
        assert answers == [(200, CODE)] * 3 + [(429, "too_many")] * 2
        assert await _send(collector, _report(), "127.0.0.41") == (200, CODE)
        assert collector.archive.nosignal.count() == 4
        assert collector.stats[TURNED_AWAY + "too_many"] == 2

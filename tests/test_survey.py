"""Coverage surveys (issue 30): where a mobile agent was and what network it had there, through the real parts.

ModemManager is python-dbusmock's template on a private bus with the ``Location`` (GNSS) interface added by
the test; gpsd is Debian's, fed a recorded NMEA route by ``gpsfake``; the broker, the collector and influxd
are real. A drive through three communes with no service in the middle one names that commune's cell a
coverage hole for the SIM's operator, and the first commune's centre as on 5G.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dokiem.agent.config import SurveySection, load
from dokiem.agent.measure import failed_result
from dokiem.agent.outbox import Kind, Outbox
from dokiem.agent.probes.position import GpsdLocation, ModemLocation, fix_time, gpsd_fix, modem_fix, nmea_accuracy
from dokiem.agent.probes.radio import ModemState, modem_state
from dokiem.agent.publisher import Publisher
from dokiem.agent.schedule import month_key
from dokiem.agent.state import AgentState
from dokiem.agent.survey import FixRules, Surveyor, speed_tester
from dokiem.collector.archive import REPORT_COLUMNS
from dokiem.collector.config import Limits
from dokiem.collector.config import load as load_collector
from dokiem.collector.locate import CommuneLocator
from dokiem.collector.service import Collector
from dokiem.collector.validate import Reason, Refusal, validate_survey
from dokiem.contract import LOCAL_TIME, ErrorCode, Radio, Result, Site, Technology
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.reports.build import FORMATS, read_figures, write_report
from dokiem.reports.coverage import coverage_cells, holes
from dokiem.reports.opendata import Licence
from dokiem.reports.publish import publish_site
from dokiem.reports.quarterly import Quarter, quarterly_figures
from dokiem.reports.tables import coverage_tables
from dokiem.survey import DropReason, Position, PositionSource, Registration, SurveyBatch, SurveySample
from dokiem.thresholds import load_thresholds
from testkit.agentkit import write_config
from testkit.brokers import running_broker
from testkit.collectorkit import collector_config, influx_rows
from testkit.influx import Influx
from testkit.modemmanager import HOME, SEARCHING, VINAPHONE_5G, ModemManagerMock, modemmanager, private_bus
from testkit.processes import DOKIEM, REPO, free_port, start_testserver

REGIONS = Regions.load(only="38")  # the department of these tests serves province 38
LOCATOR = CommuneLocator(REGIONS)
RULES = load_thresholds().coverage
# three communes of Thanh Hóa, each point inside its own boundary: the drive's stops
ROUTE = ("14797", "14758", "16522")  # Hạc Thành (5G at its centre), Hàm Rồng (no service), Quảng Phú (5G)
VINAPHONE = "452-02"
NOW = datetime.now(UTC)


def _point(code: str) -> tuple[float, float]:
    commune = REGIONS.provinces["38"].communes[code]
    assert commune.lat is not None and commune.lon is not None
    return commune.lat, commune.lon


def _position(lat: float, lon: float, at: datetime, accuracy: float = 8.0) -> Position:
    return Position(lat=lat, lon=lon, accuracy_m=accuracy, fix_at=at, source=PositionSource.GPSD)


def _sample(code: str, at: datetime, service: bool = True, accuracy: float = 8.0, **changes: object) -> SurveySample:
    lat, lon = _point(code)
    radio = Radio(technology=Technology.G5, operator_code=VINAPHONE, rsrp_dbm=-84.0) if service else None
    sample = SurveySample(at=at, position=_position(lat, lon, at, accuracy),
                          registration=Registration.HOME if service else Registration.SEARCHING,
                          sim_operator_code=VINAPHONE, radio=radio)  # fmt: skip
    return sample.model_copy(update=changes)


# --- the agent's rules for a fix ------------------------------------------------------------------------


def test_a_fix_is_dropped_and_counted_without_a_fix_when_inaccurate_stale_or_after_an_impossible_jump() -> None:
    rules = FixRules(RULES)
    lat, lon = _point(ROUTE[0])
    start = NOW - timedelta(minutes=5)
    assert rules.keep(_position(lat, lon, start), start) is not None
    assert rules.keep(None, start + timedelta(seconds=2)) is None
    assert (
        rules.keep(_position(lat, lon, start + timedelta(seconds=4), accuracy=300), start + timedelta(seconds=4))
        is None
    )
    assert rules.keep(_position(lat, lon, start - timedelta(minutes=10)), start + timedelta(seconds=6)) is None
    five_km_north = lat + 5 / 111.2
    later = start + timedelta(seconds=2)
    assert rules.keep(_position(five_km_north, lon, later), later) is None  # 5 km in 2 s
    a_minute = start + timedelta(seconds=60)
    assert rules.keep(_position(lat + 0.5 / 111.2, lon, a_minute), a_minute) is not None  # 500 m in a minute
    assert rules.total == {DropReason.NO_FIX: 1, DropReason.INACCURATE: 1, DropReason.STALE: 1, DropReason.JUMP: 1}


def test_the_modems_fix_reads_its_accuracy_from_nmea_and_its_day_from_the_clock() -> None:
    assert nmea_accuracy("$GPGGA,101500.00,,,,,1,09,0.9,12.0,M,,,,*00") == pytest.approx(9.0)
    assert nmea_accuracy("$GPGST,101500.00,1.2,3.0,4.0,0,3.0,4.0,5.0*00\r\n$GPGGA,1,,,,,1,09,0.9") == pytest.approx(10)
    assert nmea_accuracy("$GPGGA,101500.00,,,,,0,00,99.0,,M,,,,*00") is None  # no fix: no accuracy
    just_after_midnight = datetime(2026, 12, 7, 0, 0, 30, tzinfo=UTC)
    assert fix_time("235959.50", just_after_midnight) == datetime(2026, 12, 6, 23, 59, 59, 500000, tzinfo=UTC)
    assert fix_time("99x", just_after_midnight) is None
    answer = {2: ("a{sv}", {"latitude": ("d", 19.8), "longitude": ("d", 105.78), "utc-time": ("s", "000010.00")}),
              4: ("s", "$GPGGA,000010.00,,,,,1,09,1.2,3.0,M,,,,*00")}  # fmt: skip
    fix = modem_fix(answer, just_after_midnight)
    assert fix is not None and fix.accuracy_m == pytest.approx(12.0) and fix.fix_at.second == 10
    assert modem_fix({}, just_after_midnight) is None
    assert modem_fix({2: answer[2]}, just_after_midnight) is None  # a fix without its accuracy places nothing


def test_gpsds_report_gives_a_fix_only_with_one() -> None:
    tpv = {"class": "TPV", "mode": 3, "lat": 19.8, "lon": 105.78, "time": NOW, "eph": 7.5}
    fix = gpsd_fix(tpv)
    assert fix is not None and fix.accuracy_m == 7.5 and fix.source is PositionSource.GPSD
    assert gpsd_fix(tpv | {"mode": 1}) is None
    assert gpsd_fix({k: v for k, v in tpv.items() if k != "eph"}) is None
    assert gpsd_fix({k: v for k, v in tpv.items() if k != "eph"} | {"epx": 3.0, "epy": 4.0}).accuracy_m == 5.0  # type: ignore[union-attr]


# --- the collector's door ---------------------------------------------------------------------------------


def _payload(batch: SurveyBatch) -> bytes:
    return batch.to_json().encode()


def test_a_batch_is_placed_sample_by_sample_and_what_cannot_be_placed_is_counted() -> None:
    at = NOW - timedelta(hours=1)
    outside = _sample(ROUTE[0], at).model_copy(update={"position": _position(21.03, 105.85, at)})  # Hà Nội
    samples = [_sample(ROUTE[0], at), _sample(ROUTE[1], at, service=False), outside,
               _sample(ROUTE[2], NOW - timedelta(days=40)), _sample(ROUTE[2], NOW + timedelta(hours=1)),
               _sample(ROUTE[2], at, accuracy=300)]  # fmt: skip
    batch = SurveyBatch(agent_id="th-survey-1", samples=samples, dropped={DropReason.NO_FIX: 3})
    got, placed, dropped = validate_survey("th-survey-1", _payload(batch), Limits(), RULES, LOCATOR, NOW)
    assert got.survey_id == batch.survey_id and got.dropped == {DropReason.NO_FIX: 3}
    assert [(p.commune_code, p.cell) for p in placed] == [
        (code, h3.latlng_to_cell(*_point(code), RULES.cell_resolution)) for code in ROUTE[:2]
    ]
    assert dropped == {DropReason.OUTSIDE: 1, DropReason.TOO_OLD: 1, DropReason.IN_FUTURE: 1, DropReason.INACCURATE: 1}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [(b"{", Reason.NOT_JSON), (b'{"schema": "dokiem.survey/1"}', Reason.SCHEMA),
     (b" " * (Limits().max_survey_bytes + 1), Reason.TOO_LARGE)],
    ids=["not-json", "schema", "too-large"],
)  # fmt: skip
def test_a_bad_batch_is_refused_whole(payload: bytes, reason: Reason) -> None:
    with pytest.raises(Refusal) as refused:
        validate_survey("th-survey-1", payload, Limits(), RULES, LOCATOR, NOW)
    assert refused.value.reason is reason


def test_an_agent_cannot_send_another_agents_survey() -> None:
    batch = SurveyBatch(agent_id="th-survey-1", samples=[_sample(ROUTE[0], NOW)])
    with pytest.raises(Refusal) as refused:
        validate_survey("th-other", _payload(batch), Limits(), RULES, LOCATOR, NOW)
    assert refused.value.reason is Reason.TOPIC_MISMATCH


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180), accuracy=st.floats(0, 100_000),
       age=st.floats(-600, 86_400 * 60))  # fmt: skip
def test_every_sample_is_placed_or_counted_never_lost(lat: float, lon: float, accuracy: float, age: float) -> None:
    at = NOW - timedelta(seconds=age)
    sample = _sample(ROUTE[0], at).model_copy(update={"position": _position(lat, lon, at, accuracy)})
    batch = SurveyBatch(agent_id="th-survey-1", samples=[sample, _sample(ROUTE[0], NOW)])
    _, placed, dropped = validate_survey("th-survey-1", _payload(batch), Limits(), RULES, LOCATOR, NOW)
    assert len(placed) + sum(dropped.values()) == 2
    assert all(LOCATOR.commune_at(p.sample.position.lat, p.sample.position.lon) for p in placed)


# --- cells, classes, holes ---------------------------------------------------------------------------


def _rows(code: str, days: list[datetime], service: bool, rsrp: float = -84.0, per_day: int = 6) -> list[tuple]:
    cell = h3.latlng_to_cell(*_point(code), RULES.cell_resolution)
    return [("th-survey-1", int((day + timedelta(seconds=n)).timestamp() * 1000), code, cell, VINAPHONE,
             "home" if service else "searching", "5g" if service else None, rsrp if service else None, None)
            for day in days for n in range(per_day)]  # fmt: skip


def test_a_hole_needs_the_days_and_the_samples_and_a_weak_signal_is_no_broadband() -> None:
    one_day, two_days = [NOW - timedelta(days=3)], [NOW - timedelta(days=3), NOW - timedelta(days=2)]
    assert holes(coverage_cells(_rows(ROUTE[1], one_day, service=False, per_day=12), RULES), RULES) == []
    assert [c.commune_code for c in holes(coverage_cells(_rows(ROUTE[1], two_days, False), RULES), RULES)] == [ROUTE[1]]
    assert holes(coverage_cells(_rows(ROUTE[1], two_days, service=False, per_day=3), RULES), RULES) == []  # 6 samples
    weak = coverage_cells(_rows(ROUTE[1], two_days, service=True, rsrp=RULES.usable_rsrp_dbm - 5), RULES)
    assert [c.best.value for c in holes(weak, RULES)] == ["none"]
    assert holes(coverage_cells(_rows(ROUTE[1], two_days, service=True), RULES), RULES) == []


# --- the real parts: ModemManager's GNSS, gpsd, the broker, the collector, influxd ---------------------------


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[str]:
    with private_bus(tmp_path) as address:
        yield address


class Drive:
    """A drive's clock: each step a little later, as the car moves (the fixes carry the same time)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def step(self, seconds: float) -> str:
        self.now += timedelta(seconds=seconds)
        return self.now.strftime("%H%M%S.%f")[:9]


async def test_a_drive_through_three_communes_names_the_middle_one_a_hole_and_finds_5g_at_the_first(
    influx: Influx, bus: str, tmp_path: Path
) -> None:
    (tmp_path / "broker").mkdir()
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus
    try:
        with running_broker(tmp_path / "broker") as broker, modemmanager(bus) as mm:
            path = mm.add_modem(VINAPHONE_5G)
            mm.add_gnss(path, VINAPHONE.replace("-", ""))
            config = load(
                write_config(
                    tmp_path / "agent", broker.url, agent={"id": "th-survey-1", "data_dir": str(tmp_path / "data")}
                )
            )
            outbox = Outbox(tmp_path / "data" / "outbox.db")
            drive = Drive(NOW - timedelta(hours=2))
            position = ModemLocation(clock=drive)
            assert await position.prepare() is None
            surveyor = Surveyor("th-survey-1", SurveySection(), RULES, outbox, position,
                                modem=lambda: modem_state(), clock=drive)  # fmt: skip
            for stop, code in enumerate(ROUTE):
                lat, lon = _point(code)
                mm.network(path, None if stop == 1 else VINAPHONE_5G, SEARCHING if stop == 1 else HOME)
                drive.step(15 * 60)  # a quarter of an hour's drive to the next commune
                for n in range(14):
                    mm.move(path, lat + n * 2e-6, lon, drive.step(20))
                    assert await surveyor.sample() is not None
                mm.move(path, lat, lon, drive.step(1), hdop=40.0)  # 400 m: dropped, counted
                assert await surveyor.sample() is None
                surveyor.flush()
            assert outbox.depth() == 3 and {item.kind for item in outbox.oldest()} == {Kind.SURVEY}
            collector = Collector(collector_config(tmp_path, broker, influx))
            started = asyncio.Event()
            task = asyncio.create_task(collector.run(started))
            try:
                await asyncio.wait_for(collector.subscribed.wait(), 10)
                publisher = Publisher(config, outbox, AgentState(path=tmp_path / "state.json"), lambda _: None)
                assert await publisher.drain_once(20)
                series = await influx_rows(
                    collector,
                    influx,
                    'SELECT count("service") AS "n", sum("service") AS "on"'
                    ' FROM "coverage_survey" WHERE time > now() - 1d GROUP BY "commune"',
                )
            finally:
                task.cancel()
    finally:
        del os.environ["DBUS_SYSTEM_BUS_ADDRESS"]
    counted = {row["tags"]["commune"]: tuple(row["values"][0][1:]) for row in series}
    assert counted == {ROUTE[0]: (14, 14), ROUTE[1]: (14, 0), ROUTE[2]: (14, 14)}
    assert collector.archive.surveys.count() == 42
    rules = load_thresholds().model_copy(update={"coverage": RULES.model_copy(update={"hole_min_days": 1})})
    figures = read_figures(collector.archive, Quarter.containing(drive.now), rules)
    written = write_report(figures, FORMATS, tmp_path / "report", Translator("vi"), REGIONS)
    holes_csv = next(p for p in written if p.name.endswith("-coverage-holes.csv"))
    rows = list(csv.DictReader(holes_csv.open(encoding="utf-8")))
    assert [(r["operator"], r["commune_code"], r["samples"]) for r in rows] == [("VinaPhone", ROUTE[1], "14")]
    assert rows[0]["cell"] == h3.latlng_to_cell(*_point(ROUTE[1]), RULES.cell_resolution)
    assert any(p.name.endswith("-coverage-holes-vinaphone.csv") for p in written)
    centres = next(p for p in written if p.name.endswith("-coverage-centres.csv"))
    found = {r["commune_code"]: r["five_g"] for r in csv.DictReader(centres.open(encoding="utf-8"))}
    assert found == {ROUTE[0]: "Có", ROUTE[1]: "Chưa", ROUTE[2]: "Có"}
    site = tmp_path / "site"
    publish_site(collector.archive, figures, REGIONS, site, Translator("vi"), Licence())
    cells = list(csv.DictReader((site / "data" / "coverage.csv").open(encoding="utf-8")))
    assert {(r["commune_code"], r["best_class"], r["hole"]) for r in cells} == {
        (ROUTE[0], "5g", "False"),
        (ROUTE[1], "none", "True"),
        (ROUTE[2], "5g", "False"),
    }
    page = (site / "coverage.html").read_text(encoding="utf-8")
    assert "VinaPhone: 1 ô lõm sóng" in page and rows[0]["cell"] in page
    published = [
        p
        for p in [*written, *site.rglob("*")]
        if p.is_file() and p.suffix in (".csv", ".json", ".html", ".txt", ".docx")
    ]
    for code in ROUTE:  # cells only: no file anyone is given holds a point of the drive
        lat, lon = _point(code)
        for path in published:
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert f"{lat:.4f}" not in text and f"{lon:.4f}" not in text, path


def _nmea_route(path: Path, start: datetime) -> None:
    """A recorded drive as gpsfake replays it: RMC and GGA each second along Hạc Thành, the last fixes poor."""
    lat, lon = _point(ROUTE[0])
    lines = []
    for n in range(8):
        at = start + timedelta(seconds=n)
        hdop = 30.0 if n >= 5 else 0.9
        lat_nmea = f"{int(lat):02d}{(lat % 1) * 60 + n * 0.0005:07.4f}"
        lon_nmea = f"{int(lon):03d}{(lon % 1) * 60:07.4f}"
        body = [f"GPRMC,{at:%H%M%S}.00,A,{lat_nmea},N,{lon_nmea},E,20.0,0.0,{at:%d%m%y},,,A",
                f"GPGGA,{at:%H%M%S}.00,{lat_nmea},N,{lon_nmea},E,1,09,{hdop:.1f},12.0,M,0.0,M,,"]  # fmt: skip
        for sentence in body:
            checksum = 0
            for char in sentence:
                checksum ^= ord(char)
            lines.append(f"${sentence}*{checksum:02X}")
    path.write_text("\r\n".join(lines) + "\r\n")


@pytest.mark.skipif(shutil.which("gpsfake") is None, reason="gpsd-clients (gpsfake) is installed by the test command")
async def test_a_usb_gps_through_gpsd_places_samples_and_its_poor_fix_is_dropped(tmp_path: Path) -> None:
    route = tmp_path / "route.nmea"
    _nmea_route(route, NOW)
    port = free_port()
    fake = subprocess.Popen(["gpsfake", "-q", "-1", "-c", "0.3", "-P", str(port), str(route)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    gps = GpsdLocation("127.0.0.1", port)
    try:
        fixes: list[Position] = []
        for _ in range(100):  # gpsfake's gpsd takes a moment to listen; then a fix each 0.3 s
            if await gps.prepare() is None:
                break
            gps.close()
            gps = GpsdLocation("127.0.0.1", port)
            await asyncio.sleep(0.1)
        for _ in range(400):  # until the route's poor fixes have come through (gpsfake replays it once)
            fix = await gps.read()
            if fix is not None and (not fixes or fix != fixes[-1]):
                fixes.append(fix)
            if any(f.accuracy_m > RULES.max_accuracy_m for f in fixes):
                break
            await asyncio.sleep(0.05)
    finally:
        gps.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(fake.pid, signal.SIGKILL)  # gpsfake and the gpsd it started
        fake.wait(10)
    assert fixes, "gpsd gave no fix from the recorded route"
    assert all(f.source is PositionSource.GPSD and abs(f.lat - _point(ROUTE[0])[0]) < 0.01 for f in fixes)
    rules = FixRules(RULES)
    kept = [rules.keep(f, f.fix_at) for f in fixes]
    assert any(kept) and all(f.accuracy_m <= RULES.max_accuracy_m for f in kept if f)
    assert max(f.accuracy_m for f in fixes) > RULES.max_accuracy_m and rules.total[DropReason.INACCURATE] >= 1


def test_agent_survey_says_it_has_no_position_source_and_what_to_do(tmp_path: Path) -> None:
    config = write_config(tmp_path / "agent", "mqtt://127.0.0.1:1",
                          survey={"position": "gpsd", "gpsd": f"127.0.0.1:{free_port()}"})  # fmt: skip
    done = subprocess.run([*DOKIEM, "agent", "survey", "--config", str(config), "--duration", "2"],
                          capture_output=True, text=True, timeout=60, cwd=REPO)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Không có nguồn vị trí: gpsd:" in done.stderr and "Traceback" not in done.stderr


def _a_fix_now_at_the_first_stop(mm: ModemManagerMock) -> None:
    """A VinaPhone 5G modem with GNSS, its fix at the route's first commune, taken now."""
    path = mm.add_modem(VINAPHONE_5G)
    mm.add_gnss(path, "45202")
    mm.move(path, *_point(ROUTE[0]), f"{datetime.now(UTC):%H%M%S}.00")


def test_agent_survey_runs_for_its_duration_and_queues_the_samples(bus: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "agent", "mqtt://127.0.0.1:1", survey={"sample_seconds": 1, "position": "modem"})
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus}
    with modemmanager(bus) as mm:
        _a_fix_now_at_the_first_stop(mm)  # fresh through a 3 s survey
        done = subprocess.run([*DOKIEM, "agent", "survey", "--config", str(config), "--duration", "3",
                               "--send-timeout", "1"], capture_output=True, text=True, timeout=60, env=env,
                              cwd=REPO)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "GNSS của modem" in done.stderr and "Khảo sát xong" in done.stdout
    queued = Outbox(tmp_path / "agent" / "data" / "outbox.db").oldest()
    assert [item.kind for item in queued] == [Kind.SURVEY]
    batch = SurveyBatch.model_validate_json(queued[0].payload)
    assert batch.samples and all(s.sim_operator_code == VINAPHONE for s in batch.samples)
    assert json.loads(queued[0].payload)["agent_id"] == "th-380-001"
    uuid.UUID(str(batch.survey_id))


def test_a_survey_stopped_by_the_cars_power_keeps_its_samples(bus: str, tmp_path: Path) -> None:
    """``dokiem agent survey`` as dokiem-survey.service runs it (no duration), stopped by SIGTERM after its first
    sample: the batch in hand is in the outbox, and the command says what it did."""
    config = write_config(tmp_path / "agent", "mqtt://127.0.0.1:1", survey={"sample_seconds": 1, "position": "modem"})
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus}
    with modemmanager(bus) as mm:
        _a_fix_now_at_the_first_stop(mm)
        command = [*DOKIEM, "agent", "survey", "--config", str(config), "--send-timeout", "1"]
        survey = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        assert survey.stderr is not None
        said = []
        while not said or not said[-1].startswith("1 mẫu"):  # until the first sample is said (the broker is away)
            said.append(survey.stderr.readline())
            assert said[-1], said  # the command ended before its first sample
        survey.send_signal(signal.SIGTERM)
        out, err = survey.communicate(timeout=60)
    assert survey.returncode == 0, err
    assert "Khảo sát xong" in out and "Traceback" not in err
    (queued,) = Outbox(tmp_path / "agent" / "data" / "outbox.db").oldest()
    assert queued.kind is Kind.SURVEY and SurveyBatch.model_validate_json(queued.payload).samples


class StandingStill:
    """A position source at one commune's point, fixed at the survey's clock."""

    source = PositionSource.GPSD

    def __init__(self, code: str, clock: Drive) -> None:
        self.point, self.clock = _point(code), clock

    async def prepare(self) -> str | None:
        return None

    async def read(self) -> Position:
        return _position(*self.point, self.clock())

    def close(self) -> None:
        pass


async def _on_5g() -> ModemState:
    return ModemState(Registration.HOME, VINAPHONE, Radio(technology=Technology.G5, operator_code=VINAPHONE,
                                                          rsrp_dbm=-84.0))  # fmt: skip


async def test_a_short_speed_test_rides_on_a_sample_now_and_then_and_its_bytes_are_counted(tmp_path: Path) -> None:
    proc, url = start_testserver()
    try:
        config = load(write_config(tmp_path / "agent", "mqtt://127.0.0.1:1", measure={"servers": [url]},
                                   survey={"test_every_s": 60, "test_max_seconds": 1}))  # fmt: skip
        outbox = Outbox(tmp_path / "outbox.db")
        drive = Drive(NOW - timedelta(minutes=30))
        surveyor = Surveyor("th-380-001", config.survey, RULES, outbox, StandingStill(ROUTE[0], drive),
                            modem=_on_5g, clock=drive, tester=speed_tester(config))  # fmt: skip
        tested = await surveyor.sample()
        drive.step(5)
        untested = await surveyor.sample()
        drive.step(60)
        again = await surveyor.sample()
    finally:
        proc.terminate()
        proc.wait(10)
    assert tested is not None and tested.download_mbps and tested.upload_mbps and tested.latency_ms is not None
    assert untested is not None and untested.download_mbps is None  # not due: 5 s after, at the same place
    assert again is not None and again.download_mbps is not None and surveyor.tally.tests == 2
    assert outbox.usage(month_key(time.time())) > 0  # the tests' bytes, in the month's usage


async def test_a_test_that_gives_no_figure_leaves_the_sample_as_it_was_and_is_counted(tmp_path: Path) -> None:
    async def lost_the_network() -> Result:
        return failed_result("th-380-001", ErrorCode.CLOSED_MID_STREAM, "the modem lost its network mid-test", Site())

    drive = Drive(NOW - timedelta(minutes=30))
    surveyor = Surveyor("th-380-001", SurveySection(), RULES, Outbox(tmp_path / "outbox.db"),
                        StandingStill(ROUTE[0], drive), modem=_on_5g, clock=drive, tester=lost_the_network)  # fmt: skip
    sample = await surveyor.sample()
    assert sample is not None and sample.download_mbps is None and sample.registration is Registration.HOME
    assert (surveyor.tally.tests, surveyor.tally.tests_failed) == (1, 1)
    slow = RULES.sample_class(True, Technology.G5, -84.0, RULES.usable_mbps / 2)
    assert slow.value == "none"  # service, but too slow to use: no broadband there


def test_a_flood_of_survey_samples_is_refused_beyond_one_a_second_and_kept_in_the_quarantine(tmp_path: Path) -> None:
    """An agent sends more samples for one hour than one a second makes: the batch over it is refused whole
    (quarantined as a rate), the earlier ones stay, and a duplicate delivery is a no-op."""
    env = {"DOKIEM_BROKER_URL": "mqtt://127.0.0.1:1", "DOKIEM_DATA_DIR": str(tmp_path / "collector"),
           "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{free_port()}", "DOKIEM_API_TOKEN": "x" * 32}  # fmt: skip
    collector = Collector(load_collector(None, environ=env))
    hour = (NOW - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    at = [hour + timedelta(seconds=n / 2) for n in range(6 * 720)]  # two a second: twice what a survey makes
    batches = [SurveyBatch(agent_id="th-survey-1", samples=[_sample(ROUTE[0], t) for t in at[720 * b : 720 * (b + 1)]])
               for b in range(6)]  # fmt: skip
    topic = "dokiem/v1/th-survey-1/survey"
    collector.handle([(topic, _payload(b), lambda: None) for b in batches[:5]])
    assert collector.archive.surveys.count() == 3600  # five batches in the hour: one a second's worth
    collector.handle([(topic, _payload(batches[5]), lambda: None), (topic, _payload(batches[0]), lambda: None)])
    assert collector.archive.surveys.count() == 3600
    assert collector.archive.quarantine.counts() == {"rate": 1}
    assert collector.stats["duplicates"] == 1
    assert "dokiem_survey_samples_total 3600" in collector.metrics_text()
    collector.archive.surveys.mark_written([str(b.survey_id) for b in batches[:5]])
    assert collector.archive.surveys.pending(10) == []
    assert collector.archive.surveys.mark_for_reindex(hour - timedelta(hours=1)) == 5  # collector reindex
    assert [key for key, _ in collector.archive.surveys.pending(10)] == [str(b.survey_id) for b in batches[:5]]


def test_a_mobile_agent_at_the_commune_on_5g_is_evidence_of_its_centre_on_5g() -> None:
    """Where no car has surveyed, a mobile agent standing in the commune (at its People's Committee) that ran its
    tests over 5G says the centre has 5G from its operator; one over 4G, or failed, says nothing."""

    def row(commune: str, isp: str, technology: str, failed: bool, at: datetime) -> tuple[object, ...]:
        values = dict.fromkeys(REPORT_COLUMNS) | {
            "agent_id": f"th-{commune}-m", "started_ms": int(at.timestamp() * 1000), "province_code": "38",
            "commune_code": commune, "isp": isp, "access": "mobile", "technology": technology, "failed": int(failed),
            "download_mbps": None if failed else 180.0}  # fmt: skip
        return tuple(values[c] for c in REPORT_COLUMNS)

    last = NOW - timedelta(days=2)
    rows = [row(ROUTE[0], "VinaPhone", "5g", False, NOW - timedelta(days=5)),
            row(ROUTE[0], "VinaPhone", "5g", False, last), row(ROUTE[1], "Viettel", "4g", False, last),
            row(ROUTE[2], "VinaPhone", "5g", True, last)]  # fmt: skip
    figures = quarterly_figures(rows, [], Quarter.containing(NOW), load_thresholds())
    assert set(figures.agents_on_5g) == {(ROUTE[0], "VinaPhone")}
    (holes_table, centres, _), tr = coverage_tables(figures, Translator("vi"), REGIONS), Translator("vi")
    assert holes_table.rows == []
    assert [(r[1], r[2], r[4], r[7]) for r in centres.rows] == [
        (ROUTE[0], "VinaPhone", tr("cov_yes"), tr("cov_by_agent"))
    ]
    assert centres.rows[0][6] == last.astimezone(LOCAL_TIME).date().isoformat()

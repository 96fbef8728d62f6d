"""The mobile radio (issue 23): ModemManager read over D-Bus by the agent, the figures carried to InfluxDB
and the dashboards' radio panel. ModemManager is python-dbusmock's template on a private bus (Debian's
dbus-daemon); the test server, the broker, the collector and influxd are real."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dokiem.agent.messages import TEXTS as AGENT_TEXTS
from dokiem.agent.probes.radio import ModemManagerRadio
from dokiem.collector.service import Collector
from dokiem.contract import Flag, Radio, Result, Technology
from dokiem.grafana.dashboards import build_all
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.thresholds import load_thresholds
from testkit.agentkit import write_config
from testkit.brokers import running_broker
from testkit.collectorkit import collector_config, influx_rows
from testkit.influx import Influx
from testkit.modemmanager import LTE, NR5G, VIETTEL_4G, VINAPHONE_5G, Cell, modemmanager, private_bus
from testkit.pathlab import SERVER_IP, UPLINK_IP, PathShape, path_lab
from testkit.processes import DOKIEM, REPO

SENT = AGENT_TEXTS["once_sent"][0]  # what `agent once` says when the broker took the result


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[str]:
    with private_bus(tmp_path) as address:
        yield address


def _read(address: str) -> Radio:
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = address
    try:
        reader = ModemManagerRadio()
        asyncio.run(reader.prepare())
        return asyncio.run(reader.read())
    finally:
        del os.environ["DBUS_SYSTEM_BUS_ADDRESS"]


@pytest.mark.parametrize("cell", [VIETTEL_4G, VINAPHONE_5G], ids=["4G", "5G"])
def test_a_modem_is_read_with_its_network_signal_and_cell(bus: str, cell: Cell) -> None:
    with modemmanager(bus) as mm:
        path = mm.add_modem(cell)
        assert mm.signal_rate(path) == 0
        radio = _read(bus)
        assert mm.signal_rate(path) > 0  # sampling was switched on before the run, as ModemManager needs
    want = Technology.G5 if cell.access_technologies & NR5G else Technology.G4
    assert radio.technology is want
    assert radio.operator_code == f"{cell.operator_code[:3]}-{cell.operator_code[3:]}"
    assert radio.operator_name == cell.operator_name
    band = f"n{cell.band - 300}" if cell.band > 300 else f"B{cell.band - 30}"
    assert radio.band == band
    assert (radio.rsrp_dbm, radio.rsrq_db, radio.sinr_db) == (cell.rsrp, cell.rsrq, cell.snr)
    assert (radio.cell_id, radio.area_code) == (cell.ci, cell.tac)
    assert radio.missing is None


def test_without_a_modem_or_modemmanager_or_a_bus_the_radio_says_why(bus: str, tmp_path: Path) -> None:
    assert _read(bus).missing == "ModemManager is not running"
    with modemmanager(bus):
        assert _read(bus).missing == "ModemManager sees no modem"
    gone = _read(f"unix:path={tmp_path / 'no-bus'}")
    assert gone.technology is None and gone.missing.startswith("no system D-Bus")


def test_a_modem_not_on_a_network_says_so(bus: str) -> None:
    with modemmanager(bus) as mm:
        mm.add_modem(Cell(0, "", "", 0, rsrp=-140.0, rsrq=-20.0, snr=-5.0))
        radio = _read(bus)
    assert radio.technology is None and radio.missing == "the modem is not registered on a network"


TESTSERVER = f"http://{SERVER_IP}:8080/"


def _radio_query() -> str:
    """The province dashboard's radio panel's query, as Grafana sends it for the last hour."""
    tr = Translator("vi")
    board = build_all(tr, load_thresholds(), Regions.load())["province"]
    (panel,) = [p for p in board["panels"] if p["title"] == tr("gf_radio")]
    (target,) = panel["targets"]
    query = str(target["query"]).replace("$timeFilter", "time > now() - 1h")
    for name in ("isp", "access", "ip_version"):
        query = query.replace(f"${name}", ".*")
    return query


MOBILE_LINE = PathShape(down_mbps=40, up_mbps=10, one_way_ms=10, buffer_ms=50)


@pytest.mark.parametrize(("cell", "mismatch"), [(VIETTEL_4G, False), (VINAPHONE_5G, True)], ids=["same", "other"])
async def test_a_mobile_agents_run_carries_its_radio_to_the_dashboards(
    influx: Influx, bus: str, tmp_path: Path, cell: Cell, mismatch: bool
) -> None:
    """``dokiem agent once`` in its namespace at a mobile site declared as Viettel: the Result carries the
    radio, the collector writes technology, operator and signal class as tags, and the province
    dashboard's radio panel reads them back; a modem on another operator's network is flagged."""
    (tmp_path / "broker").mkdir()
    with path_lab("dkm", MOBILE_LINE) as lab, running_broker(tmp_path / "broker", host=UPLINK_IP) as broker:
        lab.spawn(lab.server, sys.executable, "-m", "dokiem", "testserver", "--listen", f"{SERVER_IP}:8080",
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)  # fmt: skip
        lab.wait_reachable(f"{TESTSERVER}healthz")
        collector = Collector(collector_config(tmp_path, broker, influx))
        started = asyncio.Event()
        task = asyncio.create_task(collector.run(started))
        try:
            await asyncio.wait_for(started.wait(), 10)
            await asyncio.wait_for(collector.subscribed.wait(), 10)
            with modemmanager(bus) as mm:
                mm.add_modem(cell)
                config = write_config(tmp_path / "agent", broker.url,
                                      measure={"servers": [TESTSERVER], "ping_count": 0},
                                      site={"province_code": "38", "commune_code": "14755", "isp": "Viettel",
                                            "access": "mobile"})  # fmt: skip
                env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus}
                done = await asyncio.to_thread(subprocess.run, lab.exec(lab.client, *DOKIEM, "agent", "once",
                                               "--config", str(config)), capture_output=True, text=True, timeout=120,
                                               env=env, cwd=REPO)  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            assert SENT in done.stderr, done.stderr
            series = await influx_rows(collector, influx, _radio_query())
            (stored,) = collector.archive.results.query()
        finally:
            task.cancel()
    result = Result.model_validate_json(str(collector.archive.results.payload_of(str(stored["result_id"]))))
    assert result.radio is not None and result.radio.operator_name == cell.operator_name
    assert (Flag.OPERATOR_MISMATCH in result.flags) is mismatch
    rows = [dict(one["tags"]) | dict(zip(one["columns"], one["values"][0], strict=True)) for one in series]
    rules = load_thresholds().radio
    want_signal = rules.signal_class(result.radio)
    technology = "5g" if cell.access_technologies & NR5G else "4g" if cell.access_technologies & LTE else ""
    assert [(r["operator"], r["technology"], r["signal"], r["access"], r["tests"]) for r in rows] == [
        (cell.operator_name, technology, want_signal, "mobile", 1)
    ]
    assert rows[0]["down_median"] == pytest.approx(result.download_mbps) and rows[0]["rsrp"] == cell.rsrp


def test_agent_check_says_what_radio_the_next_run_will_record(bus: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "agent", "mqtt://127.0.0.1:1", measure={"servers": ["http://test.example.vn/"]},
                          site={"isp": "Viettel", "access": "mobile"}, router={"source": "none"})  # fmt: skip
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus}
    with modemmanager(bus) as mm:
        mm.add_modem(VIETTEL_4G)
        done = subprocess.run([*DOKIEM, "agent", "check", "--config", str(config)], capture_output=True, text=True,
                              timeout=60, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Sóng lúc này: 4G Viettel (452-04) B3, RSRP -97,0 dBm" in done.stdout, done.stdout

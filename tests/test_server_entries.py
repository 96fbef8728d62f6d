"""Server entries: a name, a location (domestic or international) and a priority per test server, in
the agent's file and the fleet config alike. The best priority's fastest reachable server is measured;
international servers are measured on their own schedule, their Results tagged so that InfluxDB, the
dashboards, the alerts and the quarterly report keep them apart from the domestic figures."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from dokiem.agent.config import load
from dokiem.agent.measure import by_latency
from dokiem.agent.servers import configured_server, librespeed_server
from dokiem.agent.service import Agent
from dokiem.collector.archive import Archive, sqlite_url
from dokiem.collector.influx import result_line
from dokiem.contract import Access, Result, ServerLocation, ServerRef, Site
from dokiem.fleet import ServerEntry, parse_fleet_config
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.reports.build import read_figures
from dokiem.reports.findings import findings
from dokiem.reports.quarterly import Quarter
from dokiem.thresholds import load_thresholds
from testkit.agentkit import QUICK, config_for, make_result
from testkit.processes import start_testserver


def test_entries_and_bare_urls_mix_in_the_agent_file(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text("""[agent]
id = "th-380-001"
[measure]
servers = ["http://a.vn/", {url = "http://b.vn/", name = "VNPT Thanh Hóa", priority = 2},
           {url = "http://sg.example.net/", location = "international"}]
""")
    entries = load(path, environ={}).measure.entries()
    assert [(e.url, e.location, e.priority) for e in entries] == [
        ("http://a.vn/", ServerLocation.DOMESTIC, 1), ("http://b.vn/", ServerLocation.DOMESTIC, 2),
        ("http://sg.example.net/", ServerLocation.INTERNATIONAL, 1)]  # fmt: skip
    assert entries[1].name == "VNPT Thanh Hóa"
    assert load(None, environ={"DOKIEM_AGENT_ID": "pi-1", "DOKIEM_SERVERS": "http://a.vn/"}).measure.entries() == [
        ServerEntry(url="http://a.vn/")
    ]


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        ('[{url = "http://a.vn/", location = "abroad"}]', "measure.servers"),
        ('[{url = "ftp://a.vn/"}]', "only http"),
        ('[{url = "http://a.vn/", priority = 0}]', "priority"),
        ('[{url = "http://a.vn/", colour = "red"}]', "colour"),
        ('[{url = "http://sg.example.net/", location = "international"}]', "no domestic server"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_key(tmp_path: Path, servers: str, message: str) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(f'[agent]\nid = "th-380-001"\n[measure]\nservers = {servers}\n')
    with pytest.raises(Exception, match=message):
        load(path, environ={})


def test_the_fleet_config_may_name_entries_and_the_international_schedule() -> None:
    fleet = parse_fleet_config(
        b'{"schema": "dokiem.config/1", "schedule": {"international_interval_minutes": 720},'
        b' "measure": {"servers": ["http://a.vn/", {"url": "http://sg.example.net/", "location": "international"}]}}'
    )
    assert fleet.schedule.international_interval_minutes == 720
    assert [e.location for e in fleet.measure.entries()] == [ServerLocation.DOMESTIC, ServerLocation.INTERNATIONAL]
    with pytest.raises(ValueError, match="international_interval_minutes"):
        parse_fleet_config(b'{"schema": "dokiem.config/1", "schedule": {"international_interval_minutes": 1}}')


async def test_the_best_priority_wins_over_a_faster_server(testserver_url: str) -> None:
    proc, other_url = start_testserver()
    try:
        first = configured_server(ServerEntry(url=testserver_url, priority=2))
        second = configured_server(ServerEntry(url=other_url, priority=1))
        assert await by_latency([first, second], QUICK) == [second, first]
        unranked = librespeed_server(other_url)
        assert unranked.priority == 1 and unranked.location is ServerLocation.DOMESTIC
    finally:
        proc.terminate()
        proc.wait(10)


async def test_an_international_run_measures_only_international_servers_and_is_tagged(
    tmp_path: Path, testserver_url: str
) -> None:
    abroad = {"url": testserver_url, "name": "Quốc tế (lab)", "location": "international"}
    config = config_for(tmp_path, "mqtt://127.0.0.1:1",
                        measure={"servers": ["http://127.0.0.1:1/"], "max_seconds": 3, "ping_count": 0},
                        schedule={"interval_minutes": 60})  # fmt: skip
    config = config.model_copy(update={"measure": config.measure.model_copy(
        update={"servers": [*config.measure.servers, ServerEntry.model_validate(abroad)]})})  # fmt: skip
    agent = Agent(config)
    result = await agent.run_heavy(config, time.time(), ServerLocation.INTERNATIONAL)
    assert result.error is None and result.download_mbps
    assert result.server is not None and result.server.location is ServerLocation.INTERNATIONAL
    assert result.server.name == "Quốc tế (lab)" and result.server.url == testserver_url
    assert agent.outbox.depth() == 1


def _against(n: int, location: ServerLocation) -> Result:
    server = ServerRef(id=f"s{n}", url=f"http://s{n}.example.net/", location=location)
    return make_result(n).model_copy(update={"server": server})


def _abroad(n: int) -> Result:
    return _against(n, ServerLocation.INTERNATIONAL)


def test_international_results_are_tagged_and_left_out_of_the_domestic_report_rows(tmp_path: Path) -> None:
    line = result_line(_abroad(1))
    assert line is not None and ",location=international," in line
    domestic = _against(2, ServerLocation.DOMESTIC)
    assert ",location=domestic," in (result_line(domestic) or "")
    archive = Archive.from_url(sqlite_url(tmp_path / "archive.db"))
    archive.results.add([_abroad(1), _abroad(3), domestic])
    since, until = domestic.started_at.replace(year=2000), domestic.started_at.replace(year=2100)
    assert len(list(archive.results.report_rows(since, until))) == 1
    assert len(list(archive.results.report_rows(since, until, ServerLocation.INTERNATIONAL))) == 2
    archive.close()


def test_an_archive_from_before_gets_the_location_column_filled(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    archive = Archive.from_url(sqlite_url(path))
    archive.results.add([_abroad(1), make_result(2)])
    archive.close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE results DROP COLUMN server_location")
    reopened = Archive.from_url(sqlite_url(path))
    started = make_result(0).started_at
    rows = list(reopened.results.report_rows(started.replace(year=2000), started.replace(year=2100),
                                             ServerLocation.INTERNATIONAL))  # fmt: skip
    assert len(rows) == 1
    reopened.close()


def test_the_quarterly_report_gives_international_speed_apart(tmp_path: Path) -> None:
    site = Site(province_code="38", commune_code="14755", isp="VNPT", access=Access.FIXED)
    abroad = [_abroad(n).model_copy(update={"site": site, "download_mbps": 40.0 + n, "upload_mbps": 20.0})
              for n in (1, 3, 5)]  # fmt: skip
    domestic = [_against(n, ServerLocation.DOMESTIC).model_copy(update={"site": site}) for n in (2, 4)]
    archive = Archive.from_url(sqlite_url(tmp_path / "archive.db"))
    archive.results.add([*abroad, *domestic])
    quarter = Quarter.containing(domestic[0].started_at)
    figures = read_figures(archive, quarter, load_thresholds())
    archive.close()
    fixed = figures.province("fixed")
    assert fixed is not None and fixed.tests == 2 and fixed.download.median == 103.0  # 102 and 104 only
    (international,) = figures.international
    assert (international.access, international.tests, international.download.median) == ("fixed", 3, 43.0)
    sentences = findings(figures, Regions.load(), Translator("en"))
    assert any("international servers (3 tests" in s and "median download 43" in s for s in sentences)

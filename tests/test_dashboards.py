"""Every dashboard query, run as Grafana runs it, against a real InfluxDB holding a generated quarter.

The data: 27 districts × 3 agents (VNPT, Viettel, FPT fixed; Viettel, VinaPhone, MobiFone mobile),
3,000 results in 2026Q3 written as the collector writes them, plus a heartbeat per agent, plus 300
runs of the same agents against an international server, far slower: any domestic figure that let
them in would move.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import tempfile
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from dokiem.collation import collation_key, unit_key
from dokiem.collector.influx import (
    RunCount,
    collector_line,
    health_line,
    hourly_query,
    quarantine_line,
    result_line,
    retention_statements,
    survey_line,
)
from dokiem.collector.watch import ServerState
from dokiem.contract import ACCESS_TYPES, LOCAL_TIME, Result, ServerLocation, ServerRef
from dokiem.grafana.dashboards import build_all
from dokiem.grafana.influxql import DATASOURCE_UID
from dokiem.grafana.panels import (
    AGENTS_ONLY,
    DOMESTIC,
    IPV,
    ISP,
    MAP_PIXELS,
    PEAK_HOURS,
    RESIDENTS_ONLY,
    Names,
    threshold_queries,
)
from dokiem.grafana.provision import HERE, provisioning_files, write_provisioning
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.reports.quarterly import Quarter
from dokiem.status import Health, OutboxHealth, Status
from dokiem.synthetic import SyntheticAgent, commune_agents, synthetic_agents, synthetic_results
from dokiem.thresholds import Threshold, load_thresholds
from testkit.influx import Influx

QUARTER = Quarter.parse("2026Q3")
REGIONS = Regions.load()
THRESHOLDS = load_thresholds()
BOARDS = build_all(Translator("vi"), THRESHOLDS, REGIONS)
CITY = "Thành phố Thanh Hóa"
AGENTS = synthetic_agents(REGIONS, "38")
COMMUNE = str(AGENTS[0].site.commune_name)  # a 2025 commune of the former Thành phố Thanh Hóa
OFFLINE = {"th-380-000", "th-381-001", "th-407-002"}
ABROAD: list[Result] = []  # the international runs the data fixture writes beside the domestic ones
RESIDENTS: list[Result] = []  # residents' own tests (issue 22), far above any agent's figure
SURVEYED: list[dict[str, Any]] = []  # coverage survey samples (issue 30), as the archive's rows
SINGAPORE = ServerRef(id="sg1", url="http://sg.speedtest.example.net/", location=ServerLocation.INTERNATIONAL)


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def grafana_query(query: str, **variables: str) -> str:
    """The query as Grafana's InfluxDB data source sends it for the whole quarter."""
    values = {"timeFilter": f"time >= {_ms(QUARTER.start)}ms and time <= {_ms(QUARTER.end)}ms", "__interval": "1d",
              "district": re.escape(CITY), "commune": re.escape(COMMUNE), "isp": ".*", "access": ".*",
              "map_access": "fixed", "ip_version": ".*", "operator": ".*"} | variables  # fmt: skip
    for name in sorted(values, key=len, reverse=True):
        query = query.replace(f"${name}", values[name])
    return query


@pytest.fixture(scope="module")
def data() -> Iterator[tuple[Influx, list[SyntheticAgent], list[Result]]]:
    agents = AGENTS
    results = list(synthetic_results(agents, QUARTER.start, QUARTER.end, 3000, failed_share=0.03))
    server = Influx(Path(tempfile.mkdtemp(prefix="dokiem-influx-")))
    server.start()
    try:
        server.query('CREATE DATABASE "dokiem"')
        ABROAD[:] = [r.model_copy(update={"result_id": uuid.uuid4(), "server": SINGAPORE, "download_mbps": 1.0 + n % 7,
                                          "upload_mbps": 0.5}) for n, r in enumerate(_ok(results)[:300])]  # fmt: skip
        # residents' own tests, far from the agents' figures: every agents' panel must leave them out
        RESIDENTS[:] = [r.model_copy(update={"result_id": uuid.uuid4(), "source": "resident", "agent_id": "resident",
                                             "download_mbps": 9000.0 + n % 13, "upload_mbps": 8000.0 + n % 7,
                                             "latency_ms": 20.0 + 200 * (n % 5)})
                        for n, r in enumerate(_ok(results)[::5])]  # fmt: skip
        lines = [result_line(r, REGIONS.place_site(r.site, r.started_at)) for r in (*results, *ABROAD, *RESIDENTS)]
        at = _ms(QUARTER.end) - 3_600_000
        for n, agent in enumerate(agents):
            status = Status(
                state="offline" if agent.agent_id in OFFLINE else "online", agent_id=agent.agent_id,
                health=Health(temperature_c=40.0 + n % 30, cpu_pct=5.0), outbox=OutboxHealth(depth=n % 4),
            )  # fmt: skip
            site = agent.site.model_dump(exclude_none=True)
            lines.append(health_line(status, site, RunCount(expected=40, received=37), at_ms=at))
        for n, (reason, agent_id) in enumerate(QUARANTINED):
            lines.append(quarantine_line(reason, agent_id, at_ms=at + n))
        for n in range(240):  # a survey's samples: three communes, two operators, a stretch without service
            agent = agents[n % 3]
            SURVEYED.append({"agent_id": "th-survey-1", "at_ms": at - 1000 * n, "commune_code": agent.site.commune_code,
                             "cell": f"88414148{n % 7}ffffff", "operator_code": ("452-04", "452-02")[n % 2],
                             "registration": "searching" if n % 3 == 2 else "home",
                             "technology": None if n % 3 == 2 else "4g", "rsrp_dbm": None if n % 3 == 2 else -95.0,
                             "download_mbps": None})  # fmt: skip
            lines.append(survey_line(SURVEYED[-1], "38", agent.site.commune_name))
        for minute in range(30):  # the server's own state, a minute at a time
            state = ServerState(messages_in=40 + minute, refused=minute % 3, influx_backlog=0, archive_mb=12.5,
                                disk_used_pct=41.0, backup_age_h=3.0 + minute / 60, cert_days_left=700.0)  # fmt: skip
            lines.append(collector_line("dokiem-collector", state, at_ms=at + 60_000 * minute))
        _write_quarter(server, "dokiem", lines)
        yield server, agents, results
    finally:
        server.stop()


def _write_quarter(server: Influx, db: str, lines: list[str]) -> None:
    """The points into ``db``, then the hourly aggregates the collector keeps (issue 32)."""
    body = "\n".join(lines).encode()
    request = urllib.request.Request(f"{server.url}/write?db={db}&precision=ms", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 204
    for statement in (*retention_statements(db, 0, set()), hourly_query(_ms(QUARTER.start), _ms(QUARTER.end))):
        server.query(statement, db=db)


def _targets(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["query"]


def _panel(board: str, title: str) -> dict[str, Any]:
    (panel,) = [p for p in BOARDS[board]["panels"] if p["title"] == title]
    return panel


def _rows(server: Influx, query: str, db: str = "dokiem", **variables: str) -> list[dict[str, Any]]:
    """Table-format rows: the series' tags merged into each row."""
    rows = []
    for series in server.query(grafana_query(query, **variables), db=db):
        for values in series.get("values", []):
            rows.append(dict(series.get("tags", {})) | dict(zip(series["columns"], values, strict=True)))
    return rows


def _influx_percentile(values: list[float], percent: float) -> float:
    """InfluxQL's percentile(): the nearest rank."""
    ordered = sorted(values)
    index = int(len(ordered) * percent / 100 + 0.5) - 1
    return ordered[max(0, min(index, len(ordered) - 1))]


def _ok(results: list[Result]) -> list[Result]:
    return [r for r in results if r.error is None]


def test_every_query_of_every_dashboard_runs_and_returns_series(data: tuple[Influx, Any, Any]) -> None:
    server = data[0]
    ran = 0
    for name, board in BOARDS.items():
        for title, query in _targets(board):
            assert server.query(grafana_query(query)), f"{name} / {title}: no series for {grafana_query(query)}"
            ran += 1
        for variable in board["templating"].get("list", []):
            if variable["name"] == "ip_version":  # IPv4, IPv6 or All
                assert variable["query"] == "IPv4 : 4,IPv6 : 6" and variable["includeAll"]
            elif "access" in variable["name"]:  # fixed or mobile, fixed by default
                assert variable["query"] == "Cố định : fixed,Di động : mobile,Wi-Fi công cộng : public_wifi"
                assert variable["current"]["value"] in ("fixed", ["fixed"]), variable["name"]
            else:  # names, in Vietnamese order: every one the data holds is offered
                tag = {"district": "district_name", "commune": "commune_name", "isp": "isp",
                       "operator": "operator"}[variable["name"]]  # fmt: skip
                offered = variable["query"].split(",")
                ordered = collation_key if tag in ("isp", "operator") else unit_key
                assert offered == sorted(offered, key=ordered), variable["name"]
                measured = "coverage_survey" if tag == "operator" else "speedtest"
                held = server.query(f'SHOW TAG VALUES FROM "{measured}" WITH KEY = "{tag}"')[0]["values"]
                assert {value for _, value in held} <= set(offered), (name, variable["name"])
                ran += 1
    assert ran >= 40


def test_the_coverage_board_counts_each_communes_samples_and_their_share_with_service(
    data: tuple[Influx, Any, Any],
) -> None:
    server = data[0]
    tr = Translator("vi")
    (query,) = (t["query"] for t in _panel("coverage", tr("gf_cov_by", by=tr("gf_commune")))["targets"])
    rows = [row for row in _rows(server, query) if row["technology"] == "4g"]
    for row in rows:
        mine = [s for s in SURVEYED if s["technology"] == "4g" and s["operator_code"] == {"Viettel": "452-04",
                "VinaPhone": "452-02"}[row["operator"]] and s["commune_code"] in {a.site.commune_code for a in
                AGENTS if a.site.commune_name == row["commune_name"]}]  # fmt: skip
        assert row["samples"] == len(mine) and row["service"] == 1.0 and row["rsrp"] == -95.0
    searching = [row for row in _rows(server, query) if not row.get("technology")]
    assert searching and all(row["service"] == 0.0 for row in searching)
    assert sum(r["samples"] for r in _rows(server, query)) == len(SURVEYED)


SPEED_AGGREGATE = re.compile(r'(median|percentile|mean|last)\("(download|upload)_mbps"')


def test_no_query_pools_fixed_and_mobile() -> None:
    """Every speed figure is grouped by access type or taken for one access type; none over both."""
    checked = 0
    for name, board in BOARDS.items():
        for title, query in _targets(board):
            if not SPEED_AGGREGATE.search(query):
                continue
            checked += 1
            apart = re.search(r'GROUP BY .*"access"', query) or re.search(
                r'"access" = \'(fixed|mobile|public_wifi|\$map_access)\'', query
            )
            assert apart, f"{name} / {title} pools fixed and mobile: {query}"
    assert checked >= 15


def _by(results: list[Result], key: Any) -> dict[Any, list[Result]]:
    groups: dict[Any, list[Result]] = defaultdict(list)
    for r in results:
        groups[key(r)].append(r)
    return groups


@pytest.mark.parametrize("access", ["fixed", "mobile"])
def test_the_map_shades_each_commune_by_one_access_type(
    data: tuple[Influx, list[SyntheticAgent], list[Result]], access: str
) -> None:
    server, _, results = data
    panel = _panel("province", "Tốc độ tải xuống trung vị theo xã")
    communes, districts = (t["query"] for t in panel["targets"])
    commune_layer, district_layer = panel["options"]["layers"]
    shapes = json.loads((HERE / commune_layer["config"]["src"].replace("public/", "")).read_text(encoding="utf-8"))
    assert commune_layer["type"] == "dynamic-geojson" and commune_layer["config"]["idField"] == "commune"
    ids = {feature["id"] for feature in shapes["features"]}
    # every 2025 unit can be drawn (the checked-in map is the national default: every province's)
    assert ids == {code for province in REGIONS.provinces.values() for code in province.communes}
    mine = [r for r in results if r.site.access == access]
    by_commune = _by([r for r in mine if r.site.commune_code], lambda r: r.site.commune_code)
    rows = [row for row in _rows(server, communes, map_access=access) if row["commune"]]  # '': no commune given
    assert {row["commune"] for row in rows} == set(by_commune) and set(by_commune) <= ids
    for row in rows:
        assert row["download"] == pytest.approx(
            statistics.median(r.download_mbps for r in _ok(by_commune[row["commune"]]))
        )
        assert row["tests"] == len(by_commune[row["commune"]])
    gazetteer = {entry["key"] for entry in json.loads((HERE / "gazetteer" / "dokiem-districts.json").read_text())}
    by_district = _by(mine, lambda r: r.site.district_code)
    rows = _rows(server, districts, map_access=access)
    assert district_layer["location"]["lookup"] == "district" and {row["district"] for row in rows} <= gazetteer
    for row in rows:
        assert row["download"] == pytest.approx(
            statistics.median(r.download_mbps for r in _ok(by_district[row["district"]]))
        )


def test_rankings_give_fixed_and_mobile_apart(data: tuple[Influx, list[SyntheticAgent], list[Result]]) -> None:
    server, _, results = data
    by_group = _by(results, lambda r: (r.site.district_name, r.site.access))
    figures, agents = (t["query"] for t in _panel("province", "Xếp hạng theo Huyện cũ")["targets"])
    rows = _rows(server, figures)
    assert {(row["district_name"], row["access"]) for row in rows} == set(by_group)
    for row in rows:
        ok = _ok(by_group[row["district_name"], row["access"]])
        assert row["down_p10"] == pytest.approx(_influx_percentile([r.download_mbps for r in ok], 10))
        assert row["up_median"] == pytest.approx(statistics.median(r.upload_mbps for r in ok))
        assert row["loss_mean"] == pytest.approx(statistics.fmean(r.loss_pct for r in ok))
    agents_per_group = Counter((a.site.district_name, a.site.access) for a in data[1])
    assert {(row["district_name"], row["access"]): row["agents"] for row in _rows(server, agents)} == agents_per_group
    assert _rows(server, figures, ip_version="6") == []  # the generated runs carry no IPv6 tag: filtered out
    vnpt = _rows(server, figures, isp="VNPT", access="fixed")
    assert sum(row["tests"] for row in vnpt) == sum(r.site.isp == "VNPT" and r.site.access == "fixed" for r in results)
    assert {row["access"] for row in vnpt} == {"fixed"}
    province = _panel("province", "Trung vị toàn tỉnh")
    merged: dict[str, float] = {}
    for target in province["targets"]:
        merged |= {k: v for k, v in _rows(server, target["query"])[0].items() if k != "time"}
    for access in ("fixed", "mobile"):
        ok = _ok([r for r in results if r.site.access == access])
        assert merged[f"{access}_down"] == pytest.approx(statistics.median(r.download_mbps for r in ok))


def test_international_runs_have_their_own_panel_and_stay_out_of_every_other(
    data: tuple[Influx, list[SyntheticAgent], list[Result]],
) -> None:
    server = data[0]
    panel = _panel("province", "Tốc độ tới máy chủ quốc tế (trung vị, tính riêng)")
    merged: dict[str, float] = {}
    for target in panel["targets"]:
        merged |= {k: v for k, v in _rows(server, target["query"])[0].items() if k != "time"}
    for access in ("fixed", "mobile"):
        abroad = [r for r in ABROAD if r.site.access == access]
        assert merged[f"{access}_down"] == pytest.approx(statistics.median(r.download_mbps for r in abroad))
    for name, board in BOARDS.items():
        for title, query in _targets(board):  # the fleet's error counts include every run: not a speed figure
            if name != "fleet" and title != panel["title"] and '"download_mbps"' in query:
                assert "\"location\" != 'international'" in query, f"{name} / {title}"


def _meets(result: Result, threshold: Threshold) -> bool:
    return (
        (threshold.download_mbps is None or (result.download_mbps or 0) >= threshold.download_mbps)
        and (threshold.upload_mbps is None or (result.upload_mbps or 0) >= threshold.upload_mbps)
        and (threshold.latency_ms is None or (result.latency_ms or 0) <= threshold.latency_ms)
    )


def test_threshold_shares_match_the_results(data: tuple[Influx, list[SyntheticAgent], list[Result]]) -> None:
    server, _, results = data
    ok = _ok(results)
    for threshold in THRESHOLDS.thresholds:
        panel = _panel("province", threshold.name("vi"))
        met_query, total_query = threshold_queries(threshold, ISP, IPV, DOMESTIC)
        assert [t["query"] for t in panel["targets"]] == [" ".join(met_query.split()), " ".join(total_query.split())]
        group = [r for r in ok if threshold.access is None or r.site.access == threshold.access]
        meets = [r for r in group if _meets(r, threshold)]
        met = server.scalar(grafana_query(met_query)) or 0
        total = server.scalar(grafana_query(total_query))
        assert (met, total) == (len(meets), len(group)), threshold.id


def test_district_view_communes_histogram_and_peak_hours(
    data: tuple[Influx, list[SyntheticAgent], list[Result]],
) -> None:
    server, _, results = data
    city = [r for r in results if r.site.district_code == "380"]
    communes, _ = (t["query"] for t in _panel("district", "Xếp hạng theo Xã")["targets"])
    expected = Counter((r.site.commune_name, r.site.access) for r in city)
    assert {(row["commune_name"], row["access"]): row["tests"] for row in _rows(server, communes)} == expected
    assert all(name in {c.name for c in REGIONS.provinces["38"].communes.values()} for name, _ in expected)
    (raw,) = (t["query"] for t in _panel("district", "Phân bố tốc độ")["targets"])
    for access in ("fixed", "mobile"):
        series = [s for s in server.query(grafana_query(raw)) if s["tags"]["access"] == access]
        got = sorted(v[1] for s in series for v in s["values"])
        assert got == sorted(r.download_mbps for r in _ok(city) if r.site.access == access)
    (peak,) = (t["query"] for t in _panel("district", "Giờ cao điểm (19–23 h)")["targets"])
    (off_peak,) = (t["query"] for t in _panel("district", "Ngoài giờ cao điểm")["targets"])
    hours = {int(h) for h in PEAK_HOURS.split("|")}
    for access in ("fixed", "mobile"):
        ok = [r for r in _ok(city) if r.site.access == access]
        in_peak = [r.download_mbps for r in ok if r.started_at.astimezone(LOCAL_TIME).hour in hours]
        outside = [r.download_mbps for r in ok if r.started_at.astimezone(LOCAL_TIME).hour not in hours]
        assert _row(server, peak, access)["down_median"] == pytest.approx(statistics.median(in_peak))
        assert _row(server, off_peak, access)["down_median"] == pytest.approx(statistics.median(outside))
    profile = _panel("district", "Tải xuống trung vị theo giờ trong ngày")
    for access, query in zip(ACCESS_TYPES, (t["query"] for t in profile["targets"]), strict=True):
        hours_seen = {f"{r.started_at.astimezone(LOCAL_TIME):%H}" for r in _ok(city) if r.site.access == access}
        assert {row["hour"] for row in _rows(server, query) if row[access] is not None} == hours_seen


def _row(server: Influx, query: str, access: str, **variables: str) -> dict[str, Any]:
    (row,) = [row for row in _rows(server, query, **variables) if row["access"] == access]
    return row


def test_the_commune_dashboard_shows_its_agents_isps_and_hours(
    data: tuple[Influx, list[SyntheticAgent], list[Result]],
) -> None:
    server, _, results = data
    here = [r for r in results if r.site.commune_name == COMMUNE]
    assert here and REGIONS.place("38", None, here[0].site.commune_code).district == "380"
    (medians,) = (t["query"] for t in _panel("commune", "Trung vị theo loại truy nhập")["targets"])
    for access in {r.site.access for r in here}:
        ok = _ok([r for r in here if r.site.access == access])
        assert _row(server, medians, access)["down_median"] == pytest.approx(
            statistics.median(r.download_mbps for r in ok)
        )
    (listed,) = (t["query"] for t in _panel("commune", "Thiết bị đo trong xã")["targets"])
    assert {row["agent"] for row in _rows(server, listed)} == {r.agent_id for r in here}
    isps, _ = (t["query"] for t in _panel("commune", "Xếp hạng theo Nhà mạng")["targets"])
    assert Counter({(row["isp"], row["access"]): row["tests"] for row in _rows(server, isps)}) == Counter(
        (r.site.isp, r.site.access) for r in here
    )
    fixed, *_ = (t["query"] for t in _panel("commune", "Tải xuống trung vị theo giờ trong ngày")["targets"])
    assert {row["hour"] for row in _rows(server, fixed)} <= {f"{h:02d}" for h in range(24)}


QUARANTINED = [("schema", "th-380-001")] * 5 + [("out_of_bounds", "th-381-002")] * 2 + [("bad_topic", None)]


def test_fleet_health_shows_quarantined_messages_by_reason(data: tuple[Influx, Any, Any]) -> None:
    (query,) = (t["query"] for t in _panel("fleet", "Tin nhắn bị giữ lại theo lý do")["targets"])
    rows = _rows(data[0], query)
    assert {row["reason"]: row["messages"] for row in rows} == Counter(reason for reason, _ in QUARANTINED)


def test_fleet_health_counts_agents_missed_runs_and_errors(
    data: tuple[Influx, list[SyntheticAgent], list[Result]],
) -> None:
    server, agents, results = data
    everywhere = {"district": ".*"}
    (online,) = (t["query"] for t in _panel("fleet", "Thiết bị đo trực tuyến")["targets"])
    (row,) = _rows(server, online, **everywhere)
    assert (row["online"], row["offline"]) == (len(agents) - len(OFFLINE), len(OFFLINE))
    (missed,) = (t["query"] for t in _panel("fleet", "Lượt đo bị lỡ")["targets"])
    (row,) = _rows(server, missed, **everywhere)
    assert (row["missed"], row["expected"]) == (3 * len(agents), 40 * len(agents))
    latest, state = (t["query"] for t in _panel("fleet", "Thiết bị đo")["targets"])
    assert {r["agent"] for r in _rows(server, latest, **everywhere) if r["online"] == 0} == OFFLINE
    assert len(_rows(server, state, district=re.escape(CITY))) == sum(a.site.district_name == CITY for a in agents)
    (errors,) = (t["query"] for t in _panel("fleet", "Lượt đo lỗi theo nguyên nhân")["targets"])
    assert _rows(server, errors, **everywhere)[0]["failed"] == sum(r.error is not None for r in results)


def _series_names(server: Influx, panel: dict[str, Any]) -> set[str]:
    """Series names as Grafana shows them: the alias with $tag_X filled, then renameByRegex."""
    (target,) = panel["targets"]
    names = set()
    for series in server.query(grafana_query(target["query"])):
        name = target["alias"]
        for tag, value in series["tags"].items():
            name = name.replace(f"$tag_{tag}", value)
        for step in panel["transformations"]:
            if step["id"] == "renameByRegex":
                pattern = step["options"]["renamePattern"].replace("$1", r"\1")
                name = re.sub(step["options"]["regex"], pattern, name)
        names.add(name)
    return names


def test_trends_split_an_isps_fixed_and_mobile_networks_and_name_them_in_vietnamese(
    data: tuple[Influx, list[SyntheticAgent], list[Result]],
) -> None:
    server = data[0]
    isps = _series_names(server, _panel("province", "Tải xuống trung vị theo nhà mạng"))
    assert isps == {"VNPT (Cố định)", "Viettel (Cố định)", "FPT (Cố định)", "Viettel (Di động)",
                    "VinaPhone (Di động)", "MobiFone (Di động)", "VNPT (Wi-Fi công cộng)", "Viettel (Wi-Fi công cộng)",
                    "FPT (Wi-Fi công cộng)"}  # fmt: skip
    assert _series_names(server, _panel("province", "Tải xuống trung vị theo loại truy nhập")) == {
        "Cố định", "Di động", "Wi-Fi công cộng"}  # fmt: skip


def test_dashboards_are_valid_and_the_checked_in_files_are_current() -> None:
    register_default_plugins()
    for name, board in BOARDS.items():
        parsed = Dashboard.from_json(board)  # the SDK's own model of a Grafana dashboard
        assert parsed.uid == f"dokiem-{name}" and parsed.title.startswith("dokiem · ")
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == DATASOURCE_UID
            assert all(t["rawQuery"] and t["datasource"]["uid"] == DATASOURCE_UID for t in panel["targets"])
    assert f"uid: {DATASOURCE_UID}" in (HERE / "provisioning" / "datasources" / "dokiem.yaml").read_text()
    for relative, content in provisioning_files(Translator("vi"), THRESHOLDS, REGIONS, environment={}).items():
        on_disk = HERE / relative
        assert on_disk.exists() and on_disk.read_text(encoding="utf-8") == content, (
            f"{relative} is out of date: run `dokiem grafana build`"
        )


def test_english_dashboards_keep_the_same_queries() -> None:
    english = build_all(Translator("en"), THRESHOLDS, REGIONS)
    for name in BOARDS:
        assert [q for _, q in _targets(english[name])] == [q for _, q in _targets(BOARDS[name])]
        assert english[name]["title"] != BOARDS[name]["title"]


def _mapped(overrides: list[dict[str, Any]], column: str, value: float) -> str | None:
    """What Grafana shows for ``value`` in ``column`` by the panel's range mappings (None: the number)."""
    for override in overrides:
        if override["matcher"]["options"] != column:
            continue
        for prop in override["properties"]:
            for mapping in prop["value"] if prop["id"] == "mappings" else []:
                options = mapping["options"]
                low, high = options.get("from"), options.get("to")
                if (low is None or value >= low) and (high is None or value <= high):
                    return str(options["result"]["text"])
    return None


def test_the_commune_view_says_latency_under_load_in_words(data: tuple[Influx, Any, list[Result]]) -> None:
    """Issue 21: per agent, the median responsiveness with its level in words and a bloated buffer named,
    by the thresholds' classes, from the figures the agent sent."""
    server, _, results = data
    tr, rules = Translator("vi"), THRESHOLDS.responsiveness
    panel = _panel("commune", tr("gf_responsiveness"))
    (target,) = panel["targets"]
    rows = _rows(server, target["query"])
    assert rows
    mine = _by([r for r in _ok(results) if r.site.commune_name == COMMUNE], lambda r: (r.agent_id, r.site.access.value))
    overrides = panel["fieldConfig"]["overrides"]
    words = {"low": tr("gf_rpm_low"), "medium": tr("gf_rpm_medium"), "high": tr("gf_rpm_high")}
    for row in rows:
        sent = mine[(row["agent"], row["access"])]
        assert row["rpm_median"] == pytest.approx(statistics.median(r.responsiveness_rpm for r in sent))  # type: ignore[type-var]
        assert _mapped(overrides, tr("gf_rpm_level"), row["level"]) == words[str(rules.rpm_class(row["level"]))]
        bloated = row["added"] >= rules.bloat_added_ms
        assert (_mapped(overrides, tr("gf_latency_added"), row["added"]) == tr("gf_bloated")) is bloated


def test_residents_have_their_own_board_and_no_other_reads_them(
    data: tuple[Influx, list[SyntheticAgent], list[Result]],
) -> None:
    """The residents' board's tables and threshold shares are the residents' tests alone; every other
    board's speed query leaves them out."""
    server = data[0]
    for name, board in BOARDS.items():
        for title, query in _targets(board):
            if '"download_mbps"' in query or ('"failed"' in query and name != "fleet"):
                want = RESIDENTS_ONLY if name == "residents" else AGENTS_ONLY
                assert want in query and (AGENTS_ONLY if name == "residents" else RESIDENTS_ONLY) not in query, title
    tr = Translator("vi")
    keys = {"commune_name": lambda r: REGIONS.place_site(r.site, r.started_at).commune_name or "",
            "isp": lambda r: r.site.isp}  # fmt: skip
    for tag, label in (("commune_name", "gf_commune"), ("isp", "gf_isp")):
        (query,) = (t["query"] for t in _panel("residents", tr("gf_ranking", by=tr(label)))["targets"])
        groups = _by(RESIDENTS, lambda r, key=keys[tag]: (key(r), r.site.access.value))  # type: ignore[misc]
        rows = _rows(server, query)
        assert {(row[tag], row["access"]) for row in rows} == set(groups)
        for row in rows:
            mine = groups[(row[tag], row["access"])]
            assert row["tests"] == len(mine)
            assert row["down_median"] == pytest.approx(statistics.median(r.download_mbps for r in mine))
            assert row["latency_median"] == pytest.approx(statistics.median(r.latency_ms for r in mine))
    for threshold in THRESHOLDS.thresholds:
        met_query, total_query = (t["query"] for t in _panel("residents", threshold.name("vi"))["targets"])
        group = [r for r in RESIDENTS if threshold.access is None or r.site.access == threshold.access]
        meets = [r for r in group if _meets(r, threshold)]
        assert (server.scalar(grafana_query(met_query)) or 0, server.scalar(grafana_query(total_query))) == (
            len(meets), len(group)), threshold.id  # fmt: skip


WITHOUT_DISTRICTS = "79"  # Hồ Chí Minh: its data has no former districts, and Côn Đảo far out at sea


@pytest.fixture(scope="module")
def city(data: tuple[Influx, Any, Any]) -> tuple[Influx, Regions, list[SyntheticAgent], list[Result]]:
    """A quarter of a province without former districts, in a database of its own on the same server."""
    server = data[0]
    regions = Regions.load(only=WITHOUT_DISTRICTS)
    agents = commune_agents(regions, WITHOUT_DISTRICTS, "hcm-")[:30]
    results = list(synthetic_results(agents, QUARTER.start, QUARTER.end, 600, failed_share=0.05))
    lines = [result_line(r, regions.place_site(r.site, r.started_at)) for r in results]
    at = _ms(QUARTER.end) - 3_600_000
    for n, agent in enumerate(agents):
        status = Status(state="offline" if n % 10 == 0 else "online", agent_id=agent.agent_id,
                        health=Health(temperature_c=45.0, cpu_pct=5.0), outbox=OutboxHealth(depth=0))  # fmt: skip
        site = agent.site.model_dump(exclude_none=True)
        lines.append(health_line(status, site, RunCount(expected=8, received=8), at))
    server.query('CREATE DATABASE "city"')
    _write_quarter(server, "city", lines)
    return server, regions, agents, results


def test_a_province_without_former_districts_has_no_district_board_filter_or_column_and_every_query_runs(
    city: tuple[Influx, Regions, list[SyntheticAgent], list[Result]],
) -> None:
    server, regions, agents, results = city
    assert not regions.provinces[WITHOUT_DISTRICTS].districts
    boards = build_all(Translator("vi"), THRESHOLDS, regions)
    assert set(BOARDS) - set(boards) == {"district"} and set(boards) < set(BOARDS)
    answered = set()
    for name, board in boards.items():
        assert "district" not in {v["name"] for v in board["templating"].get("list", [])}, name
        for title, query in _targets(board):
            assert "district" not in query, f"{name} / {title}"
            commune = re.escape(str(agents[0].site.commune_name))
            if server.query(grafana_query(query, commune=commune), db="city"):  # an InfluxQL error fails the test
                answered.add(name)
    assert answered >= {"province", "commune", "fleet"}  # the quarter holds agents' runs and heartbeats only
    tr = Translator("vi")
    (map_panel,) = [p for p in boards["province"]["panels"] if p["type"] == "geomap"]
    assert [layer["name"] for layer in map_panel["options"]["layers"]] == [tr("gf_communes")]
    # the fleet's table places each agent by its commune; the stats count every agent
    fleet = {p["title"]: p for p in boards["fleet"]["panels"]}
    latest, _ = (t["query"] for t in fleet[tr("gf_agents")]["targets"])
    rows = _rows(server, latest, db="city")
    assert {(r["agent"], r["commune_name"]) for r in rows} == {(a.agent_id, a.site.commune_name) for a in agents}
    (online,) = (t["query"] for t in fleet[tr("gf_agents_online")]["targets"])
    (row,) = _rows(server, online, db="city")
    assert (row["online"], row["offline"]) == (len(agents) - len(agents[::10]), len(agents[::10]))
    # the province's responsiveness is by commune: a row for each commune and access type with results
    (responsiveness,) = [p for p in boards["province"]["panels"] if p["title"] == tr("gf_responsiveness")]
    (query,) = (t["query"] for t in responsiveness["targets"])
    ran = {(r.site.commune_name, r.site.access) for r in _ok(results)}
    assert {(row["commune_name"], row["access"]) for row in _rows(server, query, db="city")} == ran


def _in_view(view: Any, lat: float, lon: float, zoom_in: int = 0) -> bool:
    """Whether a point shows on the map panel opened at ``view`` (``zoom_in`` levels closer)."""
    degrees = 360 / 256 / 2 ** (view.zoom + zoom_in)  # of longitude per pixel
    half_lat = MAP_PIXELS[1] / 2 * degrees * math.cos(math.radians(view.lat))
    return abs(lon - view.lon) <= MAP_PIXELS[0] / 2 * degrees and abs(lat - view.lat) <= half_lat


@pytest.mark.parametrize("code", ["38", "79", "56", None])
def test_the_map_opens_on_the_province_mainland_as_close_as_holds_it(code: str | None) -> None:
    """Every unit on the map as it opens, as close as still holds them, but those far out at sea (Côn Đảo,
    Trường Sa, Hoàng Sa), which would shrink the mainland to a speck; Vietnam whole with every province."""
    regions = Regions.load(only=code) if code else REGIONS
    view = Names.of(regions).view
    units = [c for p in regions.provinces.values() for c in p.communes.values() if c.lat is not None]
    outside = [c.name for c in units if not _in_view(view, c.lat, c.lon)]  # type: ignore[arg-type]
    at_sea = {"38": [], "79": ["Đặc khu Côn Đảo"], "56": ["Đặc khu Trường Sa"], None: []}[code]
    assert sorted(outside) == at_sea
    assert any(not _in_view(view, c.lat, c.lon, zoom_in=1) for c in units)  # type: ignore[arg-type]


def test_a_rebuild_for_a_province_without_former_districts_removes_their_board(tmp_path: Path) -> None:
    tr = Translator("vi")
    write_provisioning(tmp_path, tr, THRESHOLDS, Regions.load(only="38"))
    boards = tmp_path / "provisioning" / "dashboards" / "json"
    assert (boards / "dokiem-district.json").exists()
    written = write_provisioning(tmp_path, tr, THRESHOLDS, Regions.load(only=WITHOUT_DISTRICTS))
    assert not (boards / "dokiem-district.json").exists()
    assert sorted(p.name for p in boards.iterdir()) == sorted(p.name for p in written if p.parent == boards)

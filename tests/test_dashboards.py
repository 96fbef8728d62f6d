"""Every dashboard query, run as Grafana runs it, against a real InfluxDB holding a generated quarter.

The data: 27 districts × 3 agents (VNPT, Viettel, FPT fixed; Viettel, VinaPhone, MobiFone mobile),
3,000 results in 2026Q3 written as the collector writes them, plus a heartbeat per agent.
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from collector.influx import RunCount, health_line, quarantine_line, result_line
from dokiem.contract import LOCAL_TIME, Result
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.status import Health, OutboxHealth, Status
from dokiem.thresholds import load_thresholds
from grafana.dashboards import PEAK_HOURS, build_all, threshold_queries
from grafana.influxql import DATASOURCE_UID
from grafana.provision import HERE, provisioning_files
from reports.quarterly import Quarter
from tests.influx import Influx
from tests.synthetic import SyntheticAgent, synthetic_agents, synthetic_results

QUARTER = Quarter.parse("2026Q3")
REGIONS = Regions.load()
THRESHOLDS = load_thresholds()
BOARDS = build_all(Translator("vi"), THRESHOLDS)
CITY = "Thành phố Thanh Hóa"
OFFLINE = {"th-380-000", "th-381-001", "th-407-002"}


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def grafana_query(query: str, **variables: str) -> str:
    """The query as Grafana's InfluxDB data source sends it for the whole quarter."""
    values = {"timeFilter": f"time >= {_ms(QUARTER.start)}ms and time <= {_ms(QUARTER.end)}ms", "__interval": "1d",
              "district": re.escape(CITY), "isp": ".*", "access": ".*"} | variables  # fmt: skip
    for name in sorted(values, key=len, reverse=True):
        query = query.replace(f"${name}", values[name])
    return query


@pytest.fixture(scope="module")
def data() -> Iterator[tuple[Influx, list[SyntheticAgent], list[Result]]]:
    agents = synthetic_agents(REGIONS)
    results = list(synthetic_results(agents, QUARTER.start, QUARTER.end, 3000, failed_share=0.03))
    server = Influx(Path(tempfile.mkdtemp(prefix="dokiem-influx-")))
    server.start()
    try:
        server.query('CREATE DATABASE "dokiem"')
        lines = [result_line(r, REGIONS.place_site(r.site, r.started_at)) for r in results]
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
        body = "\n".join(lines).encode()
        request = urllib.request.Request(f"{server.url}/write?db=dokiem&precision=ms", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 204
        yield server, agents, results
    finally:
        server.stop()


def _targets(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["query"]


def _panel(board: str, title: str) -> dict[str, Any]:
    (panel,) = [p for p in BOARDS[board]["panels"] if p["title"] == title]
    return panel


def _rows(server: Influx, query: str, **variables: str) -> list[dict[str, Any]]:
    """Table-format rows: the series' tags merged into each row."""
    rows = []
    for series in server.query(grafana_query(query, **variables)):
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
        for variable in board["templating"]["list"]:
            assert server.query(grafana_query(variable["query"])), f"{name}: variable {variable['name']}"
            ran += 1
    assert ran >= 30


def test_map_and_ranking_hold_each_districts_figures(data: tuple[Influx, list[SyntheticAgent], list[Result]]) -> None:
    server, _, results = data
    by_district: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_district[r.site.district_code or ""].append(r)
    (map_query,) = [t["query"] for t in _panel("province", "Tốc độ tải xuống trung vị theo huyện")["targets"]]
    rows = _rows(server, map_query)
    gazetteer = {entry["key"] for entry in json.loads((HERE / "gazetteer" / "dokiem-districts.json").read_text())}
    assert len(rows) == 27 and {row["district"] for row in rows} <= gazetteer
    for row in rows:
        downloads = [r.download_mbps for r in _ok(by_district[row["district"]])]
        assert row["download"] == pytest.approx(statistics.median(downloads))
        assert row["tests"] == len(by_district[row["district"]])
    figures, agents = (t["query"] for t in _panel("province", "Xếp hạng theo Huyện")["targets"])
    names = {d.name: code for code, d in REGIONS.provinces["38"].districts.items()}
    for row in _rows(server, figures):
        ok = _ok(by_district[names[row["district_name"]]])
        assert row["down_p10"] == pytest.approx(_influx_percentile([r.download_mbps for r in ok], 10))
        assert row["up_median"] == pytest.approx(statistics.median(r.upload_mbps for r in ok))
        assert row["loss"] == pytest.approx(statistics.fmean(r.loss_pct for r in ok))
    assert {row["district_name"]: row["agents"] for row in _rows(server, agents)} == dict.fromkeys(names, 3)
    vnpt = _rows(server, figures, isp="VNPT")
    assert sum(row["tests"] for row in vnpt) == sum(r.site.isp == "VNPT" for r in results)


def test_threshold_shares_match_the_results(data: tuple[Influx, list[SyntheticAgent], list[Result]]) -> None:
    server, _, results = data
    ok = _ok(results)
    for threshold in THRESHOLDS.thresholds:
        panel = _panel("province", threshold.name("vi"))
        met_query, total_query = threshold_queries(threshold, '"isp" =~ /^$isp$/', '"access" =~ /^$access$/')
        assert [t["query"] for t in panel["targets"]] == [" ".join(met_query.split()), " ".join(total_query.split())]
        group = [r for r in ok if threshold.access is None or r.site.access == threshold.access]
        meets = [
            r for r in group
            if (threshold.download_mbps is None or r.download_mbps >= threshold.download_mbps)
            and (threshold.upload_mbps is None or r.upload_mbps >= threshold.upload_mbps)
            and (threshold.latency_ms is None or r.latency_ms <= threshold.latency_ms)
        ]  # fmt: skip
        met = server.scalar(grafana_query(met_query)) or 0
        total = server.scalar(grafana_query(total_query))
        assert (met, total) == (len(meets), len(group)), threshold.id


def test_district_view_communes_histogram_and_peak_hours(
    data: tuple[Influx, list[SyntheticAgent], list[Result]],
) -> None:
    server, _, results = data
    city = [r for r in results if r.site.district_code == "380"]
    communes, _ = (t["query"] for t in _panel("district", "Xếp hạng theo Xã")["targets"])
    expected = Counter(REGIONS.names("38", "380", r.site.commune_code)[1] for r in city)
    assert {row["commune_name"]: row["tests"] for row in _rows(server, communes)} == expected
    (raw,) = (t["query"] for t in _panel("district", "Phân bố tốc độ")["targets"])
    assert sorted(row["download"] for row in _rows(server, raw)) == sorted(r.download_mbps for r in _ok(city))
    (peak,) = (t["query"] for t in _panel("district", "Giờ cao điểm (19–23 h)")["targets"])
    (off_peak,) = (t["query"] for t in _panel("district", "Ngoài giờ cao điểm")["targets"])
    hours = {int(h) for h in PEAK_HOURS.split("|")}
    in_peak = [r.download_mbps for r in _ok(city) if r.started_at.astimezone(LOCAL_TIME).hour in hours]
    outside = [r.download_mbps for r in _ok(city) if r.started_at.astimezone(LOCAL_TIME).hour not in hours]
    assert _rows(server, peak)[0]["download"] == pytest.approx(statistics.median(in_peak))
    assert _rows(server, off_peak)[0]["download"] == pytest.approx(statistics.median(outside))
    (profile,) = (t["query"] for t in _panel("district", "Tải xuống trung vị theo giờ trong ngày")["targets"])
    assert {row["hour"] for row in _rows(server, profile)} == {f"{h:02d}" for h in range(24)}


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
    assert len(_rows(server, state, district=re.escape(CITY))) == 3
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
                    "VinaPhone (Di động)", "MobiFone (Di động)"}  # fmt: skip
    assert _series_names(server, _panel("province", "Tải xuống trung vị theo loại truy nhập")) == {"Cố định", "Di động"}


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
    for relative, content in provisioning_files(Translator("vi"), THRESHOLDS, REGIONS).items():
        on_disk = HERE / relative
        assert on_disk.exists() and on_disk.read_text(encoding="utf-8") == content, (
            f"{relative} is out of date: run `dokiem grafana build`"
        )


def test_english_dashboards_keep_the_same_queries() -> None:
    english = build_all(Translator("en"), THRESHOLDS)
    for name in BOARDS:
        assert [q for _, q in _targets(english[name])] == [q for _, q in _targets(BOARDS[name])]
        assert english[name]["title"] != BOARDS[name]["title"]

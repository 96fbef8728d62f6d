"""Each fact has one home: what the dashboards and alert rules query is what the collector's writer
writes (``dokiem.series``), and what an alert says is what its rule does."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dokiem.collector.influx import RunCount, health_line, quarantine_line, result_line, survey_line
from dokiem.contract import (
    Access,
    DnsTiming,
    ErrorInfo,
    Method,
    PingStats,
    Radio,
    Result,
    ServerLocation,
    ServerRef,
    Site,
    Technology,
)
from dokiem.grafana.alerts import RULES, rule_json, rules_file
from dokiem.grafana.dashboards import build_all
from dokiem.i18n import LANGS, Translator
from dokiem.regions import Place, Regions
from dokiem.series import FIELDS, FOREVER, TAGS, Measurement
from dokiem.status import Health, OutboxHealth, Status
from dokiem.thresholds import load_thresholds

MOMENT = datetime(2026, 8, 1, 12, tzinfo=UTC)


def _unescaped_split(text: str, separator: str) -> list[str]:
    """Line protocol's parts: ``separator`` not preceded by a backslash, outside double quotes."""
    parts, current, quoted, escaped = [], "", False, False
    for char in text:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            current, escaped = current + char, True
        elif char == '"':
            current, quoted = current + char, not quoted
        elif char == separator and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def written(line: str) -> tuple[str, set[str], set[str]]:
    """(measurement, tag keys, field keys) of one line of line protocol."""
    series, fields, _time = _unescaped_split(line, " ")
    measurement, *tags = _unescaped_split(series, ",")
    return (measurement, {tag.split("=", 1)[0] for tag in tags},
            {field.split("=", 1)[0] for field in _unescaped_split(fields, ",")})  # fmt: skip


def _full_result() -> tuple[Result, Place]:
    """A Result with every field the writer may write filled in, and where the collector files it."""
    regions = Regions.load()
    site = Site(province_code="38", commune_code="14755", isp="VNPT", access=Access.FIXED, plan_down_mbps=300,
                plan_up_mbps=100)  # fmt: skip
    result = Result(
        agent_id="th-380-001", source="resident", started_at=MOMENT, finished_at=MOMENT + timedelta(seconds=30),
        site=site,
        server=ServerRef(id="s1", url="http://s1.example.vn/", location=ServerLocation.INTERNATIONAL), ip_version=6,
        download_mbps=100, upload_mbps=50, latency_ms=10, jitter_ms=1, loss_pct=0, loaded_latency_ms=40,
        loaded_latency_down_ms=40, loaded_latency_up_ms=50, dns_ms=5, responsiveness_rpm=900,
        responsiveness_down_rpm=1200, responsiveness_up_rpm=900, cross_traffic_down_mbps=1, cross_traffic_up_mbps=0.5,
        bytes_down=10**8, bytes_up=10**8,
        data_used_bytes=3 * 10**8, ping=PingStats(method="icmp", target="s1", sent=5, received=5, loss_pct=0),
        dns=[DnsTiming(resolver="system", name="s1.example.vn", ms=5)],
        method=Method(name="dokiem-http", version="1", streams_down=4, streams_up=4),
        radio=Radio(technology=Technology.G5, operator_code="452-04", rsrp_dbm=-95, rsrq_db=-11, sinr_db=12,
                    signal_dbm=-70),
        error=ErrorInfo(code="timeout", message="out of time"),
    )  # fmt: skip
    return result, regions.place_site(result.site, result.started_at)


def test_the_writer_writes_exactly_the_schema() -> None:
    result, place = _full_result()
    lines = {
        Measurement.SPEEDTEST: result_line(result, place),
        Measurement.HEALTH: health_line(
            Status(agent_id="th-380-001", state="online", at=MOMENT,
                   health=Health(cpu_pct=1, memory_pct=2, temperature_c=40, disk_pct=3, load1=0.1, uptime_s=9),
                   outbox=OutboxHealth(depth=1, dropped_age=0, dropped_size=0)),
            {"province_code": "38", "district_code": "380", "district_name": "TP", "commune_code": "14758",
             "commune_name": "P", "isp": "VNPT"}, RunCount(expected=4, received=3)),
        Measurement.QUARANTINE: quarantine_line("schema", "th-380-001"),
        Measurement.SURVEY: survey_line({"agent_id": "th-380-001", "at_ms": 1_790_000_000_000, "commune_code": "14758",
                                         "cell": "88414148c1fffff", "operator_code": "452-04", "registration": "home",
                                         "technology": "4g", "rsrp_dbm": -95.0, "download_mbps": 12.5}, "38", "P"),
    }  # fmt: skip
    for measurement, line in lines.items():
        assert line is not None
        name, tags, fields = written(line)
        assert name == measurement
        assert tags == set(TAGS[measurement]), measurement
        assert fields == set(FIELDS[measurement]), measurement


QUOTED = re.compile(r'"([^"]+)"')
ALIAS = re.compile(r'\bAS\s+"([^"]+)"', re.IGNORECASE)
MEASURED = re.compile(r'\bFROM\s+(?:"[^"]+"\.)?"([^"]+)"', re.IGNORECASE)  # a retention policy may lead it
POLICIES = {FOREVER}


def unknown_names(query: str) -> set[str]:
    """The double-quoted names in ``query`` that are neither a measurement it reads from, nor an alias it
    makes itself, nor a tag or field the writer writes into the measurements it reads."""
    measurements = set(MEASURED.findall(query))
    known = {name for m in measurements if m in set(Measurement) for name in (*TAGS[Measurement(m)],
                                                                              *FIELDS[Measurement(m)])}  # fmt: skip
    made = set(ALIAS.findall(query))
    return {name for name in QUOTED.findall(query) if name not in measurements | made | known | POLICIES}


def _dashboard_queries() -> list[tuple[str, str]]:
    queries = []
    for lang in LANGS:
        for name, board in build_all(Translator(lang), load_thresholds(), Regions.load()).items():
            for panel in board["panels"]:
                queries += [(f"{name}: {panel['title']}", t["query"]) for t in panel.get("targets", [])]
            for variable in board.get("templating", {}).get("list", []):
                if isinstance(variable.get("query"), str) and "FROM" in variable["query"]:
                    queries.append((f"{name}: ${variable['name']}", variable["query"]))
    return queries


def _alert_queries() -> list[tuple[str, str]]:
    rules = rules_file(Translator("vi"))["groups"][0]["rules"]
    return [
        (rule["uid"], item["model"]["query"]) for rule in rules for item in rule["data"] if "query" in item["model"]
    ]


def test_every_dashboard_and_alert_query_names_only_what_the_writer_writes() -> None:
    queries = _dashboard_queries() + _alert_queries()
    assert len(queries) > 50 and all(MEASURED.search(q) for _, q in queries)
    wrong = {where: unknown_names(query) for where, query in queries if unknown_names(query)}
    assert wrong == {}


def test_the_check_sees_a_tag_the_writer_does_not_write() -> None:
    assert unknown_names('SELECT median("download_mbps") FROM "speedtest" GROUP BY "distrct"') == {"distrct"}
    assert unknown_names('SELECT last("online") FROM "agent_health" GROUP BY "hour"') == {"hour"}  # speedtest's
    assert unknown_names('SELECT count("n") FROM (SELECT last("failed") AS "n" FROM "speedtest")') == set()


NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def _numbers_the_rule_uses(rule: dict[str, Any]) -> set[float]:
    """Read off the provisioned rule itself: its pending time, its queries' time ranges (in minutes, hours,
    days and weeks) and the constants of its math (as shares too: 0.3 is 30%, a ratio 0.7 is 30% below)."""
    numbers: set[float] = set()
    if match := re.fullmatch(r"(\d+)h", rule["for"]):
        numbers.add(float(match[1]))
    for item in rule["data"]:
        seconds = item.get("relativeTimeRange", {}).get("from")
        if seconds:
            numbers |= {seconds / unit for unit in (60, 3600, 86400, 7 * 86400) if seconds % unit == 0}
        if item["model"].get("type") == "math":
            for constant in map(float, NUMBER.findall(item["model"]["expression"].replace("$R_", "$"))):
                numbers |= {constant, round(constant * 100, 6), round((1 - constant) * 100, 6)}
    return numbers


@pytest.mark.parametrize("lang", LANGS)
def test_an_alert_says_only_numbers_its_rule_uses(lang: str) -> None:
    tr = Translator(lang)
    for rule in RULES:
        provisioned = rule_json(rule, tr)
        said = f"{provisioned['title']} {provisioned['annotations']['summary']}"
        numbers = {float(n.replace(",", ".")) for n in NUMBER.findall(said)}
        assert numbers <= _numbers_the_rule_uses(provisioned), (rule.uid, said)
        assert "{" not in said.replace("{{ $labels.", "")  # every placeholder filled


def test_the_alert_check_sees_a_number_the_rule_does_not_use() -> None:
    provisioned = rule_json(RULES[0], Translator("vi"))
    assert 3.0 not in _numbers_the_rule_uses(provisioned) and 2.0 in _numbers_the_rule_uses(provisioned)

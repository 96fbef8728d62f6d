"""The alert rules, run as Grafana runs them: each rule's InfluxQL against a real influxd holding data
that must fire it ("storm") and data that must not ("calm"), then the rule's own reduce, math and
threshold steps as written in the provisioned YAML. Grafana's server cannot run here; its
expression steps are evaluated by the small interpreter below (last value per series; math joined
by tags; the threshold)."""

from __future__ import annotations

import ast
import operator
import tempfile
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from dokiem.collector.influx import RunCount, health_line, quarantine_line, result_line
from dokiem.contract import Access, Site
from dokiem.grafana.alerts import CHANNELS, EXPRESSIONS, contact_points_file, rules_file
from dokiem.grafana.influxql import DATASOURCE_UID
from dokiem.grafana.provision import HERE
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.status import Status
from testkit.agentkit import make_result
from testkit.influx import Influx

REGIONS = Regions.load()
NOW = datetime.now(UTC).replace(microsecond=0)
RULES = {rule["uid"]: rule for rule in rules_file(Translator("vi"))["groups"][0]["rules"]}
Labels = frozenset[tuple[str, str]]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _heartbeat(agent: str, online: bool, ago: timedelta, runs: tuple[int, int] | None = None) -> str:
    status = Status(state="online" if online else "offline", agent_id=agent)
    site = {"district_name": "Thành phố Thanh Hóa"}
    line = health_line(status, site, RunCount(*runs) if runs else None, at_ms=_ms(NOW - ago))
    assert line
    return line


def _speed(commune: str, access: Access, mbps: float, ago: timedelta, n: int) -> str:
    site = Site(province_code="38", commune_code=commune, isp="VNPT", access=access)
    start = NOW - ago
    result = make_result(n).model_copy(update={"site": site, "download_mbps": mbps, "started_at": start,
                                               "finished_at": start + timedelta(seconds=20)})  # fmt: skip
    line = result_line(result, REGIONS.place_site(site, start))
    assert line
    return line


def _history(commune: str, access: Access, old: float, recent: float, recent_tests: int, seed: int) -> list[str]:
    """Four weeks at ``old`` Mbit/s (a test a day), then ``recent_tests`` in the last 24 h at ``recent``."""
    lines = [_speed(commune, access, old, timedelta(days=27 - d, hours=1), seed * 100 + d) for d in range(26)]
    lines += [_speed(commune, access, recent, timedelta(hours=20 - h), seed * 100 + 50 + h) for h in
              range(recent_tests)]  # fmt: skip
    return lines


def storm() -> list[str]:
    """Every rule must fire, each for the one agent or commune named."""
    return [
        # offline since its last will 3 h ago; "back-1" went offline, then came back
        _heartbeat("off-1", True, timedelta(hours=5)), _heartbeat("off-1", False, timedelta(hours=3)),
        _heartbeat("back-1", False, timedelta(hours=1)), _heartbeat("back-1", True, timedelta(minutes=30)),
        # 96 runs expected in the last day: "miss-1" sent 50, "ok-1" 90, "new-1" has one heartbeat only
        _heartbeat("miss-1", True, timedelta(hours=23), (100, 100)),
        _heartbeat("miss-1", True, timedelta(minutes=10), (196, 150)),
        _heartbeat("ok-1", True, timedelta(hours=23), (100, 100)),
        _heartbeat("ok-1", True, timedelta(minutes=10), (196, 190)),
        _heartbeat("new-1", True, timedelta(minutes=10), (4, 1)),
        # Hạc Thành's fixed lines fell from 250 to 120; Hàm Rồng's barely moved; Quảng Phú has too few
        # tests today to judge; Đông Tiến fell on mobile only (the rule is about fixed lines)
        *_history("14797", Access.FIXED, 250, 120, 10, 1),
        *_history("14758", Access.FIXED, 200, 190, 10, 2),
        *_history("16522", Access.FIXED, 250, 50, 3, 3),
        *_history("15853", Access.MOBILE, 60, 20, 10, 4),
        # 12 messages quarantined in the last hour
        *(quarantine_line("schema", "bad-1", at_ms=_ms(NOW - timedelta(minutes=50 - n))) or "" for n in range(12)),
    ]  # fmt: skip


def calm() -> list[str]:
    """No rule may fire."""
    return [
        _heartbeat("on-1", True, timedelta(hours=3)), _heartbeat("on-1", True, timedelta(minutes=5)),
        _heartbeat("ok-2", True, timedelta(hours=23), (10, 10)),
        _heartbeat("ok-2", True, timedelta(minutes=5), (34, 33)),
        *_history("14797", Access.FIXED, 250, 240, 10, 5),
        *(quarantine_line("schema", "bad-1", at_ms=_ms(NOW - timedelta(minutes=50 - n))) or "" for n in range(5)),
        *(quarantine_line("schema", "bad-1", at_ms=_ms(NOW - timedelta(hours=3, minutes=n))) or "" for n in range(50)),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def influxd() -> Iterator[Influx]:
    server = Influx(Path(tempfile.mkdtemp(prefix="dokiem-influx-")))
    server.start()
    try:
        for db, lines in (("storm", storm()), ("calm", calm())):
            server.query(f'CREATE DATABASE "{db}"')
            body = "\n".join(lines).encode()
            request = urllib.request.Request(f"{server.url}/write?db={db}&precision=ms", data=body, method="POST")
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status == 204
        yield server
    finally:
        server.stop()


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.Lt: operator.lt, ast.Gt: operator.gt, ast.LtE: operator.le, ast.GtE: operator.ge}  # fmt: skip


def _math(expression: str, values: dict[str, float]) -> float:
    """Grafana's math expression over numbers: + - * / comparisons && (a division by 0 gives NaN)."""

    def run(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return run(node.body)
        if isinstance(node, ast.BoolOp):
            return float(all(run(v) for v in node.values))
        if isinstance(node, ast.Compare):
            (op,), (right,) = node.ops, node.comparators
            return float(_OPERATORS[type(op)](run(node.left), run(right)))
        if isinstance(node, ast.BinOp):
            left, right = run(node.left), run(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                return float("nan")
            return float(_OPERATORS[type(node.op)](left, right))
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.Constant):
            return float(node.value)
        raise AssertionError(f"unexpected {ast.dump(node)} in {expression}")

    text = expression.replace("&&", " and ")
    for name in sorted(values, key=len, reverse=True):
        text = text.replace(f"${name}", name)
    return run(ast.parse(text, mode="eval"))


def firing(rule: dict[str, Any], server: Influx, db: str) -> set[Labels]:
    """The series (by tags) for which the rule's condition holds now."""
    steps: dict[str, dict[Labels, float]] = {}
    for step in rule["data"]:
        model, ref = step["model"], step["refId"]
        if step["datasourceUid"] == DATASOURCE_UID:
            since = step["relativeTimeRange"]["from"]
            query = model["query"].replace("$timeFilter", f"time >= now() - {since}s")
            steps[ref] = {
                frozenset(s.get("tags", {}).items()): [v for v in s["values"] if v[1] is not None][-1][1]
                for s in server.query(query, db=db)
            }
        elif model["type"] == "reduce":
            assert model["reducer"] == "last"
            steps[ref] = steps[model["expression"]]
        elif model["type"] == "math":
            names = [n for n in steps if f"${n}" in model["expression"]]
            keys = set.intersection(*(set(steps[n]) for n in names))
            steps[ref] = {k: _math(model["expression"], {n: steps[n][k] for n in names}) for k in keys}
        else:
            (condition,) = model["conditions"]
            assert model["type"] == "threshold" and condition["evaluator"]["type"] == "gt"
            bound = condition["evaluator"]["params"][0]
            steps[ref] = {k: float(v > bound) for k, v in steps[model["expression"]].items()}
    return {labels for labels, value in steps[rule["condition"]].items() if value}


def _tag(labels: set[Labels], key: str) -> set[str]:
    return {dict(label)[key] for label in labels}


def test_agent_offline_fires_for_the_agent_gone_quiet(influxd: Influx) -> None:
    rule = RULES["dokiem-agent-offline"]
    assert _tag(firing(rule, influxd, "storm"), "agent") == {"off-1"} and rule["for"] == "2h"
    assert firing(rule, influxd, "calm") == set()


def test_missed_runs_fire_over_30_percent(influxd: Influx) -> None:
    rule = RULES["dokiem-missed-runs"]
    assert _tag(firing(rule, influxd, "storm"), "agent") == {"miss-1"}
    assert firing(rule, influxd, "calm") == set()


def test_a_communes_fixed_download_drop_fires_only_with_enough_tests(influxd: Influx) -> None:
    rule = RULES["dokiem-commune-drop"]
    fired = firing(rule, influxd, "storm")
    assert _tag(fired, "commune") == {"14797"} and _tag(fired, "commune_name") == {"Phường Hạc Thành"}
    assert firing(rule, influxd, "calm") == set()


def test_quarantined_messages_fire_over_ten_an_hour(influxd: Influx) -> None:
    rule = RULES["dokiem-quarantine"]
    assert firing(rule, influxd, "storm") == {frozenset()}
    assert firing(rule, influxd, "calm") == set()


def test_the_rules_file_is_valid_provisioning_in_vietnamese_and_english() -> None:
    provisioned = yaml.safe_load((HERE / "provisioning" / "alerting" / "dokiem-rules.yaml").read_text("utf-8"))
    assert provisioned == rules_file(Translator("vi")), "out of date: run `dokiem grafana build`"
    (group,) = provisioned["groups"]
    assert group["folder"] == "dokiem" and len({r["uid"] for r in group["rules"]}) == len(group["rules"]) == 4
    for rule in group["rules"]:
        refs = [step["refId"] for step in rule["data"]]
        assert rule["condition"] in refs and len(set(refs)) == len(refs)
        assert {step["datasourceUid"] for step in rule["data"]} == {DATASOURCE_UID, EXPRESSIONS}
        assert rule["noDataState"] == "OK"  # no data is no alarm: an agent that never reported is not "offline"
        grouped = any("GROUP BY" in step["model"].get("query", "") for step in rule["data"])
        assert ("{{ $labels." in rule["annotations"]["summary"]) == grouped  # the message names the agent/commune
    english = rules_file(Translator("en"))["groups"][0]["rules"]
    titles = [r["title"] for r in group["rules"]]
    assert any("Thiết bị đo" in t for t in titles) and [r["title"] for r in english] != titles
    assert [r["data"] for r in english] == [r["data"] for r in group["rules"]]


def test_contact_points_name_the_configured_channels_and_never_their_values() -> None:
    assert contact_points_file({}) is None  # nothing configured: Grafana's own default policy applies
    environment = {"DOKIEM_ALERT_EMAIL": "so-tt@thanhhoa.gov.vn", "DOKIEM_ALERT_TELEGRAM_CHAT_ID": "-100123"}
    points = contact_points_file(environment)
    assert points is not None
    (contact,) = points["contactPoints"]
    assert [r["type"] for r in contact["receivers"]] == ["email", "telegram"]
    text = yaml.safe_dump(points)
    assert "so-tt@thanhhoa.gov.vn" not in text and "-100123" not in text
    assert "${DOKIEM_ALERT_EMAIL}" in text and "$__file{/run/secrets/alert_telegram_token}" in text
    assert points["policies"][0]["receiver"] == contact["name"] and set(CHANNELS) >= set(environment)

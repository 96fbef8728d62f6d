"""The alert rules, run as Grafana runs them: each rule's InfluxQL against a real influxd holding data
that must fire it ("storm") and data that must not ("calm"), then the rule's own reduce, math and
threshold steps as written in the provisioned YAML (testkit/alertkit.py: Grafana's server cannot run here)."""

from __future__ import annotations

import tempfile
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from dokiem.collector.influx import RunCount, collector_line, health_line, quarantine_line, result_line
from dokiem.collector.watch import ServerState
from dokiem.contract import Access, Site
from dokiem.grafana.alerts import CHANNELS, EXPRESSIONS, contact_points_file, rules_file
from dokiem.grafana.influxql import DATASOURCE_UID
from dokiem.grafana.provision import HERE
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.status import Status
from testkit.agentkit import make_result
from testkit.alertkit import Labels, firing
from testkit.influx import Influx

REGIONS = Regions.load()
NOW = datetime.now(UTC).replace(microsecond=0)
RULES = {rule["uid"]: rule for rule in rules_file(Translator("vi"))["groups"][0]["rules"]}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _heartbeat(agent: str, online: bool, ago: timedelta, runs: tuple[int, int] | None = None) -> str:
    status = Status(state="online" if online else "offline", agent_id=agent)
    site = {"commune_name": "Phường Hạc Thành"}
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


def _server(collector: str, ago: timedelta, disk: float, backup: float, cert: float) -> str:
    state = ServerState(messages_in=40, refused=0, influx_backlog=0, archive_mb=10.0, disk_used_pct=disk,
                        backup_age_h=backup, cert_days_left=cert)  # fmt: skip
    line = collector_line(collector, state, at_ms=_ms(NOW - ago))
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
        # the server: its collector stopped writing 15 minutes ago, its disk 93% full, its last backup 40 hours
        # old, a certificate a day from its end
        *(_server("c-1", timedelta(minutes=15 + m), disk=93.0, backup=40.0, cert=1.0) for m in range(30)),
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
        *(_server("c-1", timedelta(minutes=1 + m), disk=40.0, backup=3.0, cert=400.0) for m in range(30)),
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


@pytest.mark.parametrize("uid", ["dokiem-collector-stopped", "dokiem-disk", "dokiem-backup", "dokiem-certificate"])
def test_the_servers_rules_fire_for_a_stopped_collector_a_full_disk_an_old_backup_a_certificate_near_its_end(
    influxd: Influx, uid: str
) -> None:
    rule = RULES[uid]
    fired = firing(rule, influxd, "storm")
    assert fired == ({frozenset()} if uid == "dokiem-collector-stopped" else {frozenset({("collector", "c-1")})})
    assert firing(rule, influxd, "calm") == set()


def test_the_rules_file_is_valid_provisioning_in_vietnamese_and_english() -> None:
    provisioned = yaml.safe_load((HERE / "provisioning" / "alerting" / "dokiem-rules.yaml").read_text("utf-8"))
    assert provisioned == rules_file(Translator("vi")), "out of date: run `dokiem grafana build`"
    (group,) = provisioned["groups"]
    assert group["folder"] == "dokiem" and len({r["uid"] for r in group["rules"]}) == len(group["rules"]) == 8
    for rule in group["rules"]:
        refs = [step["refId"] for step in rule["data"]]
        assert rule["condition"] in refs and len(set(refs)) == len(refs)
        assert {step["datasourceUid"] for step in rule["data"]} == {DATASOURCE_UID, EXPRESSIONS}
        # no data is no alarm (an agent that never reported is not "offline"), but for the collector's own state
        assert rule["noDataState"] == ("Alerting" if rule["uid"] == "dokiem-collector-stopped" else "OK")
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

"""Alert rules a technician gets, provisioned as code beside the dashboards, and where they go.

Each rule is InfluxQL queries (``$timeFilter`` is the rule's own time range) followed by Grafana's
server-side expressions: ``reduce`` (last value per series), ``math`` (series joined by their tags)
and a ``threshold`` that is the rule's condition. The rules:

- an agent offline more than 2 h (its last heartbeat says offline; the broker publishes that
  when a Pi stops answering; pending for 2 h before it fires);
- an agent missing more than 30% of its expected runs in 24 h (from the run counts its heartbeats
  carry);
- a commune's median fixed download more than 30% below its own 4-week median (at least 5 tests in
  the last 24 h, so one bad evening does not page anyone);
- more than 10 messages quarantined (refused or failed) in an hour;
- the server (issue 32): no collector has written its state for 10 minutes (stopped, or cut from InfluxDB);
  the disk under its data past 85%; no backup for 26 hours (a daily one, with slack; before the first, the hours
  since it was first watched); a certificate it watches within 30 days of its expiry.

Contact points come from the environment Grafana runs with (``DOKIEM_ALERT_EMAIL``,
``DOKIEM_ALERT_TELEGRAM_CHAT_ID`` with the bot token in the ``alert_telegram_token`` secret,
``DOKIEM_ALERT_WEBHOOK_URL``): ``dokiem grafana build`` writes a receiver for each one set when it
runs, as references, so no address or token is written into the provisioning files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dokiem.grafana.influxql import DATASOURCE_UID
from dokiem.grafana.panels import AGENTS_ONLY, HEALTH, QUARANTINE, SERVER, SPEED
from dokiem.i18n import Translator

FOLDER = "dokiem"
EXPRESSIONS = "__expr__"  # Grafana's server-side expressions "datasource"
HOUR, DAY, WEEK = 3600, 86400, 7 * 86400
OFFLINE_HOURS = 2
MISSED_SHARE = 0.3
DROP_SHARE = 0.3  # below the commune's own median of the last BASELINE_WEEKS
BASELINE_WEEKS = 4
DROP_MIN_TESTS = 5
QUARANTINED_PER_HOUR = 10
STOPPED_MINUTES = 10
DISK_PCT = 85
BACKUP_HOURS = 26
CERT_DAYS = 30
TELEGRAM_TOKEN_FILE = "/run/secrets/alert_telegram_token"
CHANNELS = {  # environment variable -> Grafana receiver type
    "DOKIEM_ALERT_EMAIL": "email",
    "DOKIEM_ALERT_TELEGRAM_CHAT_ID": "telegram",
    "DOKIEM_ALERT_WEBHOOK_URL": "webhook",
}


@dataclass(frozen=True)
class Query:
    ref: str
    influxql: str
    seconds: int  # the time range: now - seconds .. now


@dataclass(frozen=True)
class Rule:
    uid: str
    title_key: str
    summary_key: str
    queries: tuple[Query, ...]
    math: str  # over the reduced queries ($A, $B, …); the rule fires where it is > 0
    pending: str = "0s"
    no_data: str = "OK"
    labels: Mapping[str, str] = field(default_factory=lambda: {"severity": "warning"})
    # the numbers the title and summary say, from the same constants the rule is built of
    says: Mapping[str, float] = field(default_factory=dict)


# Grafana's templates for the firing series' tags, as the messages name them
LABELS = {"agent": "{{ $labels.agent }}", "commune": "{{ $labels.commune_name }}",
          "collector": "{{ $labels.collector }}"}  # fmt: skip
# a commune's fixed-line speed to domestic servers (an international figure is the world's link, not the line)
FIXED_DOMESTIC = f"""\"access\" = 'fixed' AND \"location\" != 'international' AND {AGENTS_ONLY}"""
FIXED_MEDIAN = f"""SELECT median("download_mbps") FROM {SPEED} WHERE $timeFilter AND {FIXED_DOMESTIC}
    GROUP BY "commune", "commune_name" """


def _on_server(uid: str, name: str, reading: str, condition: str, **says: float) -> Rule:
    """A rule on one reading of each collector's last state (collector/watch.py)."""
    query = f'SELECT last("{reading}") FROM {SERVER} WHERE $timeFilter GROUP BY "collector"'
    return Rule(uid, f"al_{name}_title", f"al_{name}_summary", (Query("A", query, HOUR),), condition, says=says)


RULES = (
    Rule(
        "dokiem-agent-offline", "al_offline_title", "al_offline_summary",
        (Query("A", f'SELECT last("online") FROM {HEALTH} WHERE $timeFilter GROUP BY "agent", "commune_name"',
               7 * DAY),),
        "$A < 1", pending=f"{OFFLINE_HOURS}h", says={"hours": OFFLINE_HOURS},
    ),
    Rule(
        "dokiem-missed-runs", "al_missed_title", "al_missed_summary",
        (Query("A", f'SELECT spread("runs_expected") FROM {HEALTH} WHERE $timeFilter GROUP BY "agent"', DAY),
         Query("B", f'SELECT spread("runs_received") FROM {HEALTH} WHERE $timeFilter GROUP BY "agent"', DAY)),
        f"$A > 0 && 1 - $B / $A > {MISSED_SHARE}", says={"percent": MISSED_SHARE * 100, "hours": DAY // HOUR},
    ),
    Rule(
        "dokiem-commune-drop", "al_drop_title", "al_drop_summary",
        (Query("A", FIXED_MEDIAN, DAY), Query("B", FIXED_MEDIAN, BASELINE_WEEKS * WEEK),
         Query("C", f"""SELECT count("download_mbps") FROM {SPEED} WHERE $timeFilter AND {FIXED_DOMESTIC}
               GROUP BY "commune", "commune_name" """, DAY)),
        f"$C >= {DROP_MIN_TESTS} && $A / $B < {1 - DROP_SHARE:g}",
        says={"percent": DROP_SHARE * 100, "weeks": BASELINE_WEEKS, "hours": DAY // HOUR},
    ),
    Rule(
        "dokiem-quarantine", "al_quarantine_title", "al_quarantine_summary",
        (Query("A", f'SELECT sum("count") FROM {QUARANTINE} WHERE $timeFilter', HOUR),),
        f"$A > {QUARANTINED_PER_HOUR}", says={"count": QUARANTINED_PER_HOUR},
    ),
    # no point at all in the window is the stopped collector: no data alerts
    Rule(
        "dokiem-collector-stopped", "al_stopped_title", "al_stopped_summary",
        (Query("A", f'SELECT count("alive") FROM {SERVER} WHERE $timeFilter', STOPPED_MINUTES * 60),),
        "$A < 1", no_data="Alerting", labels={"severity": "critical"}, says={"minutes": STOPPED_MINUTES},
    ),
    _on_server("dokiem-disk", "disk", "disk_used_pct", f"$A > {DISK_PCT}", percent=DISK_PCT),
    _on_server("dokiem-backup", "backup", "backup_age_h", f"$A > {BACKUP_HOURS}", hours=BACKUP_HOURS),
    _on_server("dokiem-certificate", "certificate", "cert_days_left", f"$A < {CERT_DAYS}", days=CERT_DAYS),
)  # fmt: skip


def _query(query: Query) -> dict[str, Any]:
    return {
        "refId": query.ref,
        "relativeTimeRange": {"from": query.seconds, "to": 0},
        "datasourceUid": DATASOURCE_UID,
        "model": {"refId": query.ref, "query": " ".join(query.influxql.split()), "rawQuery": True,
                  "resultFormat": "time_series", "intervalMs": 60_000, "maxDataPoints": 43_200},
    }  # fmt: skip


def _expression(ref: str, **model: Any) -> dict[str, Any]:
    return {"refId": ref, "datasourceUid": EXPRESSIONS, "model": {"refId": ref, **model}}


def rule_json(rule: Rule, tr: Translator) -> dict[str, Any]:
    """One rule as Grafana's provisioning takes it: the queries, each reduced to its last value (R_A,
    R_B, …), the math over them (M) and the threshold M > 0 that is the condition (T)."""
    data = [_query(q) for q in rule.queries]
    data += [_expression(f"R_{q.ref}", type="reduce", expression=q.ref, reducer="last") for q in rule.queries]
    math = rule.math
    for q in rule.queries:
        math = math.replace(f"${q.ref}", f"$R_{q.ref}")
    data.append(_expression("M", type="math", expression=math))
    data.append(_expression("T", type="threshold", expression="M",
                            conditions=[{"evaluator": {"type": "gt", "params": [0]}}]))  # fmt: skip
    said = {name: tr.number(value, 0) for name, value in rule.says.items()} | LABELS
    return {
        "uid": rule.uid, "title": tr(rule.title_key, **said), "condition": "T", "data": data, "for": rule.pending,
        "noDataState": rule.no_data, "execErrState": "Error", "labels": dict(rule.labels),
        "annotations": {"summary": tr(rule.summary_key, **said)}, "isPaused": False,
    }  # fmt: skip


def rules_file(tr: Translator) -> dict[str, Any]:
    rules = [rule_json(rule, tr) for rule in RULES]
    return {"apiVersion": 1, "groups": [{"orgId": 1, "name": "dokiem", "folder": FOLDER, "interval": "5m",
                                         "rules": rules}]}  # fmt: skip


def _receiver(kind: str, variable: str) -> dict[str, Any]:
    settings = {
        "email": {"addresses": f"${{{variable}}}", "singleEmail": True},
        "telegram": {"chatid": f"${{{variable}}}", "bottoken": f"$__file{{{TELEGRAM_TOKEN_FILE}}}"},
        "webhook": {"url": f"${{{variable}}}", "httpMethod": "POST"},
    }[kind]
    return {"uid": f"dokiem-{kind}", "type": kind, "settings": settings, "disableResolveMessage": False}


def contact_points_file(environment: Mapping[str, str]) -> dict[str, Any] | None:
    """The contact point and policy for the channels configured in ``environment``; None if none is."""
    receivers = [_receiver(kind, variable) for variable, kind in CHANNELS.items() if environment.get(variable)]
    if not receivers:
        return None
    return {
        "apiVersion": 1,
        "contactPoints": [{"orgId": 1, "name": "dokiem", "receivers": receivers}],
        "policies": [{"orgId": 1, "receiver": "dokiem", "group_by": ["grafana_folder", "alertname"],
                      "group_wait": "1m", "group_interval": "10m", "repeat_interval": "12h"}],
    }  # fmt: skip


def as_yaml(data: dict[str, Any]) -> str:
    """JSON is YAML: Grafana's provisioning reads it as such, and no YAML library is needed here."""
    return "# Provisioned by dokiem (`dokiem grafana build`); edit grafana/alerts.py, not this file.\n" + (
        json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    )

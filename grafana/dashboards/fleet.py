"""Fleet health: agents online, missed runs, errors and quarantined messages by reason, temperature, outbox."""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders import barchart, stat, table, timeseries
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models import dashboard as model

from dokiem.grafana import panels as p
from dokiem.grafana.influxql import DATASOURCE, InfluxQL
from dokiem.i18n import Translator
from dokiem.thresholds import Thresholds


def _per_agent(title: str, aggregate: str, *conditions: str) -> timeseries.Panel:
    """One heartbeat figure over time, a series per agent."""
    query = f"""SELECT {aggregate} FROM {p.HEALTH} WHERE {p.fleet_where(*conditions)}
        GROUP BY time($__interval), "agent" fill(none)"""
    return (
        timeseries.Panel()
        .legend(p.legend())
        .title(title)
        .datasource(DATASOURCE)
        .with_target(InfluxQL(query).alias("$tag_agent"))
        .height(8)
        .span(12)
    )


def _counts_by(title: str, query: str, group: tuple[str, str], count: tuple[str, str]) -> barchart.Panel:
    """A bar per group (an error code, a quarantine reason): (column, label) of the group and the count."""
    return (
        barchart.Panel()
        .legend(p.legend())
        .title(title)
        .datasource(DATASOURCE)
        .with_target(InfluxQL(query).table())
        .transformations([p.organize(dict([group, count]))])
        .x_field(group[1])
        .height(6)
    )


IN_DISTRICT = '"district_name" =~ /^$district$/'


@dataclass(frozen=True)
class Scope:
    """Which agents the board shows: those of the former districts chosen, or (where the data has no
    former districts) every agent, each placed by its commune."""

    conditions: tuple[str, ...]
    place: str  # the tag an agent's row is placed by

    @classmethod
    def of(cls, names: p.Names) -> Scope:
        return cls((IN_DISTRICT,), "district_name") if names.districts else cls((), "commune_name")

    def latest(self) -> str:
        """Each agent's last state, the table's and the stats' common source."""
        return f"""SELECT last("online") AS "online" FROM {p.HEALTH} WHERE {p.fleet_where(*self.conditions)}
        GROUP BY "agent", "{self.place}" """

    def state(self) -> str:
        return f"""SELECT last("runs_expected") AS "expected", last("runs_received") AS "received",
        last("runs_missed") AS "missed", last("temperature_c") AS "temperature", last("cpu_pct") AS "cpu",
        last("outbox_depth") AS "outbox" FROM {p.HEALTH} WHERE {p.fleet_where(*self.conditions)} GROUP BY "agent" """


def _online(tr: Translator, scope: Scope) -> stat.Panel:
    return (
        p.stat_panel(tr("gf_agents_online"))
        .with_target(
            InfluxQL(f"""SELECT sum("online") AS "online", count("online") - sum("online") AS "offline"
                FROM ({scope.latest()})""").table()
        )
        .transformations([p.organize({"online": tr("gf_online"), "offline": tr("gf_offline")})])
        .height(6)
        .span(8)
    )


def _missed(tr: Translator, scope: Scope) -> stat.Panel:
    return (
        p.stat_panel(tr("gf_missed_runs"))
        .with_target(
            InfluxQL(f'SELECT sum("missed") AS "missed", sum("expected") AS "expected" FROM ({scope.state()})').table()
        )
        .transformations([p.organize({"missed": tr("gf_missed"), "expected": tr("gf_expected")})])
        .height(6)
        .span(8)
    )


def _errors(tr: Translator, scope: Scope) -> barchart.Panel:
    return _counts_by(
        tr("gf_errors_by_reason"),
        f"""SELECT count("failed") AS "failed" FROM {p.SPEED} WHERE {p.where(*scope.conditions)}
                AND "failed" = 1 GROUP BY "error" """,
        ("error", tr("gf_error")),
        ("failed", tr("gf_failed")),
    ).span(8)


def _quarantined(tr: Translator) -> barchart.Panel:
    return (
        _counts_by(
            tr("gf_quarantined_by_reason"),
            f'SELECT sum("count") AS "messages" FROM {p.QUARANTINE} WHERE {p.fleet_where()} GROUP BY "reason"',
            ("reason", tr("gf_reason")),
            ("messages", tr("gf_messages")),
        )
        .description(tr("gf_quarantined_desc"))
        .span(24)
    )


def _agents(tr: Translator, scope: Scope) -> table.Panel:
    """Every agent: its last heartbeat's state, runs, temperature, CPU and outbox."""
    online_mapping = model.ValueMap(options={
        "1": model.ValueMappingResult(text=tr("gf_online"), color="green", index=0),
        "0": model.ValueMappingResult(text=tr("gf_offline"), color="red", index=1),
    })  # fmt: skip
    join = model.DataTransformerConfig(id_val="joinByField", options={"byField": "agent", "mode": "outer"})
    columns = {"Time 1": tr("gf_last_seen"), "agent": tr("gf_agent"),
               "district_name": tr("gf_district"), "commune_name": tr("gf_commune"),
               "online": tr("gf_state"), "expected": tr("gf_expected"), "received": tr("gf_received"),
               "missed": tr("gf_missed"), "temperature": tr("gf_temperature"), "cpu": tr("gf_cpu"),
               "outbox": tr("gf_outbox")}  # fmt: skip
    return (
        table.Panel()
        .title(tr("gf_agents"))
        .show_header(True)
        .datasource(DATASOURCE)
        .with_target(InfluxQL(scope.latest()).ref("A").table())
        .with_target(InfluxQL(scope.state()).ref("B").table())
        .transformations([join, p.organize(columns, hide=("Time 2",))])
        .override_by_name(tr("gf_state"), [model.DynamicConfigValue(id_val="mappings", value=[online_mapping])])
        .override_by_name(tr("gf_temperature"), [model.DynamicConfigValue(id_val="unit", value="celsius")])
        .override_by_name(tr("gf_cpu"), [model.DynamicConfigValue(id_val="unit", value="percent")])
        .height(12)
        .span(24)
    )


def fleet_health(tr: Translator, thresholds: Thresholds, names: p.Names) -> db.Dashboard:
    scope = Scope.of(names)
    board = p.dashboard("dokiem-fleet", tr("gf_title_fleet")).description(tr("gf_desc_fleet")).time("now-24h", "now")
    if names.districts:
        board = board.with_variable(p.names_variable("district", tr("gf_district"), names.districts, multi=True))
    return (
        board.with_panel(_online(tr, scope))
        .with_panel(_missed(tr, scope))
        .with_panel(_errors(tr, scope))
        .with_panel(_quarantined(tr))
        .with_panel(_agents(tr, scope))
        .with_panel(
            _per_agent(tr("gf_temperature_trend"), 'mean("temperature_c")', *scope.conditions)
            .unit("celsius")
            .thresholds(p.steps((None, "green"), (70, "orange"), (80, "red")))
        )
        .with_panel(_per_agent(tr("gf_outbox_trend"), 'max("outbox_depth")', *scope.conditions))
    )

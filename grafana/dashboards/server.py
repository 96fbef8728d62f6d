"""The server itself (issue 32): messages taken and refused, InfluxDB's backlog, the archive's size, the disk,
hours since the last backup and days to a certificate's expiry, each as the collector wrote them a minute at a
time (collector/watch.py); the alert rules read the same points (grafana/alerts.py)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import stat, timeseries

from dokiem.grafana import alerts
from dokiem.grafana import panels as p
from dokiem.grafana.influxql import DATASOURCE, InfluxQL
from dokiem.i18n import Translator
from dokiem.thresholds import Thresholds


def _now(title: str, field: str, unit: str, thresholds: db.ThresholdsConfig) -> stat.Panel:
    """A reading's last value, a number per collector."""
    query = f'SELECT last("{field}") AS "{field}" FROM {p.SERVER} WHERE {p.fleet_where()} GROUP BY "collector"'
    return (
        p.stat_panel(title).with_target(InfluxQL(query).alias("$tag_collector")).unit(unit).thresholds(thresholds)
        .height(5).span(6)
    )  # fmt: skip


def _trend(title: str, aggregate: str, unit: str) -> timeseries.Panel:
    query = f"""SELECT {aggregate} FROM {p.SERVER} WHERE {p.fleet_where()} GROUP BY time($__interval), "collector"
        fill(none)"""
    return (
        timeseries.Panel().legend(p.legend()).title(title).datasource(DATASOURCE)
        .with_target(InfluxQL(query).alias("$tag_collector")).unit(unit).height(8).span(12)
    )  # fmt: skip


def server_view(tr: Translator, thresholds: Thresholds, names: p.Names) -> db.Dashboard:
    return (
        p.dashboard("dokiem-server", tr("gf_title_server"))
        .description(tr("gf_desc_server"))
        .time("now-7d", "now")
        .with_panel(_now(tr("gf_disk_used"), "disk_used_pct", "percent",
                         p.steps((None, "green"), (alerts.DISK_PCT - 10, "orange"), (alerts.DISK_PCT, "red"))))
        .with_panel(_now(tr("gf_backup_age"), "backup_age_h", "h",
                         p.steps((None, "green"), (alerts.BACKUP_HOURS, "red"))))
        .with_panel(_now(tr("gf_cert_days"), "cert_days_left", "d",
                         p.steps((None, "red"), (alerts.CERT_DAYS, "orange"), (3 * alerts.CERT_DAYS, "green"))))
        .with_panel(_now(tr("gf_influx_backlog"), "influx_backlog", "none",
                         p.steps((None, "green"), (1000, "orange"))))
        .with_panel(_trend(tr("gf_messages_trend"), 'sum("messages_in") AS "in", sum("refused") AS "refused"',
                           "none"))
        .with_panel(_trend(tr("gf_archive_trend"), 'last("archive_mb")', "decmbytes"))
    )  # fmt: skip

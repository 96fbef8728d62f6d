"""A former district and the 2025 communes filed under it: rankings, agents, distribution, peak hours."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import table

from dokiem.grafana import panels as p
from dokiem.i18n import Translator
from dokiem.thresholds import Thresholds


def _period_medians(tr: Translator, title: str, *conditions: str) -> table.Panel:
    return p.by_access_table(tr, title, *conditions).span(6)


def district_view(tr: Translator, thresholds: Thresholds, names: p.Names) -> db.Dashboard:
    """A former district and the 2025 communes filed under it."""
    filters = (p.DISTRICT, p.ISP, p.IPV, p.DOMESTIC, p.ACCESS)
    return (
        p.dashboard("dokiem-district", tr("gf_title_district"))
        .description(tr("gf_desc_district"))
        .with_variable(p.names_variable("district", tr("gf_district"), names.districts, multi=False))
        .with_variable(p.names_variable("isp", tr("gf_isp"), names.isps, multi=True))
        .with_variable(p.access_variable(tr, "access", tr("gf_access"), multi=True))
        .with_variable(p.ip_version_variable(tr))
        .with_panel(
            p.ranking_table(tr, "commune_name", tr("gf_commune"), *filters).override_by_name(
                tr("gf_commune"), [p.commune_link(tr)]
            )
        )
        .with_panel(p.agents_table(tr, tr("gf_agents_in_district"), ("commune_name",), *filters))
        .with_panel(p.responsiveness_table(tr, thresholds, "commune_name", tr("gf_commune"), *filters).span(24))
        .with_panel(p.radio_table(tr, thresholds, *filters))
        .with_panel(p.histogram_panel(tr, *filters))
        .with_panel(p.hour_of_day(tr, p.DISTRICT, p.ISP, p.DOMESTIC))
        .with_panel(_period_medians(tr, tr("gf_peak"), *filters, f'"hour" =~ /^({p.PEAK_HOURS})$/'))
        .with_panel(_period_medians(tr, tr("gf_off_peak"), *filters, f'"hour" !~ /^({p.PEAK_HOURS})$/'))
        .with_panel(p.trend(tr, tr("gf_trend_isp"), ("isp", "access"), *filters))
    )

"""One 2025 commune: its agents, its ISPs, the distribution, the hour of day."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dokiem.grafana import panels as p
from dokiem.i18n import Translator
from dokiem.thresholds import Thresholds


def commune_view(tr: Translator, thresholds: Thresholds, names: p.Names) -> db.Dashboard:
    """One 2025 commune: its agents, its ISPs, the distribution, the hour of day."""
    filters = (p.COMMUNE, p.IPV, p.DOMESTIC, p.ACCESS)
    return (
        p.dashboard("dokiem-commune", tr("gf_title_commune"))
        .description(tr("gf_desc_commune"))
        .with_variable(p.names_variable("commune", tr("gf_commune"), names.communes, multi=False))
        .with_variable(p.access_variable(tr, "access", tr("gf_access"), multi=True))
        .with_variable(p.ip_version_variable(tr))
        .with_panel(p.by_access_table(tr, tr("gf_medians_by_access"), p.COMMUNE, p.DOMESTIC).span(24))
        .with_panel(p.agents_table(tr, tr("gf_agents_in_commune"), (), *filters))
        .with_panel(p.responsiveness_table(tr, thresholds, "agent", tr("gf_agent"), *filters).span(24))
        .with_panel(p.ranking_table(tr, "isp", tr("gf_isp"), *filters))
        .with_panel(p.histogram_panel(tr, *filters))
        .with_panel(p.hour_of_day(tr, p.COMMUNE, p.DOMESTIC))
        .with_panel(p.trend(tr, tr("gf_trend_isp"), ("isp", "access"), *filters).span(24))
    )

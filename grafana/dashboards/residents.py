"""Residents' own tests (issue 22), on a board of their own: tests per commune, medians by ISP and access
type, the share meeting each national threshold. Never pooled with the agents' panel: every query here
takes residents' tests alone, and every other board's leaves them out (``panels.where``)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dokiem.grafana import panels as p
from dokiem.i18n import Translator
from dokiem.thresholds import Thresholds


def residents_view(tr: Translator, thresholds: Thresholds, names: p.Names) -> db.Dashboard:
    filters = (p.ISP, p.DOMESTIC, p.ACCESS)
    board = (
        p.dashboard("dokiem-residents", tr("gf_title_residents"))
        .description(tr("gf_desc_residents"))
        .with_variable(p.names_variable("isp", tr("gf_isp"), names.isps, multi=True))
        .with_variable(p.access_variable(tr, "access", tr("gf_access"), multi=True))
        .with_panel(p.residents_table(tr, "commune_name", tr("gf_commune"), *filters))
        .with_panel(p.residents_table(tr, "isp", tr("gf_isp"), *filters))
        .with_panel(p.trend(tr, tr("gf_trend_access"), ("access",), p.RESIDENTS_ONLY, *filters).span(24))
        .with_row(db.Row(tr("gf_thresholds_row")))
    )
    for threshold in thresholds.thresholds:
        board = board.with_panel(p.threshold_stat(threshold, tr, p.RESIDENTS_ONLY, p.ISP, p.DOMESTIC))
    return board

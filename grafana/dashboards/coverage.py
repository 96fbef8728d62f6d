"""Coverage surveys (issue 30) on a board of their own: samples per operator and commune, the share with service
and the signal, by technology, and the surveys' progress hour by hour. Never pooled with the speed tests: its
queries read the survey's measurement alone. The holes (a rule over days and cells) are the report's."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from dokiem.contract import MOBILE_OPERATORS
from dokiem.grafana import panels as p
from dokiem.i18n import Translator
from dokiem.thresholds import Thresholds


def coverage_view(tr: Translator, thresholds: Thresholds, names: p.Names) -> db.Dashboard:
    operators = sorted({names[0] for names in MOBILE_OPERATORS.values()})
    return (
        p.dashboard("dokiem-coverage", tr("gf_title_coverage"))
        .description(tr("gf_desc_coverage"))
        .with_variable(p.names_variable("operator", tr("gf_operator"), operators, multi=True))
        .with_panel(p.survey_progress(tr))
        .with_panel(p.coverage_table(tr, "commune_name", tr("gf_commune")))
    )

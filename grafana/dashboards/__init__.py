"""The seven dashboards, a module each: province overview, former district → its communes, commune, fleet
health, residents' own tests, the server itself, the coverage surveys; built of the panels in
``dokiem.grafana.panels``."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dokiem.grafana.dashboards import commune, coverage, district, fleet, province, residents, server
from dokiem.grafana.panels import Names
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.thresholds import Thresholds

BUILDERS = {"province": province.province_overview, "district": district.district_view, "commune": commune.commune_view,
            "fleet": fleet.fleet_health, "residents": residents.residents_view,
            "server": server.server_view, "coverage": coverage.coverage_view}  # fmt: skip
BY_FORMER_DISTRICT = {"district"}  # built only where the province's data has its former districts


def build_all(tr: Translator, thresholds: Thresholds, regions: Regions) -> dict[str, dict[str, Any]]:
    """name -> dashboard JSON, as Grafana provisions it."""
    encoder = JSONEncoder(sort_keys=True)
    names = Names.of(regions)
    out: dict[str, dict[str, Any]] = {}
    for name, build in BUILDERS.items():
        if name in BY_FORMER_DISTRICT and not names.districts:
            continue
        board = json.loads(encoder.encode(build(tr, thresholds, names).build()))
        for number, panel in enumerate(board["panels"], start=1):
            panel["id"] = number  # stable ids: links and Grafana's panel state survive a rebuild
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("includeAll") and not variable.get("current"):
                variable["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
        out[name] = board
    return out

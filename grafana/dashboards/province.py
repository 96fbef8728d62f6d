"""The province overview: the commune map, the province's medians, rankings by former district and by
commune, trends, international servers apart, the share of tests meeting each threshold."""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import geomap, stat
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dokiem.contract import ACCESS_TYPES
from dokiem.grafana import panels as p
from dokiem.grafana.influxql import DATASOURCE, InfluxQL
from dokiem.i18n import Translator
from dokiem.thresholds import Thresholds


def _commune_map(tr: Translator, thresholds: Thresholds, names: p.Names) -> geomap.Panel:
    """The 2025 communes as polygons shaded by median download of one access type, the former
    districts (where the data has them) as labelled circles above them."""
    filters = (p.ISP, p.IPV, p.DOMESTIC, p.MAP_ACCESS)
    communes = f"""SELECT median("download_mbps") AS "download", count("failed") AS "tests" FROM {p.SPEED}
        WHERE {p.where(*filters)} GROUP BY "commune", "commune_name" """
    districts = f"""SELECT median("download_mbps") AS "download", count("failed") AS "tests" FROM {p.SPEED}
        WHERE {p.where(*filters)} GROUP BY "district", "district_name" """
    commune_layer = (
        common_builders.MapLayerOptions()
        .type("dynamic-geojson")
        .name(tr("gf_communes"))
        .filter_data({"id": "byRefId", "options": "A"})
        .tooltip(True)
        .config(
            {
                "src": p.COMMUNE_SHAPES,
                "idField": "commune",
                "rules": [],
                "dataStyle": {"color": {"field": "download", "fixed": "dark-green"}, "opacity": 0.7, "lineWidth": 1},
                "style": {"color": {"fixed": "#8080804d"}, "opacity": 0.3, "lineWidth": 1},
            }
        )
    )
    district_layer = (
        common_builders.MapLayerOptions()
        .type("markers")
        .name(tr("gf_districts"))
        .filter_data({"id": "byRefId", "options": "B"})
        .location(
            common_builders.FrameGeometrySource()
            .mode(common.FrameGeometrySourceMode.LOOKUP)
            .lookup("district")
            .gazetteer(p.GAZETTEER)
        )
        .config(
            {
                "showLegend": True,
                "style": {
                    "color": {"field": "download", "fixed": "dark-green"},
                    "size": {"field": "tests", "fixed": 10, "min": 6, "max": 16},
                    "text": {"field": "district_name", "mode": "field"},
                    "textConfig": {"fontSize": 10, "offsetY": -14, "textAlign": "center"},
                },
            }
        )
    )
    view = names.view
    panel = (
        geomap.Panel()
        .title(tr("gf_map"))
        .description(tr("gf_map_desc" if names.districts else "gf_map_desc_communes"))
        .datasource(DATASOURCE)
        .with_target(InfluxQL(communes).ref("A").table())
        # the SDK types the centre as int degrees; Grafana takes floats
        .view(geomap.MapViewConfig().id("coords").lat(view.lat).lon(view.lon).zoom(view.zoom))  # type: ignore[arg-type]
        .basemap(common_builders.MapLayerOptions().type("osm-standard").name("OpenStreetMap"))
        .layers([commune_layer, district_layer] if names.districts else [commune_layer])
        .unit(p.MBPS)
        .thresholds(p.speed_steps(thresholds))
        .color_scheme(db.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
        .height(16)
        .span(14)
    )
    return panel.with_target(InfluxQL(districts).ref("B").table()) if names.districts else panel


def _province_medians(tr: Translator, title: str, location: str) -> stat.Panel:
    """The province's medians, fixed and mobile apart (never one figure over both), against the servers
    ``location`` selects (domestic, or international: i-Speed publishes the two apart)."""
    panel = p.stat_panel(title)
    for access in ACCESS_TYPES:
        panel = panel.with_target(
            InfluxQL(f"""SELECT median("download_mbps") AS "{access}_down", median("upload_mbps") AS "{access}_up"
            FROM {p.SPEED} WHERE {p.where(p.ISP, p.IPV, location, p.access_is(access))}""")
            .ref(access[0].upper())
            .table()
        )
    rename = p.labels(tr, fixed_down="gf_fixed_down", fixed_up="gf_fixed_up", mobile_down="gf_mobile_down",
                     mobile_up="gf_mobile_up")  # fmt: skip
    return panel.transformations([p.MERGE, p.organize(rename)]).unit(p.MBPS).decimals(1).height(16).span(10)


def province_overview(tr: Translator, thresholds: Thresholds, names: p.Names) -> db.Dashboard:
    filters = (p.ISP, p.IPV, p.DOMESTIC, p.ACCESS)
    board = (
        p.dashboard("dokiem-province", tr("gf_title_province"))
        .description(tr("gf_desc_province"))
        .with_variable(p.names_variable("isp", tr("gf_isp"), names.isps, multi=True))
        .with_variable(p.access_variable(tr, "access", tr("gf_access"), multi=True))
        .with_variable(p.access_variable(tr, "map_access", tr("gf_map_access"), multi=False))
        .with_variable(p.ip_version_variable(tr))
        .with_panel(_commune_map(tr, thresholds, names))
        .with_panel(_province_medians(tr, tr("gf_province_median"), p.DOMESTIC))
    )
    # by former district where the data has them (a commune ranking follows anyway), else by commune
    by = ("district_name", tr("gf_district")) if names.districts else ("commune_name", tr("gf_commune"))
    if names.districts:
        board = board.with_panel(p.ranking_table(tr, *by, *filters))
    board = board.with_panel(p.responsiveness_table(tr, thresholds, *by, *filters).span(24))
    board = (
        board.with_panel(p.radio_table(tr, thresholds, *filters))
        .with_panel(p.hotspot_table(tr, p.ISP, p.IPV, p.DOMESTIC))
        .with_panel(
            p.ranking_table(tr, "commune_name", tr("gf_commune"), *filters).override_by_name(
                tr("gf_commune"), [p.commune_link(tr)]
            )
        )
        .with_panel(p.trend(tr, tr("gf_trend_isp"), ("isp", "access"), *filters))
        .with_panel(p.trend(tr, tr("gf_trend_access"), ("access",), *filters))
        .with_panel(p.years_trend(tr, tr("gf_years_trend"), *filters))
        .with_panel(_province_medians(tr, tr("gf_international_median"), p.INTERNATIONAL).height(8).span(24))
        .with_row(db.Row(tr("gf_thresholds_row")))
    )
    for threshold in thresholds.thresholds:
        board = board.with_panel(p.threshold_stat(threshold, tr, p.ISP, p.IPV, p.DOMESTIC))
    return board

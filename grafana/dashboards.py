"""The four dashboards: province overview, former district → its communes, commune, fleet health.

Labels come from the translator (Vietnamese by default), units are Mbit/s and ms, and the
thresholds panels are generated from the same thresholds file the quarterly report reads.
Tags written by the collector (``collector/influx.py``): province, district (former), district_name,
commune (2025), commune_name, isp, access, agent, server, hour (local), error.

Fixed and mobile lines are never pooled in one figure: every median is grouped by access type
(the ``access`` variable defaults to fixed; "All" shows both side by side), and the map shows one
access type at a time (``map_access``).
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import barchart, geomap, histogram, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dokiem.contract import ACCESS_TYPES
from dokiem.grafana.influxql import DATASOURCE, InfluxQL
from dokiem.i18n import Translator
from dokiem.series import Measurement
from dokiem.thresholds import Threshold, Thresholds

GAZETTEER = "public/gazetteer/dokiem-districts.json"
COMMUNE_SHAPES = "public/maps/dokiem-communes.geojson"  # the simplified boundaries, feature id = commune code
PEAK_HOURS = "19|20|21|22"  # 19:00–23:00 local time
MBPS, MS = "Mbits", "ms"
SPEED, HEALTH, QUARANTINE = (m.quoted() for m in (Measurement.SPEEDTEST, Measurement.HEALTH, Measurement.QUARANTINE))
ISP = '"isp" =~ /^$isp$/'
ACCESS = '"access" =~ /^$access$/'
IPV = '"ip_version" =~ /^$ip_version$/'  # a point measured before the tag existed has "": All still matches
DOMESTIC = "\"location\" != 'international'"  # every figure but the international panel; untagged = domestic
INTERNATIONAL = "\"location\" = 'international'"
DISTRICT = '"district_name" =~ /^$district$/'
COMMUNE = '"commune_name" =~ /^$commune$/'
MAP_ACCESS = "\"access\" = '$map_access'"


def where(*conditions: str) -> str:
    return " AND ".join(("$timeFilter", *conditions))


def _organize(rename: dict[str, str], hide: tuple[str, ...] = ("Time",)) -> model.DataTransformerConfig:
    return model.DataTransformerConfig(
        id_val="organize", options={"renameByName": rename, "excludeByName": dict.fromkeys(hide, True)}
    )


MERGE = model.DataTransformerConfig(id_val="merge", options={})


def _steps(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in steps])
    )


def _speed_steps(thresholds: Thresholds) -> db.ThresholdsConfig:
    """Red below the lowest national target for fixed lines, green from the 2025 one."""
    fixed = sorted(t.download_mbps for t in thresholds.thresholds if t.download_mbps and t.access != "mobile")
    good = fixed[0] if fixed else 200.0
    return _steps((None, "red"), (good / 2, "orange"), (good, "green"))


def _legend() -> common_builders.VizLegendOptions:
    return (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .display_mode(common.LegendDisplayMode.LIST)
        .placement(common.LegendPlacement.BOTTOM)
    )


def _stat(title: str) -> stat.Panel:
    """A stat panel showing each field's last value (the queries return one row)."""
    reduce = common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields("")
    return stat.Panel().title(title).datasource(DATASOURCE).reduce_options(reduce)


def _query_variable(name: str, label: str, query: str, *, multi: bool) -> db.QueryVariable:
    variable = (
        db.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )
    if multi:
        variable = variable.multi(True).include_all(True).all_value(".*")
    return variable


def _access_variable(tr: Translator, name: str, label: str, *, multi: bool) -> db.CustomVariable:
    """Fixed or mobile (fixed first and by default); with ``multi``, "All" shows both side by side."""
    variable = db.CustomVariable(name).label(label).values(",".join(f"{tr(f'access_{a}')} : {a}" for a in ACCESS_TYPES))
    if not multi:
        return variable.current(model.VariableOption(text=tr("access_fixed"), value="fixed", selected=True))
    fixed = model.VariableOption(text=[tr("access_fixed")], value=["fixed"], selected=True)
    return variable.multi(True).include_all(True).all_value(".*").current(fixed)


def _access_is(access: str) -> str:
    return f"\"access\" = '{access}'"


def _ip_version_variable(tr: Translator) -> db.CustomVariable:
    """IPv4, IPv6 or both (All, the default): results carry the family they were measured over."""
    return (
        db.CustomVariable("ip_version")
        .label(tr("gf_ip_version"))
        .values("IPv4 : 4,IPv6 : 6")
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def _access_mapping(tr: Translator) -> model.DynamicConfigValue:
    """The access tag's values shown in the reader's language."""
    options = {a: model.ValueMappingResult(text=tr(f"access_{a}"), index=n) for n, a in enumerate(ACCESS_TYPES)}
    return model.DynamicConfigValue(id_val="mappings", value=[model.ValueMap(options=options)])


def _dashboard(uid: str, title: str) -> db.Dashboard:
    return (
        db.Dashboard(title)
        .uid(uid)
        .tags(["dokiem"])
        .time("now-30d", "now")
        .timezone("Asia/Ho_Chi_Minh")
        .refresh("5m")
        .editable()
    )


def _labels(tr: Translator, **keys: str) -> dict[str, str]:
    """Field name -> its translated column title."""
    return {field: tr(key) for field, key in keys.items()}


def _figure_table(title: str, targets: list[InfluxQL], rename: dict[str, str]) -> table.Panel:
    """A table of figures per group: targets merged on their tags, columns renamed, units by title."""
    panel = table.Panel().title(title).show_header(True).datasource(DATASOURCE)
    for target in targets:
        panel = panel.with_target(target.table())
    merge = [MERGE] if len(targets) > 1 else []
    return (
        panel.transformations([*merge, _organize(rename)])
        .override_by_regexp(".*Mbit/s.*", [model.DynamicConfigValue(id_val="unit", value=MBPS)])
        .override_by_regexp(".*\\(ms\\).*", [model.DynamicConfigValue(id_val="unit", value=MS)])
        .decimals(1)
        .height(10)
        .span(24)
    )


def _ranking_table(tr: Translator, group_by: str, label: str, *conditions: str) -> table.Panel:
    """Figures per group and access type (a row each: fixed and mobile are never one median)."""
    figures = f"""SELECT median("download_mbps") AS "down_median", percentile("download_mbps", 10) AS "down_p10",
        median("upload_mbps") AS "up_median", percentile("upload_mbps", 10) AS "up_p10",
        median("latency_ms") AS "latency", mean("loss_pct") AS "loss", count("failed") AS "tests"
        FROM {SPEED} WHERE {where(*conditions)} GROUP BY "{group_by}", "access" """
    agents = f"""SELECT count("n") AS "agents" FROM (SELECT last("failed") AS "n" FROM {SPEED}
        WHERE {where(*conditions)} GROUP BY "agent", "{group_by}", "access") GROUP BY "{group_by}", "access" """
    rename = {group_by: label} | _labels(tr, access="gf_access", down_median="gf_down_median",
                                         down_p10="gf_down_p10", up_median="gf_up_median", up_p10="gf_up_p10",
                                         latency="gf_latency_median", loss="gf_loss_mean", tests="gf_tests",
                                         agents="gf_agents")  # fmt: skip
    targets = [InfluxQL(figures).ref("A"), InfluxQL(agents).ref("B")]
    return _figure_table(tr("gf_ranking", by=label), targets, rename).override_by_name(
        tr("gf_access"), [_access_mapping(tr)]
    )


def _commune_link(tr: Translator) -> model.DynamicConfigValue:
    """A commune's name opens its own dashboard, same time range."""
    url = "/d/dokiem-commune?var-commune=${__value.raw}&${__url_time_range}"
    return model.DynamicConfigValue(id_val="links", value=[{"title": tr("gf_open_commune", name="${__value.raw}"),
                                                              "url": url}])  # fmt: skip


def _by_access_table(tr: Translator, title: str, *conditions: str) -> table.Panel:
    """Median download, upload and latency, one row per access type."""
    query = f"""SELECT median("download_mbps") AS "download", median("upload_mbps") AS "upload",
        median("latency_ms") AS "latency", count("failed") AS "tests" FROM {SPEED} WHERE {where(*conditions)}
        GROUP BY "access" """
    rename = _labels(tr, access="gf_access", download="gf_down_median", upload="gf_up_median",
                     latency="gf_latency_median", tests="gf_tests")  # fmt: skip
    return (
        _figure_table(title, [InfluxQL(query)], rename)
        .override_by_name(tr("gf_access"), [_access_mapping(tr)])
        .height(6)
        .span(12)
    )


def _histogram(tr: Translator, *conditions: str) -> histogram.Panel:
    """Every test's download, a series per access type."""
    raw = f'SELECT "download_mbps" FROM {SPEED} WHERE {where(*conditions)} GROUP BY "access"'
    return (
        histogram.Panel()
        .legend(_legend())
        .title(tr("gf_histogram"))
        .datasource(DATASOURCE)
        .with_target(InfluxQL(raw).alias("$tag_access"))
        .transformations(_access_names(tr, with_isp=False))
        .unit(MBPS)
        .height(9)
        .span(12)
    )


def _hour_of_day(tr: Translator, *conditions: str) -> barchart.Panel:
    """Median download by local hour, fixed and mobile as two bars."""
    targets = [
        InfluxQL(f"""SELECT median("download_mbps") AS "{a}" FROM {SPEED}
        WHERE {where(*conditions, _access_is(a))} GROUP BY "hour" """)
        .ref(a[0].upper())
        .table()
        for a in ACCESS_TYPES
    ]
    panel = barchart.Panel().legend(_legend()).title(tr("gf_time_of_day")).description(tr("gf_time_of_day_desc"))
    for target in targets:
        panel = panel.with_target(target)
    join = model.DataTransformerConfig(id_val="joinByField", options={"byField": "hour", "mode": "outer"})
    rename = {"hour": tr("gf_hour")} | {a: tr(f"access_{a}") for a in ACCESS_TYPES}
    return (
        panel.datasource(DATASOURCE)
        .transformations([join, _organize(rename)])
        .x_field(tr("gf_hour"))
        .unit(MBPS)
        .height(9)
        .span(12)
    )


def _access_names(tr: Translator, with_isp: bool) -> list[model.DataTransformerConfig]:
    """Series named after the access tag read in the reader's language: "Viettel mobile" becomes
    "Viettel (Di động)", and "mobile" alone "Di động"."""
    return [
        model.DataTransformerConfig(
            id_val="renameByRegex",
            options={"regex": f"^(.+) {access}$", "renamePattern": f"$1 ({tr(f'access_{access}')})"}
            if with_isp
            else {"regex": f"^{access}$", "renamePattern": tr(f"access_{access}")},
        )
        for access in ACCESS_TYPES
    ]


def _trend(tr: Translator, title: str, by: tuple[str, ...], *conditions: str) -> timeseries.Panel:
    """Median download over time, one series per value of the ``by`` tags (an ISP's fixed and
    mobile networks are different services, so ISP trends split by access type too)."""
    tags = ", ".join(f'"{tag}"' for tag in by)
    query = f"""SELECT median("download_mbps") FROM {SPEED} WHERE {where(*conditions)}
        GROUP BY time($__interval), {tags} fill(none)"""
    return (
        timeseries.Panel()
        .legend(_legend())
        .title(title)
        .datasource(DATASOURCE)
        .with_target(InfluxQL(query).alias(" ".join(f"$tag_{tag}" for tag in by)))
        .transformations(_access_names(tr, with_isp=len(by) > 1))
        .unit(MBPS)
        .min(0)
        .height(8)
        .span(12)
    )


def threshold_queries(threshold: Threshold, *conditions: str) -> tuple[str, str]:
    """(met, total): tests meeting every bound, and tests with every bounded figure measured."""
    measured, met = list(conditions), list(conditions)
    if threshold.access is not None:
        measured.append(f"\"access\" = '{threshold.access.value}'")
        met.append(f"\"access\" = '{threshold.access.value}'")
    for field, bound, compare in (
        ("download_mbps", threshold.download_mbps, ">="),
        ("upload_mbps", threshold.upload_mbps, ">="),
        ("latency_ms", threshold.latency_ms, "<="),
    ):
        if bound is not None:
            measured.append(f'"{field}" >= 0')  # a point without the field never matches: "measured"
            met.append(f'"{field}" {compare} {bound:g}')
    return (
        f'SELECT count("failed") AS "met" FROM {SPEED} WHERE {where(*met)}',
        f'SELECT count("failed") AS "total" FROM {SPEED} WHERE {where(*measured)}',
    )


def _threshold_stat(threshold: Threshold, tr: Translator, *conditions: str) -> stat.Panel:
    met, total = threshold_queries(threshold, *conditions)
    share = model.DataTransformerConfig(
        id_val="calculateField",
        options={"mode": "binary", "binary": {"left": "met", "operator": "/", "right": "total"}, "alias": "share",
                 "replaceFields": True},
    )  # fmt: skip
    return (
        _stat(threshold.name(tr.lang))
        .description(threshold.source)
        .with_target(InfluxQL(met).ref("A").table())
        .with_target(InfluxQL(total).ref("B").table())
        .transformations([MERGE, share])
        .unit("percentunit")
        .decimals(1)
        .thresholds(_steps((None, "red"), (0.5, "orange"), (0.8, "green")))
        .height(5)
        .span(6)
    )


def _commune_map(tr: Translator, thresholds: Thresholds) -> geomap.Panel:
    """The 2025 communes as polygons shaded by median download of one access type, the former
    districts as labelled circles above them."""
    filters = (ISP, IPV, DOMESTIC, MAP_ACCESS)
    communes = f"""SELECT median("download_mbps") AS "download", count("failed") AS "tests" FROM {SPEED}
        WHERE {where(*filters)} GROUP BY "commune", "commune_name" """
    districts = f"""SELECT median("download_mbps") AS "download", count("failed") AS "tests" FROM {SPEED}
        WHERE {where(*filters)} GROUP BY "district", "district_name" """
    commune_layer = (
        common_builders.MapLayerOptions()
        .type("dynamic-geojson")
        .name(tr("gf_communes"))
        .filter_data({"id": "byRefId", "options": "A"})
        .tooltip(True)
        .config(
            {
                "src": COMMUNE_SHAPES,
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
            .gazetteer(GAZETTEER)
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
    return (
        geomap.Panel()
        .title(tr("gf_map"))
        .description(tr("gf_map_desc"))
        .datasource(DATASOURCE)
        .with_target(InfluxQL(communes).ref("A").table())
        .with_target(InfluxQL(districts).ref("B").table())
        # the SDK types the centre as int degrees; Grafana takes floats
        .view(geomap.MapViewConfig().id("coords").lat(19.95).lon(105.4).zoom(8))  # type: ignore[arg-type]
        .basemap(common_builders.MapLayerOptions().type("osm-standard").name("OpenStreetMap"))
        .layers([commune_layer, district_layer])
        .unit(MBPS)
        .thresholds(_speed_steps(thresholds))
        .color_scheme(db.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
        .height(16)
        .span(14)
    )


def _province_medians(tr: Translator, title: str, location: str) -> stat.Panel:
    """The province's medians, fixed and mobile apart (never one figure over both), against the servers
    ``location`` selects (domestic, or international: i-Speed publishes the two apart)."""
    panel = _stat(title)
    for access in ACCESS_TYPES:
        panel = panel.with_target(
            InfluxQL(f"""SELECT median("download_mbps") AS "{access}_down", median("upload_mbps") AS "{access}_up"
            FROM {SPEED} WHERE {where(ISP, IPV, location, _access_is(access))}""")
            .ref(access[0].upper())
            .table()
        )
    rename = _labels(tr, fixed_down="gf_fixed_down", fixed_up="gf_fixed_up", mobile_down="gf_mobile_down",
                     mobile_up="gf_mobile_up")  # fmt: skip
    return panel.transformations([MERGE, _organize(rename)]).unit(MBPS).decimals(1).height(16).span(10)


def province_overview(tr: Translator, thresholds: Thresholds) -> db.Dashboard:
    filters = (ISP, IPV, DOMESTIC, ACCESS)
    board = (
        _dashboard("dokiem-province", tr("gf_title_province"))
        .description(tr("gf_desc_province"))
        .with_variable(
            _query_variable("isp", tr("gf_isp"), f'SHOW TAG VALUES FROM {SPEED} WITH KEY = "isp"', multi=True)
        )
        .with_variable(_access_variable(tr, "access", tr("gf_access"), multi=True))
        .with_variable(_access_variable(tr, "map_access", tr("gf_map_access"), multi=False))
        .with_variable(_ip_version_variable(tr))
        .with_panel(_commune_map(tr, thresholds))
        .with_panel(_province_medians(tr, tr("gf_province_median"), DOMESTIC))
        .with_panel(_ranking_table(tr, "district_name", tr("gf_district"), *filters))
        .with_panel(
            _ranking_table(tr, "commune_name", tr("gf_commune"), *filters).override_by_name(
                tr("gf_commune"), [_commune_link(tr)]
            )
        )
        .with_panel(_trend(tr, tr("gf_trend_isp"), ("isp", "access"), *filters))
        .with_panel(_trend(tr, tr("gf_trend_access"), ("access",), *filters))
        .with_panel(_province_medians(tr, tr("gf_international_median"), INTERNATIONAL).height(8).span(24))
        .with_row(db.Row(tr("gf_thresholds_row")))
    )
    for threshold in thresholds.thresholds:
        board = board.with_panel(_threshold_stat(threshold, tr, ISP, IPV, DOMESTIC))
    return board


def _period_medians(tr: Translator, title: str, *conditions: str) -> table.Panel:
    return _by_access_table(tr, title, *conditions).span(6)


def district_view(tr: Translator, thresholds: Thresholds) -> db.Dashboard:
    """A former district and the 2025 communes filed under it."""
    filters = (DISTRICT, ISP, IPV, DOMESTIC, ACCESS)
    return (
        _dashboard("dokiem-district", tr("gf_title_district"))
        .description(tr("gf_desc_district"))
        .with_variable(
            _query_variable(
                "district", tr("gf_district"), f'SHOW TAG VALUES FROM {SPEED} WITH KEY = "district_name"', multi=False
            )
        )
        .with_variable(
            _query_variable(
                "isp", tr("gf_isp"), f'SHOW TAG VALUES FROM {SPEED} WITH KEY = "isp" WHERE {DISTRICT}', multi=True
            )
        )
        .with_variable(_access_variable(tr, "access", tr("gf_access"), multi=True))
        .with_variable(_ip_version_variable(tr))
        .with_panel(
            _ranking_table(tr, "commune_name", tr("gf_commune"), *filters).override_by_name(
                tr("gf_commune"), [_commune_link(tr)]
            )
        )
        .with_panel(_agents_table(tr, tr("gf_agents_in_district"), ("commune_name",), *filters))
        .with_panel(_histogram(tr, *filters))
        .with_panel(_hour_of_day(tr, DISTRICT, ISP, DOMESTIC))
        .with_panel(_period_medians(tr, tr("gf_peak"), *filters, f'"hour" =~ /^({PEAK_HOURS})$/'))
        .with_panel(_period_medians(tr, tr("gf_off_peak"), *filters, f'"hour" !~ /^({PEAK_HOURS})$/'))
        .with_panel(_trend(tr, tr("gf_trend_isp"), ("isp", "access"), *filters))
    )


def _agents_table(tr: Translator, title: str, also_by: tuple[str, ...], *conditions: str) -> table.Panel:
    """A row per agent (and access type: an agent measures one line, but a changed config must not
    pool two), with ``also_by`` tags as columns."""
    tags = ", ".join(f'"{tag}"' for tag in ("agent", *also_by, "isp", "access"))
    query = f"""SELECT last("download_mbps") AS "last_download", median("download_mbps") AS "down_median",
        median("upload_mbps") AS "up_median", median("latency_ms") AS "latency", count("failed") AS "tests",
        sum("failed") AS "failed" FROM {SPEED} WHERE {where(*conditions)} GROUP BY {tags}"""
    rename = _labels(tr, agent="gf_agent", commune_name="gf_commune", isp="gf_isp", access="gf_access",
                     last_download="gf_last_download", down_median="gf_down_median", up_median="gf_up_median",
                     latency="gf_latency_median", tests="gf_tests", failed="gf_failed")  # fmt: skip
    return _figure_table(title, [InfluxQL(query)], rename).override_by_name(tr("gf_access"), [_access_mapping(tr)])


def commune_view(tr: Translator, thresholds: Thresholds) -> db.Dashboard:
    """One 2025 commune: its agents, its ISPs, the distribution, the hour of day."""
    filters = (COMMUNE, IPV, DOMESTIC, ACCESS)
    return (
        _dashboard("dokiem-commune", tr("gf_title_commune"))
        .description(tr("gf_desc_commune"))
        .with_variable(
            _query_variable(
                "commune", tr("gf_commune"), f'SHOW TAG VALUES FROM {SPEED} WITH KEY = "commune_name"', multi=False
            )
        )
        .with_variable(_access_variable(tr, "access", tr("gf_access"), multi=True))
        .with_variable(_ip_version_variable(tr))
        .with_panel(_by_access_table(tr, tr("gf_medians_by_access"), COMMUNE, DOMESTIC).span(24))
        .with_panel(_agents_table(tr, tr("gf_agents_in_commune"), (), *filters))
        .with_panel(_ranking_table(tr, "isp", tr("gf_isp"), *filters))
        .with_panel(_histogram(tr, *filters))
        .with_panel(_hour_of_day(tr, COMMUNE, DOMESTIC))
        .with_panel(_trend(tr, tr("gf_trend_isp"), ("isp", "access"), *filters).span(24))
    )


def _per_agent(title: str, aggregate: str, *conditions: str) -> timeseries.Panel:
    """One heartbeat figure over time, a series per agent."""
    query = f"""SELECT {aggregate} FROM {HEALTH} WHERE {where(*conditions)}
        GROUP BY time($__interval), "agent" fill(none)"""
    return (
        timeseries.Panel()
        .legend(_legend())
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
        .legend(_legend())
        .title(title)
        .datasource(DATASOURCE)
        .with_target(InfluxQL(query).table())
        .transformations([_organize(dict([group, count]))])
        .x_field(group[1])
        .height(6)
    )


def fleet_health(tr: Translator, thresholds: Thresholds) -> db.Dashboard:
    in_district = '"district_name" =~ /^$district$/'
    latest = f"""SELECT last("online") AS "online" FROM {HEALTH} WHERE {where(in_district)} GROUP BY "agent",
        "district_name" """
    state = f"""SELECT last("runs_expected") AS "expected", last("runs_received") AS "received",
        last("runs_missed") AS "missed", last("temperature_c") AS "temperature", last("cpu_pct") AS "cpu",
        last("outbox_depth") AS "outbox" FROM {HEALTH} WHERE {where(in_district)} GROUP BY "agent" """
    online_mapping = model.ValueMap(options={
        "1": model.ValueMappingResult(text=tr("gf_online"), color="green", index=0),
        "0": model.ValueMappingResult(text=tr("gf_offline"), color="red", index=1),
    })  # fmt: skip
    join = model.DataTransformerConfig(id_val="joinByField", options={"byField": "agent", "mode": "outer"})
    return (
        _dashboard("dokiem-fleet", tr("gf_title_fleet"))
        .description(tr("gf_desc_fleet"))
        .time("now-24h", "now")
        .with_variable(
            _query_variable(
                "district", tr("gf_district"), f'SHOW TAG VALUES FROM {HEALTH} WITH KEY = "district_name"', multi=True
            )
        )
        .with_panel(
            _stat(tr("gf_agents_online"))
            .with_target(
                InfluxQL(f"""SELECT sum("online") AS "online", count("online") - sum("online") AS "offline"
                FROM ({latest})""").table()
            )
            .transformations([_organize({"online": tr("gf_online"), "offline": tr("gf_offline")})])
            .height(6)
            .span(8)
        )
        .with_panel(
            _stat(tr("gf_missed_runs"))
            .with_target(
                InfluxQL(f'SELECT sum("missed") AS "missed", sum("expected") AS "expected" FROM ({state})').table()
            )
            .transformations([_organize({"missed": tr("gf_missed"), "expected": tr("gf_expected")})])
            .height(6)
            .span(8)
        )
        .with_panel(
            _counts_by(
                tr("gf_errors_by_reason"),
                f"""SELECT count("failed") AS "failed" FROM {SPEED} WHERE {where(in_district)}
                AND "failed" = 1 GROUP BY "error" """,
                ("error", tr("gf_error")),
                ("failed", tr("gf_failed")),
            ).span(8)
        )
        .with_panel(
            _counts_by(
                tr("gf_quarantined_by_reason"),
                f'SELECT sum("count") AS "messages" FROM {QUARANTINE} WHERE {where()} GROUP BY "reason"',
                ("reason", tr("gf_reason")),
                ("messages", tr("gf_messages")),
            )
            .description(tr("gf_quarantined_desc"))
            .span(24)
        )
        .with_panel(
            table.Panel()
            .title(tr("gf_agents"))
            .show_header(True)
            .datasource(DATASOURCE)
            .with_target(InfluxQL(latest).ref("A").table())
            .with_target(InfluxQL(state).ref("B").table())
            .transformations(
                [
                    join,
                    _organize(
                        {
                            "Time 1": tr("gf_last_seen"),
                            "agent": tr("gf_agent"),
                            "district_name": tr("gf_district"),
                            "online": tr("gf_state"),
                            "expected": tr("gf_expected"),
                            "received": tr("gf_received"),
                            "missed": tr("gf_missed"),
                            "temperature": tr("gf_temperature"),
                            "cpu": tr("gf_cpu"),
                            "outbox": tr("gf_outbox"),
                        },
                        hide=("Time 2",),
                    ),
                ]
            )
            .override_by_name(tr("gf_state"), [model.DynamicConfigValue(id_val="mappings", value=[online_mapping])])
            .override_by_name(tr("gf_temperature"), [model.DynamicConfigValue(id_val="unit", value="celsius")])
            .override_by_name(tr("gf_cpu"), [model.DynamicConfigValue(id_val="unit", value="percent")])
            .height(12)
            .span(24)
        )
        .with_panel(
            _per_agent(tr("gf_temperature_trend"), 'mean("temperature_c")', in_district)
            .unit("celsius")
            .thresholds(_steps((None, "green"), (70, "orange"), (80, "red")))
        )
        .with_panel(_per_agent(tr("gf_outbox_trend"), 'max("outbox_depth")', in_district))
    )


BUILDERS = {"province": province_overview, "district": district_view, "commune": commune_view, "fleet": fleet_health}


def build_all(tr: Translator, thresholds: Thresholds) -> dict[str, dict[str, Any]]:
    """name -> dashboard JSON, as Grafana provisions it."""
    encoder = JSONEncoder(sort_keys=True)
    out: dict[str, dict[str, Any]] = {}
    for name, build in BUILDERS.items():
        board = json.loads(encoder.encode(build(tr, thresholds).build()))
        for number, panel in enumerate(board["panels"], start=1):
            panel["id"] = number  # stable ids: links and Grafana's panel state survive a rebuild
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("includeAll") and not variable.get("current"):
                variable["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
        out[name] = board
    return out

"""The panels the dashboards are built of: filters, tables, trends, histograms, threshold shares.

Labels come from the translator (Vietnamese by default), units are Mbit/s and ms, and the thresholds
panels are generated from the same thresholds file the quarterly report reads. The tags and fields
queried are ``dokiem.series``'s (what the collector writes; a test holds every query to them).

Fixed and mobile lines are never pooled in one figure: every median is grouped by access type
(the ``access`` variable defaults to fixed; "All" shows both side by side), and the map shows one
access type at a time (``map_access``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import barchart, histogram, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dokiem import figures as registry
from dokiem.collation import collation_key, unit_key
from dokiem.contract import ACCESS_TYPES, RESIDENT, Access, Technology
from dokiem.figures import Figure, Labels, Stat
from dokiem.grafana.influxql import DATASOURCE, InfluxQL
from dokiem.i18n import Translator
from dokiem.regions import Province, Regions
from dokiem.regions.insets import far_boxes
from dokiem.regions.isps import shipped_isps
from dokiem.series import Measurement, Tag
from dokiem.thresholds import Threshold, Thresholds

GAZETTEER = "public/gazetteer/dokiem-districts.json"
COMMUNE_SHAPES = "public/maps/dokiem-communes.geojson"  # the simplified boundaries, feature id = commune code
# the map panel as a 1440-pixel screen shows it (14 of 24 columns, 16 rows): what the opening zoom must fit
MAP_PIXELS = (800, 460)
PEAK_HOURS = "19|20|21|22"  # 19:00–23:00 local time
MBPS, MS = "Mbits", "ms"
# every measurement as a query names it: the panels and the alert rules (grafana/alerts.py) read these
SPEED, HEALTH, QUARANTINE, HOURLY, SERVER, SURVEY = (m.quoted() for m in (
    Measurement.SPEEDTEST, Measurement.HEALTH, Measurement.QUARANTINE, Measurement.HOURLY, Measurement.COLLECTOR,
    Measurement.SURVEY))  # fmt: skip
ISP = '"isp" =~ /^$isp$/'
ACCESS = '"access" =~ /^$access$/'
IPV = '"ip_version" =~ /^$ip_version$/'  # a point measured before the tag existed has "": All still matches
DOMESTIC = "\"location\" != 'international'"  # every figure but the international panel; untagged = domestic
INTERNATIONAL = "\"location\" = 'international'"
RADIO = f'"{Tag.TECHNOLOGY}" =~ /./'  # runs whose radio is known: mobile modems, public Wi-Fi
AGENTS_ONLY = f"\"{Tag.SOURCE}\" != '{RESIDENT}'"  # an agent's point has no source tag: it matches
RESIDENTS_ONLY = f"\"{Tag.SOURCE}\" = '{RESIDENT}'"  # the residents' dashboard: their own tests, alone
HOTSPOTS = f"\"{Tag.ACCESS}\" = '{Access.PUBLIC_WIFI.value}'"
DISTRICT = '"district_name" =~ /^$district$/'
COMMUNE = '"commune_name" =~ /^$commune$/'
MAP_ACCESS = "\"access\" = '$map_access'"


def where(*conditions: str) -> str:
    """A speed query's filter: the time range and ``conditions``, agents' runs only unless ``conditions``
    ask for residents' (RESIDENTS_ONLY): the two sources are never pooled in one figure (issue 22)."""
    source = () if RESIDENTS_ONLY in conditions else (AGENTS_ONLY,)
    return " AND ".join(("$timeFilter", *source, *conditions))


def fleet_where(*conditions: str) -> str:
    """A heartbeat's or the quarantine's filter: the time range and ``conditions`` (agents only send them)."""
    return " AND ".join(("$timeFilter", *conditions))


def organize(rename: dict[str, str], hide: tuple[str, ...] = ("Time",)) -> model.DataTransformerConfig:
    return model.DataTransformerConfig(
        id_val="organize", options={"renameByName": rename, "excludeByName": dict.fromkeys(hide, True)}
    )


MERGE = model.DataTransformerConfig(id_val="merge", options={})


def steps(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in steps])
    )


def speed_steps(thresholds: Thresholds) -> db.ThresholdsConfig:
    """Red below the lowest national target for fixed lines, green from the 2025 one."""
    fixed = sorted(t.download_mbps for t in thresholds.thresholds if t.download_mbps and t.access != "mobile")
    good = fixed[0] if fixed else 200.0
    return steps((None, "red"), (good / 2, "orange"), (good, "green"))


def legend() -> common_builders.VizLegendOptions:
    return (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .display_mode(common.LegendDisplayMode.LIST)
        .placement(common.LegendPlacement.BOTTOM)
    )


def stat_panel(title: str) -> stat.Panel:
    """A stat panel showing each field's last value (the queries return one row)."""
    reduce = common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields("")
    return stat.Panel().title(title).datasource(DATASOURCE).reduce_options(reduce)


@dataclass(frozen=True)
class MapView:
    """Where a map opens: its centre (degrees) and Grafana's zoom level."""

    lat: float
    lon: float
    zoom: int

    @classmethod
    def framing(cls, points: Sequence[tuple[float, float]]) -> MapView:
        """The closest view that holds every point (lat, lon)."""
        south, north = min(lat for lat, _ in points), max(lat for lat, _ in points)
        west, east = min(lon for _, lon in points), max(lon for _, lon in points)
        lat = (south + north) / 2
        # web Mercator: the world is 256·2^zoom pixels wide; a degree of latitude is 1/cos(lat) of one of longitude
        fits = (MAP_PIXELS[0] * 360 / 256 / max(east - west, 0.01),
                MAP_PIXELS[1] * 360 / 256 / max((north - south) / math.cos(math.radians(lat)), 0.01))  # fmt: skip
        return cls(round(lat, 2), round((west + east) / 2, 2), max(4, min(10, math.floor(math.log2(min(fits))))))


def _mainland_points(province: Province) -> list[tuple[float, float]]:
    """The points of the province's units but those far out at sea (the report draws them in an inset)."""
    points = [(c.lat, c.lon) for c in province.communes.values() if c.lat is not None and c.lon is not None]
    far = far_boxes([(lon, lat, lon, lat) for lat, lon in points])
    return [point for n, point in enumerate(points) if n not in far]


COUNTRY = MapView(16.0, 106.0, 5)  # Vietnam whole: where a map of units without a known point opens


@dataclass(frozen=True)
class Names:
    """What the name variables offer, each list in Vietnamese alphabetical order (Grafana's own sort puts
    "Xã Biện Thượng" before "Xã Bát Mọt"): the former districts (none where the data lacks them), the 2025
    communes, the operators; and where the communes' map opens."""

    districts: tuple[str, ...]
    communes: tuple[str, ...]
    isps: tuple[str, ...]
    view: MapView

    @classmethod
    def of(cls, regions: Regions) -> Names:
        provinces = regions.provinces.values()
        districts = [d.name for p in provinces for d in p.districts.values()]
        communes = {c.name for p in provinces for c in p.communes.values()}
        points = [point for p in provinces for point in _mainland_points(p)]
        return cls(tuple(sorted(set(districts), key=unit_key)), tuple(sorted(communes, key=unit_key)),
                   tuple(sorted(shipped_isps().names(), key=collation_key)),
                   MapView.framing(points) if points else COUNTRY)  # fmt: skip


def names_variable(name: str, label: str, names: Sequence[str], *, multi: bool) -> db.CustomVariable:
    """A variable over ``names`` in the order given (one value, or several with "All")."""
    variable = db.CustomVariable(name).label(label).values(",".join(names))
    if multi:
        return variable.multi(True).include_all(True).all_value(".*")
    return variable.current(model.VariableOption(text=names[0], value=names[0], selected=True))


def access_variable(tr: Translator, name: str, label: str, *, multi: bool) -> db.CustomVariable:
    """Fixed or mobile (fixed first and by default); with ``multi``, "All" shows both side by side."""
    variable = db.CustomVariable(name).label(label).values(",".join(f"{tr(f'access_{a}')} : {a}" for a in ACCESS_TYPES))
    if not multi:
        return variable.current(model.VariableOption(text=tr("access_fixed"), value="fixed", selected=True))
    fixed = model.VariableOption(text=[tr("access_fixed")], value=["fixed"], selected=True)
    return variable.multi(True).include_all(True).all_value(".*").current(fixed)


def access_is(access: str) -> str:
    return f"\"access\" = '{access}'"


def ip_version_variable(tr: Translator) -> db.CustomVariable:
    """IPv4, IPv6 or both (All, the default): results carry the family they were measured over."""
    return (
        db.CustomVariable("ip_version")
        .label(tr("gf_ip_version"))
        .values("IPv4 : 4,IPv6 : 6")
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def access_mapping(tr: Translator) -> model.DynamicConfigValue:
    """The access tag's values shown in the reader's language."""
    options = {a: model.ValueMappingResult(text=tr(f"access_{a}"), index=n) for n, a in enumerate(ACCESS_TYPES)}
    return model.DynamicConfigValue(id_val="mappings", value=[model.ValueMap(options=options)])


def responsiveness_words(tr: Translator, thresholds: Thresholds) -> model.DynamicConfigValue:
    """Round trips a minute under load said in words, by the department's classes (thresholds.toml)."""
    rules = thresholds.responsiveness
    ranges = [(0.0, rules.low_below_rpm, "low", "red"), (rules.low_below_rpm, rules.high_from_rpm, "medium", "yellow"),
              (rules.high_from_rpm, None, "high", "green")]  # fmt: skip
    maps = [
        model.RangeMap(options=model.DashboardRangeMapOptions(
            from_val=low, to=None if high is None else high - 1e-9,
            result=model.ValueMappingResult(text=tr(f"gf_rpm_{level}"), color=color, index=n)))
        for n, (low, high, level, color) in enumerate(ranges)
    ]  # fmt: skip
    return model.DynamicConfigValue(id_val="mappings", value=maps)


def bloat_words(tr: Translator, thresholds: Thresholds) -> model.DynamicConfigValue:
    """Latency's rise under load said in words: a bloated buffer from the department's bound."""
    added = thresholds.responsiveness.bloat_added_ms
    maps = [
        model.RangeMap(options=model.DashboardRangeMapOptions(
            from_val=added, to=None, result=model.ValueMappingResult(text=tr("gf_bloated"), color="red", index=0))),
    ]  # fmt: skip
    return model.DynamicConfigValue(id_val="mappings", value=maps)


def responsiveness_table(tr: Translator, thresholds: Thresholds, by: str, label: str, *conditions: str) -> table.Panel:
    """Latency idle and under load, responsiveness (RPM) and its level in words, per group and access type:
    a fast line whose buffer holds hundreds of milliseconds is bad for video calls, and says so."""
    terms, titles = figure_terms(tr, [(LATENCY, Stat.MEDIAN), (LOADED, Stat.MEDIAN), (RPM, Stat.MEDIAN)])
    query = f"""SELECT {terms}, median("{LOADED.name}") - median("{LATENCY.name}") AS "added",
        median("{RPM.name}") AS "level" FROM {SPEED} WHERE {where(*conditions)} GROUP BY "{by}", "access" """
    rename = {by: label} | labels(tr, access="gf_access") | titles
    rename |= labels(tr, added="gf_latency_added", level="gf_rpm_level")
    rules = thresholds.responsiveness
    description = tr("gf_responsiveness_desc", low=tr.number(rules.low_below_rpm, 0),
                     high=tr.number(rules.high_from_rpm, 0), added=tr.number(rules.bloat_added_ms, 0))  # fmt: skip
    return (
        figure_table(tr("gf_responsiveness"), [InfluxQL(query)], rename)
        .description(description)
        .override_by_name(tr("gf_access"), [access_mapping(tr)])
        .override_by_name(tr("gf_rpm_level"), [responsiveness_words(tr, thresholds)])
        .override_by_name(tr("gf_latency_added"), [bloat_words(tr, thresholds)])
        .override_by_name(titles[RPM.table_key(Stat.MEDIAN)], [model.DynamicConfigValue(id_val="decimals", value=0)])
        .height(8)
    )


def radio_table(tr: Translator, thresholds: Thresholds, *conditions: str) -> table.Panel:
    """Speeds by operator, radio technology and signal class (mobile modems and public Wi-Fi): a weak signal
    is not a slow network, so a figure is read beside the radio it was measured on."""
    terms, titles = figure_terms(tr, MEDIANS[:2])
    query = f"""SELECT {terms}, median("rsrp_dbm") AS "rsrp", median("sinr_db") AS "sinr",
        count("download_mbps") AS "tests" FROM {SPEED} WHERE {where(*conditions, RADIO)}
        GROUP BY "{Tag.OPERATOR}", "{Tag.TECHNOLOGY}", "{Tag.SIGNAL}", "{Tag.ACCESS}" """
    rename = labels(tr, operator="gf_operator", technology="gf_technology", signal="gf_signal", access="gf_access")
    rename |= titles | labels(tr, rsrp="gf_rsrp", sinr="gf_sinr", tests="gf_tests")
    rules = thresholds.radio
    description = tr("gf_radio_desc", good=tr.number(rules.rsrp_good_from_dbm, 0),
                     poor=tr.number(rules.rsrp_poor_below_dbm, 0), wifi_good=tr.number(rules.wifi_good_from_dbm, 0),
                     wifi_poor=tr.number(rules.wifi_poor_below_dbm, 0))  # fmt: skip
    return (
        figure_table(tr("gf_radio"), [InfluxQL(query)], rename)
        .description(description)
        .override_by_name(tr("gf_technology"), [_value_words(tr, "technology", [t.value for t in Technology])])
        .override_by_name(tr("gf_signal"), [_value_words(tr, "gf_signal", ["good", "fair", "poor"])])
        .override_by_name(tr("gf_access"), [access_mapping(tr)])
        .override_by_name(tr("gf_tests"), [model.DynamicConfigValue(id_val="decimals", value=0)])
        .height(8)
    )


def hotspot_table(tr: Translator, *conditions: str) -> table.Panel:
    """Public Wi-Fi by site: each hotspot agent's commune, its medians and its signal, the service it gives."""
    terms, titles = figure_terms(tr, MEDIANS)
    query = f"""SELECT {terms}, median("signal_dbm") AS "rssi", count("failed") AS "tests" FROM {SPEED}
        WHERE {where(*conditions, HOTSPOTS)} GROUP BY "{Tag.COMMUNE_NAME}", "{Tag.AGENT}" """
    rename = labels(tr, commune_name="gf_commune", agent="gf_agent") | titles | labels(tr, rssi="gf_rssi",
                                                                                      tests="gf_tests")  # fmt: skip
    return (
        figure_table(tr("gf_hotspots"), [InfluxQL(query)], rename)
        .description(tr("gf_hotspots_desc"))
        .override_by_name(tr("gf_commune"), [commune_link(tr)])
        .override_by_name(tr("gf_tests"), [model.DynamicConfigValue(id_val="decimals", value=0)])
        .height(8)
    )


def _value_words(tr: Translator, prefix: str, values: list[str]) -> model.DynamicConfigValue:
    """A tag's values shown in the reader's language (``{prefix}_{value}`` in the catalogue)."""
    options = {v: model.ValueMappingResult(text=tr(f"{prefix}_{v}"), index=n) for n, v in enumerate(values)}
    return model.DynamicConfigValue(id_val="mappings", value=[model.ValueMap(options=options)])


def dashboard(uid: str, title: str) -> db.Dashboard:
    return (
        db.Dashboard(title)
        .uid(uid)
        .tags(["dokiem"])
        .time("now-30d", "now")
        .timezone("Asia/Ho_Chi_Minh")
        .refresh("5m")
        .editable()
    )


def labels(tr: Translator, **keys: str) -> dict[str, str]:
    """Field name -> its translated column title."""
    return {field: tr(key) for field, key in keys.items()}


_AGGREGATES = {Stat.MEDIAN: 'median("{field}")', Stat.MEAN: 'mean("{field}")', Stat.P10: 'percentile("{field}", 10)',
               Stat.P90: 'percentile("{field}", 90)'}  # fmt: skip
DOWN, UP, LATENCY, LOADED, RPM = (
    registry.figure(name)
    for name in ("download_mbps", "upload_mbps", "latency_ms", "loaded_latency_ms", "responsiveness_rpm")
)
MEDIANS = tuple((f, Stat.MEDIAN) for f in (DOWN, UP, LATENCY))  # what the smaller tables give


def figure_terms(tr: Translator, wanted: Sequence[tuple[Figure, Stat]]) -> tuple[str, dict[str, str]]:
    """A query's SELECT terms for registry figures' statistics, each named by its report key (down_median), and
    those names' column titles: the same words as the report's and the site's."""
    words = Labels(tr)
    terms = ", ".join(f'{_AGGREGATES[stat].format(field=f.name)} AS "{f.table_key(stat)}"' for f, stat in wanted)
    return terms, {f.table_key(stat): words.title(f, stat) for f, stat in wanted}


def figure_table(title: str, targets: list[InfluxQL], rename: dict[str, str]) -> table.Panel:
    """A table of figures per group: targets merged on their tags, columns renamed, units by title."""
    panel = table.Panel().title(title).show_header(True).datasource(DATASOURCE)
    for target in targets:
        panel = panel.with_target(target.table())
    merge = [MERGE] if len(targets) > 1 else []
    return (
        panel.transformations([*merge, organize(rename)])
        .override_by_regexp(".*Mbit/s.*", [model.DynamicConfigValue(id_val="unit", value=MBPS)])
        .override_by_regexp(".*\\(ms\\).*", [model.DynamicConfigValue(id_val="unit", value=MS)])
        .decimals(1)
        .height(10)
        .span(24)
    )


def ranking_table(tr: Translator, group_by: str, label: str, *conditions: str) -> table.Panel:
    """Figures per group and access type (a row each: fixed and mobile are never one median)."""
    terms, titles = figure_terms(tr, [(f, stat) for f in registry.on_dashboards() for stat in f.dashboards])
    figures = f"""SELECT {terms}, count("failed") AS "tests"
        FROM {SPEED} WHERE {where(*conditions)} GROUP BY "{group_by}", "access" """
    agents = f"""SELECT count("n") AS "agents" FROM (SELECT last("failed") AS "n" FROM {SPEED}
        WHERE {where(*conditions)} GROUP BY "agent", "{group_by}", "access") GROUP BY "{group_by}", "access" """
    rename = {group_by: label} | titles | labels(tr, access="gf_access", tests="gf_tests", agents="gf_agents")
    targets = [InfluxQL(figures).ref("A"), InfluxQL(agents).ref("B")]
    return figure_table(tr("gf_ranking", by=label), targets, rename).override_by_name(
        tr("gf_access"), [access_mapping(tr)]
    )


def residents_table(tr: Translator, group_by: str, label: str, *conditions: str) -> table.Panel:
    """Residents' tests per group and access type: how many, and their medians (no agent count: a
    resident is no agent, and no address is kept to count them by)."""
    terms, titles = figure_terms(tr, MEDIANS)
    query = f"""SELECT count("failed") AS "tests", {terms} FROM {SPEED}
        WHERE {where(RESIDENTS_ONLY, *conditions)} GROUP BY "{group_by}", "access" """
    rename = {group_by: label} | labels(tr, access="gf_access", tests="gf_tests") | titles
    return figure_table(tr("gf_ranking", by=label), [InfluxQL(query)], rename).override_by_name(
        tr("gf_access"), [access_mapping(tr)]
    )


def commune_link(tr: Translator) -> model.DynamicConfigValue:
    """A commune's name opens its own dashboard, same time range."""
    url = "/d/dokiem-commune?var-commune=${__value.raw}&${__url_time_range}"
    return model.DynamicConfigValue(id_val="links", value=[{"title": tr("gf_open_commune", name="${__value.raw}"),
                                                              "url": url}])  # fmt: skip


def by_access_table(tr: Translator, title: str, *conditions: str) -> table.Panel:
    """Median download, upload and latency, one row per access type."""
    terms, titles = figure_terms(tr, MEDIANS)
    query = f"""SELECT {terms}, count("failed") AS "tests" FROM {SPEED} WHERE {where(*conditions)}
        GROUP BY "access" """
    rename = labels(tr, access="gf_access") | titles | labels(tr, tests="gf_tests")
    return (
        figure_table(title, [InfluxQL(query)], rename)
        .override_by_name(tr("gf_access"), [access_mapping(tr)])
        .height(6)
        .span(12)
    )


def histogram_panel(tr: Translator, *conditions: str) -> histogram.Panel:
    """Every test's download, a series per access type."""
    raw = f'SELECT "download_mbps" FROM {SPEED} WHERE {where(*conditions)} GROUP BY "access"'
    return (
        histogram.Panel()
        .legend(legend())
        .title(tr("gf_histogram"))
        .datasource(DATASOURCE)
        .with_target(InfluxQL(raw).alias("$tag_access"))
        .transformations(access_names(tr, with_isp=False))
        .unit(MBPS)
        .height(9)
        .span(12)
    )


def hour_of_day(tr: Translator, *conditions: str) -> barchart.Panel:
    """Median download by local hour, fixed and mobile as two bars."""
    targets = [
        InfluxQL(f"""SELECT median("download_mbps") AS "{a}" FROM {SPEED}
        WHERE {where(*conditions, access_is(a))} GROUP BY "hour" """)
        .ref(a[0].upper())
        .table()
        for a in ACCESS_TYPES
    ]
    panel = barchart.Panel().legend(legend()).title(tr("gf_time_of_day")).description(tr("gf_time_of_day_desc"))
    for target in targets:
        panel = panel.with_target(target)
    join = model.DataTransformerConfig(id_val="joinByField", options={"byField": "hour", "mode": "outer"})
    rename = {"hour": tr("gf_hour")} | {a: tr(f"access_{a}") for a in ACCESS_TYPES}
    return (
        panel.datasource(DATASOURCE)
        .transformations([join, organize(rename)])
        .x_field(tr("gf_hour"))
        .unit(MBPS)
        .height(9)
        .span(12)
    )


def access_names(tr: Translator, with_isp: bool) -> list[model.DataTransformerConfig]:
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


def coverage_table(tr: Translator, by: str, label: str) -> table.Panel:
    """Survey samples (issue 30) per operator and ``by`` tag: how many, the share with service, the median
    signal, per technology; the holes themselves are the report's (the rule needs days and cells)."""
    query = f"""SELECT count("service") AS "samples", mean("service") AS "service", median("rsrp_dbm") AS "rsrp"
        FROM {SURVEY} WHERE $timeFilter AND "operator" =~ /^$operator$/
        GROUP BY "{Tag.OPERATOR}", "{by}", "{Tag.TECHNOLOGY}" """
    rename = labels(tr, operator="gf_operator", technology="gf_technology", samples="gf_cov_samples",
                    service="gf_cov_service", rsrp="gf_cov_rsrp") | {by: label}  # fmt: skip
    return (
        figure_table(tr("gf_cov_by", by=label), [InfluxQL(query)], rename)
        .override_by_name(tr("gf_technology"), [_value_words(tr, "technology", [t.value for t in Technology])])
        .override_by_name(tr("gf_cov_service"), [model.DynamicConfigValue(id_val="unit", value="percentunit")])
        .override_by_name(tr("gf_cov_samples"), [model.DynamicConfigValue(id_val="decimals", value=0)])
    )


def survey_progress(tr: Translator) -> timeseries.Panel:
    """Samples an hour per operator: how far the surveys have come, and whether a car is out now."""
    query = f"""SELECT count("service") FROM {SURVEY} WHERE $timeFilter AND "operator" =~ /^$operator$/
        GROUP BY time(1h), "{Tag.OPERATOR}" fill(0)"""
    return (
        timeseries.Panel()
        .legend(legend())
        .title(tr("gf_cov_progress"))
        .datasource(DATASOURCE)
        .with_target(InfluxQL(query).alias(f"$tag_{Tag.OPERATOR}"))
        .height(8)
        .span(24)
    )


def trend(tr: Translator, title: str, by: tuple[str, ...], *conditions: str) -> timeseries.Panel:
    """Median download over time, one series per value of the ``by`` tags (an ISP's fixed and
    mobile networks are different services, so ISP trends split by access type too)."""
    tags = ", ".join(f'"{tag}"' for tag in by)
    query = f"""SELECT median("download_mbps") FROM {SPEED} WHERE {where(*conditions)}
        GROUP BY time($__interval), {tags} fill(none)"""
    return (
        timeseries.Panel()
        .legend(legend())
        .title(title)
        .datasource(DATASOURCE)
        .with_target(InfluxQL(query).alias(" ".join(f"$tag_{tag}" for tag in by)))
        .transformations(access_names(tr, with_isp=len(by) > 1))
        .unit(MBPS)
        .min(0)
        .height(8)
        .span(12)
    )


def years_trend(tr: Translator, title: str, *conditions: str) -> timeseries.Panel:
    """The province's median download a month over five years, fixed and mobile apart, read from the hourly
    aggregates InfluxDB keeps for ever (issue 32): the median of the hours' medians, as its description says,
    where the raw points may no longer be there."""
    query = f"""SELECT median("download_mbps") FROM {HOURLY} WHERE {where(*conditions)}
        GROUP BY time(30d), "access" fill(none)"""
    return (
        timeseries.Panel()
        .legend(legend())
        .title(title)
        .description(tr("gf_years_trend_desc"))
        .datasource(DATASOURCE)
        .with_target(InfluxQL(query).alias("$tag_access"))
        .transformations(access_names(tr, with_isp=False))
        .time_from("5y")
        .unit(MBPS)
        .min(0)
        .height(8)
        .span(24)
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


def threshold_stat(threshold: Threshold, tr: Translator, *conditions: str) -> stat.Panel:
    met, total = threshold_queries(threshold, *conditions)
    share = model.DataTransformerConfig(
        id_val="calculateField",
        options={"mode": "binary", "binary": {"left": "met", "operator": "/", "right": "total"}, "alias": "share",
                 "replaceFields": True},
    )  # fmt: skip
    return (
        stat_panel(threshold.name(tr.lang))
        .description(threshold.source)
        .with_target(InfluxQL(met).ref("A").table())
        .with_target(InfluxQL(total).ref("B").table())
        .transformations([MERGE, share])
        .unit("percentunit")
        .decimals(1)
        .thresholds(steps((None, "red"), (0.5, "orange"), (0.8, "green")))
        .height(5)
        .span(6)
    )


def agents_table(tr: Translator, title: str, also_by: tuple[str, ...], *conditions: str) -> table.Panel:
    """A row per agent (and access type: an agent measures one line, but a changed config must not
    pool two), with ``also_by`` tags as columns."""
    tags = ", ".join(f'"{tag}"' for tag in ("agent", *also_by, "isp", "access"))
    terms, titles = figure_terms(tr, MEDIANS)
    query = f"""SELECT last("download_mbps") AS "last_download", {terms}, count("failed") AS "tests",
        sum("failed") AS "failed" FROM {SPEED} WHERE {where(*conditions)} GROUP BY {tags}"""
    rename = labels(tr, agent="gf_agent", commune_name="gf_commune", isp="gf_isp", access="gf_access",
                    last_download="gf_last_download")  # fmt: skip
    rename |= titles | labels(tr, tests="gf_tests", failed="gf_failed")
    return figure_table(title, [InfluxQL(query)], rename).override_by_name(tr("gf_access"), [access_mapping(tr)])

"""InfluxDB's schema as dokiem writes it (ARCHITECTURE.md): each measurement, its tag keys and its fields.

The collector's writer writes exactly these; the dashboards and the alert rules read them (a test
holds every query of theirs to this schema, and the writer's points too).
"""

from __future__ import annotations

from enum import StrEnum

from dokiem.contract import COUNTS, FIGURES


class Measurement(StrEnum):
    SPEEDTEST = "speedtest"  # one point per Result
    HEALTH = "agent_health"  # one point per heartbeat
    QUARANTINE = "collector_quarantine"  # one point per message kept instead of archived
    COLLECTOR = "collector_health"  # one point a minute: the server's own state (issue 32)
    HOURLY = "speedtest_hourly"  # per hour and series of speedtest, kept for ever in FOREVER (issue 32)
    SURVEY = "coverage_survey"  # one point per placed survey sample (issue 30): never pooled with speedtest

    def quoted(self) -> str:
        """As InfluxQL names it after FROM (the hourly aggregates under their retention policy)."""
        return f'"{FOREVER}"."{self.value}"' if self is Measurement.HOURLY else f'"{self.value}"'


FOREVER = "forever"  # the retention policy of the hourly aggregates: never dropped, whatever raw_days says


class Tag(StrEnum):
    """Every tag key dokiem writes; ``TAGS`` says which measurement carries which."""

    PROVINCE = "province"
    DISTRICT = "district"  # the former district (the plans still count by them)
    DISTRICT_NAME = "district_name"
    COMMUNE = "commune"  # the 2025 commune
    COMMUNE_NAME = "commune_name"
    COMMUNE_DECLARED = "commune_declared"  # the pre-reform code the site gave, where one was mapped
    ISP = "isp"
    ACCESS = "access"
    AGENT = "agent"
    SERVER = "server"
    HOUR = "hour"  # the run's local hour, for the hour-of-day panels
    ERROR = "error"  # a failed run's error code
    IP_VERSION = "ip_version"
    LOCATION = "location"  # domestic | international test server
    TECHNOLOGY = "technology"  # the radio's: 4g, 5g, wifi, … (contract.Technology)
    OPERATOR = "operator"  # the mobile network the modem was on, by name (Viettel, VinaPhone, …)
    SIGNAL = "signal"  # good | fair | poor (thresholds.toml [radio])
    REASON = "reason"  # why a message was quarantined
    SOURCE = "source"  # "resident" on a resident's own test (issue 22); absent on an agent's
    COLLECTOR = "collector"  # which collector (its MQTT client id): several may share a province
    CELL = "cell"  # a survey sample's H3 cell: the finest place any output shows of a survey
    REGISTRATION = "registration"  # a survey sample's: home, roaming, searching, denied, idle, unknown


_PLACE = (Tag.PROVINCE, Tag.DISTRICT, Tag.DISTRICT_NAME, Tag.COMMUNE, Tag.COMMUNE_NAME)
TAGS: dict[Measurement, tuple[Tag, ...]] = {
    Measurement.SPEEDTEST: (*_PLACE, Tag.COMMUNE_DECLARED, Tag.ISP, Tag.ACCESS, Tag.AGENT, Tag.SERVER, Tag.HOUR,
                            Tag.ERROR, Tag.IP_VERSION, Tag.LOCATION, Tag.TECHNOLOGY, Tag.OPERATOR, Tag.SIGNAL,
                            Tag.SOURCE),
    Measurement.HEALTH: (Tag.AGENT, *_PLACE, Tag.ISP),
    Measurement.QUARANTINE: (Tag.REASON, Tag.AGENT),
    Measurement.COLLECTOR: (Tag.COLLECTOR,),
    Measurement.SURVEY: (Tag.PROVINCE, Tag.COMMUNE, Tag.COMMUNE_NAME, Tag.CELL, Tag.OPERATOR, Tag.TECHNOLOGY,
                         Tag.REGISTRATION, Tag.AGENT),
}  # fmt: skip
TAGS[Measurement.HOURLY] = TAGS[Measurement.SPEEDTEST]  # every speedtest series, an hour at a time

HEALTH_READINGS = ("cpu_pct", "memory_pct", "temperature_c", "disk_pct", "load1")  # floats from Status.health
OUTBOX_FIELDS = ("outbox_depth", "outbox_dropped_age", "outbox_dropped_size")
RUN_FIELDS = ("runs_received", "runs_expected", "runs_missed")
RADIO_FIELDS = ("rsrp_dbm", "rsrq_db", "sinr_db", "signal_dbm")  # Result.radio's readings, as written
# the collector's own state (collector/watch.py): messages a minute, InfluxDB's backlog, the archive's size, the
# disk under its data, hours since the last backup (or since it was first watched), days to the nearest expiry
# of a certificate it watches
SERVER_READINGS = ("messages_in", "refused", "influx_backlog", "archive_mb", "disk_used_pct", "backup_age_h",
                   "cert_days_left")  # fmt: skip
FIELDS: dict[Measurement, tuple[str, ...]] = {
    Measurement.SPEEDTEST: (*FIGURES, *COUNTS, "failed", "plan_down_mbps", "streams_down", *RADIO_FIELDS),
    Measurement.HEALTH: ("online", *HEALTH_READINGS, "uptime_s", *OUTBOX_FIELDS, *RUN_FIELDS),
    Measurement.QUARANTINE: ("count",),
    Measurement.COLLECTOR: ("alive", *SERVER_READINGS),
    Measurement.SURVEY: ("service", "rsrp_dbm", "download_mbps"),
}
# an hour of a series: its tests, and the medians of the headline figures (a median of hours is no median of
# tests: the long-range panels say so, the reports read the archive)
HOURLY_FIELDS = ("tests", "download_mbps", "upload_mbps", "latency_ms")
FIELDS[Measurement.HOURLY] = HOURLY_FIELDS

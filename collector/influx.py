"""The InfluxDB writer: Results as line protocol, batched, to the 1.x-compatible ``/write``.

Line protocol is made by influxdb-client's ``Point``, which escapes per InfluxDB's spec; a result's and a
survey sample's by ``PointLines``, which keeps Point's text of each tag and field name it has seen (the
collector writes thousands a second of few shapes: issue 37). A batch
InfluxDB refuses as bad data (400) is halved until the bad points are found: those are quarantined,
the rest written, so one bad point never stalls the writer. Only 5xx, timeouts and lost connections
count as InfluxDB being unavailable.

The measurements, their tags and fields are ``dokiem.series``'s: ``speedtest`` (the site as the
collector filed it, the line, the agent, the server and its location, the local hour, the error code
of a failed run; the figures as fields), ``agent_health`` for heartbeats (with the runs expected and
received, so the fleet dashboard can show missed runs), ``collector_quarantine`` and ``collector_health``
(the server's own state each minute). The point time is the measurement's
start (ms), so a replayed result overwrites itself instead of doubling. InfluxDB 1.x takes a
user/password, 2.x/3.x a token (the DBRP mapping gives InfluxQL the bucket).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from influxdb_client import Point, WritePrecision

from dokiem.collector.config import InfluxSection
from dokiem.collector.watch import ServerState
from dokiem.contract import COUNTS, FIGURES, LOCAL_TIME, RESIDENT, Radio, Result, operator_name
from dokiem.regions import Place
from dokiem.series import FOREVER, HEALTH_READINGS, OUTBOX_FIELDS, RADIO_FIELDS, SERVER_READINGS, Measurement, Tag
from dokiem.status import Status
from dokiem.survey import Registration
from dokiem.thresholds import load_thresholds


class InfluxUnavailable(Exception):
    """InfluxDB did not take the batch (5xx, a timeout, no connection, no access); the caller keeps it
    and tries again later."""


class InfluxRefused(Exception):
    """InfluxDB refused the batch as bad data (400): some point in it can never be written."""


# the shipped signal classes: a tag is written once, so a department's later edit applies to new results
RADIO_RULES = load_thresholds().radio


def _line(point: Point) -> str | None:
    """The point as line protocol (influxdb-client escapes names, tags and strings per InfluxDB's spec,
    types integers and booleans, drops NaN and Infinity); None for a point left with no field."""
    line = point.to_line_protocol()
    return line or None


Fields = dict[str, float | int | bool]
MAX_KEPT_TAGS = 100_000  # tags whose text is kept before starting afresh (memory stays bounded)
_PROBE = "_"  # a field name Point leaves as it is: what follows it in a probe's line is not the head


class PointLines:
    """Line protocol of one measurement, the text ``Point`` writes, at a fraction of its cost: the escaped
    measurement, each tag's escaped ``key=value`` and each field's escaped name are made by Point once and
    kept; values are written as Point writes them (a float without a trailing ".0", an integer with "i", NaN
    and Infinity left out). tests/test_influx_roundtrip.py holds the two to the same text over any tags and fields."""

    def __init__(self, measurement: str) -> None:
        self.measurement = measurement
        self._head = Point(measurement).field(_PROBE, 1).to_line_protocol().removesuffix(f" {_PROBE}=1i")
        self._tags: dict[tuple[str, str], str] = {}
        self._names: dict[str, str] = {}

    def line(self, tags: Mapping[Tag, str | None], fields: Fields, at_ms: int) -> str | None:
        """The point's line; None for one with no field left."""
        values = [f"{self._name(name)}={text}" for name in sorted(fields) if (text := _value(fields[name])) is not None]
        if not values:
            return None
        pairs = "".join(f",{self._tag(key, value)}" for key, value in sorted(tags.items()) if value)
        return f"{self._head}{pairs} {','.join(values)} {at_ms}"

    def _tag(self, key: str, value: str) -> str:
        if (text := self._tags.get((key, value))) is None:
            if len(self._tags) >= MAX_KEPT_TAGS:
                self._tags.clear()
            line = Point(_PROBE).tag(key, value).field(_PROBE, 1).to_line_protocol()
            text = self._tags[key, value] = line[len(_PROBE) + 1 : -len(f" {_PROBE}=1i")]
        return text

    def _name(self, name: str) -> str:
        if (escaped := self._names.get(name)) is None:
            line = Point(_PROBE).field(name, 1).to_line_protocol()
            escaped = self._names[name] = line[len(_PROBE) + 1 : -len("=1i")]
        return escaped


def _value(value: float | int | bool) -> str | None:
    """A field's value as Point writes it."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = str(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    raise TypeError(f"a field of type {type(value).__name__} is not written here")


SPEEDTEST_LINES = PointLines(Measurement.SPEEDTEST)
SURVEY_LINES = PointLines(Measurement.SURVEY)


def result_line(result: Result, place: Place | None = None) -> str | None:
    """One ``speedtest`` point filed where ``place`` says (the collector's reading of the site: the 2025
    commune, its former district, the region files' names); without one, the codes as sent."""
    site = result.site
    place = place or Place.as_sent(site)
    tags: dict[Tag, str | None] = {
        Tag.PROVINCE: place.province, Tag.DISTRICT: place.district, Tag.DISTRICT_NAME: place.district_name,
        Tag.COMMUNE: place.commune, Tag.COMMUNE_NAME: place.commune_name, Tag.COMMUNE_DECLARED: place.declared,
        Tag.ISP: site.isp, Tag.ACCESS: site.access.value if site.access else None, Tag.AGENT: result.agent_id,
        Tag.SERVER: result.server.id if result.server else None,
        Tag.HOUR: f"{result.started_at.astimezone(LOCAL_TIME):%H}",
        Tag.ERROR: result.error.code if result.error else None,
        Tag.IP_VERSION: str(result.ip_version) if result.ip_version else None,
        Tag.LOCATION: result.server.location.value if result.server else None,
        **radio_tags(result.radio),
        Tag.SOURCE: result.source if result.source == RESIDENT else None,
    }  # fmt: skip
    fields: Fields = {name: float(figure) for name in FIGURES if (figure := getattr(result, name)) is not None}
    fields |= {name: int(count) for name in COUNTS if (count := getattr(result, name)) is not None}
    fields["failed"] = 1 if result.error else 0
    if site.plan_down_mbps is not None:
        fields["plan_down_mbps"] = float(site.plan_down_mbps)
    if result.method.streams_down is not None:
        fields["streams_down"] = int(result.method.streams_down)
    if (radio := result.radio) is not None:
        fields |= {name: float(reading) for name in RADIO_FIELDS if (reading := getattr(radio, name)) is not None}
    return SPEEDTEST_LINES.line(tags, fields, int(result.started_at.timestamp() * 1000))


def radio_tags(radio: Radio | None) -> dict[Tag, str | None]:
    """The radio's technology, operator (by name: 452-04 is Viettel) and signal class, as tags."""
    if radio is None:
        return {}
    names = radio.operator_isps()
    return {
        Tag.TECHNOLOGY: radio.technology.value if radio.technology else None,
        # the reference list's name for the network, else its MCC-MNC: never the modem's own text (a tag, a legend)
        Tag.OPERATOR: names[0] if names else radio.operator_code,
        Tag.SIGNAL: RADIO_RULES.signal_class(radio),
    }


def health_line(
    status: Status, site: dict[str, Any] | None, runs: RunCount | None = None, at_ms: int | None = None
) -> str | None:
    """One ``agent_health`` point from a validated heartbeat."""
    site = site or {}
    point = Point(Measurement.HEALTH).tag(Tag.AGENT, status.agent_id)
    for tag, value in ((Tag.PROVINCE, site.get("province_code")), (Tag.DISTRICT, site.get("district_code")),
                       (Tag.DISTRICT_NAME, site.get("district_name")), (Tag.COMMUNE, site.get("commune_code")),
                       (Tag.COMMUNE_NAME, site.get("commune_name")), (Tag.ISP, site.get("isp"))):  # fmt: skip
        if isinstance(value, str) and value:
            point.tag(tag, value)
    point.field("online", 1 if status.state == "online" else 0)
    health = status.health
    if health is not None:
        for key in HEALTH_READINGS:
            if (value := getattr(health, key)) is not None:
                point.field(key, float(value))
        if health.uptime_s is not None:
            point.field("uptime_s", int(health.uptime_s))
    if status.outbox is not None:
        for field in OUTBOX_FIELDS:
            point.field(field, int(getattr(status.outbox, field.removeprefix("outbox_"))))
    if runs is not None:
        point.field("runs_received", runs.received)
        if runs.expected is not None:
            point.field("runs_expected", runs.expected).field("runs_missed", max(0, runs.expected - runs.received))
    return _line(point.time(at_ms or int(time.time() * 1000), WritePrecision.MS))


HOUR_MS = 3_600_000
AGGREGATE_CHUNK_H = 7 * 24


def hourly_query(since_ms: int, until_ms: int) -> str:
    """The hourly aggregates of [since, until) from the raw points, into FOREVER, every tag kept."""
    speed, hourly = Measurement.SPEEDTEST.quoted(), Measurement.HOURLY.quoted()
    return (f'SELECT count("download_mbps") AS "tests", median("download_mbps") AS "download_mbps",'
            f' median("upload_mbps") AS "upload_mbps", median("latency_ms") AS "latency_ms" INTO {hourly}'
            f" FROM {speed} WHERE time >= {since_ms}ms AND time < {until_ms}ms GROUP BY time(1h), *")  # fmt: skip


def retention_statements(db: str, raw_days: int, existing: set[str]) -> list[str]:
    """What makes the database's retention as configured: FOREVER for the aggregates; the raw points' policy
    the default, for ``raw_days`` (0: InfluxDB's own autogen, for ever)."""
    statements = [] if FOREVER in existing else [f'CREATE RETENTION POLICY "{FOREVER}" ON "{db}" DURATION INF'
                                                  " REPLICATION 1"]  # fmt: skip
    if raw_days:
        verb = "ALTER" if RAW in existing else "CREATE"
        statements.append(f'{verb} RETENTION POLICY "{RAW}" ON "{db}" DURATION {raw_days}d REPLICATION 1 DEFAULT')
    elif RAW in existing:
        statements.append(f'ALTER RETENTION POLICY "autogen" ON "{db}" DEFAULT')  # raw kept for ever again
    return statements


RAW = "raw"  # the raw points' retention policy where influx.raw_days is set


def _runs(hours: list[int]) -> list[tuple[int, int]]:
    """(first, last) of each run of consecutive hours, in order."""
    runs: list[tuple[int, int]] = []
    for hour in hours:
        if runs and hour == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], hour)
        else:
            runs.append((hour, hour))
    return runs


def line_hour(line: str) -> int:
    """The hour (since the epoch) of a line's point (its last field, in ms)."""
    return int(line.rsplit(" ", 1)[1]) // HOUR_MS


def collector_line(collector: str, state: ServerState, at_ms: int | None = None) -> str | None:
    """One ``collector_health`` point: the server's own state this minute (collector/watch.py)."""
    point = Point(Measurement.COLLECTOR).tag(Tag.COLLECTOR, collector).field("alive", 1)
    for name in SERVER_READINGS:
        if (value := getattr(state, name)) is not None:
            point.field(name, value)
    return _line(point.time(at_ms or int(time.time() * 1000), WritePrecision.MS))


def survey_line(row: dict[str, Any], province: str | None, commune_name: str | None) -> str | None:
    """One ``coverage_survey`` point: a placed sample (the archive's SAMPLE_COLUMNS by name), at its cell, never
    at its position; ``service`` 1 where the modem was registered."""
    tags = {Tag.COMMUNE: row["commune_code"], Tag.CELL: row["cell"], Tag.PROVINCE: province,
            Tag.COMMUNE_NAME: commune_name, Tag.OPERATOR: operator_name(row["operator_code"]),
            Tag.TECHNOLOGY: row["technology"], Tag.REGISTRATION: row["registration"],
            Tag.AGENT: row["agent_id"]}  # fmt: skip
    fields: Fields = {"service": int(Registration(row["registration"]).has_service)}
    fields |= {name: float(row[name]) for name in ("rsrp_dbm", "download_mbps") if row[name] is not None}
    return SURVEY_LINES.line(tags, fields, int(row["at_ms"]))


def quarantine_line(reason: str, agent_id: str | None, at_ms: int | None = None) -> str | None:
    """One ``collector_quarantine`` point: a message kept instead of archived, by reason (fleet dashboard)."""
    point = Point(Measurement.QUARANTINE).tag(Tag.REASON, reason).field("count", 1)
    if agent_id:
        point.tag(Tag.AGENT, agent_id)
    return _line(point.time(at_ms or int(time.time() * 1000), WritePrecision.MS))


@dataclass(frozen=True)
class RunCount:
    """Runs an agent was expected to make since it was first seen, and how many arrived."""

    expected: int | None
    received: int


# 400 (a bad point, a partial write, a field type conflict), 413 (too large: split), 422 (unprocessable)
BAD_DATA = {400, 413, 422}


class InfluxWriter:
    def __init__(self, target: InfluxSection, session: aiohttp.ClientSession) -> None:
        assert target.url, "InfluxDB is configured (influx.url)"
        self.url = target.url.rstrip("/")
        self.target = target
        self.session = session
        self.last_write_s: float | None = None
        self._ready = False  # the database and its retention policies made (again after InfluxDB was lost)

    def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        headers: dict[str, str] = {}
        params = {"db": self.target.db, "precision": "ms"}
        if self.target.token:
            headers["Authorization"] = f"Token {self.target.token}"
        elif self.target.username:
            params |= {"u": self.target.username, "p": self.target.password or ""}
        return headers, params

    async def write(self, lines: Sequence[str]) -> None:
        if not lines:
            return
        headers, params = self._auth()
        t0 = time.perf_counter()
        try:
            async with self.session.post(
                self.url + "/write", params=params, data="\n".join(lines).encode(), headers=headers,
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:  # fmt: skip
                if response.status >= 300:
                    body = (await response.text())[:300]
                    if response.status in BAD_DATA:
                        raise InfluxRefused(f"InfluxDB refused the data ({response.status}): {body}")
                    self._ready = False  # 404: the database is gone (InfluxDB started afresh)
                    raise InfluxUnavailable(f"InfluxDB answered {response.status}: {body}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._ready = False  # a restarted InfluxDB may have lost its database
            raise InfluxUnavailable(f"InfluxDB at {self.target.url} is unreachable: {exc}") from exc
        self.last_write_s = time.perf_counter() - t0

    async def write_isolating(self, lines: Sequence[str]) -> list[int]:
        """Write ``lines``; the indices of those InfluxDB refuses as bad data (found by halving the batch:
        a refused half is split again, a taken one is written). Points InfluxDB took from a partial write
        are written again, which overwrites them with themselves."""
        try:
            await self.write(lines)
            return []
        except InfluxRefused:
            if len(lines) == 1:
                return [0]
        middle = len(lines) // 2
        left = await self.write_isolating(lines[:middle])
        right = await self.write_isolating(lines[middle:])
        return left + [middle + i for i in right]

    async def ensure_database(self) -> None:
        """InfluxDB 1.x: the database if missing, its retention policies as the config says (2.x/3.x: the bucket,
        its retention and the DBRP exist already, and SELECT INTO is not served: no hourly aggregates there)."""
        if self.target.token or self._ready:
            return
        await self.query(f'CREATE DATABASE "{self.target.db}"', method="POST")
        for statement in retention_statements(self.target.db, self.target.raw_days, await self._policies()):
            await self._must(statement)
        self._ready = True

    async def _policies(self) -> set[str]:
        data = await self.query(f'SHOW RETENTION POLICIES ON "{self.target.db}"')
        series = (data.get("results") or [{}])[0].get("series") or [{}]
        return {str(row[0]) for row in series[0].get("values") or []}

    async def aggregate_hours(self, hours: Iterable[int]) -> None:
        """The hourly aggregates of ``hours`` (hour numbers since the epoch) computed again from the raw points:
        one SELECT INTO per run of consecutive hours (InfluxDB 1.x; nothing on 2.x/3.x)."""
        if self.target.token:
            return
        for first, last in _runs(sorted(set(hours))):
            for start in range(first, last + 1, AGGREGATE_CHUNK_H):  # a week a query: a year's rebuild stays small
                await self._must(hourly_query(start * HOUR_MS, min(last + 1, start + AGGREGATE_CHUNK_H) * HOUR_MS))

    async def _must(self, influxql: str) -> None:
        data = await self.query(influxql, "POST")
        errors = [r["error"] for r in data.get("results", []) if "error" in r]
        if errors:
            raise InfluxUnavailable(f"InfluxDB refused {influxql.split()[0]} …: {errors[0][:200]}")

    async def delete_results(self, since_ms: int, until_ms: int | None) -> None:
        """Drop the ``speedtest`` points of a time range (before results filed elsewhere are rewritten:
        a point under new tags is a new series, it would not replace the old one)."""
        before = f" AND time < {until_ms}ms" if until_ms is not None else ""
        where = f"time >= {since_ms}ms{before}"
        data = await self.query(f"DELETE FROM {Measurement.SPEEDTEST.quoted()} WHERE {where}", "POST")
        errors = [r["error"] for r in data.get("results", []) if "error" in r]
        if errors:
            raise InfluxUnavailable(f"InfluxDB would not delete the old points: {errors[0][:200]}")

    async def query(self, influxql: str, method: str = "GET") -> dict[str, Any]:
        headers, params = self._auth()
        params = {k: v for k, v in params.items() if k != "precision"} | {"q": influxql, "epoch": "ms"}
        try:
            async with self.session.request(
                method, self.url + "/query", params=params, headers=headers,
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:  # fmt: skip
                data: dict[str, Any] = await response.json(content_type=None)
                if response.status >= 300:
                    raise InfluxUnavailable(f"InfluxDB answered {response.status}: {str(data)[:300]}")
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise InfluxUnavailable(f"InfluxDB at {self.target.url} is unreachable: {exc}") from exc

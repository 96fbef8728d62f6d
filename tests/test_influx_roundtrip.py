"""Property: any Result and any Status the validator accepts is written to a real influxd and reads back
with the same tags and figures (line protocol escaped and typed by influxdb-client, never hand-made)."""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from influxdb_client import Point, WritePrecision
from pydantic import BaseModel, ValidationError

from dokiem.collector.influx import Fields, PointLines, health_line, result_line
from dokiem.contract import MAX_BYTES_COUNT, TAG_PATTERN, Result
from dokiem.series import Measurement, Tag
from dokiem.status import Status
from testkit.influx import Influx

EXAMPLES = int(os.environ.get("DOKIEM_FUZZ_EXAMPLES", "150"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
M = TypeVar("M", bound=BaseModel)
_MOMENTS = itertools.count()


def next_moment() -> datetime:
    """A time no other example used: each point is read back alone by its time."""
    return EPOCH + timedelta(seconds=next(_MOMENTS))


@pytest.fixture(scope="module")
def influxd() -> Iterator[Influx]:
    server = Influx(Path(tempfile.mkdtemp(prefix="dokiem-influx-")))
    server.start()
    server.query('CREATE DATABASE "dokiem"')
    yield server
    server.stop()


def write(server: Influx, line: str) -> None:
    request = urllib.request.Request(f"{server.url}/write?db=dokiem&precision=ms", data=line.encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 204
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"InfluxDB refused {line!r}: {exc.read()!r}") from exc


def read_point(server: Influx, measurement: str, at: datetime) -> dict[str, Any]:
    ms = int(at.timestamp() * 1000)
    (series,) = server.query(f'SELECT * FROM "{measurement}" WHERE time = {ms}ms')
    (row,) = series["values"]
    return {column: value for column, value in zip(series["columns"], row, strict=True) if value is not None}


# Tag-like text as the contract allows it: letters of any script, digits and the punctuation TAG_PATTERN names
tags = st.from_regex(TAG_PATTERN, fullmatch=True).filter(lambda t: t.strip() == t and "  " not in t)
codes = st.from_regex(r"[0-9A-Za-z]{1,16}", fullmatch=True)
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=60).filter(
    lambda name: not name.endswith("\\")  # the contract refuses those (see test_contract)
)
mbps = st.floats(min_value=0, max_value=100_000, allow_nan=False)
millis = st.floats(min_value=0, max_value=600_000, allow_nan=False)
counts = st.integers(min_value=0, max_value=MAX_BYTES_COUNT)


def accepted(model: type[M], data: dict[str, Any]) -> M:
    """The message the validator makes of ``data``; an example it refuses is not one this property is about."""
    try:
        return model.model_validate_json(json.dumps(data), strict=True)
    except ValidationError:
        assume(False)
        raise


@st.composite
def results(draw: st.DrawFn) -> Result:
    start = next_moment() + timedelta(milliseconds=draw(st.integers(0, 999)))
    data = {
        "agent_id": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True)),
        "started_at": start.isoformat(), "finished_at": (start + timedelta(seconds=30)).isoformat(),
        "result_id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        "site": {"province_code": draw(codes), "district_code": draw(codes), "commune_code": draw(codes),
                 "district_name": draw(names), "commune_name": draw(names), "isp": draw(tags),
                 "access": draw(st.sampled_from(["fixed", "mobile"])), "plan_down_mbps": draw(mbps)},
        "server": {"id": draw(tags), "url": "http://s.vn/"},
        "download_mbps": draw(mbps), "upload_mbps": draw(mbps), "latency_ms": draw(millis),
        "jitter_ms": draw(millis), "loss_pct": draw(st.floats(0, 100)), "dns_ms": draw(millis),
        "bytes_down": draw(counts), "bytes_up": draw(counts),
        "method": {"name": draw(tags), "version": "1", "streams_down": draw(st.integers(0, 64))},
    }  # fmt: skip
    if draw(st.booleans()):
        data["error"] = {"code": draw(st.from_regex(r"[a-z0-9_]{1,20}", fullmatch=True)), "message": draw(names)}
    return accepted(Result, data)


@PROPERTY
@given(result=results())
def test_any_accepted_result_reads_back_as_it_was_sent(influxd: Influx, result: Result) -> None:
    line = result_line(result)
    assert line is not None
    write(influxd, line)
    point = read_point(influxd, "speedtest", result.started_at)
    site = result.site
    assert (point["agent"], point["isp"], point["server"], point["access"]) == (
        result.agent_id, site.isp, result.server.id if result.server else None, site.access
    )  # fmt: skip
    assert (point["district"], point["commune"], point["district_name"], point["commune_name"]) == (
        site.district_code, site.commune_code, site.district_name, site.commune_name
    )  # fmt: skip
    for name in ("download_mbps", "upload_mbps", "latency_ms", "jitter_ms", "loss_pct", "dns_ms"):
        assert point[name] == getattr(result, name), name
    assert (point["bytes_down"], point["bytes_up"]) == (result.bytes_down, result.bytes_up)
    assert point["failed"] == (1 if result.error else 0)
    assert point.get("error") == (result.error.code if result.error else None)


@st.composite
def statuses(draw: st.DrawFn) -> Status:
    percent = st.floats(0, 100)
    data = {
        "state": draw(st.sampled_from(["online", "offline"])),
        "agent_id": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True)),
        "health": {"cpu_pct": draw(percent), "memory_pct": draw(percent), "disk_pct": draw(percent),
                   "temperature_c": draw(st.floats(-60, 200)), "load1": draw(st.floats(0, 100_000)),
                   "uptime_s": draw(counts)},
        "outbox": {"depth": draw(counts), "dropped_age": draw(counts), "dropped_size": draw(counts)},
    }  # fmt: skip
    return accepted(Status, data)


@PROPERTY
@given(status=statuses(), district_name=names)
def test_any_accepted_status_reads_back_as_it_was_sent(influxd: Influx, status: Status, district_name: str) -> None:
    at = next_moment()
    line = health_line(status, {"district_name": district_name}, at_ms=int(at.timestamp() * 1000))
    assert line is not None
    write(influxd, line)
    point = read_point(influxd, "agent_health", at)
    assert (point["agent"], point["district_name"]) == (status.agent_id, district_name)
    assert point["online"] == (1 if status.state == "online" else 0)
    assert status.health is not None and status.outbox is not None
    for name in ("cpu_pct", "memory_pct", "disk_pct", "temperature_c", "load1", "uptime_s"):
        assert point[name] == getattr(status.health, name), name
    assert point["outbox_depth"] == status.outbox.depth


_TAG_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
_FIELD_VALUE = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**63), 2**63 - 1),
                         st.booleans())  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    tags=st.dictionaries(st.sampled_from(list(Tag)), st.one_of(st.none(), st.just(""), _TAG_TEXT), max_size=8),
    fields=st.dictionaries(_TAG_TEXT, _FIELD_VALUE, max_size=8),
    at_ms=st.integers(0, 2**42),
)
def test_point_lines_write_what_point_writes(tags: dict[Tag, str | None], fields: Fields, at_ms: int) -> None:
    """Issue 37: the collector's fast line protocol is influxdb-client's own text for any tags (commas, spaces,
    equals signs, backslashes, any script) and fields (NaN and Infinity left out, integers, booleans)."""
    lines = PointLines(Measurement.SPEEDTEST)
    point = Point(Measurement.SPEEDTEST).time(at_ms, WritePrecision.MS)
    for key, value in tags.items():
        if value:
            point.tag(key, value)
    for name, value in fields.items():
        point.field(name, value)
    expected = point.to_line_protocol() or None
    assert lines.line(tags, fields, at_ms) == expected
    assert lines.line(tags, fields, at_ms) == expected  # from what it kept, the same

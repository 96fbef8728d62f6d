"""The wire contract: one typed, versioned Result, with its JSON Schema checked in."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from dokiem.contract import SCHEMA, Result, config_topic, result_topic, status_topic
from dokiem.wire import WIRE_MESSAGES, json_schema
from testkit.processes import REPO

SCHEMA_FILE = REPO / "dokiem" / "schema" / "result.schema.json"
T0 = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def minimal(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "agent_id": "th-380-001",
        "started_at": T0.isoformat(),
        "finished_at": (T0 + timedelta(seconds=30)).isoformat(),
        "method": {"name": "dokiem-http", "version": "1"},
    }
    data.update(overrides)
    return data


def test_round_trip_keeps_every_field() -> None:
    result = Result.model_validate(
        minimal(download_mbps=941.5, upload_mbps=90.1, latency_ms=3.2, samples_down_mbps=[900.0, 950.0])
    )
    again = Result.from_json(result.to_json())
    assert again == result
    assert json.loads(result.to_json())["schema"] == SCHEMA


def test_result_id_is_a_fresh_uuid_by_default() -> None:
    a, b = Result.model_validate(minimal()), Result.model_validate(minimal())
    assert isinstance(a.result_id, uuid.UUID) and a.result_id != b.result_id


def test_unmeasured_figures_are_absent_not_zero() -> None:
    payload = json.loads(Result.model_validate(minimal()).to_json())
    for key in ("download_mbps", "upload_mbps", "latency_ms", "loss_pct"):
        assert key not in payload


@pytest.mark.parametrize(
    "bad",
    [
        {"download_mbps": -1},
        {"download_mbps": 100_001},
        {"loss_pct": 101},
        {"latency_ms": -0.1},
        {"agent_id": "../etc"},
        {"agent_id": ""},
        {"schema": "dokiem.result/2"},
        {"unknown_key": 1},
        {"started_at": "2026-07-01T03:00:00"},  # no time zone
        {"finished_at": (T0 - timedelta(seconds=1)).isoformat()},
        {"error": {"code": "Not A Code", "message": "x"}},
        {"site": {"access": "satellite"}},
        {"site": {"commune_name": "Xã Đông Khê\\"}},  # InfluxDB cannot carry a tag ending in a backslash
    ],
)
def test_invalid_results_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Result.model_validate(minimal(**bad))


@pytest.mark.parametrize("message", WIRE_MESSAGES)
def test_checked_in_schema_matches_the_model(message: str) -> None:
    on_disk = json.loads((REPO / "dokiem" / "schema" / f"{message}.schema.json").read_text())
    assert on_disk == json_schema(message), f"regenerate: dokiem schema {message} > dokiem/schema/{message}.schema.json"


def test_schema_accepts_a_result_and_rejects_a_bad_one() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    good = json.loads(Result.model_validate(minimal(download_mbps=12.5)).to_json())
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "download_mbps": -5}, schema)


def test_topics() -> None:
    assert result_topic("a1") == "dokiem/v1/a1/result"
    assert status_topic("a1") == "dokiem/v1/a1/status"
    assert config_topic("a1") == "dokiem/v1/a1/config"

"""The wire messages and their JSON Schemas, as checked in under ``dokiem/schema/`` (``dokiem schema NAME``): the
Result (agent → collector), the Status heartbeat, a coverage survey's batch of samples, and what the collector
sends an agent (the fleet config and a restored collector's resend request). Each model lives with its own side;
this module only names them."""

from __future__ import annotations

from pydantic import BaseModel

from dokiem.contract import Result
from dokiem.fleet import FleetConfig, ResendRequest
from dokiem.status import Status
from dokiem.survey import SurveyBatch

MODELS: dict[str, tuple[type[BaseModel], str]] = {
    "result": (Result, "dokiem Result (dokiem.result/1)"),
    "status": (Status, "dokiem Status (dokiem.status/1)"),
    "config": (FleetConfig, "dokiem FleetConfig (dokiem.config/1)"),
    "resend": (ResendRequest, "dokiem ResendRequest (dokiem.resend/1)"),
    "survey": (SurveyBatch, "dokiem SurveyBatch (dokiem.survey/1)"),
}
WIRE_MESSAGES = tuple(MODELS)


def json_schema(message: str = "result") -> dict[str, object]:
    """The JSON Schema of a wire message, as checked in under ``dokiem/schema/``."""
    model, title = MODELS[message]
    schema = model.model_json_schema(by_alias=True)
    schema["$id"] = f"urn:dokiem:schema:{message}:1"
    schema["title"] = title
    return schema

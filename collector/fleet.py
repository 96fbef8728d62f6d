"""Fleet config, from the centre: validated here, published retained on ``dokiem/v1/{id}/config``.

The agent validates again (see ``agent.fleet``) and reports a refusal in its heartbeat; checking
here first means a typo is caught at the desk, not an hour later in the field.
"""

from __future__ import annotations

import aiomqtt
from pydantic import ValidationError

from agent.config import FleetConfig
from dokiem.contract import AGENT_ID_PATTERN, config_topic
from dokiem.settings import BrokerSection, broker_tls_context


class FleetPublishError(Exception):
    pass


def check_fleet_config(payload: bytes) -> None:
    try:
        fleet = FleetConfig.model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise FleetPublishError(f"the fleet config is invalid at {where}: {first['msg']}") from None
    if fleet.schedule.interval_minutes > 0 and not fleet.measure.servers:
        raise FleetPublishError("the fleet config schedules speed tests but measure.servers is empty")


async def publish_fleet_config(broker: BrokerSection, agent_id: str, payload: bytes) -> None:
    """Publish (retained, QoS 1); an empty payload withdraws the fleet config."""
    import re

    if not re.fullmatch(AGENT_ID_PATTERN, agent_id):
        raise FleetPublishError(f"{agent_id!r} is not an agent id")
    if payload:
        check_fleet_config(payload)
    try:
        async with aiomqtt.Client(
            broker.host, broker.port, username=broker.username, password=broker.password,
            tls_context=broker_tls_context(broker),
        ) as client:  # fmt: skip
            await client.publish(config_topic(agent_id), payload, qos=1, retain=True, timeout=15)
    except aiomqtt.MqttError as exc:
        raise FleetPublishError(f"cannot publish to {broker.url}: {exc}") from exc

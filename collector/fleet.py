"""Fleet config, from the centre: validated here, published retained on ``dokiem/v1/{id}/config``.

The agent validates again (see ``agent.fleet``) and reports a refusal in its heartbeat; checking
here first means a typo is caught at the desk, not an hour later in the field.
"""

from __future__ import annotations

import re

import aiomqtt

from agent.fleet import parse_fleet_config
from dokiem.contract import AGENT_ID_PATTERN, config_topic
from dokiem.settings import BrokerSection, broker_tls_context


class FleetPublishError(Exception):
    pass


async def publish_fleet_config(broker: BrokerSection, agent_id: str, payload: bytes) -> None:
    """Publish (retained, QoS 1); an empty payload withdraws the fleet config."""
    if not re.fullmatch(AGENT_ID_PATTERN, agent_id):
        raise FleetPublishError(f"{agent_id!r} is not an agent id")
    if payload:
        try:
            parse_fleet_config(payload)
        except ValueError as exc:
            raise FleetPublishError(f"the fleet config is invalid at {exc}") from None
    try:
        async with aiomqtt.Client(
            broker.host, broker.port, username=broker.username, password=broker.password,
            tls_context=broker_tls_context(broker),
        ) as client:  # fmt: skip
            await client.publish(config_topic(agent_id), payload, qos=1, retain=True, timeout=15)
    except aiomqtt.MqttError as exc:
        raise FleetPublishError(f"cannot publish to {broker.url}: {exc}") from exc

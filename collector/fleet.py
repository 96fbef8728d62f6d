"""Fleet config, from the centre: validated here, published retained on ``dokiem/v1/{id}/config``.

Checked here with the same model the agent applies (``dokiem.fleet``), so a typo is caught at the
desk, not an hour later in the field. And the request a restored collector makes of the fleet, retained on
``dokiem/v1/{id}/resend``: send again what was acknowledged since the backup (issue 32).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import aiomqtt

from dokiem.contract import AGENT_ID_PATTERN, config_topic, resend_topic
from dokiem.fleet import ResendRequest, parse_fleet_config
from dokiem.mqtt import mqtt_client
from dokiem.settings import BrokerSection


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
        async with mqtt_client(broker) as client:
            await client.publish(config_topic(agent_id), payload, qos=1, retain=True, timeout=15)
    except aiomqtt.MqttError as exc:
        raise FleetPublishError(f"cannot publish to {broker.url}: {exc}") from exc


async def ask_to_resend(client: aiomqtt.Client, agent_ids: Iterable[str], request: ResendRequest) -> int:
    """The request, retained, to each agent (through the collector's own connection); how many were asked."""
    asked = 0
    for agent_id in agent_ids:
        await client.publish(resend_topic(agent_id), request.to_json(), qos=1, retain=True, timeout=15)
        asked += 1
    return asked

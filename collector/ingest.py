"""Ingest: broker ─► queue. Subscribes to every agent's result and status topics (a MQTT 5 shared
subscription when configured, so several collectors can split one stream) and hands each
message on untouched; validation is the next step's job."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import aiomqtt

from dokiem.contract import TOPIC_PREFIX
from dokiem.settings import BrokerSection, broker_tls_context

log = logging.getLogger(__name__)

Message = tuple[str, bytes]


def subscriptions(shared_group: str | None) -> list[str]:
    topics = [f"{TOPIC_PREFIX}/+/result", f"{TOPIC_PREFIX}/+/status"]
    return [f"$share/{shared_group}/{t}" for t in topics] if shared_group else topics


async def receive(
    broker: BrokerSection,
    client_id: str,
    shared_group: str | None,
    queue: asyncio.Queue[Message],
    on_state: Callable[[bool, str | None], None],
) -> None:
    """Stay subscribed for ever; reconnect with backoff and jitter."""
    attempt = 0
    while True:
        try:
            async with aiomqtt.Client(
                broker.host, broker.port, username=broker.username, password=broker.password,
                identifier=client_id, tls_context=broker_tls_context(broker), keepalive=broker.keepalive_s,
                protocol=aiomqtt.ProtocolVersion.V5 if shared_group else aiomqtt.ProtocolVersion.V311,
                max_queued_incoming_messages=0,
            ) as client:  # fmt: skip
                for topic in subscriptions(shared_group):
                    await client.subscribe(topic, qos=1)
                attempt = 0
                on_state(True, None)
                async for message in client.messages:
                    payload = message.payload if isinstance(message.payload, bytes | bytearray) else b""
                    await queue.put((str(message.topic), bytes(payload)))
        except aiomqtt.MqttError as exc:
            on_state(False, str(exc))
        delay = random.uniform(0.5, 1.0) * min(60.0, 2.0**attempt)
        attempt += 1
        await asyncio.sleep(delay)

"""Ingest: broker ─► queue. Subscribes to every agent's result and status topics (a MQTT 5 shared
subscription when configured, so several collectors can split one stream) and hands each
message on untouched, straight from paho's callback (``dokiem.mqtt.hand_over``); validation is the next
step's job.

Nothing is lost across a collector restart: the session is persistent (the broker keeps QoS 1
messages for this client id while it is away) and a message is acknowledged only after the
archive committed it (``ack``), so a crash before the commit means the broker sends it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiomqtt
from paho.mqtt.client import MQTT_CLEAN_START_FIRST_ONLY
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from dokiem.contract import TOPIC_PREFIX
from dokiem.mqtt import acknowledge_manually, hand_over, mqtt_client
from dokiem.settings import BrokerSection, backoff_delay

log = logging.getLogger(__name__)

Ack = Callable[[], None]
Message = tuple[str, bytes, Ack]
SESSION_EXPIRY_S = 7 * 86_400
RECONNECT_MAX_S = 60.0


def subscriptions(shared_group: str | None) -> list[str]:
    topics = [f"{TOPIC_PREFIX}/+/result", f"{TOPIC_PREFIX}/+/status", f"{TOPIC_PREFIX}/+/survey"]
    return [f"$share/{shared_group}/{t}" for t in topics] if shared_group else topics


async def receive(
    broker: BrokerSection,
    client_id: str,
    shared_group: str | None,
    queue: asyncio.Queue[Message],
    on_state: Callable[[bool, str | None], None],
    on_client: Callable[[aiomqtt.Client | None], None] = lambda _client: None,
) -> None:
    """Stay subscribed for ever; reconnect with backoff and jitter. ``on_client`` is told the connected client
    (the collector publishes its requests to the fleet through it: a second connection under its login would
    take this one's place at the broker), and None when it is gone."""
    attempt = 0
    while True:
        try:
            client = _client(broker, client_id, shared_group)
            hand_over(client, lambda topic, payload, ack: queue.put_nowait((topic, payload, ack)))
            async with client:
                for topic in subscriptions(shared_group):
                    await client.subscribe(topic, qos=1)
                attempt = 0
                on_state(True, None)
                on_client(client)
                try:
                    async for _ in client.messages:  # nothing comes this way (hand_over): it ends at a disconnection
                        pass
                finally:
                    on_client(None)
        except aiomqtt.MqttError as exc:
            # leaving the client on a stop can raise the disconnection's MqttError in place of the stop
            # itself: a stop is never taken for a lost broker (the collector would never end)
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise asyncio.CancelledError from exc
            on_state(False, str(exc))
        delay = backoff_delay(attempt, RECONNECT_MAX_S)
        attempt += 1
        await asyncio.sleep(delay)


def _client(broker: BrokerSection, client_id: str, shared_group: str | None) -> aiomqtt.Client:
    v5 = bool(shared_group)
    properties = None
    if v5:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
    client = mqtt_client(
        broker, identifier=client_id, protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
        clean_session=None if v5 else False, clean_start=False if v5 else MQTT_CLEAN_START_FIRST_ONLY,
        properties=properties, max_queued_incoming_messages=0,
    )  # fmt: skip
    acknowledge_manually(client)  # only after the archive commit
    return client

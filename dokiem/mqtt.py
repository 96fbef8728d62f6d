"""The one place an MQTT client is made: broker section in, aiomqtt client out (TLS, credentials, keepalive).

The agent's publisher, the collector's ingest and ``push-config`` all connect through here, so a
broker setting (TLS, a CA file, keepalive) means the same thing on every side.
"""

from __future__ import annotations

from typing import Any

import aiomqtt

from dokiem.settings import BrokerSection, broker_tls_context


def mqtt_client(broker: BrokerSection, username: str | None = None, **options: Any) -> aiomqtt.Client:
    """A client for ``broker``; ``username`` overrides the section's (an agent logs in as its id),
    ``options`` are aiomqtt's (identifier, will, protocol, session settings)."""
    return aiomqtt.Client(
        broker.host,
        broker.port,
        username=username or broker.username,
        password=broker.password,
        tls_context=broker_tls_context(broker),
        keepalive=broker.keepalive_s,
        **options,
    )


# aiomqtt (2.5.1, its newest) acknowledges every message as it arrives and has no public way to wait: the
# collector acknowledges only after the archive committed (paho's manual ack, under aiomqtt's client). These two
# are the only places that reach into aiomqtt's private paho client.
def acknowledge_manually(client: aiomqtt.Client) -> None:
    """From now on, a QoS 1 message is acknowledged to the broker only by ``acknowledge``."""
    client._client.manual_ack_set(True)


def acknowledge(client: aiomqtt.Client, message: aiomqtt.Message) -> None:
    """PUBACK for ``message`` (a QoS 0 message has none)."""
    if message.qos > 0:
        client._client.ack(message.mid, message.qos)

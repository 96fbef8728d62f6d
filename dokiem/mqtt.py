"""The one place an MQTT client is made: broker section in, aiomqtt client out (TLS, credentials, keepalive).

The agent's publisher, the collector's ingest and ``push-config`` all connect through here, so a
broker setting (TLS, a CA file, keepalive) means the same thing on every side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Self, TypeVar

import aiomqtt

from dokiem.settings import BrokerSection, broker_tls_context

T = TypeVar("T")


def _cancellations() -> int:
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0


async def _unless_stopped(call: Awaitable[T]) -> T:
    """``call``'s answer, or the cancellation that arrived while it waited and that it lost. The count of
    cancellations asked for is compared before and after, not read alone: Python 3.11's TaskGroup leaves its
    parent's count raised after a child failed (a publisher reconnecting after a broker restart)."""
    before = _cancellations()
    answer = await call
    if _cancellations() > before:
        raise asyncio.CancelledError
    return answer


class Client(aiomqtt.Client):
    """aiomqtt's client, except that a task told to stop while it waited for the broker stops. Every wait of
    aiomqtt's is Python 3.11's ``asyncio.wait_for``, which returns the broker's answer when it arrives together
    with the cancellation and loses the cancellation (CPython gh-86296, fixed in 3.12): a collector stopped
    while its SUBACK came in went on to wait for messages for ever."""

    async def __aenter__(self) -> Self:
        before = _cancellations()
        entered = await super().__aenter__()
        if _cancellations() > before:
            await super().__aexit__(None, None, None)  # connected but not entered: nobody else would disconnect
            raise asyncio.CancelledError
        return entered

    async def subscribe(self, /, *args: Any, **kwargs: Any) -> Any:
        return await _unless_stopped(super().subscribe(*args, **kwargs))

    async def publish(self, /, *args: Any, **kwargs: Any) -> None:
        await _unless_stopped(super().publish(*args, **kwargs))


def mqtt_client(broker: BrokerSection, username: str | None = None, **options: Any) -> Client:
    """A client for ``broker``; ``username`` overrides the section's (an agent logs in as its id),
    ``options`` are aiomqtt's (identifier, will, protocol, session settings)."""
    return Client(
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
    """From now on, a QoS 1 message is acknowledged to the broker only by the acknowledgement ``hand_over``
    hands on with it."""
    client._client.manual_ack_set(True)


Handed = Callable[[str, bytes, Callable[[], None]], None]


def hand_over(client: aiomqtt.Client, receiver: Handed) -> None:
    """From now on each message goes straight from paho to ``receiver`` (topic, payload, its acknowledgement),
    not into aiomqtt's queue: aiomqtt's iterator makes a task and a wait for every message, a quarter of the
    collector's cost per message at thousands a second. ``client.messages`` then only tells of a disconnection."""
    paho = client._client

    def handed(_client: Any, _userdata: Any, message: Any) -> None:
        mid, qos = message.mid, message.qos

        def ack() -> None:
            if qos > 0:  # a QoS 0 message has none
                paho.ack(mid, qos)

        receiver(message.topic, message.payload, ack)

    paho.on_message = handed

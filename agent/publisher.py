"""The publisher: outbox ─► broker, QoS 1, oldest first; status and fleet config on the side.

A result leaves the outbox only after the broker's PUBACK. The connection is retried with
exponential backoff and jitter; the broker announces ``offline`` (the last will) when the agent
vanishes, and the agent keeps a retained ``online`` heartbeat with its health on its status topic.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

import aiomqtt

from agent.config import AgentConfig
from agent.outbox import Outbox
from agent.probes.system import health
from agent.state import AgentState
from dokiem import __version__
from dokiem.contract import config_topic, result_topic, status_topic
from dokiem.mqtt import mqtt_client
from dokiem.settings import backoff_delay

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 15.0
BACKOFF_MAX_S = 120.0


def describe_mqtt_error(exc: Exception) -> str:
    text = str(exc)
    if "ot authori" in text or "code:5" in text or "code:135" in text:
        return f"the broker refused the credentials ({text}): check broker.username and broker.password"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return f"the broker's TLS certificate is not trusted ({text}): check broker.ca_file"
    return text or type(exc).__name__


class Publisher:
    def __init__(
        self,
        config: AgentConfig,
        outbox: Outbox,
        state: AgentState,
        on_fleet_config: Callable[[bytes], str | None],
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.state = state
        self.on_fleet_config = on_fleet_config
        self.queued = asyncio.Event()
        self.status_changed = asyncio.Event()
        self._attempt = 0

    async def run(self) -> None:
        """Stay connected for ever, draining the outbox whenever it holds something."""
        while True:
            try:
                await self.session()
            except (aiomqtt.MqttError, OSError, ssl.SSLError) as exc:
                self._connection_lost(describe_mqtt_error(exc))
            delay = backoff_delay(self._attempt, BACKOFF_MAX_S)
            self._attempt += 1
            await asyncio.sleep(delay)

    async def drain_once(self, timeout_s: float) -> bool:
        """Connect, send what is queued, disconnect; True if the outbox ended empty."""
        try:
            async with asyncio.timeout(timeout_s), self._client() as client:
                self._connected()
                await self._publish_status(client)
                await self._send_queued(client)
        except (aiomqtt.MqttError, OSError, ssl.SSLError, TimeoutError) as exc:
            self._connection_lost(describe_mqtt_error(exc) if not isinstance(exc, TimeoutError) else "timed out")
        else:
            self.state.set_connected(False, None)
        return self.outbox.depth() == 0

    def _client(self) -> aiomqtt.Client:
        agent_id = self.config.agent.id
        offline = json.dumps({"state": "offline", "agent_id": agent_id})
        return mqtt_client(
            self.config.broker,
            username=self.config.mqtt_username,
            identifier=f"dokiem-{agent_id}",
            will=aiomqtt.Will(status_topic(agent_id), offline, qos=1, retain=True),
            timeout=PUBLISH_TIMEOUT_S,
        )

    async def session(self) -> None:
        async with self._client() as client:
            self._connected()
            await client.subscribe(config_topic(self.config.agent.id), qos=1)
            await self._publish_status(client)
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._drain_forever(client))
                tasks.create_task(self._heartbeat(client))
                tasks.create_task(self._listen(client))

    def _connected(self) -> None:
        self._attempt = 0
        self.state.set_connected(True, None)
        log.info("connected to %s", self.config.broker.url)

    def _connection_lost(self, reason: str) -> None:
        if reason != self.state.last_error:
            log.warning("broker %s: %s", self.config.broker.url, reason)
        self.state.set_connected(False, reason)

    async def _drain_forever(self, client: aiomqtt.Client) -> None:
        while True:
            self.queued.clear()
            if not await self._send_queued(client):
                await self.queued.wait()

    async def _send_queued(self, client: aiomqtt.Client) -> bool:
        """Publish the outbox oldest first until empty; False when there was nothing to send."""
        sent_any = False
        while batch := self.outbox.oldest(50):
            for item in batch:
                await client.publish(result_topic(self.config.agent.id), item.payload, qos=1, timeout=PUBLISH_TIMEOUT_S)
                self.outbox.remove(item.result_id)  # only now: the broker has acknowledged it
                sent_any = True
        return sent_any

    async def _heartbeat(self, client: aiomqtt.Client) -> None:
        while True:
            try:
                async with asyncio.timeout(self.config.broker.heartbeat_s):
                    await self.status_changed.wait()
            except TimeoutError:
                pass
            self.status_changed.clear()
            await self._publish_status(client)

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
            refusal = self.on_fleet_config(payload)
            if refusal is not None:
                log.warning("refused the fleet config on %s: %s", message.topic, refusal)
            await self._publish_status(client)

    async def _publish_status(self, client: aiomqtt.Client) -> None:
        await client.publish(
            status_topic(self.config.agent.id),
            json.dumps(self.status_payload(), ensure_ascii=False),
            qos=1,
            retain=True,
            timeout=PUBLISH_TIMEOUT_S,
        )

    def status_payload(self) -> dict[str, Any]:
        stats = self.outbox.stats()
        return {
            "state": "online",
            "agent_id": self.config.agent.id,
            "version": __version__,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "health": health(str(self.config.agent.data_dir)),
            "outbox": {
                "depth": stats.depth,
                "oldest_age_s": None if stats.oldest_queued_at is None else round(time.time() - stats.oldest_queued_at),
                "dropped_age": stats.dropped_age,
                "dropped_size": stats.dropped_size,
            },
            "last_error": self.state.last_error,
            "last_run_error": self.state.last_run_error,
            "config": {"fleet_version": self.state.fleet_version, "error": self.state.config_error},
            "skipped_runs": self.state.skipped_runs,
            "schedule": {"interval_minutes": self.state.interval_minutes},
        }

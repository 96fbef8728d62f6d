"""The publisher: outbox ─► broker, QoS 1, oldest first; status and fleet config on the side.

A result leaves the outbox only after the broker's PUBACK. The connection is retried with
exponential backoff and jitter; the broker announces ``offline`` (the last will) when the agent
vanishes, and the agent keeps a retained ``online`` heartbeat with its health on its status topic.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiomqtt
from pydantic import ValidationError

from dokiem import __version__
from dokiem.agent.config import AgentConfig
from dokiem.agent.outbox import Kind, Outbox
from dokiem.agent.probes.system import health
from dokiem.agent.state import AgentState
from dokiem.agent.update import last_outcome, note_healthy
from dokiem.contract import config_topic, printable_message, resend_topic, result_topic, status_topic, survey_topic
from dokiem.fleet import parse_resend_request
from dokiem.mqtt import mqtt_client
from dokiem.settings import backoff_delay
from dokiem.status import ConfigState, Health, OutboxHealth, ScheduleState, Status, offline_status

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 15.0
BACKOFF_MAX_S = 120.0
TOPICS = {Kind.RESULT: result_topic, Kind.SURVEY: survey_topic}  # a queued message's kind -> its topic


def describe_mqtt_error(exc: Exception) -> str:
    text = str(exc)
    if "ot authori" in text or "code:5" in text or "code:135" in text:
        return f"the broker refused the credentials ({text}): check broker.username and broker.password"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
        return f"the broker's TLS certificate is not trusted ({text}): check broker.ca_file"
    return text or type(exc).__name__


def describe_session_error(exc: BaseException) -> str:
    """The first cause of a session's end, in words: a TaskGroup wraps its tasks' errors in a group."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, aiomqtt.MqttError | OSError | ssl.SSLError):
        return describe_mqtt_error(exc)
    log.exception("the publisher's session failed", exc_info=exc)
    return f"{type(exc).__name__}: {exc}"[:300]


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
        self._healthy_noted = False

    async def run(self) -> None:
        """Stay connected for ever, draining the outbox whenever it holds something. A broker that drops
        at any moment (connecting, draining, listening) is reconnected to with backoff; nothing but a
        cancellation ends this loop."""
        while True:
            try:
                await self.session()
            except Exception as exc:
                self._connection_lost(describe_session_error(exc))
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
        offline = offline_status(agent_id).to_json()
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
            await client.subscribe(resend_topic(self.config.agent.id), qos=1)
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
                topic = TOPICS[item.kind](self.config.agent.id)
                await client.publish(topic, item.payload, qos=1, timeout=PUBLISH_TIMEOUT_S)
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
            if message.topic.matches(resend_topic(self.config.agent.id)):
                self._resend(payload)
                continue
            refusal = self.on_fleet_config(payload)
            if refusal is not None:
                log.warning("refused the fleet config on %s: %s", message.topic, refusal)
            await self._publish_status(client)

    def _resend(self, payload: bytes) -> None:
        """A restored collector asks for what it acknowledged since its backup (issue 32): back into the outbox."""
        if not payload.strip():
            return  # a withdrawn request
        try:
            request = parse_resend_request(payload)
        except ValueError as exc:
            log.warning("refused the resend request: %s", exc)
            return
        count = self.outbox.resend(str(request.request_id), request.since.timestamp())
        if count is not None:
            log.info("the collector asked again for what it acknowledged since %s: %d results queued again",
                     request.since.isoformat(), count)  # fmt: skip
            self.queued.set()

    async def _publish_status(self, client: aiomqtt.Client) -> None:
        await client.publish(
            status_topic(self.config.agent.id), self.status().to_json(), qos=1, retain=True, timeout=PUBLISH_TIMEOUT_S
        )
        if not self._healthy_noted:  # the broker acknowledged this version's heartbeat: it works
            try:
                note_healthy(self.config.agent.data_dir)
                self._healthy_noted = True
            except OSError as exc:
                log.warning("cannot note this version's heartbeat for the updater: %s", exc.strerror or exc)

    def status(self) -> Status:
        stats = self.outbox.stats()
        oldest_age = None if stats.oldest_queued_at is None else max(0, round(time.time() - stats.oldest_queued_at))
        return Status(
            state="online",
            agent_id=self.config.agent.id,
            version=__version__,
            at=datetime.now(UTC).replace(microsecond=0),
            health=_health(health(str(self.config.agent.data_dir))),
            outbox=OutboxHealth(
                depth=stats.depth,
                oldest_age_s=oldest_age,
                dropped_age=stats.dropped_age,
                dropped_size=stats.dropped_size,
                held_in_memory=stats.held_in_memory,
            ),
            last_error=_message(self.state.last_error),
            last_run_error=_message(self.state.last_run_error),
            config=ConfigState(fleet_version=self.state.fleet_version, error=_message(self.state.config_error)),
            skipped_runs=self.state.skipped_runs,
            schedule=ScheduleState(
                interval_minutes=self.state.interval_minutes,
                light_interval_minutes=self.state.light_interval_minutes,
                international_interval_minutes=self.state.international_interval_minutes,
            ),
            faults=sorted(self.outbox.faults),
            update=last_outcome(self.config.agent.data_dir),
        )


def _health(readings: dict[str, float | int | None]) -> Health:
    """The readings the Status can carry: one a broken sensor makes impossible is left out, not the heartbeat."""
    while True:
        try:
            return Health(**readings)  # type: ignore[arg-type]
        except ValidationError as exc:
            bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
            if not bad & readings.keys():
                return Health()
            readings = {k: v for k, v in readings.items() if k not in bad}


def _message(text: str | None) -> str | None:
    """A message as the Status takes it: printable, at most 1000 characters."""
    return None if text is None else printable_message(text)

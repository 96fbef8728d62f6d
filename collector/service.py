"""The collector: ingest ─► validate ─► archive ─► InfluxDB, with the fleet registry and the API.

Each step is its own task, joined by a queue (ingest → store) and by the archive's
``influx_pending`` flag (store → InfluxDB), so an InfluxDB outage never stops the archive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
import aiomqtt
from aiohttp import web

from dokiem import httpdoor
from dokiem.collector import api
from dokiem.collector.admission import EnrolledSites, RateGuard
from dokiem.collector.archive import Archive, Stored
from dokiem.collector.archive.meta import RESEND_ASKED, RESEND_SINCE
from dokiem.collector.archive.surveys import SAMPLE_COLUMNS
from dokiem.collector.config import CollectorConfig, configured_regions
from dokiem.collector.fleet import ask_to_resend
from dokiem.collector.influx import (
    InfluxUnavailable,
    InfluxWriter,
    RunCount,
    collector_line,
    health_line,
    line_hour,
    quarantine_line,
    result_line,
    survey_line,
)
from dokiem.collector.ingest import Message, receive
from dokiem.collector.locate import CommuneLocator
from dokiem.collector.residents import RESIDENT_AGENT, TURNED_AWAY
from dokiem.collector.validate import (
    Reason,
    Refusal,
    RefusalLog,
    parse_topic,
    validate_result,
    validate_status,
    validate_survey,
)
from dokiem.collector.watch import (
    LAST_BACKUP,
    WATCH_S,
    WATCHED_SINCE,
    ServerState,
    Tally,
    certificate_days_left,
    disk_used_pct,
    hours_since,
    utc_iso,
)
from dokiem.contract import Result, result_topic, utcnow
from dokiem.fleet import ResendRequest
from dokiem.regions import Place, UnknownRegion
from dokiem.regions.isps import shipped_isps
from dokiem.settings import parse_listen
from dokiem.thresholds import load_thresholds

log = logging.getLogger(__name__)
MAX_HEALTH_BACKLOG = 100_000
AGGREGATE_EVERY_S = 60.0  # the hourly aggregates of the hours written, computed again at most this often
RESEND_CHECK_S = 30.0  # how often the archive is looked at for a request to the fleet (dokiem collector resend)
MAX_CACHED_LINES = 100_000  # line protocol kept for pending results; beyond it, re-parse from the archive
# a survey samples at most once a second ([survey] sample_seconds ≥ 1): more in an hour of samples is a flood
MAX_SURVEY_SAMPLES_PER_HOUR = 3600
SURVEY_BATCHES_PER_WRITE = 20  # a survey's batches written to InfluxDB with each write: at most 14,400 samples


def _hours_watched(since: str | None, now: float) -> float:
    """Before any backup, the hours without one: since the collector first watched itself."""
    return hours_since(since, now) or 0.0


class Collector:
    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.archive = Archive.from_url(config.archive_url)
        self.limits = config.limits
        self.regions = configured_regions(config)
        self.isps = shipped_isps()
        # a survey's samples placed on the province's boundaries, by the shipped [coverage] rules
        self.coverage = load_thresholds().coverage
        self.locator = CommuneLocator(self.regions)
        self.clock: Callable[[], float] = time.time  # the wall clock the residents' reports are filed by
        self.enrolled = EnrolledSites(self.archive)
        self.rates = RateGuard(self.archive, config.limits.unscheduled_runs_per_hour)
        self.refusals = RefusalLog(config.collector.refusal_log_interval_s)
        # unbounded, as aiomqtt's own queue was: it holds what the broker sent and has not had acknowledged, which
        # the broker's in-flight window bounds (bench/ingest.py's replay measures it: a month of 166 agents)
        self.queue: asyncio.Queue[Message] = asyncio.Queue()
        self.stats: Counter[str] = Counter()
        self._trimmed_at = -1  # the quarantine count the last trim saw
        self.last_kept: str | None = None  # the reason the last message was quarantined for (requeue reports it)
        self.broker_connected = False
        self._broker_error: str | None = None
        self.subscribed = asyncio.Event()  # set while subscribed to the broker (tests and `dokiem up` wait on it)
        self.influx: InfluxWriter | None = None
        self.influx_error: str | None = None
        self.health_lines: list[str] = []
        self._lines: dict[str, str] = {}  # line protocol of results not yet in InfluxDB (saves a re-parse)
        self._influx_wake = asyncio.Event()
        self.started_at = time.monotonic()
        self.stored = asyncio.Event()  # set after each batch stored and message kept (tests, `dokiem up` wait)
        self.flushed = asyncio.Event()  # set after each batch InfluxDB took
        self._mqtt: aiomqtt.Client | None = None  # the ingest's connection, while it is up
        self._fleet_request = asyncio.Event()  # look now whether the fleet is to be asked to send again
        self._tally = Tally()  # the counts at the last reading of the server's state
        self._unaggregated: set[int] = set()  # hours written to InfluxDB whose aggregates are not yet computed again
        self._aggregated_at = 0.0
        self._influx_written_at = 0.0

    # --- the pipeline ------------------------------------------------------------------

    async def run(self, started: asyncio.Event | None = None) -> None:
        async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as tasks:
            if self.config.influx.url:
                self.influx = InfluxWriter(self.config.influx, session)
                tasks.create_task(self._write_influx())
            tasks.create_task(self._store())
            tasks.create_task(
                receive(
                    self.config.broker,
                    self.config.mqtt_client_id,
                    self.config.collector.shared_group,
                    self.queue,
                    self._on_broker,
                    self._on_client,
                )
            )
            tasks.create_task(self._ask_fleet_to_resend())
            tasks.create_task(self._watch_self())
            runner, server = await self._start_api()
            try:
                if started is not None:
                    started.set()
                await asyncio.Event().wait()
            finally:
                server.close()
                await runner.cleanup()

    async def _start_api(self) -> tuple[web.AppRunner, asyncio.Server]:
        host, port = parse_listen(self.config.http.listen)
        runner = web.AppRunner(api.create_app(self), access_log=None)
        await runner.setup()
        return runner, await httpdoor.serve(runner, host, port, self.config.http.header_timeout_s)

    async def _watch_self(self) -> None:
        """The server's own state into InfluxDB each minute (collector/watch.py), for its board and alerts."""
        while True:
            if self.influx is not None and len(self.health_lines) < MAX_HEALTH_BACKLOG:
                try:  # in the loop's own thread: the archive's connection is never used from two at once
                    state = self.server_state()
                except (OSError, ValueError) as exc:  # a reading that fails is missing, the collector goes on
                    log.warning("cannot read the server's own state: %s", exc)
                else:
                    if line := collector_line(self.config.mqtt_client_id, state):
                        self.health_lines.append(line)
                        self._influx_wake.set()
            await asyncio.sleep(WATCH_S)

    def server_state(self, now: float | None = None) -> ServerState:
        """What the collector says of itself now: the messages since the last reading, its backlog, its disk."""
        now = time.time() if now is None else now
        taken, refused = self._tally.since(
            self.stats["accepted"] + self.stats["duplicates"] + self.stats["quarantined"], self.stats["quarantined"]
        )
        meta = self.archive.meta
        if meta.get(WATCHED_SINCE) is None:
            meta.set(WATCHED_SINCE, utc_iso(now))
        backup_age = hours_since(meta.get(LAST_BACKUP), now)
        if backup_age is None:
            backup_age = _hours_watched(meta.get(WATCHED_SINCE), now)
        return ServerState(
            messages_in=taken, refused=refused, influx_backlog=self.archive.results.pending_count(),
            archive_mb=round(self.archive.size_bytes() / 1e6, 3),
            disk_used_pct=round(disk_used_pct(self.config.collector.data_dir), 2),
            backup_age_h=round(backup_age, 3),
            cert_days_left=certificate_days_left(self.config.collector.watch_certificates, now),
        )  # fmt: skip

    def _on_client(self, client: aiomqtt.Client | None) -> None:
        self._mqtt = client
        if client is not None:
            self._fleet_request.set()

    async def _ask_fleet_to_resend(self) -> None:
        """When the archive says so (``dokiem restore``, ``dokiem collector resend``), ask every agent of the
        registry, through the ingest's own connection, for what it acknowledged since then (issue 32). Looked at
        on each connect and every RESEND_CHECK_S; asked once, then noted in the archive."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RESEND_CHECK_S):
                    await self._fleet_request.wait()
            self._fleet_request.clear()
            since = self.archive.meta.get(RESEND_SINCE)
            client = self._mqtt
            if since is None or client is None:
                continue
            try:
                request = ResendRequest(request_id=uuid.uuid4(), since=datetime.fromisoformat(since))
            except ValueError as exc:  # written by hand into the archive: said, dropped, never fatal
                log.warning("the archive's resend request %r is no time (%s): dropped", since, exc)
                self.archive.meta.delete(RESEND_SINCE)
                continue
            agents = [str(a["agent_id"]) for a in self.archive.registry.agents() if a["agent_id"] != RESIDENT_AGENT]
            try:
                asked = await ask_to_resend(client, agents, request)
            except aiomqtt.MqttError as exc:
                log.warning("could not ask the fleet to send again what it sent since %s: %s", since, exc)
                continue
            self.archive.meta.set(RESEND_ASKED, json.dumps({"request_id": str(request.request_id), "since": since,
                                                            "at": utcnow().isoformat(), "agents": asked}))  # fmt: skip
            self.archive.meta.delete(RESEND_SINCE)
            log.info("asked %d agents to send again what the broker acknowledged since %s", asked, since)

    def _on_broker(self, connected: bool, error: str | None) -> None:
        # each change, and each new reason the broker cannot be reached, once (not every retry)
        if connected != self.broker_connected or (not connected and error != self._broker_error):
            (log.info if connected else log.warning)("broker %s: %s", self.config.broker.url, error or "connected")
        self.broker_connected = connected
        self._broker_error = None if connected else error
        if connected:
            self.subscribed.set()
        else:
            self.subscribed.clear()

    async def _store(self) -> None:
        while True:
            batch = [await self.queue.get()]
            # Linger a moment so one fsync'ed transaction carries many messages, not one each.
            await asyncio.sleep(self.config.collector.linger_s)
            while len(batch) < self.config.collector.batch_size and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            self.handle(batch)

    def handle(self, batch: list[Message]) -> None:
        """Validate a batch of messages; archive what is accepted in one transaction. Whatever is refused,
        or raises while handled, goes to the quarantine: one message never stops the others."""
        accepted: list[tuple[Result, Message]] = []
        for message in batch:
            result = self._admit(message)
            if result is not None:
                accepted.append((result, message))
        if accepted:
            self._archive(accepted)
        for *_, ack in batch:  # only now, with the batch committed, may the broker forget it
            ack()
        if self.stats["quarantined"] != self._trimmed_at:
            self._trim_quarantine()
        self.stored.set()

    def _trim_quarantine(self) -> None:
        """The quarantine stays within its size and age: a flood of junk never fills the disk."""
        self._trimmed_at = self.stats["quarantined"]
        limits = self.limits
        dropped = self.archive.quarantine.trim(
            int(limits.quarantine_max_mb * 2**20), limits.quarantine_max_days * 86400
        )
        if dropped:
            self.stats["quarantine_dropped"] += dropped
            log.warning("the quarantine is full: dropped its %d oldest messages", dropped)

    def _admit(self, message: Message) -> Result | None:
        """A validated result to archive, or None (a status handled here, or a message quarantined)."""
        topic, payload, _ = message
        agent = None
        try:
            agent, kind = parse_topic(topic)
            if kind == "result":
                return validate_result(agent, payload, self.limits, regions=self.regions,
                                       enrolled=self.enrolled.of(agent), isps=self.isps)  # fmt: skip
            if kind == "survey":
                self._survey(agent, payload)
            else:
                self._status(agent, payload)
        except Refusal as refusal:
            self.keep(topic, agent, refusal, payload)
        except Exception as exc:
            log.exception("handling a message on %s failed; it is kept in the quarantine", topic[:200])
            self.keep(topic, agent, Refusal(Reason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"), payload)
        return None

    def _survey(self, agent: str, payload: bytes) -> None:
        """A survey's batch: its placed samples archived (a duplicate is a no-op), what could not be placed
        counted, InfluxDB's writer woken."""
        batch, placed, dropped = validate_survey(agent, payload, self.limits, self.coverage, self.locator)
        if self.archive.surveys.has(str(batch.survey_id)):  # a duplicate delivery: a no-op, before any bound
            self.stats["duplicates"] += 1
            return
        hours = Counter(int(p.sample.at.timestamp()) // 3600 for p in placed)
        held = self.archive.surveys.per_hour(agent, set(hours))
        if any(held[hour] + n > MAX_SURVEY_SAMPLES_PER_HOUR for hour, n in hours.items()):
            raise Refusal(
                Reason.RATE, f"more survey samples in an hour than one a second ({MAX_SURVEY_SAMPLES_PER_HOUR})"
            )
        self.archive.surveys.add(batch, placed, dropped)
        self.stats["survey_samples"] += len(placed)
        self.stats["survey_dropped"] += sum(dropped.values())
        self._influx_wake.set()

    def _archive(self, accepted: list[tuple[Result, Message]]) -> None:
        over = {id(result) for result in self.rates.over(result for result, _ in accepted)}
        for result, (topic, payload, _) in accepted:
            if id(result) in over:
                self.keep(topic, result.agent_id, Refusal(Reason.RATE, "more results in this hour of measuring than"
                                                          " the agent's schedule makes"), payload)  # fmt: skip
        accepted = [(result, message) for result, message in accepted if id(result) not in over]
        if not accepted:
            return
        results = [result for result, _ in accepted]
        try:
            new = self.archive.results.add(results, place=self.place)
        except Exception:
            if len(accepted) == 1:
                raise
            # one result the database will not take must not hold back the others: one at a time
            new = []
            for result, (topic, payload, _) in accepted:
                try:
                    new += self.archive.results.add([result], place=self.place)
                except Exception as exc:
                    log.exception("archiving result %s failed; it is kept in the quarantine", result.result_id)
                    self.rates.forget([result])
                    self.keep(topic, result.agent_id, Refusal(Reason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"),
                              payload)  # fmt: skip
        self._filed(results, new)

    def _filed(self, offered: list[Result], new: list[Result]) -> None:
        """Results the archive took (``new``, the first copy of each ``offered``): queued for InfluxDB, counted."""
        if self.influx is not None and len(self._lines) < MAX_CACHED_LINES:
            self._lines.update((str(r.result_id), self._line(r) or "") for r in new)  # the first copy only
        self.stats["accepted"] += len(new)
        self.stats["duplicates"] += len(offered) - len(new)
        self._influx_wake.set()

    def store_resident(self, result: Result) -> None:
        """A resident's result whose figures a test server vouched for (collector/residents.py), archived and
        queued for InfluxDB like an agent's; kept apart by its source everywhere it is read."""
        self._filed([result], self.archive.results.add([result], place=self.place))
        self.stored.set()

    def keep(self, topic: str, agent: str | None, refusal: Refusal, payload: bytes) -> None:
        """Count the refusal, keep the message in the quarantine, and tell the fleet dashboard."""
        self.refusals.record(refusal, agent or "?", topic)
        self.archive.quarantine.keep(topic, agent, refusal.reason, refusal.detail, payload, self.limits.max_bytes)
        self.stats["quarantined"] += 1
        self.last_kept = refusal.reason
        self.stored.set()  # kept is stored too (InfluxDB's refusals are kept by the writer, after the batch)
        if self.influx is not None and len(self.health_lines) < MAX_HEALTH_BACKLOG:
            line = quarantine_line(refusal.reason, agent)
            if line:
                self.health_lines.append(line)
                self._influx_wake.set()

    def requeue(self, reason: str | None = None, since: datetime | None = None) -> Counter[str]:
        """Re-admit kept messages (after a fix): each is handled again as if it had just arrived. One that
        passes leaves the quarantine; one refused again is kept under its new reason. Returns the outcome
        by reason ("admitted" for those that passed)."""
        outcome: Counter[str] = Counter()
        for kept in self.archive.quarantine.listed(reason, since):
            self.archive.quarantine.release(kept.id)
            self.last_kept = None
            if kept.reason == "influx_refused":
                # archived already: InfluxDB refused its point; queue it for InfluxDB again
                self.archive.results.mark_pending(i for i in [_text_in(kept.payload, "result_id")] if i)
            else:
                self.handle([(kept.topic, kept.payload, _no_ack)])
            outcome[self.last_kept or "admitted"] += 1
        return outcome

    def _status(self, agent: str, payload: bytes) -> None:
        status = validate_status(agent, payload, self.limits)
        if status is None:
            return
        self.archive.registry.record_status(status)
        self.stats["statuses"] += 1
        if self.influx is not None and len(self.health_lines) < MAX_HEALTH_BACKLOG:
            runs = RunCount(*self.archive.registry.runs_of(agent))
            line = health_line(status, self._site_named(agent), runs)
            if line:
                self.health_lines.append(line)
                self._influx_wake.set()

    def place(self, result: Result) -> Place:
        """Where a result is filed: its site read in the era of its start (2025 commune, former district);
        the codes as sent if the region files no longer know them (it was accepted under older files)."""
        try:
            return self.regions.place_site(result.site, result.started_at)
        except UnknownRegion:
            return Place.as_sent(result.site)

    def _site_named(self, agent: str) -> dict[str, Any] | None:
        """The agent's last site as filed today: 2025 commune and former district, with their names."""
        site = self.archive.registry.site_of(agent) or self.archive.registry.declared_site_of(agent)
        if site is None:
            return None
        try:
            place = self.regions.place(site.get("province_code"), site.get("district_code"), site.get("commune_code"))
        except UnknownRegion:
            return site
        return site | {"province_code": place.province, "district_code": place.district,
                       "district_name": place.district_name, "commune_code": place.commune,
                       "commune_name": place.commune_name}  # fmt: skip

    def _line(self, result: Result) -> str | None:
        return result_line(result, self.place(result))

    async def _write_influx(self) -> None:
        assert self.influx is not None
        failures = 0
        while True:
            try:
                await self.influx.ensure_database()
                while await self.flush_influx():
                    pass
                if time.monotonic() - self._aggregated_at >= AGGREGATE_EVERY_S:
                    await self.aggregate_hours()
                failures = 0
                if self.influx_error is not None:
                    log.info("InfluxDB is back; the backlog is written")
                self.influx_error = None
            except InfluxUnavailable as exc:
                if self.influx_error is None:
                    log.warning("%s; results stay in the archive and will be replayed", exc)
                self.influx_error = str(exc)
                failures += 1
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))
                continue
            self._influx_wake.clear()
            try:
                async with asyncio.timeout(1.0):
                    await self._influx_wake.wait()
            except TimeoutError:
                pass
            await self._linger_before_writing()

    async def _linger_before_writing(self) -> None:
        """At most one write each ``influx.linger_s`` unless a whole batch waits: each write costs InfluxDB and
        the archive a request and an fsync whatever it carries, and a write for every store step's batch (a
        hundred results at thousands a second) took a fifth of the collector's rate."""
        linger = self.config.influx.linger_s - (time.monotonic() - self._influx_written_at)
        if linger > 0 and len(self._lines) < self.config.influx.batch_size:
            await asyncio.sleep(linger)

    async def aggregate_hours(self) -> None:
        """The hourly aggregates of the hours written since the last time, computed again (issue 32)."""
        assert self.influx is not None
        hours, self._unaggregated = self._unaggregated, set()
        try:
            await self.influx.aggregate_hours(hours)
        except InfluxUnavailable:
            self._unaggregated |= hours
            raise
        self._aggregated_at = time.monotonic()

    async def flush_influx(self) -> bool:
        """Write one batch of the backlog; True if there may be more. Points InfluxDB refuses as bad data
        are quarantined (results) or dropped and counted (heartbeats); the rest are written."""
        assert self.influx is not None
        pending = self.archive.results.pending(self.config.influx.batch_size)
        health, self.health_lines = self.health_lines, []
        lines: list[tuple[str, str | None]] = []  # (line, result_id or None for a heartbeat)
        for row in pending:
            line = self._lines[row.result_id] if row.result_id in self._lines else self._stored_line(row)
            if line:
                lines.append((line, row.result_id))
        lines += [(line, None) for line in health]
        surveys = self.archive.surveys.pending(SURVEY_BATCHES_PER_WRITE)
        lines += [(line, None) for survey_id, _ in surveys for line in self._survey_lines(survey_id)]
        try:
            refused = await self.influx.write_isolating([line for line, _ in lines])
        except InfluxUnavailable:
            self.health_lines = health + self.health_lines
            raise
        for index in refused:
            self._refused_by_influx(*lines[index])
        refused_lines = {lines[index][0] for index in refused}
        self._unaggregated.update(line_hour(line) for line, result in lines if result is not None
                                  and line not in refused_lines)  # fmt: skip
        self.archive.results.mark_written(row.result_id for row in pending)
        self.archive.surveys.mark_written([survey_id for survey_id, _ in surveys])
        for row in pending:
            self._lines.pop(row.result_id, None)
        self.stats["influx_written"] += len(pending)
        self._influx_written_at = time.monotonic()
        self.flushed.set()
        return len(pending) == self.config.influx.batch_size or len(surveys) == SURVEY_BATCHES_PER_WRITE

    def _survey_lines(self, survey_id: str) -> list[str]:
        """A batch's placed samples as ``coverage_survey`` points (a sample InfluxDB refuses is dropped, counted)."""
        lines = []
        for values in self.archive.surveys.placed(survey_id):
            row = dict(zip(SAMPLE_COLUMNS, values, strict=True))
            found = self.regions.commune(str(row["commune_code"]))
            line = survey_line(row, found[0].code if found else None, found[1].name if found else None)
            if line:
                lines.append(line)
        return lines

    def _stored_line(self, row: Stored) -> str | None:
        """An archived result's line, re-read from its payload; a payload that no longer parses (archived by
        an older, laxer collector) is quarantined instead of stopping the writer."""
        try:
            return self._line(Result.from_json(row.payload))
        except ValueError as exc:
            self.keep(f"archive/{row.result_id}", None, Refusal(Reason.SCHEMA, f"archived payload: {exc}"[:300]),
                      row.payload.encode())  # fmt: skip
            return None

    def _refused_by_influx(self, line: str, result_id: str | None) -> None:
        self.stats["influx_refused"] += 1
        if result_id is None:
            log.warning("InfluxDB refused a heartbeat point; dropped: %s", line[:300])
            return
        payload = self.archive.results.payload_of(result_id) or ""
        agent = _text_in(payload, "agent_id")
        refusal = Refusal(Reason.INFLUX_REFUSED, line[:300])
        self.keep(result_topic(agent or "?"), agent, refusal, payload.encode())

    # --- what it says about itself -----------------------------------------------------

    def metrics_text(self) -> str:
        agents = self.archive.registry.agents()
        lines = [
            "# HELP dokiem_results_accepted_total Results archived (duplicates excluded).",
            "# TYPE dokiem_results_accepted_total counter",
            f"dokiem_results_accepted_total {self.stats['accepted']}",
            "# TYPE dokiem_results_duplicate_total counter",
            f"dokiem_results_duplicate_total {self.stats['duplicates']}",
            "# HELP dokiem_messages_refused_total Messages refused, by reason.",
            "# TYPE dokiem_messages_refused_total counter",
        ]
        refused = sorted(self.refusals.counts.items())
        lines += [f'dokiem_messages_refused_total{{reason="{r}"}} {n}' for r, n in refused]
        lines += ["# HELP dokiem_residents_turned_away_total Residents' requests turned away at the door, by reason.",
                  "# TYPE dokiem_residents_turned_away_total counter"]  # fmt: skip
        turned = sorted((k.removeprefix(TURNED_AWAY), n) for k, n in self.stats.items() if k.startswith(TURNED_AWAY))
        lines += [f'dokiem_residents_turned_away_total{{reason="{r}"}} {n}' for r, n in turned]
        lines += ["# HELP dokiem_survey_samples_total Coverage survey samples placed in a commune and archived.",
                  "# TYPE dokiem_survey_samples_total counter",
                  f"dokiem_survey_samples_total {self.stats['survey_samples']}",
                  "# HELP dokiem_survey_dropped_total Survey samples the collector could not place (outside, too old).",
                  "# TYPE dokiem_survey_dropped_total counter",
                  f"dokiem_survey_dropped_total {self.stats['survey_dropped']}"]  # fmt: skip
        lines += ["# HELP dokiem_quarantine_messages Messages kept in the quarantine, by reason.",
                  "# TYPE dokiem_quarantine_messages gauge"]  # fmt: skip
        kept = sorted(self.archive.quarantine.counts().items())
        lines += [f'dokiem_quarantine_messages{{reason="{r}"}} {n}' for r, n in kept]
        lines += ["# HELP dokiem_quarantine_dropped_total Kept messages dropped, oldest first, by the bound.",
                  "# TYPE dokiem_quarantine_dropped_total counter",
                  f"dokiem_quarantine_dropped_total {self.stats['quarantine_dropped']}"]  # fmt: skip
        lines += [
            "# TYPE dokiem_archive_results gauge",
            f"dokiem_archive_results {self.archive.results.count()}",
            "# TYPE dokiem_influx_backlog gauge",
            f"dokiem_influx_backlog {self.archive.results.pending_count() if self.influx else 0}",
            "# TYPE dokiem_influx_write_seconds gauge",
            f"dokiem_influx_write_seconds {(self.influx.last_write_s if self.influx else None) or 0}",
            "# TYPE dokiem_agents_online gauge",
            f"dokiem_agents_online {sum(1 for a in agents if a['online'])}",
            "# TYPE dokiem_agents_known gauge",
            f"dokiem_agents_known {len(agents)}",
            "# TYPE dokiem_broker_connected gauge",
            f"dokiem_broker_connected {int(self.broker_connected)}",
            "# TYPE dokiem_uptime_seconds gauge",
            f"dokiem_uptime_seconds {time.monotonic() - self.started_at:.0f}",
        ]
        return "\n".join(lines) + "\n"


def _no_ack() -> None:
    return None


def _text_in(payload: str | bytes, key: str) -> str | None:
    """A top-level text value of a JSON payload, or None (not JSON, not an object, not text)."""
    try:
        value = json.loads(payload).get(key)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None

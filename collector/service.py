"""The collector: ingest ─► validate ─► archive ─► InfluxDB, with the fleet registry and the API.

Each step is its own task, joined by a queue (ingest → store) and by the archive's
``influx_pending`` flag (store → InfluxDB), so an InfluxDB outage never stops the archive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import web

from collector import api
from collector.archive import Archive
from collector.config import CollectorConfig
from collector.influx import InfluxUnavailable, InfluxWriter, RunCount, health_line, result_line
from collector.ingest import Message, receive
from collector.validate import Refusal, RefusalLog, parse_topic, validate_result, validate_status
from dokiem.contract import Result
from dokiem.regions import Regions
from dokiem.settings import parse_listen

log = logging.getLogger(__name__)
MAX_HEALTH_BACKLOG = 100_000
MAX_CACHED_LINES = 100_000  # line protocol kept for pending results; beyond it, re-parse from the archive


class Collector:
    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.archive = Archive.from_url(config.archive_url)
        self.limits = config.limits
        self.regions = Regions.for_config(config.collector.regions_dir)
        self.refusals = RefusalLog(config.collector.refusal_log_interval_s)
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=100_000)
        self.stats: Counter[str] = Counter()
        self.broker_connected = False
        self._broker_error: str | None = None
        self.subscribed = asyncio.Event()  # set while subscribed to the broker (tests and `dokiem up` wait on it)
        self.influx: InfluxWriter | None = None
        self.influx_error: str | None = None
        self.health_lines: list[str] = []
        self._lines: dict[str, str] = {}  # line protocol of results not yet in InfluxDB (saves a re-parse)
        self._influx_wake = asyncio.Event()
        self.started_at = time.monotonic()
        self.stored = asyncio.Event()  # set after each stored batch (tests and `dokiem up` wait on it)
        self.flushed = asyncio.Event()  # set after each batch InfluxDB took

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
                    self.config.collector.client_id,
                    self.config.collector.shared_group,
                    self.queue,
                    self._on_broker,
                )
            )
            runner = await self._start_api()
            try:
                if started is not None:
                    started.set()
                await asyncio.Event().wait()
            finally:
                await runner.cleanup()

    async def _start_api(self) -> web.AppRunner:
        host, port = parse_listen(self.config.http.listen)
        runner = web.AppRunner(api.create_app(self), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        return runner

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
        """Validate a batch of messages; archive what is accepted in one transaction."""
        accepted: list[Result] = []
        for topic, payload, _ in batch:
            agent = "?"
            try:
                agent, kind = parse_topic(topic)
                if kind == "result":
                    accepted.append(validate_result(agent, payload, self.limits, regions=self.regions))
                else:
                    self._status(agent, payload)
            except Refusal as refusal:
                self.refusals.record(refusal, agent, topic)
        if accepted:
            new = self.archive.add(accepted)
            if self.influx is not None and len(self._lines) < MAX_CACHED_LINES:
                self._lines.update((str(r.result_id), self._line(r)) for r in accepted)
            self.stats["accepted"] += new
            self.stats["duplicates"] += len(accepted) - new
            self._influx_wake.set()
        for *_, ack in batch:  # only now, with the batch committed, may the broker forget it
            ack()
        self.stored.set()

    def _status(self, agent: str, payload: bytes) -> None:
        status = validate_status(agent, payload, self.limits)
        if status is None:
            return
        self.archive.record_status(agent, status)
        interval = (status.get("schedule") or {}).get("interval_minutes")
        if isinstance(interval, int | float) and interval > 0:
            self.archive.set_interval(agent, float(interval))
        self.stats["statuses"] += 1
        if self.influx is not None and len(self.health_lines) < MAX_HEALTH_BACKLOG:
            runs = RunCount(*self.archive.runs_of(agent))
            self.health_lines.append(health_line(agent, status, self._site_named(agent), runs))
            self._influx_wake.set()

    def _site_named(self, agent: str) -> dict[str, Any] | None:
        """The agent's last site, with the region files' spelling of its district and commune."""
        site = self.archive.site_of(agent)
        if site is not None:
            district, commune = self.regions.names(site.get("province_code"), site.get("district_code"),
                                                   site.get("commune_code"))  # fmt: skip
            site |= {k: v for k, v in (("district_name", district), ("commune_name", commune)) if v}
        return site

    def _line(self, result: Result) -> str:
        site = result.site
        return result_line(result, *self.regions.names(site.province_code, site.district_code, site.commune_code))

    async def _write_influx(self) -> None:
        assert self.influx is not None
        failures = 0
        while True:
            try:
                await self.influx.ensure_database()
                while await self.flush_influx():
                    pass
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

    async def flush_influx(self) -> bool:
        """Write one batch of the backlog; True if there may be more."""
        assert self.influx is not None
        pending = self.archive.pending(self.config.influx.batch_size)
        health, self.health_lines = self.health_lines, []
        try:
            lines = [self._lines.get(row.result_id) or self._line(Result.from_json(row.payload)) for row in pending]
            await self.influx.write(lines + health)
        except InfluxUnavailable:
            self.health_lines = health + self.health_lines
            raise
        self.archive.mark_written(row.result_id for row in pending)
        for row in pending:
            self._lines.pop(row.result_id, None)
        self.stats["influx_written"] += len(pending)
        self.flushed.set()
        return len(pending) == self.config.influx.batch_size

    # --- what it says about itself -----------------------------------------------------

    def metrics_text(self) -> str:
        agents = self.archive.agents()
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
        lines += [
            "# TYPE dokiem_archive_results gauge",
            f"dokiem_archive_results {self.archive.count()}",
            "# TYPE dokiem_influx_backlog gauge",
            f"dokiem_influx_backlog {self.archive.pending_count() if self.influx else 0}",
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

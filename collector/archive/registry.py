"""The fleet registry: each agent's first and last contact, site, version, online state, last health,
and its schedule (so runs expected can be set against runs received).

An agent's ``site`` changes only through enrolment (``dokiem agent enroll``): it is where the
collector files the agent's results. What the agent itself last said (``declared_site``) is kept
beside it, for the fleet view of an agent never enrolled and to see a Pi that was moved."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from dokiem.collector.archive.db import Column, Db, Page, Table, ensure_table, every, page_of
from dokiem.contract import Result
from dokiem.status import Status

TABLE = Table("agents", (
    Column("agent_id", "TEXT PRIMARY KEY"),
    Column("first_seen", "DOUBLE PRECISION NOT NULL"),
    Column("last_seen", "DOUBLE PRECISION NOT NULL"),
    Column("last_result_at", "DOUBLE PRECISION"),
    Column("results", "INTEGER NOT NULL DEFAULT 0"),
    Column("site", "TEXT"),
    Column("version", "TEXT"),
    Column("online", "INTEGER"),
    Column("status", "TEXT"),
    Column("interval_minutes", "DOUBLE PRECISION"),
    Column("declared_site", "TEXT"),
), key="agent_id")  # fmt: skip


def _expected_runs(first_seen: float, interval_minutes: float | None, now: float) -> int | None:
    if not interval_minutes or interval_minutes <= 0:
        return None
    return int(min(max(0.0, now - first_seen) / 60 / interval_minutes, 1e12)) + 1


class AgentRegistry:
    def __init__(self, db: Db) -> None:
        self._db = db
        ensure_table(db, TABLE)

    def count_results(self, results: Sequence[Result], now: float) -> None:
        """Inside the results' own transaction: one upsert per agent in the batch (not per result):
        last seen, the site it declared, version (never the enrolled site)."""
        latest: dict[str, Result] = {}
        counts: dict[str, int] = {}
        for r in results:
            latest[r.agent_id] = r
            counts[r.agent_id] = counts.get(r.agent_id, 0) + 1
        self._db.executemany(
            "INSERT INTO agents (agent_id, first_seen, last_seen, last_result_at, results, declared_site, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(agent_id) DO UPDATE SET last_seen = excluded.last_seen,"
            " last_result_at = excluded.last_result_at, results = agents.results + excluded.results,"
            " declared_site = excluded.declared_site, version = COALESCE(excluded.version, agents.version)",
            [
                (agent, now, now, now, counts[agent], r.site.model_dump_json(exclude_none=True), r.agent_version)
                for agent, r in latest.items()
            ],
        )

    def record_status(self, status: Status, now: float | None = None) -> None:
        """The agent's last heartbeat (and its schedule, so missed runs can be counted)."""
        now = time.time() if now is None else now
        online = 1 if status.state == "online" else 0
        self._db.execute(
            "INSERT INTO agents (agent_id, first_seen, last_seen, online, status, version, interval_minutes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(agent_id) DO UPDATE SET last_seen = excluded.last_seen, online = excluded.online,"
            " status = excluded.status, version = COALESCE(excluded.version, agents.version),"
            " interval_minutes = COALESCE(excluded.interval_minutes, agents.interval_minutes)",
            (status.agent_id, now, now, online, status.to_json(), status.version, status.interval_minutes or None),
        )

    def register(self, agent_id: str, site_json: str, now: float | None = None) -> None:
        """An enrolled agent, known before it first reports (its expected runs count from now)."""
        now = time.time() if now is None else now
        self._db.execute(
            "INSERT INTO agents (agent_id, first_seen, last_seen, site) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(agent_id) DO UPDATE SET site = excluded.site",
            (agent_id, now, now, site_json),
        )

    def unregister(self, agent_id: str) -> bool:
        """Forget a revoked agent in the registry (its results stay in the archive)."""
        return int(self._db.execute("DELETE FROM agents WHERE agent_id = ?", (agent_id,)).rowcount) > 0

    def site_of(self, agent_id: str) -> dict[str, Any] | None:
        """The site the agent was enrolled at (None: never enrolled)."""
        row = self._db.execute("SELECT site FROM agents WHERE agent_id = ?", (agent_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def status_of(self, agent_id: str) -> Status | None:
        """The agent's last heartbeat (None: none yet, or one this version cannot read)."""
        row = self._db.execute("SELECT status FROM agents WHERE agent_id = ?", (agent_id,)).fetchone()
        if not row or not row[0]:
            return None
        try:
            return Status.model_validate_json(row[0])
        except ValueError:
            return None

    def declared_site_of(self, agent_id: str) -> dict[str, Any] | None:
        """The site the agent's last result said."""
        row = self._db.execute("SELECT declared_site FROM agents WHERE agent_id = ?", (agent_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def runs_of(self, agent_id: str, now: float | None = None) -> tuple[int | None, int]:
        """(runs expected since the agent was first seen, results received); expected is None until the
        agent has told its interval."""
        now = time.time() if now is None else now
        row = self._db.execute(
            "SELECT first_seen, interval_minutes, (SELECT COUNT(*) FROM results r WHERE r.agent_id = agents.agent_id)"
            " FROM agents WHERE agent_id = ?",
            (agent_id,),
        ).fetchone()
        if row is None:
            return None, 0
        first, interval, received = row
        return _expected_runs(first, interval, now), int(received)

    def agents(self, now: float | None = None) -> list[dict[str, Any]]:
        return every(lambda after: self.page(now, 1000, after))

    def page(
        self, now: float | None = None, limit: int = 1000, after: tuple[Any, ...] | None = None
    ) -> Page[dict[str, Any]]:
        """The fleet by agent id, ``limit`` at a time from after ``after``."""
        now = time.time() if now is None else now
        total = int(self._db.execute("SELECT COUNT(*) FROM agents").fetchone()[0])
        rows = self._db.execute(
            "SELECT agent_id, first_seen, last_seen, last_result_at,"
            " (SELECT COUNT(*) FROM results r WHERE r.agent_id = agents.agent_id), site, version, online, status,"
            " interval_minutes, declared_site FROM agents WHERE agent_id > ? ORDER BY agent_id LIMIT ?",
            ("" if after is None else after[0], limit + 1),
        ).fetchall()
        found = page_of(rows, limit, total, key=lambda row: (row[0],))
        out = []
        for row in found.items:
            agent_id, first, last, last_result, results, site, version, online, status, interval, declared = row
            expected = _expected_runs(first, interval, now)
            out.append({
                "agent_id": agent_id, "first_seen": first, "last_seen": last, "last_result_at": last_result,
                "results": results, "expected_runs": expected,
                "missed_runs": max(0, expected - results) if expected is not None else None,
                "site": json.loads(site) if site else None, "declared_site": json.loads(declared) if declared else None,
                "version": version,
                "online": None if online is None else bool(online), "status": json.loads(status) if status else None,
            })  # fmt: skip
        return Page(out, total, found.after)

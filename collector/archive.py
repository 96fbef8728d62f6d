"""The archive: every accepted Result, keyed by result_id — the system of record — and the quarantine.

A duplicate delivery is a no-op (``ON CONFLICT DO NOTHING`` on the key). Each row remembers whether
InfluxDB has it yet (``influx_pending``), so an InfluxDB outage leaves a backlog here that the
writer replays, and ``reindex`` can rebuild InfluxDB from the archive. The fleet registry
(agents seen, their health) lives in the same database, and so does the quarantine: every message
the collector refused or failed to handle (topic, payload up to the size cap, reason, time, agent),
listed by the API and re-admitted by ``dokiem collector requeue``. SQLite by default; PostgreSQL by
URL (``postgresql://…``) for deployments that outgrow one machine: the SQL is the same for both.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from dokiem.contract import HEADLINE_FIGURES, Result, ServerLocation
from dokiem.regions import Place
from dokiem.status import Status

Placing = Callable[[Result], Place]  # how the collector reads a result's site

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    result_id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    province_code TEXT, district_code TEXT, commune_code TEXT, isp TEXT, access TEXT,
    failed INTEGER NOT NULL,
    download_mbps DOUBLE PRECISION, upload_mbps DOUBLE PRECISION, latency_ms DOUBLE PRECISION,
    jitter_ms DOUBLE PRECISION, loss_pct DOUBLE PRECISION, plan_down_mbps DOUBLE PRECISION, flags TEXT,
    server_location TEXT,
    received_at DOUBLE PRECISION NOT NULL,
    influx_pending INTEGER NOT NULL DEFAULT 1,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_started ON results (started_ms);
CREATE INDEX IF NOT EXISTS results_district ON results (district_code, started_ms);
CREATE INDEX IF NOT EXISTS results_agent ON results (agent_id);
CREATE INDEX IF NOT EXISTS results_pending ON results (influx_pending) WHERE influx_pending = 1;
CREATE TABLE IF NOT EXISTS agents (
    agent_id TEXT PRIMARY KEY,
    first_seen DOUBLE PRECISION NOT NULL,
    last_seen DOUBLE PRECISION NOT NULL,
    last_result_at DOUBLE PRECISION,
    results INTEGER NOT NULL DEFAULT 0,
    site TEXT,
    version TEXT,
    online INTEGER,
    status TEXT,
    interval_minutes DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS quarantine (
    id TEXT PRIMARY KEY,
    received_at DOUBLE PRECISION NOT NULL,
    topic TEXT NOT NULL,
    agent_id TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    size INTEGER NOT NULL,
    payload_b64 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_received ON quarantine (received_at);
"""


# Copied out of the payload so that a quarterly report over a million results reads columns, not JSON.
STORED_FIGURES = (*HEADLINE_FIGURES, "plan_down_mbps")  # the columns _figures fills
REPORT_COLUMNS = (
    "agent_id", "started_ms", "province_code", "district_code", "commune_code", "isp", "access", "failed",
    *STORED_FIGURES, "flags",
)  # fmt: skip


_INSERTED = ("result_id", "agent_id", "started_ms", "province_code", "district_code", "commune_code", "isp",
             "access", "failed", *STORED_FIGURES, "flags", "server_location", "received_at", "payload")  # fmt: skip
INSERT_RESULT = (
    f"INSERT INTO results ({', '.join(_INSERTED)}) VALUES ({','.join('?' * len(_INSERTED))})"
    " ON CONFLICT (result_id) DO NOTHING"
)


def _figures(result: Result) -> tuple[float | None, ...]:
    return (*(getattr(result, name) for name in HEADLINE_FIGURES), result.site.plan_down_mbps)


def _flags(result: Result) -> str | None:
    """The run's flags as one column ("cpu_saturated,wifi"), so reports can leave such runs out."""
    return ",".join(sorted(flag.value for flag in result.flags)) or None


def _international(result: Result) -> str | None:
    """The column reports filter on: "international" for a run against a foreign server, else empty."""
    if result.server is not None and result.server.location is ServerLocation.INTERNATIONAL:
        return result.server.location.value
    return None


def _expected_runs(first_seen: float, interval_minutes: float | None, now: float) -> int | None:
    if not interval_minutes or interval_minutes <= 0:
        return None
    return int(min(max(0.0, now - first_seen) / 60 / interval_minutes, 1e12)) + 1


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Stored:
    result_id: str
    payload: str


@dataclass(frozen=True)
class Quarantined:
    """A message the collector refused or failed to handle, as kept (the payload cut at the size cap)."""

    id: str
    received_at: float
    topic: str
    agent_id: str | None
    reason: str
    detail: str
    size: int
    payload: bytes

    def as_json(self) -> dict[str, Any]:
        """For the API: the payload as text where it is UTF-8, else base64."""
        try:
            shown: dict[str, Any] = {"payload": self.payload.decode("utf-8")}
        except UnicodeDecodeError:
            shown = {"payload_base64": base64.b64encode(self.payload).decode()}
        return {"id": self.id, "received_at": self.received_at, "topic": self.topic, "agent_id": self.agent_id,
                "reason": self.reason, "detail": self.detail, "size": self.size, **shown}  # fmt: skip


class _Db(Protocol):
    """The little the archive needs of a database connection in autocommit mode."""

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int: ...

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows one batch at a time, never the whole answer in memory."""
        ...

    def close(self) -> None: ...


class _Sqlite:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a commit is on disk when it returns

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._db.execute("BEGIN IMMEDIATE" if sql == "BEGIN" else sql, args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return self._db.executemany(sql, rows).rowcount

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        yield from self._db.execute(sql, args)

    def close(self) -> None:
        self._db.close()


class _Postgres:
    def __init__(self, url: str) -> None:
        import psycopg

        self._db = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._db.execute(sql.replace("?", "%s"), args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        with self._db.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)
            return cursor.rowcount

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        with self._db.transaction(), self._db.cursor(name="dokiem_stream") as cursor:
            cursor.itersize = 20_000
            cursor.execute(sql.replace("?", "%s"), args)
            yield from cursor

    def close(self) -> None:
        self._db.close()


class Archive:
    def __init__(self, db: _Db, where: str) -> None:
        self._db = db
        self.where = where
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._add_figure_columns()
        self._add_payload_column("flags", _flags)
        self._add_payload_column("server_location", _international)

    def _add_payload_column(self, name: str, derive: Callable[[Result], str | None]) -> None:
        """Archives made before column ``name`` existed get it, filled from the payloads."""
        try:
            self._db.execute(f"SELECT {name} FROM results LIMIT 0")
            return
        except Exception:  # the column is missing (sqlite3.OperationalError, psycopg's UndefinedColumn)
            pass
        self._db.execute(f"ALTER TABLE results ADD COLUMN {name} TEXT")
        rows = [(value, result_id) for result_id, payload in self._db.stream("SELECT result_id, payload FROM results")
                if (value := derive(Result.from_json(payload)))]  # fmt: skip
        self._db.execute("BEGIN")
        self._db.executemany(f"UPDATE results SET {name} = ? WHERE result_id = ?", rows)
        self._db.execute("COMMIT")

    def _add_figure_columns(self) -> None:
        """Archives made before the figure columns existed get them, filled from the payloads."""
        try:
            self._db.execute("SELECT plan_down_mbps FROM results LIMIT 0")
            return
        except Exception:  # sqlite3.OperationalError or psycopg's UndefinedColumn: the column is missing
            pass
        for name in STORED_FIGURES:
            self._db.execute(f"ALTER TABLE results ADD COLUMN {name} DOUBLE PRECISION")
        rows = [(*_figures(Result.from_json(payload)), result_id) for result_id, payload in
                self._db.stream("SELECT result_id, payload FROM results")]  # fmt: skip
        assignments = ", ".join(f"{name} = ?" for name in STORED_FIGURES)
        self._db.execute("BEGIN")
        self._db.executemany(f"UPDATE results SET {assignments} WHERE result_id = ?", rows)
        self._db.execute("COMMIT")

    @classmethod
    def from_url(cls, url: str, create: bool = True) -> Archive:
        """The archive at ``url``; ``create=False`` (reports, enrolment) refuses a SQLite file that
        does not exist rather than start an empty archive in the wrong place."""
        if url.startswith("sqlite:///"):
            path = Path("/" + url.removeprefix("sqlite:///").lstrip("/"))  # sqlite:///a and sqlite:////a alike
            if not create and not path.exists():
                raise FileNotFoundError(f"no archive at {path}")
            return cls(_Sqlite(path), str(path))
        if url.startswith(("postgresql://", "postgres://")):
            return cls(_Postgres(url), url.split("@")[-1])
        raise ValueError(f"{url!r}: use sqlite:///path/archive.db or postgresql://user:password@host/db")

    def close(self) -> None:
        self._db.close()

    # --- results -----------------------------------------------------------------------

    def add(
        self, results: Sequence[Result], received_at: float | None = None, place: Placing = Place.as_sent_by
    ) -> list[Result]:
        """Store a batch in one transaction; returns the results that were new. The first copy of a
        result_id wins: a later one (here or in the same batch) is a no-op everywhere. The region
        columns hold ``place``'s reading of each site (the collector's: 2025 commune, former
        district); the payload keeps what the agent sent, so a later reading can be re-done."""
        now = time.time() if received_at is None else received_at
        rows = []
        for r in results:
            where = place(r)
            rows.append((
                str(r.result_id), r.agent_id, _ms(r.started_at), where.province, where.district, where.commune,
                r.site.isp, r.site.access.value if r.site.access else None, int(r.error is not None), *_figures(r),
                _flags(r), _international(r), now, r.to_json(),
            ))  # fmt: skip
        self._db.execute("BEGIN")
        try:
            known = self._known({str(r.result_id) for r in results})
            self._db.executemany(INSERT_RESULT, rows)
            self._count_agent_results(results, now)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        new = []
        for result in results:
            if (key := str(result.result_id)) not in known:
                known.add(key)
                new.append(result)
        return new

    def _known(self, result_ids: set[str]) -> set[str]:
        found: set[str] = set()
        ids = sorted(result_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT result_id FROM results WHERE result_id IN ({','.join('?' * len(chunk))})"
            found.update(row[0] for row in self._db.execute(sql, chunk).fetchall())
        return found

    def _count_agent_results(self, results: Sequence[Result], now: float) -> None:
        """One upsert per agent in the batch (not per result): last seen, site, version."""
        latest: dict[str, Result] = {}
        counts: dict[str, int] = {}
        for r in results:
            latest[r.agent_id] = r
            counts[r.agent_id] = counts.get(r.agent_id, 0) + 1
        self._db.executemany(
            "INSERT INTO agents (agent_id, first_seen, last_seen, last_result_at, results, site, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(agent_id) DO UPDATE SET last_seen = excluded.last_seen,"
            " last_result_at = excluded.last_result_at, results = agents.results + excluded.results,"
            " site = excluded.site, version = COALESCE(excluded.version, agents.version)",
            [
                (agent, now, now, now, counts[agent], r.site.model_dump_json(exclude_none=True), r.agent_version)
                for agent, r in latest.items()
            ],
        )

    def has(self, result_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM results WHERE result_id = ?", (result_id,)).fetchone() is not None

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def pending(self, limit: int) -> list[Stored]:
        rows = self._db.execute(
            "SELECT result_id, payload FROM results WHERE influx_pending = 1 ORDER BY started_ms LIMIT ?", (limit,)
        ).fetchall()
        return [Stored(*row) for row in rows]

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results WHERE influx_pending = 1").fetchone()[0])

    def mark_written(self, result_ids: Iterable[str]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("UPDATE results SET influx_pending = 0 WHERE result_id = ?", [(i,) for i in result_ids])
        self._db.execute("COMMIT")

    def mark_pending(self, result_ids: Iterable[str]) -> None:
        """Queue these results for InfluxDB again (a re-admitted one that InfluxDB had refused)."""
        self._db.execute("BEGIN")
        self._db.executemany("UPDATE results SET influx_pending = 1 WHERE result_id = ?", [(i,) for i in result_ids])
        self._db.execute("COMMIT")

    def payload_of(self, result_id: str) -> str | None:
        row = self._db.execute("SELECT payload FROM results WHERE result_id = ?", (result_id,)).fetchone()
        return str(row[0]) if row else None

    def mark_for_reindex(self, since: datetime, until: datetime | None = None) -> int:
        """Queue results started in [since, until) to be written to InfluxDB again."""
        until_ms = _ms(until) if until else 2**62
        cur = self._db.execute(
            "UPDATE results SET influx_pending = 1 WHERE started_ms >= ? AND started_ms < ?", (_ms(since), until_ms)
        )
        return int(cur.rowcount)

    def replace(self, place: Placing, since: datetime, until: datetime | None = None) -> int:
        """Re-read the site of every result started in [since, until) from its payload (archived under a
        pre-reform code, or before the region files changed) and refile its region columns; returns
        how many moved. Batches of 2,000, never the whole range in memory."""
        until_ms, moved, after = _ms(until) if until else 2**62, 0, ""
        while True:
            rows = self._db.execute(
                "SELECT result_id, payload, province_code, district_code, commune_code FROM results"
                " WHERE started_ms >= ? AND started_ms < ? AND result_id > ? ORDER BY result_id LIMIT 2000",
                (_ms(since), until_ms, after),
            ).fetchall()
            if not rows:
                return moved
            after = rows[-1][0]
            changes = []
            for result_id, payload, *codes in rows:
                where = place(Result.from_json(payload))
                if (where.province, where.district, where.commune) != tuple(codes):
                    changes.append((where.province, where.district, where.commune, result_id))
            self._db.execute("BEGIN")
            self._db.executemany(
                "UPDATE results SET province_code = ?, district_code = ?, commune_code = ? WHERE result_id = ?",
                changes,
            )
            self._db.execute("COMMIT")
            moved += len(changes)

    def query(
        self,
        district: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100_000,
    ) -> list[dict[str, Any]]:
        """Results as sent, each with ``filed``: the province, former district and 2025 commune the
        collector filed it under (what ``district`` filters on)."""
        sql = ("SELECT payload, province_code, district_code, commune_code FROM results"
               " WHERE started_ms >= ? AND started_ms < ?")  # fmt: skip
        args: list[Any] = [_ms(since) if since else 0, _ms(until) if until else 2**62]
        if district:
            sql += " AND district_code = ?"
            args.append(district)
        sql += " ORDER BY started_ms LIMIT ?"
        args.append(limit)
        return [
            json.loads(payload) | {"filed": {"province_code": province, "district_code": district,
                                             "commune_code": commune}}
            for payload, province, district, commune in self._db.execute(sql, args)
        ]  # fmt: skip

    def report_rows(
        self, since: datetime, until: datetime, location: ServerLocation = ServerLocation.DOMESTIC
    ) -> Iterator[tuple[Any, ...]]:
        """REPORT_COLUMNS of every result started in [since, until) against servers at ``location``,
        streamed: domestic and international speed are never mixed in one figure."""
        where = "server_location IS NULL" if location is ServerLocation.DOMESTIC else "server_location = ?"
        extra = () if location is ServerLocation.DOMESTIC else (location.value,)
        yield from self._db.stream(
            f"SELECT {', '.join(REPORT_COLUMNS)} FROM results WHERE started_ms >= ? AND started_ms < ? AND {where}",
            (_ms(since), _ms(until), *extra),
        )

    # --- agents ------------------------------------------------------------------------

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

    def register_agent(self, agent_id: str, site_json: str, now: float | None = None) -> None:
        """An enrolled agent, known before it first reports (its expected runs count from now)."""
        now = time.time() if now is None else now
        self._db.execute(
            "INSERT INTO agents (agent_id, first_seen, last_seen, site) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(agent_id) DO UPDATE SET site = excluded.site",
            (agent_id, now, now, site_json),
        )

    def unregister_agent(self, agent_id: str) -> bool:
        """Forget a revoked agent in the registry (its results stay in the archive)."""
        return int(self._db.execute("DELETE FROM agents WHERE agent_id = ?", (agent_id,)).rowcount) > 0

    def site_of(self, agent_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT site FROM agents WHERE agent_id = ?", (agent_id,)).fetchone()
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
        now = time.time() if now is None else now
        rows = self._db.execute(
            "SELECT agent_id, first_seen, last_seen, last_result_at,"
            " (SELECT COUNT(*) FROM results r WHERE r.agent_id = agents.agent_id), site, version, online, status,"
            " interval_minutes FROM agents ORDER BY agent_id"
        ).fetchall()
        out = []
        for agent_id, first, last, last_result, results, site, version, online, status, interval in rows:
            expected = _expected_runs(first, interval, now)
            out.append({
                "agent_id": agent_id, "first_seen": first, "last_seen": last, "last_result_at": last_result,
                "results": results, "expected_runs": expected,
                "missed_runs": max(0, expected - results) if expected is not None else None,
                "site": json.loads(site) if site else None, "version": version,
                "online": None if online is None else bool(online), "status": json.loads(status) if status else None,
            })  # fmt: skip
        return out

    # --- quarantine --------------------------------------------------------------------

    def quarantine(self, topic: str, agent_id: str | None, reason: str, detail: str, payload: bytes,
                   cap: int, now: float | None = None) -> str:  # fmt: skip
        """Keep a refused message (its payload cut at ``cap`` bytes); returns its quarantine id."""
        key = uuid.uuid4().hex
        self._db.execute(
            "INSERT INTO quarantine (id, received_at, topic, agent_id, reason, detail, size, payload_b64)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, time.time() if now is None else now, _printable(topic[:300]), agent_id, reason,
             _printable(detail[:1000]), len(payload), base64.b64encode(payload[:cap]).decode()),
        )  # fmt: skip
        return key

    def quarantined(self, reason: str | None = None, since: datetime | None = None,
                    limit: int = 1000) -> list[Quarantined]:  # fmt: skip
        """Kept messages, oldest first, optionally of one reason and since a time."""
        sql = "SELECT id, received_at, topic, agent_id, reason, detail, size, payload_b64 FROM quarantine"
        sql += " WHERE received_at >= ?"
        args: list[Any] = [since.timestamp() if since else 0.0]
        if reason:
            sql += " AND reason = ?"
            args.append(reason)
        sql += " ORDER BY received_at LIMIT ?"
        args.append(limit)
        return [
            Quarantined(
                id=key,
                received_at=at,
                topic=topic,
                agent_id=agent,
                reason=why,
                detail=detail,
                size=size,
                payload=base64.b64decode(payload),
            )
            for key, at, topic, agent, why, detail, size, payload in self._db.execute(sql, args).fetchall()
        ]

    def quarantine_counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT reason, COUNT(*) FROM quarantine GROUP BY reason").fetchall()
        return {str(reason): int(n) for reason, n in rows}

    def release(self, quarantine_id: str) -> None:
        """Forget a kept message (it was re-admitted, or refused again under a new entry)."""
        self._db.execute("DELETE FROM quarantine WHERE id = ?", (quarantine_id,))


def _printable(text: str) -> str:
    """Text PostgreSQL and SQLite both take: no NUL, no lone surrogate."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")

"""The outbox: every Result is committed here before any attempt to send it.

SQLite in WAL mode with ``synchronous=FULL``: a commit is on disk when ``put`` returns, and a
``kill -9`` or a power cut at any moment leaves either the old or the new state, never a torn
file. A result leaves only when the broker acknowledged it (``remove`` after PUBACK). The
outbox is bounded by age and count; what is dropped is dropped oldest first and counted.
It also keeps the month's data usage, for metered lines.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from dokiem.contract import Result

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    result_id TEXT NOT NULL UNIQUE,
    queued_at REAL NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS usage (month TEXT PRIMARY KEY, bytes INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Queued:
    seq: int
    result_id: str
    queued_at: float
    payload: str


@dataclass(frozen=True)
class OutboxStats:
    depth: int
    oldest_queued_at: float | None
    dropped_age: int
    dropped_size: int
    sent: int


class Outbox:
    def __init__(self, path: Path, max_age_s: float = 30 * 86_400, max_results: int = 20_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_age_s = max_age_s
        self.max_results = max_results
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def put(self, result: Result, now: float | None = None) -> None:
        """Commit one result (a duplicate result_id is a no-op), then enforce the bounds."""
        now = time.time() if now is None else now
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO outbox (result_id, queued_at, payload) VALUES (?, ?, ?)",
                (str(result.result_id), now, result.to_json()),
            )
            self._enforce_bounds(now)

    def oldest(self, limit: int = 50) -> list[Queued]:
        rows = self._db.execute(
            "SELECT seq, result_id, queued_at, payload FROM outbox ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [Queued(*row) for row in rows]

    def remove(self, result_id: str) -> None:
        """Forget a result the broker acknowledged."""
        with self._transaction():
            deleted = self._db.execute("DELETE FROM outbox WHERE result_id = ?", (result_id,)).rowcount
            if deleted:
                self._bump("sent", deleted)

    def depth(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def stats(self) -> OutboxStats:
        depth, oldest = self._db.execute("SELECT COUNT(*), MIN(queued_at) FROM outbox").fetchone()
        return OutboxStats(
            depth=int(depth),
            oldest_queued_at=oldest,
            dropped_age=self._counter("dropped_age"),
            dropped_size=self._counter("dropped_size"),
            sent=self._counter("sent"),
        )

    def add_usage(self, month: str, n_bytes: int) -> None:
        with self._transaction():
            self._add("usage", "month", month, "bytes", n_bytes)

    def usage(self, month: str) -> int:
        row = self._db.execute("SELECT bytes FROM usage WHERE month = ?", (month,)).fetchone()
        return int(row[0]) if row else 0

    def integrity_ok(self) -> bool:
        return bool(self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok")

    def _enforce_bounds(self, now: float) -> None:
        aged = self._db.execute("DELETE FROM outbox WHERE queued_at < ?", (now - self.max_age_s,)).rowcount
        if aged:
            self._bump("dropped_age", aged)
        excess = self.depth() - self.max_results
        if excess > 0:
            self._db.execute("DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)", (excess,))
            self._bump("dropped_size", excess)

    def _bump(self, name: str, by: int) -> None:
        self._add("counters", "name", name, "value", by)

    def _add(self, table: str, key_column: str, key: str, value_column: str, by: int) -> None:
        """Add ``by`` to a keyed counter row (created at ``by``); names are this module's constants."""
        self._db.execute(
            f"INSERT INTO {table} ({key_column}, {value_column}) VALUES (?, ?)"
            f" ON CONFLICT({key_column}) DO UPDATE SET {value_column} = {value_column} + ?",
            (key, by, by),
        )

    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error), for a connection in autocommit mode."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")

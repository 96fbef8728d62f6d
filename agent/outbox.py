"""The outbox: every Result is committed here before any attempt to send it.

SQLite in WAL mode with ``synchronous=FULL``: a commit is on disk when ``put`` returns, and a
``kill -9`` or a power cut at any moment leaves either the old or the new state, never a torn
file. A result leaves only when the broker acknowledged it (``remove`` after PUBACK). The
outbox is bounded by age and count; what is dropped is dropped oldest first and counted.
It also keeps the month's data usage, for metered lines.

An acknowledged result is kept a while longer among the ``sent`` (``keep_sent_s``, at most
``keep_sent_max``, oldest dropped first), so that a collector restored from a backup can ask for
what it acknowledged since (``resend``, issue 32): each request once, by its id.

Two faults never stop the agent. A corrupt file (``file is not a database``, a malformed image) is
moved aside as ``outbox.db.corrupt-<time>`` for inspection and a new outbox opened. A full disk
keeps up to ``memory_hold`` results (and their data usage) in memory, sent from there like any
other, and written when space returns. Both are reported (``faults``) in the heartbeat.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from dokiem.contract import Result
from dokiem.status import Fault
from dokiem.survey import SurveyBatch

log = logging.getLogger(__name__)
T = TypeVar("T")
_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}

REQUEUE_SENT = (
    "INSERT OR IGNORE INTO outbox (result_id, queued_at, payload, kind) SELECT result_id, ?, payload, kind FROM sent"
    " WHERE acked_at >= ? ORDER BY acked_at"
)
DROP_OLDEST_SENT = "DELETE FROM sent WHERE result_id IN (SELECT result_id FROM sent ORDER BY acked_at LIMIT ?)"
SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    result_id TEXT NOT NULL UNIQUE,
    queued_at REAL NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS usage (month TEXT PRIMARY KEY, bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sent (result_id TEXT PRIMARY KEY, acked_at REAL NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sent_acked ON sent (acked_at);
CREATE TABLE IF NOT EXISTS resend_requests (request_id TEXT PRIMARY KEY, at REAL NOT NULL);
"""


class Kind(StrEnum):
    """What a queued message is, which says its topic: a Result, or a coverage survey's batch of samples."""

    RESULT = "result"
    SURVEY = "survey"


# an outbox from before surveys (issue 30) gains the column; what it holds is results
KIND_COLUMNS = (("outbox", "kind TEXT NOT NULL DEFAULT 'result'"), ("sent", "kind TEXT NOT NULL DEFAULT 'result'"))


@dataclass(frozen=True)
class Queued:
    seq: int
    result_id: str  # the message's key: a Result's result_id, a survey batch's survey_id
    queued_at: float
    payload: str
    kind: Kind = Kind.RESULT


@dataclass(frozen=True)
class OutboxStats:
    depth: int
    oldest_queued_at: float | None
    dropped_age: int
    dropped_size: int
    sent: int
    held_in_memory: int = 0


def _is_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _is_corrupt(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and getattr(exc, "sqlite_errorcode", None) in _CORRUPT


class Outbox:
    def __init__(
        self, path: Path, max_age_s: float = 30 * 86_400, max_results: int = 20_000, memory_hold: int = 50,
        keep_sent_s: float = 14 * 86_400, keep_sent_max: int = 10_000,
    ) -> None:  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_age_s = max_age_s
        self.max_results = max_results
        self.keep_sent_s, self.keep_sent_max = keep_sent_s, keep_sent_max
        self.memory_hold = memory_hold
        self.faults: set[Fault] = set()
        self._held: list[Queued] = []  # results the full disk could not take, oldest first
        self._held_usage: dict[str, int] = {}
        self._held_dropped = 0
        self._sent_unremoved: set[str] = set()  # acknowledged, but the full disk would not take the delete
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            self._move_aside(exc)
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(SCHEMA)
            for table, column in KIND_COLUMNS:
                if "kind" not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise _corrupt_error()
            # kept in step with the table, so that bounding it costs nothing per acknowledgement
            self._kept = int(db.execute("SELECT COUNT(*) FROM sent").fetchone()[0])
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self, exc: BaseException) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        log.error("the outbox %s is unreadable (%s): moved aside as %s, a new one opened", self.path, exc, aside)
        for suffix in ("", "-wal", "-shm"):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                source.replace(aside.with_name(aside.name + suffix))
        self.faults.add(Fault.OUTBOX_CORRUPT)

    def _guarded(self, operation: Callable[[], T]) -> T:
        """Run a database operation; a corrupt file is moved aside and the operation tried once on a new one."""
        try:
            return operation()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            self._db.close()
            self._move_aside(exc)
            self._db = self._connect()
            return operation()

    def close(self) -> None:
        self._db.close()

    def put(self, result: Result, now: float | None = None) -> None:
        """Commit one result (a duplicate result_id is a no-op), then enforce the bounds. On a full disk
        the result is held in memory (the oldest held dropped, and counted, past ``memory_hold``)."""
        self._put(Queued(-1, str(result.result_id), time.time() if now is None else now, result.to_json()))

    def put_survey(self, batch: SurveyBatch, now: float | None = None) -> None:
        """Commit a coverage survey's batch of samples, as a result is committed (the same bounds, one queue)."""
        now = time.time() if now is None else now
        self._put(Queued(-1, str(batch.survey_id), now, batch.to_json(), Kind.SURVEY))

    def _put(self, item: Queued) -> None:
        now = item.queued_at
        self._flush_held()
        if self._held:  # keep the order: nothing jumps ahead of what is already waiting in memory
            self._hold(item)
            return
        try:
            self._guarded(lambda: self._insert(item, now))
        except (sqlite3.Error, OSError) as exc:
            if not _is_full(exc):
                raise
            self._hold(item)

    def _insert(self, item: Queued, now: float) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO outbox (result_id, queued_at, payload, kind) VALUES (?, ?, ?, ?)",
                (item.result_id, item.queued_at, item.payload, item.kind.value),
            )
            self._enforce_bounds(now)

    def _hold(self, item: Queued) -> None:
        if Fault.DISK_FULL not in self.faults:
            log.error("the disk under %s is full: results are held in memory (up to %d)", self.path, self.memory_hold)
        self.faults.add(Fault.DISK_FULL)
        self._held.append(item)
        if len(self._held) > self.memory_hold:
            self._held.pop(0)
            self._held_dropped += 1

    def _flush_held(self) -> None:
        """Write what the full disk could not take, now that it may have room again."""
        if not self._held and not self._held_usage and not self._sent_unremoved:
            return
        try:
            for result_id in sorted(self._sent_unremoved):
                self._guarded(lambda i=result_id: self._delete(i))  # type: ignore[misc]
                self._sent_unremoved.discard(result_id)
            for item in list(self._held):
                self._guarded(lambda item=item: self._insert(item, time.time()))  # type: ignore[misc]
                self._held.remove(item)
            for month, n_bytes in list(self._held_usage.items()):
                self._guarded(lambda m=month, n=n_bytes: self._add_usage(m, n))  # type: ignore[misc]
                del self._held_usage[month]
            if self._held_dropped:
                dropped, self._held_dropped = self._held_dropped, 0
                self._guarded(lambda: self._bump_committed("dropped_size", dropped))
        except (sqlite3.Error, OSError) as exc:
            if not _is_full(exc):
                raise
            return
        self.faults.discard(Fault.DISK_FULL)
        log.info("the disk has room again: results held in memory are written to the outbox")

    def oldest(self, limit: int = 50) -> list[Queued]:
        """The oldest queued results: the outbox's first, then those held in memory."""
        self._flush_held()
        rows = self._guarded(lambda: self._db.execute(
            "SELECT seq, result_id, queued_at, payload, kind FROM outbox ORDER BY seq LIMIT ?",
            (limit + len(self._sent_unremoved),),
        ).fetchall())  # fmt: skip
        stored = [Queued(seq, key, at, payload, Kind(kind)) for seq, key, at, payload, kind in rows
                  if key not in self._sent_unremoved][:limit]  # fmt: skip
        return stored + self._held[: max(0, limit - len(stored))]

    def remove(self, result_id: str) -> None:
        """Forget a result the broker acknowledged."""
        for item in self._held:
            if item.result_id == result_id:
                self._held.remove(item)
                return
        try:
            self._guarded(lambda: self._delete(result_id))
        except (sqlite3.Error, OSError) as exc:
            if not _is_full(exc):
                raise
            self._sent_unremoved.add(result_id)  # deleted once there is room; never sent again meanwhile

    def _delete(self, result_id: str) -> None:
        now = time.time()
        with self._transaction():
            if self.keep_sent_max > 0 and self.keep_sent_s > 0:
                self._kept += self._db.execute("INSERT OR IGNORE INTO sent (result_id, acked_at, payload, kind) SELECT"
                                               " result_id, ?, payload, kind FROM outbox WHERE result_id = ?",
                                               (now, result_id)).rowcount  # fmt: skip
            deleted = self._db.execute("DELETE FROM outbox WHERE result_id = ?", (result_id,)).rowcount
            if deleted:
                self._bump("sent", deleted)
                self._bound_sent(now)

    def _bound_sent(self, now: float) -> None:
        """Within keep_sent_s and keep_sent_max, the oldest dropped: a range of the acked_at index each, never a
        walk over what is kept."""
        self._kept -= self._db.execute("DELETE FROM sent WHERE acked_at < ?", (now - self.keep_sent_s,)).rowcount
        if self._kept > self.keep_sent_max:
            excess = self._kept - self.keep_sent_max
            self._kept -= self._db.execute(DROP_OLDEST_SENT, (excess,)).rowcount

    def resend(self, request_id: str, since: float) -> int | None:
        """Put back in the outbox every kept result the broker acknowledged at ``since`` or later, oldest first;
        how many, or None for a request already served (a retained request is seen at every connect)."""

        def requeue() -> int | None:
            now, db = time.time(), self._db
            with self._transaction():
                if db.execute("SELECT 1 FROM resend_requests WHERE request_id = ?", (request_id,)).fetchone():
                    return None
                db.execute("INSERT INTO resend_requests (request_id, at) VALUES (?, ?)", (request_id, now))
                moved = db.execute(REQUEUE_SENT, (now, since)).rowcount
                self._kept -= db.execute("DELETE FROM sent WHERE acked_at >= ?", (since,)).rowcount
                return int(moved)

        return self._guarded(requeue)

    def kept_sent(self) -> int:
        """Acknowledged results kept for a restored collector to ask for again."""
        return int(self._guarded(lambda: self._db.execute("SELECT COUNT(*) FROM sent").fetchone()[0]))

    def depth(self) -> int:
        stored = self._guarded(lambda: self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        return int(stored) - len(self._sent_unremoved) + len(self._held)

    def stats(self) -> OutboxStats:
        query = "SELECT COUNT(*), MIN(queued_at) FROM outbox"
        depth, oldest = self._guarded(lambda: self._db.execute(query).fetchone())
        held_oldest = self._held[0].queued_at if self._held else None
        return OutboxStats(
            depth=int(depth) - len(self._sent_unremoved) + len(self._held),
            oldest_queued_at=min((t for t in (oldest, held_oldest) if t is not None), default=None),
            dropped_age=self._counter("dropped_age"),
            dropped_size=self._counter("dropped_size") + self._held_dropped,
            sent=self._counter("sent"),
            held_in_memory=len(self._held),
        )

    def add_usage(self, month: str, n_bytes: int) -> None:
        """Count a run's bytes against the month; on a full disk, in memory until there is room."""
        if not self._held_usage:
            try:
                self._guarded(lambda: self._add_usage(month, n_bytes))
                return
            except (sqlite3.Error, OSError) as exc:
                if not _is_full(exc):
                    raise
        self._held_usage[month] = self._held_usage.get(month, 0) + n_bytes
        self.faults.add(Fault.DISK_FULL)

    def _add_usage(self, month: str, n_bytes: int) -> None:
        with self._transaction():
            self._add("usage", "month", month, "bytes", n_bytes)

    def usage(self, month: str) -> int:
        row = self._guarded(lambda: self._db.execute("SELECT bytes FROM usage WHERE month = ?", (month,)).fetchone())
        return (int(row[0]) if row else 0) + self._held_usage.get(month, 0)

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

    def _bump_committed(self, name: str, by: int) -> None:
        with self._transaction():
            self._bump(name, by)

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
        row = self._guarded(lambda: self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone())
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


def _corrupt_error() -> sqlite3.DatabaseError:
    error = sqlite3.DatabaseError("the integrity check failed")
    error.sqlite_errorcode = sqlite3.SQLITE_CORRUPT
    return error

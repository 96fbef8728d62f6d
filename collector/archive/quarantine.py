"""The quarantine: every message the collector refused or failed to handle (topic, payload up to the
size cap, reason, time, agent), listed by the API and re-admitted by ``dokiem collector requeue``."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dokiem.collector.archive.db import Column, Db, Page, Table, ensure_table, every, page_of, printable

TABLE = Table("quarantine", (
    Column("id", "TEXT PRIMARY KEY"),
    Column("received_at", "DOUBLE PRECISION NOT NULL"),
    Column("topic", "TEXT NOT NULL"),
    Column("agent_id", "TEXT"),
    Column("reason", "TEXT NOT NULL"),
    Column("detail", "TEXT NOT NULL"),
    Column("size", "INTEGER NOT NULL"),
    Column("payload_b64", "TEXT NOT NULL"),
), indexes=("quarantine_received ON quarantine (received_at)",))  # fmt: skip


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


class Quarantine:
    def __init__(self, db: Db) -> None:
        self._db = db
        ensure_table(db, TABLE)

    def keep(self, topic: str, agent_id: str | None, reason: str, detail: str, payload: bytes,
             cap: int, now: float | None = None) -> str:  # fmt: skip
        """Keep a refused message (its payload cut at ``cap`` bytes); returns its quarantine id."""
        key = uuid.uuid4().hex
        self._db.execute(
            f"INSERT INTO quarantine ({', '.join(TABLE.names())}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, time.time() if now is None else now, printable(topic[:300]), agent_id, reason,
             printable(detail[:1000]), len(payload), base64.b64encode(payload[:cap]).decode()),
        )  # fmt: skip
        return key

    def page(self, reason: str | None = None, since: datetime | None = None, limit: int = 100,
             after: tuple[Any, ...] | None = None) -> Page[Quarantined]:  # fmt: skip
        """Kept messages, oldest first, ``limit`` at a time from after ``after``; optionally of one reason
        and since a time."""
        where = "received_at >= ?"
        args: list[Any] = [since.timestamp() if since else 0.0]
        if reason:
            where += " AND reason = ?"
            args.append(reason)
        total = int(self._db.execute(f"SELECT COUNT(*) FROM quarantine WHERE {where}", args).fetchone()[0])
        if after is not None:
            where += " AND (received_at > ? OR (received_at = ? AND id > ?))"
            args += [after[0], after[0], after[1]]
        rows = self._db.execute(f"SELECT {', '.join(TABLE.names())} FROM quarantine WHERE {where}"
                                " ORDER BY received_at, id LIMIT ?", [*args, limit + 1]).fetchall()  # fmt: skip
        found = page_of(rows, limit, total, key=lambda row: (row[1], row[0]))
        kept = [Quarantined(key, at, topic, agent, why, detail, size, base64.b64decode(payload))
                for key, at, topic, agent, why, detail, size, payload in found.items]  # fmt: skip
        return Page(kept, total, found.after)

    def listed(self, reason: str | None = None, since: datetime | None = None) -> list[Quarantined]:
        """Every kept message (of one reason, since a time), oldest first."""
        return every(lambda after: self.page(reason, since, 1000, after))

    def trim(self, max_bytes: int, max_age_s: float, now: float | None = None) -> int:
        """Drop what is older than ``max_age_s``, then the oldest until the kept payloads fit ``max_bytes``;
        returns how many were dropped (a flood of junk cannot fill the disk)."""
        now = time.time() if now is None else now
        dropped = int(self._db.execute("DELETE FROM quarantine WHERE received_at < ?", (now - max_age_s,)).rowcount)
        excess = int(self._db.execute("SELECT COALESCE(SUM(LENGTH(payload_b64)), 0) FROM quarantine").fetchone()[0])
        excess -= max_bytes
        if excess <= 0:
            return dropped
        freed, last = 0, None
        for received_at, key, length in self._db.stream(
            "SELECT received_at, id, LENGTH(payload_b64) FROM quarantine ORDER BY received_at, id"
        ):
            freed += int(length)
            last = (received_at, key)
            if freed >= excess:
                break
        assert last is not None
        cursor = self._db.execute("DELETE FROM quarantine WHERE received_at < ? OR (received_at = ? AND id <= ?)",
                                  (last[0], last[0], last[1]))  # fmt: skip
        return dropped + int(cursor.rowcount)

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT reason, COUNT(*) FROM quarantine GROUP BY reason").fetchall()
        return {str(reason): int(n) for reason, n in rows}

    def release(self, quarantine_id: str) -> None:
        """Forget a kept message (it was re-admitted, or refused again under a new entry)."""
        self._db.execute("DELETE FROM quarantine WHERE id = ?", (quarantine_id,))

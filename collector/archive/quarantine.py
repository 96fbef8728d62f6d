"""The quarantine: every message the collector refused or failed to handle (topic, payload up to the
size cap, reason, time, agent), listed by the API and re-admitted by ``dokiem collector requeue``."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dokiem.collector.archive.db import Column, Db, Table, ensure_table, printable

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

    def listed(self, reason: str | None = None, since: datetime | None = None,
               limit: int = 1000) -> list[Quarantined]:  # fmt: skip
        """Kept messages, oldest first, optionally of one reason and since a time."""
        sql = f"SELECT {', '.join(TABLE.names())} FROM quarantine WHERE received_at >= ?"
        args: list[Any] = [since.timestamp() if since else 0.0]
        if reason:
            sql += " AND reason = ?"
            args.append(reason)
        sql += " ORDER BY received_at LIMIT ?"
        args.append(limit)
        return [
            Quarantined(key, at, topic, agent, why, detail, size, base64.b64decode(payload))
            for key, at, topic, agent, why, detail, size, payload in self._db.execute(sql, args).fetchall()
        ]

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT reason, COUNT(*) FROM quarantine GROUP BY reason").fetchall()
        return {str(reason): int(n) for reason, n in rows}

    def release(self, quarantine_id: str) -> None:
        """Forget a kept message (it was re-admitted, or refused again under a new entry)."""
        self._db.execute("DELETE FROM quarantine WHERE id = ?", (quarantine_id,))

"""Residents' senders, counted without being kept (issue 22): for each day, commune and access type, which
of 16 buckets the senders' addresses fell in (a keyed hash of the address, 4 bits of it; the key never
leaves the collector). No address, no result id: a bucket row links to nothing. Two tests in different
buckets came from different addresses, so the buckets seen are a lower bound on the addresses, which is
what the disclosure rule needs ("from at least 3 addresses"), and all it can learn."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from dokiem.collector.archive.db import Column, Db, Table, ensure_table
from dokiem.contract import LOCAL_TIME

BUCKETS = 16
TABLE = Table("resident_senders", (
    Column("day", "TEXT NOT NULL"),
    Column("commune_code", "TEXT NOT NULL"),
    Column("access", "TEXT NOT NULL"),
    Column("bucket", "INTEGER NOT NULL"),
), indexes=("resident_senders_key ON resident_senders (day, commune_code, access, bucket)",),
    key="day")  # fmt: skip


@dataclass(frozen=True)
class SenderSpread:
    """How a commune's residents' tests of one access type spread over senders and days (issue 38): the buckets
    seen (at least that many senders), the days with a test, and the (day, bucket) pairs (at least that many
    sender-days: one person coming back on 14 days is 14, sixty addresses in one afternoon at most 16)."""

    buckets: int = 0
    days: int = 0
    sender_days: int = 0


def bucket_of(key: bytes, address: str) -> int:
    """The address's bucket under the collector's key: the same address, the same bucket, any day."""
    return hmac.new(key, address.encode("utf-8", "replace"), hashlib.sha256).digest()[0] % BUCKETS


def day_of(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).date().isoformat()


class Senders:
    def __init__(self, db: Db) -> None:
        self._db = db
        ensure_table(db, TABLE)

    def note(self, moment: datetime, commune_code: str, access: str, bucket: int) -> None:
        self.note_row((day_of(moment), commune_code, access, bucket))

    def note_row(self, row: tuple[str, str, str, int]) -> None:
        found = self._db.execute(
            "SELECT 1 FROM resident_senders WHERE day = ? AND commune_code = ? AND access = ? AND bucket = ?", row
        ).fetchone()
        if found is None:
            self._db.execute("INSERT INTO resident_senders (day, commune_code, access, bucket) VALUES (?, ?, ?, ?)",
                             row)  # fmt: skip

    def note_many(self, seen: list[tuple[datetime, str, str, int]]) -> None:
        """Many (moment, commune, access, bucket) in one transaction (a generated or restored archive)."""
        rows = {(day_of(moment), commune, access, bucket) for moment, commune, access, bucket in seen}
        self._db.execute("BEGIN")
        try:
            for row in sorted(rows):
                self.note_row(row)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def spread(self, since: datetime, until: datetime) -> dict[tuple[str, str], SenderSpread]:
        """(commune, access) -> how its senders spread over the days of [since, until)."""
        rows = self._db.execute(
            "SELECT commune_code, access, COUNT(DISTINCT bucket), COUNT(DISTINCT day), COUNT(*) FROM resident_senders"
            " WHERE day >= ? AND day < ? GROUP BY commune_code, access",
            (day_of(since), day_of(until)),
        ).fetchall()
        return {(str(commune), str(access)): SenderSpread(int(buckets), int(days), int(pairs))
                for commune, access, buckets, days, pairs in rows}  # fmt: skip

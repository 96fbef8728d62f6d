"""Residents' "no signal" reports (issue 31): each report taken, as a row of its cell.

A row is the report's cell, the commune the cell's centre lies in, the operator, what failed, when it was made
and the day it arrived, and the sender's bucket (senders.py's keyed hash, 4 bits: a lower bound on how many
people reported, linking to no one). No address, no point: the page never sent one. A report delivered twice
is one row (its report_id). Its own table, never pooled with the surveys' samples or the results.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from dokiem.collector.archive.db import Column, Db, Table, ensure_table
from dokiem.nosignal import NoSignalReport

TABLE = Table("resident_reports", (
    Column("report_id", "TEXT PRIMARY KEY"),
    Column("made_ms", "BIGINT NOT NULL"),
    Column("received_ms", "BIGINT NOT NULL"),  # the collector's clock: its days are what the publication rule counts
    Column("commune_code", "TEXT NOT NULL"),
    Column("cell", "TEXT NOT NULL"),
    Column("operator", "TEXT NOT NULL"),
    Column("failure", "TEXT NOT NULL"),
    Column("bucket", "INTEGER NOT NULL"),
), indexes=("resident_reports_made ON resident_reports (made_ms)",), key="report_id")  # fmt: skip
# What a coverage reading reads of each report, by name (never by position).
NOSIGNAL_COLUMNS = ("made_ms", "received_ms", "commune_code", "cell", "operator", "failure", "bucket")


@dataclass(frozen=True)
class FiledReport:
    """A report as the door filed it: where its cell lies, the day it arrived, and whose bucket it is."""

    report: NoSignalReport
    commune_code: str
    bucket: int
    received_at: datetime


class NoSignalStore:
    def __init__(self, db: Db) -> None:
        self._db = db
        ensure_table(db, TABLE)

    def add(self, filed: FiledReport) -> bool:
        """Keep a report; False where its report_id is kept already (a second delivery)."""
        report = filed.report
        cur = self._db.execute(
            f"INSERT INTO resident_reports ({', '.join(TABLE.names())}) VALUES ({', '.join('?' * len(TABLE.columns))})"
            " ON CONFLICT (report_id) DO NOTHING",
            (str(report.report_id), _ms(report.made_at), _ms(filed.received_at),
             filed.commune_code, report.cell, report.operator, report.failure.value, filed.bucket),
        )  # fmt: skip
        return bool(cur.rowcount)

    def has(self, report_id: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM resident_reports WHERE report_id = ?", (report_id,)).fetchone() is not None
        )

    def rows(self, since: datetime, until: datetime, received_by: datetime) -> Iterator[tuple[object, ...]]:
        """NOSIGNAL_COLUMNS of every report made in [since, until) and received by ``received_by``, in time
        order (a report's cut-off, as the results')."""
        span = (_ms(since), _ms(until), _ms(received_by))
        return self._db.stream(f"SELECT {', '.join(NOSIGNAL_COLUMNS)} FROM resident_reports WHERE made_ms >= ?"
                               " AND made_ms < ? AND received_ms <= ? ORDER BY made_ms", span)  # fmt: skip

    def forget_made_before(self, moment: datetime) -> int:
        """Delete the reports made before ``moment`` (their retention is over); how many went."""
        return int(self._db.execute("DELETE FROM resident_reports WHERE made_ms < ?", (_ms(moment),)).rowcount)

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM resident_reports").fetchone()[0])


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)

"""Coverage surveys (issue 30): every accepted batch as sent, and each placed sample as a row of its cell.

A batch is kept whole (its payload, what the agent dropped, whether InfluxDB has it yet) under its
survey_id: a duplicate delivery is a no-op. Each sample the collector placed is a row with its commune, its
H3 cell and what the network gave there; the coverage classes are read from these rows at report time, by
the rules then in force. Never pooled with the results: their own tables, their own measurement.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from dokiem.collector.archive.db import Column, Db, Table, ensure_table
from dokiem.survey import DropReason, SurveyBatch, SurveySample

REAL = "DOUBLE PRECISION"
BATCHES = Table("survey_batches", (
    Column("survey_id", "TEXT PRIMARY KEY"),
    Column("agent_id", "TEXT NOT NULL"),
    Column("first_ms", "BIGINT NOT NULL"),
    Column("samples", "INTEGER NOT NULL"),
    Column("placed", "INTEGER NOT NULL"),
    Column("dropped", "TEXT"),  # JSON: reason -> count, the agent's and the collector's together
    Column("received_at", f"{REAL} NOT NULL"),
    Column("influx_pending", "INTEGER NOT NULL DEFAULT 1"),
    Column("payload", "TEXT NOT NULL"),
), indexes=("survey_batches_pending ON survey_batches (first_ms) WHERE influx_pending = 1",),
    key="survey_id")  # fmt: skip
SAMPLES = Table("survey_samples", (
    Column("survey_id", "TEXT NOT NULL"),
    Column("seq", "INTEGER NOT NULL"),
    Column("agent_id", "TEXT NOT NULL"),
    Column("at_ms", "BIGINT NOT NULL"),
    Column("commune_code", "TEXT NOT NULL"),
    Column("cell", "TEXT NOT NULL"),
    Column("operator_code", "TEXT"),  # the SIM's home network: whose coverage the sample speaks of
    Column("registration", "TEXT NOT NULL"),
    Column("technology", "TEXT"),
    Column("rsrp_dbm", REAL),
    Column("download_mbps", REAL),
), indexes=("survey_samples_at ON survey_samples (at_ms)",
            "survey_samples_agent ON survey_samples (agent_id, at_ms)"), key="survey_id")  # fmt: skip
# What a coverage reading reads of each sample, by name (never by position).
SAMPLE_COLUMNS = ("agent_id", "at_ms", "commune_code", "cell", "operator_code", "registration", "technology",
                  "rsrp_dbm", "download_mbps")  # fmt: skip


@dataclass(frozen=True)
class PlacedSample:
    """A sample and where the collector placed it: its commune and cell (validate.FiledSample's fields)."""

    sample: SurveySample
    commune_code: str
    cell: str


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _row(batch: SurveyBatch, seq: int, placed: PlacedSample) -> tuple[object, ...]:
    sample, radio = placed.sample, placed.sample.radio
    operator = sample.sim_operator_code or (radio.operator_code if radio is not None else None)
    return (str(batch.survey_id), seq, batch.agent_id, _ms(sample.at), placed.commune_code, placed.cell, operator,
            sample.registration.value, radio.technology.value if radio is not None and radio.technology else None,
            radio.rsrp_dbm if radio is not None else None, sample.download_mbps)  # fmt: skip


class SurveyStore:
    def __init__(self, db: Db) -> None:
        self._db = db
        ensure_table(db, BATCHES)
        ensure_table(db, SAMPLES)

    def add(self, batch: SurveyBatch, placed: Sequence[PlacedSample], dropped: Counter[DropReason],
            received_at: float | None = None) -> bool:  # fmt: skip
        """Keep a batch and its placed samples in one transaction; False for a batch already kept."""
        key = str(batch.survey_id)
        if self.has(key):
            return False
        counted = Counter({DropReason(reason): n for reason, n in batch.dropped.items()}) + dropped
        self._db.execute("BEGIN")
        try:
            self._db.execute(
                f"INSERT INTO survey_batches ({', '.join(BATCHES.names())}) VALUES ({', '.join('?' * 9)})"
                " ON CONFLICT (survey_id) DO NOTHING",
                (key, batch.agent_id, _ms(batch.first_at), len(batch.samples), len(placed),
                 json.dumps({r.value: n for r, n in sorted(counted.items())}) if counted else None,
                 time.time() if received_at is None else received_at, 1, batch.to_json()),
            )  # fmt: skip
            self._db.executemany(f"INSERT INTO survey_samples ({', '.join(SAMPLES.names())})"
                                 f" VALUES ({', '.join('?' * len(SAMPLES.columns))})",
                                 [_row(batch, seq, p) for seq, p in enumerate(placed)])  # fmt: skip
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return True

    def has(self, survey_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM survey_batches WHERE survey_id = ?", (survey_id,)).fetchone() is not None

    def samples(self, since: datetime, until: datetime) -> Iterator[tuple[object, ...]]:
        """SAMPLE_COLUMNS of every placed sample taken in [since, until), in time order."""
        return self._db.stream(f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM survey_samples"
                               " WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms", (_ms(since), _ms(until)))  # fmt: skip

    def pending(self, limit: int) -> list[tuple[str, str]]:
        """(survey_id, payload) of batches InfluxDB does not have yet, oldest first."""
        rows = self._db.execute("SELECT survey_id, payload FROM survey_batches WHERE influx_pending = 1"
                                " ORDER BY first_ms LIMIT ?", (limit,)).fetchall()  # fmt: skip
        return [(str(key), str(payload)) for key, payload in rows]

    def mark_for_reindex(self, since: datetime, until: datetime | None = None) -> int:
        """Queue the batches begun in [since, until) to be written to InfluxDB again (``collector reindex``)."""
        until_ms = _ms(until) if until else 2**62
        cur = self._db.execute("UPDATE survey_batches SET influx_pending = 1 WHERE first_ms >= ? AND first_ms < ?",
                               (_ms(since), until_ms))  # fmt: skip
        return int(cur.rowcount)

    def mark_written(self, survey_ids: Sequence[str]) -> None:
        for start in range(0, len(survey_ids), 500):
            chunk = list(survey_ids[start : start + 500])
            self._db.execute(f"UPDATE survey_batches SET influx_pending = 0 WHERE survey_id IN"
                             f" ({','.join('?' * len(chunk))})", chunk)  # fmt: skip

    def placed(self, survey_id: str) -> list[tuple[object, ...]]:
        """SAMPLE_COLUMNS of one batch's placed samples, in their order (what InfluxDB is sent)."""
        return list(self._db.execute(f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM survey_samples WHERE survey_id = ?"
                                     " ORDER BY seq", (survey_id,)).fetchall())  # fmt: skip

    def per_hour(self, agent_id: str, hours: set[int]) -> dict[int, int]:
        """The placed samples ``agent_id`` has in each hour (hours since the epoch) of ``hours``."""
        counted = {}
        for hour in hours:
            span = (agent_id, hour * 3_600_000, (hour + 1) * 3_600_000)
            row = self._db.execute("SELECT COUNT(*) FROM survey_samples WHERE agent_id = ? AND at_ms >= ?"
                                   " AND at_ms < ?", span).fetchone()  # fmt: skip
            counted[hour] = int(row[0])
        return counted

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM survey_samples").fetchone()[0])

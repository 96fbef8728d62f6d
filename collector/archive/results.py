"""The results table: every accepted Result, keyed by result_id — the system of record.

A duplicate delivery is a no-op (``ON CONFLICT DO NOTHING`` on the key). Each row remembers whether
InfluxDB has it yet (``influx_pending``), so an InfluxDB outage leaves a backlog here that the writer
replays, and ``reindex`` can rebuild InfluxDB from the archive. The region columns hold the
collector's reading of the site (2025 commune, former district); the payload keeps what the agent
sent, so a later reading can be re-done.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dokiem import figures as registry
from dokiem.collector.archive.db import Column, Db, Page, Table, ensure_table, every, page_of
from dokiem.collector.archive.registry import AgentRegistry
from dokiem.contract import HOUSEHOLD, RESIDENT, Result, ServerLocation, Source
from dokiem.regions import Place

Placing = Callable[[Result], Place]  # how the collector reads a result's site


def _flags(result: Result) -> str | None:
    """The run's flags as one column ("cpu_saturated,wifi"), so reports can leave such runs out."""
    return ",".join(sorted(flag.value for flag in result.flags)) or None


def _international(result: Result) -> str | None:
    """The column reports filter on: "international" for a run against a foreign server, else empty."""
    if result.server is not None and result.server.location is ServerLocation.INTERNATIONAL:
        return result.server.location.value
    return None


def _technology(result: Result) -> str | None:
    """The radio's technology (4g, 5g, wifi): the report gives 4G and 5G apart."""
    radio = result.radio
    return radio.technology.value if radio is not None and radio.technology is not None else None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class ResultColumn(Column):
    """A column copied out of the Result (so a report over a million results reads columns, not JSON)."""

    of: Callable[[Result, Place], Any] = lambda result, place: None


def _copied(name: str, sql: str, of: Callable[[Result], Any]) -> ResultColumn:
    """A column an older archive may lack, filled from the payloads when it is added."""
    return ResultColumn(name, sql, lambda payload: of(Result.from_json(payload)), lambda result, _place: of(result))


def _figure(name: str) -> ResultColumn:
    return _copied(name, "DOUBLE PRECISION", lambda result: getattr(result, name))


REAL = "DOUBLE PRECISION"
# The figures a report reads (the registry's reported ones), each its own column: an older archive gains a new
# one's column, filled from the payloads, at the collector's next start.
REPORTED_FIGURES = registry.names(lambda f: f.report)
COLUMNS: tuple[ResultColumn, ...] = (
    ResultColumn("result_id", "TEXT PRIMARY KEY", of=lambda r, _p: str(r.result_id)),
    ResultColumn("agent_id", "TEXT NOT NULL", of=lambda r, _p: r.agent_id),
    ResultColumn("started_ms", "BIGINT NOT NULL", of=lambda r, _p: _ms(r.started_at)),
    ResultColumn("province_code", "TEXT", of=lambda _r, p: p.province),
    ResultColumn("district_code", "TEXT", of=lambda _r, p: p.district),
    ResultColumn("commune_code", "TEXT", of=lambda _r, p: p.commune),
    ResultColumn("isp", "TEXT", of=lambda r, _p: r.site.isp),
    ResultColumn("access", "TEXT", of=lambda r, _p: r.site.access.value if r.site.access else None),
    ResultColumn("failed", "INTEGER NOT NULL", of=lambda r, _p: int(r.error is not None)),
    *(_figure(name) for name in REPORTED_FIGURES),
    _copied("plan_down_mbps", REAL, lambda result: result.site.plan_down_mbps),
    _copied("flags", "TEXT", _flags),
    _copied("server_location", "TEXT", _international),
    _copied("technology", "TEXT", _technology),
    _copied("source", "TEXT", lambda result: result.source if result.source == RESIDENT else None),
    _copied("premises", "TEXT", lambda result: result.site.premises if result.site.premises == HOUSEHOLD else None),
    ResultColumn("received_at", "DOUBLE PRECISION NOT NULL"),
    ResultColumn("influx_pending", "INTEGER NOT NULL DEFAULT 1"),
    ResultColumn("payload", "TEXT NOT NULL", of=lambda r, _p: r.to_json()),
)  # fmt: skip
TABLE = Table(
    "results", COLUMNS, key="result_id",
    indexes=("results_started ON results (started_ms)", "results_district ON results (district_code, started_ms)",
             "results_agent_started ON results (agent_id, started_ms)",
             # the backlog in time order: a batch of it read without sorting every pending result (a reindex of a
             # year made each batch sort two million rows under the older index on influx_pending alone)
             "results_pending_started ON results (started_ms) WHERE influx_pending = 1"),
)  # fmt: skip
_INSERTED = tuple(column for column in COLUMNS if column.name not in ("received_at", "influx_pending"))
INSERT = (
    f"INSERT INTO results ({', '.join(c.name for c in _INSERTED)}, received_at)"
    f" VALUES ({','.join('?' * (len(_INSERTED) + 1))}) ON CONFLICT (result_id) DO NOTHING"
)
# What a report reads of each result, by name (never by position).
REPORT_COLUMNS = ("agent_id", "started_ms", "province_code", "district_code", "commune_code", "isp", "access",
                  "technology", "failed", *REPORTED_FIGURES, "plan_down_mbps", "flags", "premises")  # fmt: skip


@dataclass(frozen=True)
class Stored:
    result_id: str
    payload: str


class ResultStore:
    def __init__(self, db: Db, registry: AgentRegistry) -> None:
        self._db = db
        self._registry = registry
        ensure_table(db, TABLE)
        # an older archive's index, replaced by results_pending_started (read-only, as a report on another user's
        # archive: left to the collector's next start)
        with contextlib.suppress(sqlite3.OperationalError):
            db.execute("DROP INDEX IF EXISTS results_pending")

    def add(
        self, results: Sequence[Result], received_at: float | None = None, place: Placing = Place.as_sent_by
    ) -> list[Result]:
        """Store a batch in one transaction; returns the results that were new. The first copy of a
        result_id wins: a later one (here or in the same batch) is a no-op everywhere. The region
        columns hold ``place``'s reading of each site."""
        now = time.time() if received_at is None else received_at
        rows = []
        for result in results:
            where = place(result)
            rows.append((*(column.of(result, where) for column in _INSERTED), now))
        self._db.execute("BEGIN")
        try:
            known = self.known({str(r.result_id) for r in results})
            self._db.executemany(INSERT, rows)
            self._registry.count_results(results, now)
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

    def known(self, result_ids: set[str]) -> set[str]:
        """Those of ``result_ids`` the archive holds."""
        found: set[str] = set()
        ids = sorted(result_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT result_id FROM results WHERE result_id IN ({','.join('?' * len(chunk))})"
            found.update(row[0] for row in self._db.execute(sql, chunk).fetchall())
        return found

    def has(self, result_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM results WHERE result_id = ?", (result_id,)).fetchone() is not None

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def agent_ids(self) -> list[str]:
        """Every agent the archive holds results from."""
        return [str(row[0]) for row in self._db.execute("SELECT DISTINCT agent_id FROM results").fetchall()]

    def count_started_by_hour(self, agent_id: str, first: int, last: int, hour_ms: int) -> dict[int, int]:
        """The agent's results by hour of their start (hours ``first`` to ``last``, exclusive, since the epoch)."""
        rows = self._db.execute(
            f"SELECT started_ms / {int(hour_ms)}, COUNT(*) FROM results WHERE agent_id = ? AND started_ms >= ?"
            " AND started_ms < ? GROUP BY 1", (agent_id, first * hour_ms, last * hour_ms),
        ).fetchall()  # fmt: skip
        return {int(hour): int(count) for hour, count in rows}

    def pending(self, limit: int) -> list[Stored]:
        rows = self._db.execute(
            "SELECT result_id, payload FROM results WHERE influx_pending = 1 ORDER BY started_ms LIMIT ?", (limit,)
        ).fetchall()
        return [Stored(*row) for row in rows]

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results WHERE influx_pending = 1").fetchone()[0])

    def mark_written(self, result_ids: Iterable[str]) -> None:
        self._set_pending(result_ids, 0)

    def mark_pending(self, result_ids: Iterable[str]) -> None:
        """Queue these results for InfluxDB again (a re-admitted one that InfluxDB had refused)."""
        self._set_pending(result_ids, 1)

    def _set_pending(self, result_ids: Iterable[str], pending: int) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("UPDATE results SET influx_pending = ? WHERE result_id = ?",
                             [(pending, i) for i in result_ids])  # fmt: skip
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

    def refile(self, place: Placing, since: datetime, until: datetime | None = None) -> int:
        """Re-read the site of every result started in [since, until) from its payload (archived under a
        pre-reform code, or before the region files changed) and refile its region columns; returns
        how many moved. Batches of 2,000, never the whole range in memory."""
        until_ms, moved, after = _ms(until) if until else 2**62, 0, (-1, "")
        while True:
            # in the started_ms index's order: paging by result_id made each batch sort the whole range
            rows = self._db.execute(
                "SELECT result_id, payload, province_code, district_code, commune_code, started_ms FROM results"
                " WHERE (started_ms, result_id) > (?, ?) AND started_ms >= ? AND started_ms < ?"
                " ORDER BY started_ms, result_id LIMIT 2000",
                (*after, _ms(since), until_ms),
            ).fetchall()
            if not rows:
                return moved
            after = (rows[-1][5], rows[-1][0])
            changes = []
            for result_id, payload, *codes, _started in rows:
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

    def page(
        self,
        district: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        after: tuple[Any, ...] | None = None,
        source: Source | None = None,
    ) -> Page[dict[str, Any]]:
        """Results as filed, oldest first, ``limit`` at a time from after the key ``after`` (a page's
        ``after``); each with ``filed``: the province, former district and 2025 commune the collector filed
        it under (what ``district`` filters on). One ``source``'s alone, or every result (None)."""
        where = "started_ms >= ? AND started_ms < ?"
        args: list[Any] = [_ms(since) if since else 0, _ms(until) if until else 2**62]
        if district:
            where += " AND district_code = ?"
            args.append(district)
        if source == RESIDENT:
            where += " AND source = ?"
            args.append(source)
        elif source is not None:
            where += " AND source IS NULL"
        total = int(self._db.execute(f"SELECT COUNT(*) FROM results WHERE {where}", args).fetchone()[0])
        if after is not None:
            where += " AND (started_ms > ? OR (started_ms = ? AND result_id > ?))"
            args += [after[0], after[0], after[1]]
        rows = self._db.execute(
            "SELECT payload, province_code, district_code, commune_code, started_ms, result_id FROM results"
            f" WHERE {where} ORDER BY started_ms, result_id LIMIT ?", [*args, limit + 1],
        ).fetchall()  # fmt: skip
        found = page_of(rows, limit, total, key=lambda row: (row[4], row[5]))
        items = [json.loads(payload) | {"filed": {"province_code": province, "district_code": district_code,
                                                  "commune_code": commune}}
                 for payload, province, district_code, commune, *_ in found.items]  # fmt: skip
        return Page(items, found.total, found.after)

    def query(self, district: str | None = None, since: datetime | None = None,
              until: datetime | None = None) -> list[dict[str, Any]]:  # fmt: skip
        """Every result of the range (a test's or a script's view; the API pages)."""
        return every(lambda after: self.page(district, since, until, 10_000, after))

    def report_rows(
        self, since: datetime, until: datetime, location: ServerLocation = ServerLocation.DOMESTIC,
        received_by: datetime | None = None, source: str | None = None,
    ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        """REPORT_COLUMNS of every result started in [since, until) against servers at ``location``,
        streamed: domestic and international speed are never mixed in one figure. With ``received_by``,
        only what the collector had received by then: a report cut there reads the same every time.
        Agents' runs (``source`` None) or one other source's alone: never pooled (issue 22)."""
        where = "source IS NULL AND " if source is None else "source = ? AND "
        extra: tuple[Any, ...] = () if source is None else (source,)
        where += "server_location IS NULL" if location is ServerLocation.DOMESTIC else "server_location = ?"
        extra += () if location is ServerLocation.DOMESTIC else (location.value,)
        if received_by is not None:
            where += " AND received_at <= ?"
            extra += (received_by.timestamp(),)
        yield from self._db.stream(
            f"SELECT {', '.join(REPORT_COLUMNS)} FROM results WHERE started_ms >= ? AND started_ms < ? AND {where}",
            (_ms(since), _ms(until), *extra),
        )

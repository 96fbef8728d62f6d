"""What the archive says of itself, as keys and values: for now whether it holds the demo quarter of
``dokiem up --demo`` (every report and site read from it says so, and a deployed collector refuses it)."""

from __future__ import annotations

from dokiem.collector.archive.db import Column, Db, Table, ensure_table

DEMO = "demo"  # set, with the time it was filled, in an archive holding generated results
TABLE = Table("archive_meta", (Column("name", "TEXT PRIMARY KEY"), Column("value", "TEXT NOT NULL")), key="name")


class Meta:
    def __init__(self, db: Db) -> None:
        self._db = db
        ensure_table(db, TABLE)

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM archive_meta WHERE name = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        self._db.execute("DELETE FROM archive_meta WHERE name = ?", (key,))
        self._db.execute("INSERT INTO archive_meta (name, value) VALUES (?, ?)", (key, value))

    @property
    def demo(self) -> bool:
        return self.get(DEMO) is not None

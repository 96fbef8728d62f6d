"""What the archive says of itself, as keys and values: its format and the release that last wrote it (an
older dokiem refuses an archive a newer one wrote in a format it does not know: issue 32), and whether it
holds the demo quarter of ``dokiem up --demo`` (every report and site read from it says so, and a deployed
collector refuses it)."""

from __future__ import annotations

import contextlib
import sqlite3

from dokiem import __version__
from dokiem.collector.archive.db import Column, Db, Table, ensure_table

DEMO = "demo"  # set, with the time it was filled, in an archive holding generated results
FORMAT, WRITTEN_BY = "format", "written_by"
RESEND_SINCE = "resend_since"  # the fleet is to be asked for what it acknowledged since then (after a restore)
RESEND_ASKED = "resend_asked"  # the last such request made: its id, its time, the agents asked
# Raised by the release that changes the archive so that an older one could not read it or would damage it; a
# store's new columns are added and filled in by ensure_table and need no new format (migrations go forwards).
ARCHIVE_FORMAT = 1


class NewerArchive(RuntimeError):
    """The archive was written in a format this release does not know."""

    def __init__(self, where: str, found: int, written_by: str | None) -> None:
        super().__init__(f"{where} is in archive format {found}, written by dokiem {written_by or '?'}; dokiem"
                         f" {__version__} reads format {ARCHIVE_FORMAT} at most: upgrade it to read it")  # fmt: skip
        self.where, self.found, self.written_by = where, found, written_by


TABLE = Table("archive_meta", (Column("name", "TEXT PRIMARY KEY"), Column("value", "TEXT NOT NULL")), key="name")


class Meta:
    def __init__(self, db: Db) -> None:
        self._db = db
        ensure_table(db, TABLE)

    def claim(self) -> None:
        """NewerArchive where a newer release's format is found; else the archive marked as this release's."""
        found = int(self.get(FORMAT) or 0)
        if found > ARCHIVE_FORMAT:
            raise NewerArchive(self._db.where, found, self.get(WRITTEN_BY))
        with contextlib.suppress(sqlite3.OperationalError):  # a report reading another user's archive: as it is
            if found < ARCHIVE_FORMAT:
                self.set(FORMAT, str(ARCHIVE_FORMAT))
            if self.get(WRITTEN_BY) != __version__:
                self.set(WRITTEN_BY, __version__)

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM archive_meta WHERE name = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        self.delete(key)
        self._db.execute("INSERT INTO archive_meta (name, value) VALUES (?, ?)", (key, value))

    def delete(self, key: str) -> None:
        self._db.execute("DELETE FROM archive_meta WHERE name = ?", (key,))

    @property
    def demo(self) -> bool:
        return self.get(DEMO) is not None

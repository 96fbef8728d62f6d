"""The archive's database layer: SQLite by default, PostgreSQL by URL, one SQL for both.

Each store (results, the fleet registry, the quarantine) declares its table; ``ensure_table`` creates
it or, for an archive made by an older dokiem, adds the columns it lacks and fills them in.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Db(Protocol):
    """The little the archive needs of a database connection in autocommit mode."""

    where: str  # for messages: the file, or the PostgreSQL host/database (never the password)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int: ...

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows one batch at a time, never the whole answer in memory."""
        ...

    def size_bytes(self) -> int:
        """What the database takes on disk."""
        ...

    def close(self) -> None: ...


class Sqlite:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # payloads hold the agents' coordinates: the owner's alone (SQLite gives -wal and -shm the same mode)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        with contextlib.suppress(PermissionError):  # another user's archive (a report run as root): as it is
            path.chmod(0o600)
        self.where = str(path.resolve())
        self._path = path
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a commit is on disk when it returns

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._db.execute("BEGIN IMMEDIATE" if sql == "BEGIN" else sql, args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return self._db.executemany(sql, rows).rowcount

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        yield from self._db.execute(sql, args)

    def size_bytes(self) -> int:
        files = (self._path, self._path.with_name(self._path.name + "-wal"))
        return sum(f.stat().st_size for f in files if f.exists())

    def close(self) -> None:
        self._db.close()


class Postgres:
    def __init__(self, url: str) -> None:
        import psycopg

        self.where = url.split("@")[-1]
        self._db = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._db.execute(sql.replace("?", "%s"), args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        with self._db.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)
            return cursor.rowcount

    def stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        with self._db.transaction(), self._db.cursor(name="dokiem_stream") as cursor:
            cursor.itersize = 20_000
            cursor.execute(sql.replace("?", "%s"), args)
            yield from cursor

    def size_bytes(self) -> int:
        row = self._db.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.close()


SQLITE = "sqlite:///"


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite file at ``path``: ``sqlite:////abs/path`` for an absolute one, as SQLAlchemy writes it."""
    return f"{SQLITE}{path}"


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///`` URL names, read as SQLAlchemy reads it: ``sqlite:///archive.db`` is relative to
    the working folder, ``sqlite:////var/lib/dokiem/archive.db`` absolute. Before 0.9 dokiem read three slashes
    as absolute too: a three-slash URL whose relative file is not there but whose absolute one is still opens the
    absolute one (with a warning), so a deployed ``sqlite:///var/lib/…`` keeps its archive."""
    rest = url.removeprefix(SQLITE)
    path = Path(rest)
    if not path.is_absolute():
        legacy = Path("/" + rest)
        if not path.exists() and legacy.exists():
            log.warning("%s: read as %s; write sqlite:///%s (four slashes) for an absolute path", url, legacy, legacy)
            return legacy
    return path


def connect(url: str, create: bool = True) -> Db:
    """The database at ``url``; ``create=False`` refuses a SQLite file that does not exist rather than
    start an empty archive in the wrong place."""
    if url.startswith(SQLITE):
        path = sqlite_path(url)
        if not create and not path.exists():
            raise FileNotFoundError(errno.ENOENT, f"no archive at {path.resolve()}", str(path.resolve()))
        return Sqlite(path)
    if url.startswith(("postgresql://", "postgres://")):
        return Postgres(url)
    raise ValueError(f"{url!r}: use sqlite:///relative/archive.db, sqlite:////absolute/archive.db or"
                     " postgresql://user:password@host/db")  # fmt: skip


@dataclass(frozen=True)
class Column:
    """A column of a store's table: its name, its SQL type, and (for columns an older archive may lack)
    how to fill it from what the row already holds."""

    name: str
    sql: str
    backfill: Callable[[Any], Any] | None = None  # from the row's ``Table.source`` column


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    indexes: tuple[str, ...] = ()  # "name ON table (columns)"
    key: str = "id"
    source: str = "payload"  # what a backfill reads

    def create(self) -> str:
        return f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(f'{c.name} {c.sql}' for c in self.columns)})"

    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def ensure_table(db: Db, table: Table) -> None:
    """Create ``table``, or add the columns an archive made before them lacks (filled from the rows)."""
    db.execute(table.create())
    for index in table.indexes:
        db.execute(f"CREATE INDEX IF NOT EXISTS {index}")
    have = {description[0] for description in db.execute(f"SELECT * FROM {table.name} LIMIT 0").description}
    missing = [column for column in table.columns if column.name not in have]
    for column in missing:
        db.execute(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.sql}")
    filled = [column for column in missing if column.backfill is not None]
    if not filled:
        return
    rows = [(*(column.backfill(source) for column in filled), key)  # type: ignore[misc]
            for key, source in db.stream(f"SELECT {table.key}, {table.source} FROM {table.name}")]  # fmt: skip
    assignments = ", ".join(f"{column.name} = ?" for column in filled)
    db.execute("BEGIN")
    db.executemany(f"UPDATE {table.name} SET {assignments} WHERE {table.key} = ?", rows)
    db.execute("COMMIT")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items, how many the whole listing holds, and the key of the last item
    (where the next page starts; None when this is the last)."""

    items: list[T]
    total: int
    after: tuple[Any, ...] | None


def page_of(rows: list[Any], limit: int, total: int, key: Callable[[Any], tuple[Any, ...]]) -> Page[Any]:
    """``rows`` read with ``LIMIT limit + 1``: the extra row only says that another page follows."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, total, key(rows[-1]) if more and rows else None)


def every(page: Callable[[tuple[Any, ...] | None], Page[T]]) -> list[T]:
    """Every item of a listing, a page at a time (``page(after)`` gives the page after a key)."""
    found: list[T] = []
    after = None
    while True:
        current = page(after)
        found += current.items
        if current.after is None:
            return found
        after = current.after


def printable(text: str) -> str:
    """Text PostgreSQL and SQLite both take: no NUL, no lone surrogate."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")

"""Backups of what the server cannot rebuild (issue 32): the archive (results, the fleet's registry, the
quarantine, the residents' sender buckets), and the files the collector's config names (its keys, the test
servers' public keys, the broker's CA) with any others the department adds (the PKI folder, letterheads,
thresholds).

A backup is a folder ``dokiem-backup-<UTC time>`` under the one given, written as ``….partial`` and renamed
once whole, so a copy cut short never looks like a backup. It holds the archive (SQLite: the online backup
API, consistent while the collector writes; PostgreSQL: ``pg_dump``'s custom format), each file under
``files/`` and ``manifest.json``: what each file was, its size and SHA-256, and the archive's counts. InfluxDB
is not backed up: it is rebuilt from the archive (``dokiem collector reindex``).

``verify`` checks every checksum and opens a scratch copy of the archive (SQLite's integrity check and its
counts; for a dump ``pg_restore --list``); ``restore`` does the same, then puts the archive where the config
says, onto an empty place only, and each file back where it was, never over a different one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dokiem import __version__
from dokiem.collector.archive import Archive, quarantine, registry, results
from dokiem.collector.archive.db import SQLITE, sqlite_path
from dokiem.collector.archive.meta import RESEND_SINCE
from dokiem.collector.config import CollectorConfig
from dokiem.collector.watch import LAST_BACKUP

MANIFEST = "manifest.json"
FORMAT = 1  # of the manifest; a newer one is refused by an older dokiem
PREFIX = "dokiem-backup-"
SQLITE_FILE, DUMP_FILE = "archive.db", "archive.pgdump"
CHUNK = 1 << 20
# The fleet is asked for what the broker acknowledged from this long before the backup: a result acknowledged
# then may still have been on its way to the archive (a collector behind, or stopped, for up to a day). What
# the archive already holds is taken once (by result_id); the agents keep 14 days (keep_sent_days).
RESEND_MARGIN = timedelta(days=1)

Say = Callable[..., None]  # say(key, **fields): progress, worded by the command (``backup_say_*`` messages)


class BackupError(Exception):
    """What went wrong, for the user: a message key (collector/messages.py, ``backup_error_*``) and its fields,
    which name the file or the step; the message says what to do."""

    def __init__(self, key: str, **fields: object) -> None:
        super().__init__(key, fields)
        self.key, self.fields = key, fields


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str  # inside the backup folder
    original: str | None = None  # where it was on the server (None: the archive)
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    mode: int = Field(ge=0, le=0o7777)


class ArchiveEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern="^(sqlite|postgresql)$")
    file: str
    results: int = Field(ge=0)
    agents: int = Field(ge=0)
    quarantined: int = Field(ge=0)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int
    dokiem: str
    created_at: datetime
    archive: ArchiveEntry
    files: list[FileEntry]


ARCHIVE = ""  # what a Check of the archive names (a file's names its path)


@dataclass
class Check:
    """One check of ``verify``: what was checked (a file's original path, or ARCHIVE), whether it held, and
    how it did not or what it found (a ``backup_check_*`` message key and its fields)."""

    what: str
    ok: bool
    said: str = "ok"
    fields: dict[str, object] = field(default_factory=dict)


def take(config: CollectorConfig, to: Path, extra: Iterable[Path], say: Say, keep: int | None = None) -> Path:
    """A backup of the archive and the files under ``to``; its folder. With ``keep``, only the newest ``keep``
    backups under ``to`` stay (the others removed once this one is whole)."""
    to.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC).replace(microsecond=0)
    final = to / _unused_name(to, f"{created:%Y%m%dT%H%M%S}")
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    archive = _archive_into(config.archive_url, partial, say)
    files = [_entry(partial, archive.file, None)]
    for n, original in enumerate(_files_of(config, extra)):
        say("file", path=original)
        files.append(_copy_in(original, partial, f"files/{n:04d}-{original.name}"))
    manifest = Manifest(format=FORMAT, dokiem=__version__, created_at=created, archive=archive, files=files)
    _write_synced(partial / MANIFEST, manifest.model_dump_json(indent=2).encode())
    os.chmod(partial / MANIFEST, 0o600)
    partial.rename(final)
    _sync_dir(to)
    _note_in_archive(config.archive_url, LAST_BACKUP, created.isoformat())  # the server's board and alert read it
    if keep is not None:
        backups = sorted((taken, path) for path in to.glob(f"{PREFIX}*") if (taken := _taken(path.name)))
        for _, old in backups[:-keep]:
            say("pruned", path=old)
            shutil.rmtree(old)
    return final


_NAME = re.compile(rf"{PREFIX}(\d{{8}}T\d{{6}})Z(?:-(\d+))?")  # its UTC second, and N for the N-th that second


def _taken(name: str) -> tuple[str, int] | None:
    """(second, N) of a whole backup's folder name, in the order backups were taken; None for anything else."""
    match = _NAME.fullmatch(name)
    return None if match is None else (match[1], int(match[2] or 1))


def _unused_name(to: Path, second: str) -> str:
    """The folder name for a backup taken in ``second``: ``…Z``, or ``…Z-N`` after every one taken in it (a cut
    one too), so that the backups sort in the order they were taken (what --keep reads)."""
    numbers = [taken[1] for path in to.glob(f"{PREFIX}{second}Z*")
               if (taken := _taken(path.name.removesuffix(".partial")))]  # fmt: skip
    return f"{PREFIX}{second}Z" + (f"-{max(numbers) + 1}" if numbers else "")


def _archive_into(url: str, folder: Path, say: Say) -> ArchiveEntry:
    if url.startswith(SQLITE):
        return _sqlite_into(sqlite_path(url), folder / SQLITE_FILE, say)
    if url.startswith(("postgresql://", "postgres://")):
        return _postgres_into(url, folder / DUMP_FILE, say)
    raise BackupError("bad_url", where=url.split("@")[-1])


def _sqlite_into(source: Path, copy: Path, say: Say) -> ArchiveEntry:
    """SQLite's online backup: one read transaction, so a consistent copy while the collector writes (WAL)."""
    if not source.is_file():
        raise BackupError("no_archive", path=source)
    say("archive", where=source, mb=source.stat().st_size / 1e6)
    with _sqlite(source, readonly=True) as live, _sqlite(copy) as into:
        live.backup(into)
        into.execute("PRAGMA journal_mode=DELETE")  # one self-contained file (the live archive's is WAL)
        counts = _counts(into)
    os.chmod(copy, 0o600)
    _fsync(copy)
    return ArchiveEntry(kind="sqlite", file=SQLITE_FILE, **counts)


def _postgres_into(url: str, dump: Path, say: Say) -> ArchiveEntry:
    """``pg_dump``'s custom format: one consistent snapshot of the database (a province with continuous
    archiving runs pgBackRest beside it: docs/operations.md)."""
    say("dump", where=url.split("@")[-1])
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", url], "pg_dump")
    os.chmod(dump, 0o600)
    _fsync(dump)
    counts = _counts_postgres(url)
    return ArchiveEntry(kind="postgresql", file=DUMP_FILE, **counts)


def _files_of(config: CollectorConfig, extra: Iterable[Path]) -> list[Path]:
    """The files the config names that exist, and every file under each extra path; each once, in order."""
    named = [config.residents.key_file, *(server.public_key for server in config.residents.servers),
             config.broker.ca_file]  # fmt: skip
    found: dict[Path, None] = {}
    for path in [*(p for p in named if p is not None), *extra]:
        path = Path(path).resolve()
        if not path.exists():
            raise BackupError("no_file", path=path)
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                found.setdefault(file, None)
    return list(found)


def _copy_in(original: Path, folder: Path, name: str) -> FileEntry:
    target = folder / name
    target.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        shutil.copyfile(original, target)
    except OSError as exc:
        raise BackupError("unreadable", path=original, reason=exc.strerror or exc) from None
    mode = original.stat().st_mode & 0o7777
    os.chmod(target, mode & 0o700 or 0o600)  # nobody else reads a copy of a key
    _fsync(target)
    return _entry(folder, name, str(original), mode)


def _entry(folder: Path, name: str, original: str | None, mode: int = 0o600) -> FileEntry:
    size, digest = _digest(folder / name)
    return FileEntry(name=name, original=original, bytes=size, sha256=digest, mode=mode)


def read_manifest(backup: Path) -> Manifest:
    path = backup / MANIFEST
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise BackupError("no_manifest", path=path) from None
    except ValidationError as exc:
        raise BackupError("bad_manifest", path=path, reason=exc.errors()[0]["msg"]) from None
    if manifest.format > FORMAT:
        raise BackupError("newer", path=backup, version=manifest.dokiem)
    return manifest


def verify(backup: Path, say: Say) -> list[Check]:
    """Every file's size and checksum, then the archive opened from a scratch copy and counted."""
    manifest = read_manifest(backup)
    checks = [_check_file(backup, entry) for entry in manifest.files]
    for check in checks:
        say("checked", check=check)
    if all(check.ok for check in checks):
        archive = _check_archive(backup, manifest.archive)
        say("checked", check=archive)
        checks.append(archive)
    return checks


def _check_file(backup: Path, entry: FileEntry) -> Check:
    what = entry.original or entry.name
    path = backup / entry.name
    if not path.is_file():
        return Check(what, False, "missing")
    size, digest = _digest(path)
    if size != entry.bytes or digest != entry.sha256:
        return Check(what, False, "changed", {"bytes": size, "expected": entry.bytes, "sha": digest[:12],
                                              "expected_sha": entry.sha256[:12]})  # fmt: skip
    return Check(what, True)


def _check_archive(backup: Path, archive: ArchiveEntry) -> Check:
    if archive.kind == "postgresql":
        done = subprocess.run(["pg_restore", "--list", str(backup / archive.file)], capture_output=True, text=True)
        ok = done.returncode == 0 and "TABLE DATA public results" in done.stdout
        return Check(ARCHIVE, ok, "dump_ok" if ok else "dump", {"reason": done.stderr.strip()[:300]})
    with tempfile.TemporaryDirectory(prefix="dokiem-verify-") as scratch:
        copy = Path(scratch) / SQLITE_FILE
        shutil.copyfile(backup / archive.file, copy)
        try:
            with _sqlite(copy) as db:
                integrity = str(db.execute("PRAGMA integrity_check").fetchone()[0])
                counts = _counts(db)
        except sqlite3.DatabaseError as exc:
            return Check(ARCHIVE, False, "integrity", {"integrity": str(exc)})
    expected = {"results": archive.results, "agents": archive.agents, "quarantined": archive.quarantined}
    if integrity != "ok" or counts != expected:
        said = "integrity" if integrity != "ok" else "counts"
        return Check(ARCHIVE, False, said, {"integrity": integrity, **counts})
    return Check(ARCHIVE, True, "archive_ok", {**counts})


def restore(backup: Path, config: CollectorConfig, say: Say) -> Manifest:
    """The backup checked whole, then the archive put where the config says (only onto an empty place) and each
    file back where it was (one already there with other contents is left, and named, before anything is
    written)."""
    manifest = read_manifest(backup)
    damaged = [check for check in verify(backup, say) if not check.ok]
    if damaged:
        raise BackupError("damaged", path=backup, what=damaged[0].what or SQLITE_FILE)
    files = [entry for entry in manifest.files if entry.original is not None]
    clashes = [entry.original for entry in files if _differs(entry)]
    if clashes:
        raise BackupError("clash", paths=", ".join(str(c) for c in clashes))
    _archive_from(backup, manifest.archive, config.archive_url, say)
    # the restored archive asks the fleet, once the collector runs, for what it acknowledged since the backup
    _note_in_archive(config.archive_url, RESEND_SINCE, (manifest.created_at - RESEND_MARGIN).isoformat())
    for entry in files:
        assert entry.original is not None
        target = Path(entry.original)
        if target.exists():
            continue  # the same contents
        say("file", path=target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(backup / entry.name, target)
        os.chmod(target, entry.mode)
        _fsync(target)
    return manifest


def _note_in_archive(url: str, key: str, value: str) -> None:
    archive = Archive.from_url(url, create=False)
    try:
        archive.meta.set(key, value)
    finally:
        archive.close()


def _differs(entry: FileEntry) -> bool:
    assert entry.original is not None
    target = Path(entry.original)
    return target.exists() and _digest(target)[1] != entry.sha256


def _archive_from(backup: Path, archive: ArchiveEntry, url: str, say: Say) -> None:
    if archive.kind == "sqlite":
        if not url.startswith(SQLITE):
            raise BackupError("kind", held="SQLite", named="PostgreSQL")
        target = sqlite_path(url).resolve()
        if target.exists() and target.stat().st_size > 0:
            _refuse_unless_empty(target)
        say("restoring", where=target)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(backup / archive.file, partial)
        os.chmod(partial, 0o600)
        _fsync(partial)
        partial.rename(target)
        return
    if not url.startswith(("postgresql://", "postgres://")):
        raise BackupError("kind", held="PostgreSQL", named="SQLite")
    if _has_results_table(url):  # pg_restore makes the tables: even an empty archive's are in its way
        raise BackupError("not_empty", where=url.split("@")[-1])
    say("restoring", where=url.split("@")[-1])
    _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url}", str(backup / archive.file)], "pg_restore")


def _refuse_unless_empty(target: Path) -> None:
    """An archive file holding nothing (a collector started once on the new machine) is replaced; one holding
    any result, agent or kept message is not."""
    try:
        with _sqlite(target, readonly=True) as db:
            held = any(_counts(db).values())
    except sqlite3.DatabaseError:
        held = True  # not an archive we can read: not ours to overwrite
    if held:
        raise BackupError("not_empty", where=target)
    for stale in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)


def _has_results_table(url: str) -> bool:
    import psycopg

    with psycopg.connect(url) as db:
        return db.execute("SELECT to_regclass('public.results') IS NOT NULL").fetchone() == (True,)


def _counts(db: sqlite3.Connection) -> dict[str, int]:
    return {name: _count(db.execute, table) for name, table in _COUNTED.items()}


def _counts_postgres(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as db:
        return {name: _count(db.execute, table) for name, table in _COUNTED.items()}


_COUNTED = {"results": results.TABLE.name, "agents": registry.TABLE.name, "quarantined": quarantine.TABLE.name}


def _count(execute: Callable[[str], Any], table: str) -> int:
    return int(execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


class _sqlite:
    """A plain connection to an archive file, closed on leaving (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        self._db = sqlite3.connect(uri, uri=True, timeout=30)

    def __enter__(self) -> sqlite3.Connection:
        return self._db

    def __exit__(self, *_: object) -> None:
        self._db.close()


def _run(command: list[str], tool: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError("no_tool", tool=tool) from None
    if done.returncode != 0:
        raise BackupError("tool_failed", tool=tool, reason=done.stderr.strip()[:300])


def _digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    with path.open("rb+") as f:
        os.fsync(f.fileno())


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

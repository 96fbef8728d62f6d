"""The archive: the system of record, in one database (SQLite by default; PostgreSQL by URL for
deployments that outgrow one machine; the SQL is the same for both). Seven stores, a table each:

- ``results``: every accepted Result, keyed by result_id (``results.py``);
- ``registry``: the fleet, each agent's contact, site, health and schedule (``registry.py``);
- ``quarantine``: every message refused or failed, kept to inspect and re-admit (``quarantine.py``);
- ``senders``: residents' addresses counted into 16 keyed buckets a day, never kept (``senders.py``);
- ``surveys``: coverage surveys' batches and their placed samples (``surveys.py``);
- ``nosignal``: residents' "no signal" reports, a cell each (``nosignal.py``);
- ``archive_meta``: what the archive says of itself, e.g. that it holds demo data (``meta.py``);

over the database layer (``db.py``).
"""

from __future__ import annotations

from dokiem.collector.archive.db import Db, Page, connect, sqlite_url
from dokiem.collector.archive.meta import Meta, NewerArchive
from dokiem.collector.archive.nosignal import FiledReport, NoSignalStore
from dokiem.collector.archive.quarantine import Quarantine, Quarantined
from dokiem.collector.archive.registry import AgentRegistry
from dokiem.collector.archive.results import REPORT_COLUMNS, Placing, ResultStore, Stored
from dokiem.collector.archive.senders import Senders, SenderSpread, bucket_of
from dokiem.collector.archive.surveys import SurveyStore

__all__ = ["REPORT_COLUMNS", "AgentRegistry", "Archive", "FiledReport", "Meta", "NewerArchive", "NoSignalStore",
           "Page", "Placing", "Quarantine", "Quarantined", "ResultStore", "SenderSpread", "Senders", "Stored",
           "SurveyStore", "bucket_of", "sqlite_url"]  # fmt: skip


class Archive:
    def __init__(self, db: Db) -> None:
        self._db = db
        self.where = db.where
        self.meta = Meta(db)
        try:
            self.meta.claim()  # before any store touches a table a newer release may have changed
        except NewerArchive:
            db.close()
            raise
        self.registry = AgentRegistry(db)
        self.results = ResultStore(db, self.registry)
        self.quarantine = Quarantine(db)
        self.senders = Senders(db)
        self.surveys = SurveyStore(db)
        self.nosignal = NoSignalStore(db)

    @classmethod
    def from_url(cls, url: str, create: bool = True) -> Archive:
        """The archive at ``url``; ``create=False`` (reports, enrolment) refuses a SQLite file that
        does not exist rather than start an empty archive in the wrong place."""
        return cls(connect(url, create))

    def size_bytes(self) -> int:
        return self._db.size_bytes()

    def close(self) -> None:
        self._db.close()

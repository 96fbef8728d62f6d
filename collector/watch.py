"""The server watched (issue 32): what the collector says of itself each minute, into InfluxDB beside the
fleet's health, for the dashboards and the alert rules (a stopped collector, a failing backup, a full disk, a
certificate near its end).

Each reading is the server's own: messages taken and refused in the minute, InfluxDB's backlog, the archive's
size, the disk under the data directory, hours since the last good backup (``dokiem backup`` notes it in the
archive; before any, hours since the collector was first watched), and days to the nearest expiry among the
certificates the config names (``collector.watch_certificates``: the broker's, the CA).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

LAST_BACKUP = "last_backup"  # archive_meta: the time of the last backup dokiem backup finished
WATCHED_SINCE = "watched_since"  # archive_meta: when the collector first watched itself
WATCH_S = 60.0


@dataclass(frozen=True)
class ServerState:
    messages_in: int
    refused: int
    influx_backlog: int
    archive_mb: float
    disk_used_pct: float
    backup_age_h: float
    cert_days_left: float | None


@dataclass
class Tally:
    """The collector's running counts at the last reading, so each reading says the minute's."""

    taken: int = 0
    refused: int = 0

    def since(self, taken: int, refused: int) -> tuple[int, int]:
        minute = (taken - self.taken, refused - self.refused)
        self.taken, self.refused = taken, refused
        return minute


def disk_used_pct(folder: Path) -> float:
    """How full the disk under ``folder`` is (its nearest existing parent's: a PostgreSQL archive's collector may
    never make its data directory)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    return 100.0 * usage.used / usage.total if usage.total else 0.0


def hours_since(moment: str | None, now: float) -> float | None:
    if moment is None:
        return None
    try:
        return max(0.0, (now - datetime.fromisoformat(moment).timestamp()) / 3600)
    except ValueError:
        return None


def certificate_days_left(paths: Iterable[Path], now: float | None = None) -> float | None:
    """Days until the first of the certificates ends (negative once one has); None without any. A file that
    cannot be read as PEM counts as ended: an alert, not a silence."""
    now = time.time() if now is None else now
    left = []
    for path in paths:
        try:
            certificate = x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError):
            left.append(0.0)
            continue
        left.append((certificate.not_valid_after_utc.timestamp() - now) / 86_400)
    return min(left, default=None)


def utc_iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()

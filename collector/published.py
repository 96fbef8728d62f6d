"""What the province has published of its communes (the site ``dokiem publish`` wrote, which the collector
serves at /public/): each commune's published medians by access, for a resident's page to set its result
beside (issue 22). Only what the site shows is read: a held-back group has no figures there."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from dokiem.files import COMMUNES_LEVEL, OPEN_DATA

log = logging.getLogger(__name__)
Medians = dict[str, dict[str, dict[str, float | int]]]  # commune code → access → figure → value


class PublishedMedians:
    """The communes' file of a published site, read again whenever it changes."""

    def __init__(self, site: Path | None) -> None:
        self.path = site / OPEN_DATA / f"{COMMUNES_LEVEL}.json" if site is not None else None
        self._read_at: float | None = None
        self._medians: Medians = {}

    def medians(self) -> Medians:
        if self.path is None:
            return {}
        try:
            changed = self.path.stat().st_mtime
        except OSError:
            return {}  # nothing published yet
        if changed != self._read_at:
            self._medians, self._read_at = self._read(self.path), changed
        return self._medians

    @staticmethod
    def _read(path: Path) -> Medians:
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("%s cannot be read (%s): the residents' page shows no published median", path, exc)
            return {}
        found: Medians = {}
        for row in rows if isinstance(rows, list) else []:
            figures = _figures(row)
            if figures is not None:
                found.setdefault(str(row["code"]), {})[str(row["access"])] = figures
        return found


def _figures(row: Any) -> dict[str, float | int] | None:
    """A published row's medians, or None for a held-back row or one that is not a commune's."""
    if not isinstance(row, dict) or not row.get("published") or not row.get("code") or not row.get("access"):
        return None
    down, up, tests = row.get("download_median_mbps"), row.get("upload_median_mbps"), row.get("tests")
    if not isinstance(down, int | float) or not isinstance(up, int | float):
        return None
    return {"download_mbps": down, "upload_mbps": up, "tests": tests if isinstance(tests, int) else 0}

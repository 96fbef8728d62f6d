"""What the running agent knows about itself, kept in ``state.json`` for ``dokiem agent status``."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dokiem.contract import Result
from dokiem.files import write_atomically

KEEP_LAST_RESULTS = 5
log = logging.getLogger(__name__)


@dataclass
class AgentState:
    path: Path | None = None
    connected: bool = False
    connected_changed_at: float | None = None
    last_error: str | None = None
    last_run_error: str | None = None
    config_error: str | None = None
    fleet_version: str | None = None
    next_run_at: float | None = None
    skipped_runs: int = 0
    interval_minutes: float | None = None  # the schedule in force, so the collector can count missed runs
    light_interval_minutes: float | None = None
    international_interval_minutes: float | None = None
    pid: int = field(default_factory=os.getpid)
    last_results: list[dict[str, Any]] = field(default_factory=list)

    def set_connected(self, connected: bool, error: str | None) -> None:
        if connected != self.connected:
            self.connected_changed_at = time.time()
        self.connected = connected
        self.last_error = error
        self.save()

    def record_result(self, result: Result) -> None:
        summary = {
            "result_id": str(result.result_id),
            "started_at": result.started_at.isoformat(),
            "download_mbps": result.download_mbps,
            "upload_mbps": result.upload_mbps,
            "latency_ms": result.latency_ms,
            "loss_pct": result.loss_pct,
            "error": result.error.code if result.error else None,
        }
        self.last_results = [summary, *self.last_results][:KEEP_LAST_RESULTS]
        self.last_run_error = f"{result.error.code}: {result.error.message}" if result.error else None
        self.save()

    def save(self) -> None:
        """Kept for ``dokiem agent status``; on a full disk the last copy stays and the agent goes on."""
        if self.path is None:
            return
        data = asdict(self)
        data.pop("path")
        try:
            write_atomically(self.path, json.dumps(data, ensure_ascii=False, indent=1))
        except OSError as exc:
            log.debug("cannot write %s: %s", self.path, exc.strerror or exc)

    @classmethod
    def load(cls, path: Path) -> AgentState | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "path"}
        return cls(path=path, **known)

"""Fleet config: what the collector publishes, retained, on ``dokiem/v1/{id}/config``.

A valid config is kept on disk and takes effect at the next period; an invalid one is refused
(the reason goes into the status heartbeat) and the config in force stays. An empty retained
message withdraws the fleet config: the agent's own file applies again from the next period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from dokiem.files import write_atomically
from dokiem.fleet import FleetConfig, parse_fleet_config

log = logging.getLogger(__name__)


class FleetStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "fleet-config.json"

    def load(self) -> FleetConfig | None:
        try:
            return FleetConfig.model_validate_json(self.path.read_bytes(), strict=True)
        except (OSError, ValidationError):
            return None

    def accept(self, payload: bytes, applies: Callable[[FleetConfig], object]) -> tuple[FleetConfig | None, str | None]:
        """(new config or None to withdraw, refusal reason or None). ``applies`` raises ValueError when the
        config, merged with the agent's own, cannot be used; such a config is refused and not kept."""
        if not payload.strip():
            self.path.unlink(missing_ok=True)
            return None, None
        try:
            fleet = parse_fleet_config(payload)
            applies(fleet)
        except ValueError as exc:
            return None, str(exc)
        try:
            write_atomically(self.path, fleet.to_json())
        except OSError as exc:  # a full disk: it applies now, and is asked for again at the next connect
            log.warning("cannot keep the fleet config on disk: %s", exc.strerror or exc)
        return fleet, None

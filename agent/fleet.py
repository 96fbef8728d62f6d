"""Fleet config: what the collector publishes, retained, on ``dokiem/v1/{id}/config``.

A valid config is kept on disk and takes effect at the next period; an invalid one is refused
(the reason goes into the status heartbeat) and the config in force stays. An empty retained
message withdraws the fleet config: the agent's own file applies again from the next period.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from dokiem.files import write_atomically
from dokiem.fleet import FleetConfig, parse_fleet_config


class FleetStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "fleet-config.json"

    def load(self) -> FleetConfig | None:
        try:
            return FleetConfig.model_validate_json(self.path.read_bytes())
        except (OSError, ValidationError):
            return None

    def accept(self, payload: bytes) -> tuple[FleetConfig | None, str | None]:
        """(new config or None to withdraw, refusal reason or None)."""
        if not payload.strip():
            self.path.unlink(missing_ok=True)
            return None, None
        try:
            fleet = parse_fleet_config(payload)
        except ValueError as exc:
            return None, str(exc)
        write_atomically(self.path, fleet.model_dump_json(indent=1))
        return fleet, None

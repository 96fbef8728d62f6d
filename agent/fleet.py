"""Fleet config: what the collector publishes, retained, on ``dokiem/v1/{id}/config``.

A valid config is kept on disk and takes effect at the next period; an invalid one is refused
(the reason goes into the status heartbeat) and the config in force stays. An empty retained
message withdraws the fleet config: the agent's own file applies again from the next period.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from agent.config import FleetConfig
from dokiem.files import write_atomically

MAX_CONFIG_BYTES = 64 << 10


def parse_fleet_config(payload: bytes) -> FleetConfig:
    """The fleet config in ``payload``; ValueError saying where it is wrong (agent and collector alike)."""
    if len(payload) > MAX_CONFIG_BYTES:
        raise ValueError(f"the config is {len(payload)} bytes, over the {MAX_CONFIG_BYTES} limit")
    try:
        return FleetConfig.model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise ValueError(f"{where}: {first['msg']}") from None


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

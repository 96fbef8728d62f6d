"""Helpers for the agent tests: configs and results made on the spot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dokiem.agent.config import AgentConfig, load
from dokiem.agent.probes.http import SpeedSettings
from dokiem.contract import Method, Result, utcnow

# short phases: a test's transfer ends in about two seconds a direction
QUICK = SpeedSettings(warmup_max_s=1.0, measure_min_s=1.0, measure_max_s=1.5)


MEASURED_S = 10.0


def write_config(folder: Path, broker_url: str, **sections: dict[str, object]) -> Path:
    """An agent.toml for tests: no scheduled runs unless the test asks for them."""
    base: dict[str, dict[str, object]] = {
        "agent": {"id": "th-380-001", "data_dir": str(folder / "data")},
        "broker": {"url": broker_url, "heartbeat_s": 3600},
        "schedule": {"interval_minutes": 0, "light_interval_minutes": 0, "clock_wait_minutes": 0},
        "measure": {"servers": [], "max_seconds": 3, "ping_count": 2},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    lines: list[str] = []
    for name, values in base.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            lines.append(f"{key} = {toml_value(value)}")
        lines.append("")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "agent.toml"
    path.write_text("\n".join(lines))
    return path


def toml_value(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {toml_value(v)}" for key, v in value.items()) + "}"
    return str(value)


def config_for(folder: Path, broker_url: str, **sections: dict[str, object]) -> AgentConfig:
    return load(write_config(folder, broker_url, **sections), environ={})


def make_result(n: int = 0, agent_id: str = "th-380-001") -> Result:
    """A download of 100 + n Mbit/s measured over 10 s, its bytes as the agent counts them."""
    start = utcnow() - timedelta(minutes=1, seconds=n)  # distinct start times: distinct InfluxDB points
    mbps = 100.0 + n
    return Result(
        agent_id=agent_id,
        started_at=start,
        finished_at=start + timedelta(seconds=20),
        download_mbps=mbps,
        bytes_down=round(mbps * 1e6 / 8 * MEASURED_S),
        method=Method(name="dokiem-http", version="1", measured_down_s=MEASURED_S),
    )

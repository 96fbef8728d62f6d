"""The InfluxDB writer: Results as line protocol, batched, to the 1.x-compatible ``/write``.

Measurement ``speedtest`` (tags province, district, commune, isp, access, agent, server, and for
Grafana's sake district_name, commune_name, the local hour of the run and the error code of a failed
run; the figures as fields) and ``agent_health`` for heartbeats (with the runs expected and
received, so the fleet dashboard can show missed runs). The point time is the measurement's
start (ms), so a replayed result overwrites itself instead of doubling. InfluxDB 1.x takes a
user/password, 2.x/3.x a token (the DBRP mapping gives InfluxQL the bucket).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from collector.config import InfluxSection
from dokiem.contract import COUNTS, FIGURES, LOCAL_TIME, Result


class InfluxUnavailable(Exception):
    """InfluxDB did not take the batch; the caller keeps it and tries again later."""


def _tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(" ", "\\ ").replace("=", "\\=").replace("\n", " ")


def _tags(pairs: dict[str, str | None]) -> str:
    return "".join(f",{k}={_tag(v)}" for k, v in sorted(pairs.items()) if v)


def result_line(result: Result, district_name: str | None = None, commune_name: str | None = None) -> str:
    """One ``speedtest`` point; the names default to the ones the agent sent (the collector passes the
    region files' own spelling)."""
    site = result.site
    tags = _tags({
        "province": site.province_code, "district": site.district_code, "commune": site.commune_code,
        "district_name": district_name or site.district_name, "commune_name": commune_name or site.commune_name,
        "isp": site.isp, "access": site.access.value if site.access else None, "agent": result.agent_id,
        "server": result.server.id if result.server else None, "hour": f"{result.started_at.astimezone(LOCAL_TIME):%H}",
        "error": result.error.code if result.error else None,
    })  # fmt: skip
    fields = [f"{name}={float(v)!r}" for name in FIGURES if (v := getattr(result, name)) is not None]
    fields += [f"{name}={v}i" for name in COUNTS if (v := getattr(result, name)) is not None]
    fields.append(f"failed={1 if result.error else 0}i")
    if site.plan_down_mbps is not None:
        fields.append(f"plan_down_mbps={float(site.plan_down_mbps)!r}")
    if result.method.streams_down is not None:
        fields.append(f"streams_down={result.method.streams_down}i")
    stamp = int(result.started_at.timestamp() * 1000)
    return f"speedtest{tags} {','.join(fields)} {stamp}"


def health_line(
    agent_id: str, status: dict[str, Any], site: dict[str, Any] | None, runs: RunCount | None = None,
    at_ms: int | None = None,
) -> str:  # fmt: skip
    site = site or {}
    tags = _tags({"agent": agent_id, "province": site.get("province_code"), "district": site.get("district_code"),
                  "district_name": site.get("district_name"), "commune": site.get("commune_code"),
                  "isp": site.get("isp")})  # fmt: skip
    fields = [f"online={1 if status.get('state') == 'online' else 0}i"]
    health = status.get("health") or {}
    for key in ("cpu_pct", "memory_pct", "temperature_c", "disk_pct", "load1"):
        value = health.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            fields.append(f"{key}={float(value)!r}")
    if isinstance(health.get("uptime_s"), int):
        fields.append(f"uptime_s={health['uptime_s']}i")
    outbox = status.get("outbox") or {}
    for key in ("depth", "dropped_age", "dropped_size"):
        if isinstance(outbox.get(key), int):
            fields.append(f"outbox_{key}={outbox[key]}i")
    if runs is not None:
        fields.append(f"runs_received={runs.received}i")
        if runs.expected is not None:
            fields.append(f"runs_expected={runs.expected}i,runs_missed={max(0, runs.expected - runs.received)}i")
    return f"agent_health{tags} {','.join(fields)} {at_ms or int(time.time() * 1000)}"


@dataclass(frozen=True)
class RunCount:
    """Runs an agent was expected to make since it was first seen, and how many arrived."""

    expected: int | None
    received: int


class InfluxWriter:
    def __init__(self, target: InfluxSection, session: aiohttp.ClientSession) -> None:
        assert target.url, "InfluxDB is configured (influx.url)"
        self.url = target.url.rstrip("/")
        self.target = target
        self.session = session
        self.last_write_s: float | None = None

    def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        headers: dict[str, str] = {}
        params = {"db": self.target.db, "precision": "ms"}
        if self.target.token:
            headers["Authorization"] = f"Token {self.target.token}"
        elif self.target.username:
            params |= {"u": self.target.username, "p": self.target.password or ""}
        return headers, params

    async def write(self, lines: Sequence[str]) -> None:
        if not lines:
            return
        headers, params = self._auth()
        t0 = time.perf_counter()
        try:
            async with self.session.post(
                self.url + "/write", params=params, data="\n".join(lines).encode(), headers=headers,
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:  # fmt: skip
                if response.status >= 300:
                    body = (await response.text())[:300]
                    raise InfluxUnavailable(f"InfluxDB answered {response.status}: {body}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise InfluxUnavailable(f"InfluxDB at {self.target.url} is unreachable: {exc}") from exc
        self.last_write_s = time.perf_counter() - t0

    async def ensure_database(self) -> None:
        """InfluxDB 1.x: create the database if missing (2.x/3.x: the bucket and DBRP exist already)."""
        if self.target.token:
            return
        await self.query(f'CREATE DATABASE "{self.target.db}"', method="POST")

    async def query(self, influxql: str, method: str = "GET") -> dict[str, Any]:
        headers, params = self._auth()
        params = {k: v for k, v in params.items() if k != "precision"} | {"q": influxql, "epoch": "ms"}
        try:
            async with self.session.request(
                method, self.url + "/query", params=params, headers=headers,
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:  # fmt: skip
                data: dict[str, Any] = await response.json(content_type=None)
                if response.status >= 300:
                    raise InfluxUnavailable(f"InfluxDB answered {response.status}: {str(data)[:300]}")
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise InfluxUnavailable(f"InfluxDB at {self.target.url} is unreachable: {exc}") from exc

"""Ookla's server list and best-server choice through speedtest-cli; the measuring itself is
dokiem's http engine (speedtest-cli's own engine is CPU-bound and reads low on a Pi)."""

from __future__ import annotations

import asyncio

from dokiem.agent.probes.wire import HttpFailure
from dokiem.agent.servers import Server, ookla_server
from dokiem.contract import ErrorCode


def _best_server_blocking(timeout_s: float, server_id: int | None) -> Server:
    import speedtest  # speedtest-cli; imported here, it fetches Ookla's config on first use

    try:
        client = speedtest.Speedtest(secure=True, timeout=timeout_s)
        client.get_servers([server_id] if server_id else None)
        best = client.get_best_server()
    except speedtest.SpeedtestException as exc:
        raise HttpFailure(ErrorCode.OOKLA_UNREACHABLE, f"Ookla's server list could not be fetched: {exc}") from exc
    name = f"{best.get('sponsor', '?')} ({best.get('name', '?')})"
    return ookla_server(str(best["url"]), name=name)


async def best_ookla_server(timeout_s: float = 10.0, server_id: int | None = None) -> Server:
    """The Ookla server speedtest.net would pick for this line (lowest latency among the closest)."""
    return await asyncio.to_thread(_best_server_blocking, timeout_s, server_id)

"""ICMP echo round trips (raw socket as root, unprivileged where the kernel allows), with a
TCP connect fallback for hosts or machines where ICMP is not possible."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import time

import icmplib

from dokiem.agent.probes.figures import jitter
from dokiem.contract import PingStats


def _icmp_mode() -> tuple[bool, str] | None:
    """(privileged, method name), or None when this process may not send ICMP at all."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return True, "icmp-raw"
    try:
        with open("/proc/sys/net/ipv4/ping_group_range") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        return None
    if low <= os.getgid() <= high:
        return False, "icmp"
    return None


def _stats(method: str, target: str, sent: int, rtts: list[float]) -> PingStats:
    return PingStats(
        method=method,  # type: ignore[arg-type]
        target=target,
        sent=sent,
        received=len(rtts),
        min_ms=min(rtts) if rtts else None,
        avg_ms=statistics.fmean(rtts) if rtts else None,
        max_ms=max(rtts) if rtts else None,
        jitter_ms=jitter(rtts),
        loss_pct=100.0 * (sent - len(rtts)) / sent if sent else 100.0,
    )


async def icmp_ping(host: str, count: int, interval_s: float, timeout_s: float) -> PingStats | None:
    mode = _icmp_mode()
    if mode is None:
        return None
    privileged, method = mode
    try:
        reply = await icmplib.async_ping(
            host, count=count, interval=interval_s, timeout=timeout_s, privileged=privileged
        )
    except (icmplib.exceptions.SocketPermissionError, icmplib.exceptions.SocketAddressError, OSError):
        return None
    except icmplib.exceptions.NameLookupError:
        raise
    return _stats(method, host, reply.packets_sent, list(reply.rtts))


async def tcp_ping(host: str, port: int, count: int, interval_s: float, timeout_s: float) -> PingStats:
    """Time TCP handshakes: an answer (even a refusal) is a round trip, silence is a loss."""
    rtts: list[float] = []
    for i in range(count):
        if i:
            await asyncio.sleep(interval_s)
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                _, writer = await asyncio.open_connection(host, port)
            rtts.append((time.perf_counter() - t0) * 1000)
            writer.close()
        except ConnectionRefusedError:
            rtts.append((time.perf_counter() - t0) * 1000)
        except (TimeoutError, OSError):
            continue
    return _stats("tcp-connect", f"{host}:{port}", count, rtts)


async def ping(host: str, port: int, *, count: int = 10, interval_s: float = 0.2, timeout_s: float = 1.0) -> PingStats:
    """ICMP where possible; TCP connect when ICMP is not allowed here or the host ignores it."""
    try:
        icmp = await icmp_ping(host, count, interval_s, timeout_s)
    except icmplib.exceptions.NameLookupError as exc:
        raise socket.gaierror(f"cannot resolve {host}") from exc
    if icmp is not None and icmp.received > 0:
        return icmp
    tcp = await tcp_ping(host, port, count, interval_s, timeout_s)
    if tcp.received == 0 and icmp is not None:
        return icmp
    return tcp

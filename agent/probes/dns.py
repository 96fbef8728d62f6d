"""Name resolution time, against the system resolver and against named resolvers."""

from __future__ import annotations

import asyncio
import socket
import time

import dns.asyncresolver
import dns.exception
import dns.resolver

from dokiem.contract import DnsTiming

SYSTEM = "system"  # the resolver name agent.measure looks for


async def time_system(name: str, timeout_s: float) -> DnsTiming:
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            await loop.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except TimeoutError:
        return DnsTiming(resolver=SYSTEM, name=name, error=f"no answer in {timeout_s:.0f} s")
    except socket.gaierror as exc:
        return DnsTiming(resolver=SYSTEM, name=name, error=str(exc.strerror))
    return DnsTiming(resolver=SYSTEM, name=name, ms=(time.perf_counter() - t0) * 1000)


def _split_resolver(resolver: str) -> tuple[str, int]:
    """``1.1.1.1``, ``1.1.1.1:53`` or ``[2001:db8::1]:53``."""
    if resolver.startswith("["):
        host, _, port = resolver[1:].partition("]:")
        return host.rstrip("]"), int(port or 53)
    if resolver.count(":") == 1:
        host, port = resolver.split(":")
        return host, int(port)
    return resolver, 53


async def time_named(name: str, resolver: str, timeout_s: float) -> DnsTiming:
    """One A query straight to ``resolver`` (no cache of ours in between)."""
    host, port = _split_resolver(resolver)
    res = dns.asyncresolver.Resolver(configure=False)
    res.nameservers = [host]
    res.port = port
    res.lifetime = timeout_s
    res.cache = None
    t0 = time.perf_counter()
    try:
        await res.resolve(name, "A")
    except (dns.exception.DNSException, OSError) as exc:
        return DnsTiming(resolver=resolver, name=name, error=str(exc) or type(exc).__name__)
    return DnsTiming(resolver=resolver, name=name, ms=(time.perf_counter() - t0) * 1000)


async def measure_dns(names: list[str], resolvers: list[str], timeout_s: float = 3.0) -> list[DnsTiming]:
    timings: list[DnsTiming] = []
    for name in names:
        timings.append(await time_system(name, timeout_s))
        for resolver in resolvers:
            timings.append(await time_named(name, resolver, timeout_s))
    return timings

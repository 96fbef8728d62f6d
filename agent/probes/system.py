"""The agent's own health and load (psutil), so a result taken on a starved Pi can be told apart."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import ipaddress
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from dokiem.contract import AgentLoad, Flag

SATURATED_PCT_OF_CORE = 90.0
SATURATED_SYSTEM_PCT = 95.0
THROTTLED_SHARE = 0.10
CROSS_TRAFFIC_SHARE = 0.10


def _default_route() -> list[str] | None:
    """The IPv4 default route's line of /proc/net/route, as fields (interface, destination, gateway, ...)."""
    try:
        with open("/proc/net/route") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) > 2 and fields[1] == "00000000":
                    return fields
    except OSError:
        return None
    return None


def default_interface() -> str | None:
    """The interface of the IPv4 default route."""
    route = _default_route()
    return route[0] if route else None


def default_gateway() -> str | None:
    """The IPv4 default route's gateway (its address in little-endian hex in /proc/net/route)."""
    route = _default_route()
    if route is None or route[2] == "00000000":
        return None
    try:
        return str(ipaddress.IPv4Address(int(route[2], 16).to_bytes(4, "little")))
    except (ValueError, OverflowError):
        return None


def is_wireless(interface: str) -> bool:
    base = Path("/sys/class/net") / interface
    return (base / "wireless").exists() or (base / "phy80211").exists()


def _cgroup_cpu_stat() -> Path | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if controllers == "":
            candidate = Path("/sys/fs/cgroup") / rel / "cpu.stat"
        elif "cpu" in controllers.split(","):
            candidate = Path("/sys/fs/cgroup") / controllers / rel / "cpu.stat"
            if not candidate.exists():
                candidate = Path("/sys/fs/cgroup/cpu") / rel / "cpu.stat"
        else:
            continue
        if candidate.exists():
            return candidate
    return None


def throttled_seconds() -> float | None:
    """CPU time this process's cgroup was held back by its quota (None where unreadable)."""
    stat = _cgroup_cpu_stat()
    if stat is None:
        return None
    return parse_throttled(stat.read_text())


def parse_throttled(cpu_stat: str) -> float | None:
    """Throttled seconds from a cgroup ``cpu.stat`` (v2: throttled_usec, v1: throttled_time in ns)."""
    values = dict(line.split(maxsplit=1) for line in cpu_stat.splitlines() if " " in line)
    if "throttled_usec" in values:
        return int(values["throttled_usec"]) / 1e6
    if "throttled_time" in values:
        return int(values["throttled_time"]) / 1e9
    return None


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def interface_io(interface: str | None) -> tuple[int, int] | None:
    """The interface's counters (bytes received, bytes sent), headers included; None where unreadable."""
    if interface is None:
        return None
    counters = psutil.net_io_counters(pernic=True).get(interface)
    return None if counters is None else (counters.bytes_recv, counters.bytes_sent)


def _interface_bytes(interface: str | None) -> int | None:
    io = interface_io(interface)
    return None if io is None else sum(io)


@dataclass
class LoadMeter:
    """Reads the agent's CPU, the system's CPU, cgroup throttling and interface bytes over a run."""

    interface: str | None = None

    def __post_init__(self) -> None:
        if self.interface is None:
            self.interface = default_interface()
        self._t0 = time.monotonic()
        self._cpu0 = _own_cpu_seconds()
        self._throttled0 = throttled_seconds()
        self._if0 = _interface_bytes(self.interface)
        psutil.cpu_percent(interval=None)

    def load(self) -> AgentLoad:
        elapsed = max(1e-6, time.monotonic() - self._t0)
        cpu = _own_cpu_seconds() - self._cpu0
        throttled_now = throttled_seconds()
        throttled = None
        if throttled_now is not None and self._throttled0 is not None:
            throttled = max(0.0, throttled_now - self._throttled0)
        return AgentLoad(
            cpu_seconds=round(cpu, 3),
            cpu_pct_of_core=round(100 * cpu / elapsed, 1),
            system_cpu_pct=psutil.cpu_percent(interval=None),
            throttled_s=None if throttled is None else round(throttled, 3),
            rss_mb=round(psutil.Process().memory_info().rss / 2**20, 1),
        )

    def flags(self, load: AgentLoad, own_bytes: int | None) -> list[Flag]:
        """The run's flags; ``own_bytes`` (the run's own traffic on the interface, headers included) for the
        interface's cross-traffic check, None where the router is watched instead."""
        elapsed = max(1e-6, time.monotonic() - self._t0)
        flags: list[Flag] = []
        if load.cpu_pct_of_core >= SATURATED_PCT_OF_CORE or (load.system_cpu_pct or 0) >= SATURATED_SYSTEM_PCT:
            flags.append(Flag.CPU_SATURATED)
        if load.throttled_s is not None and load.throttled_s >= THROTTLED_SHARE * elapsed:
            flags.append(Flag.CPU_THROTTLED)
        if self.interface is not None and is_wireless(self.interface):
            flags.append(Flag.WIFI)
        if_now = _interface_bytes(self.interface)
        if if_now is not None and self._if0 is not None and own_bytes:
            extra = (if_now - self._if0) - own_bytes
            if extra > CROSS_TRAFFIC_SHARE * own_bytes + (1 << 20):
                flags.append(Flag.CROSS_TRAFFIC)
        return flags


def health(data_dir: str = ".") -> dict[str, float | int | None]:
    """A snapshot for the heartbeat: CPU, memory, temperature, disk, uptime, the uplink's counters."""
    temps = psutil.sensors_temperatures() if hasattr(psutil, "sensors_temperatures") else {}
    temperature = None
    for entries in temps.values():
        if entries:
            temperature = entries[0].current
            break
    return {
        "cpu_pct": psutil.cpu_percent(interval=None),
        "memory_pct": psutil.virtual_memory().percent,
        "temperature_c": temperature,
        "disk_pct": psutil.disk_usage(data_dir).percent,
        "uptime_s": int(time.time() - psutil.boot_time()),
        "load1": os.getloadavg()[0],
        **_interface_counters(default_interface()),
    }


def _interface_counters(interface: str | None) -> dict[str, float | int | None]:
    counters = psutil.net_io_counters(pernic=True).get(interface) if interface else None
    if counters is None:
        return {"if_bytes_sent": None, "if_bytes_recv": None, "if_errors": None, "if_drops": None}
    return {
        "if_bytes_sent": counters.bytes_sent,
        "if_bytes_recv": counters.bytes_recv,
        "if_errors": counters.errin + counters.errout,
        "if_drops": counters.dropin + counters.dropout,
    }


M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas before the first transfer thread starts.

    glibc gives threads arenas of their own (up to 8 per core); each speed test's stream threads
    left up to ~10 MB of them behind even after ``malloc_trim`` (measured: 64 MiB RSS between
    runs, 55 MiB with two arenas; bench/agent_footprint.py). Two are plenty for a few streams.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its own allocator decides
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas)


def release_memory() -> None:
    """Hand memory freed after a run back to the OS.

    glibc keeps freed heap (and each finished thread's arena) mapped; on a Pi that shows as an
    idle agent holding a speed test's buffers for an hour. ``malloc_trim`` returns it.
    """
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim this way

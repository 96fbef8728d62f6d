"""The system probe: load, flags and health, on this machine's real interfaces and counters."""

from __future__ import annotations

import socket
import threading

import pytest

from dokiem.agent.probes.system import LoadMeter, health, is_wireless, parse_throttled
from dokiem.contract import AgentLoad, Flag


def move_over_loopback(n_bytes: int) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    received = bytearray()

    def sink() -> None:
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(1 << 16):
                received.extend(chunk)

    thread = threading.Thread(target=sink)
    thread.start()
    with socket.create_connection(server.getsockname()) as client:
        client.sendall(b"\0" * n_bytes)
    thread.join()
    server.close()
    assert len(received) == n_bytes


def quiet_load(**overrides: float) -> AgentLoad:
    values = {"cpu_seconds": 0.1, "cpu_pct_of_core": 5.0, "system_cpu_pct": 10.0, **overrides}
    return AgentLoad.model_validate(values)


def test_traffic_the_test_did_not_move_is_cross_traffic() -> None:
    meter = LoadMeter(interface="lo")
    move_over_loopback(8 << 20)
    assert Flag.CROSS_TRAFFIC in meter.flags(quiet_load(), own_bytes=1 << 20)


def test_traffic_the_test_moved_is_not_cross_traffic() -> None:
    meter = LoadMeter(interface="lo")
    move_over_loopback(8 << 20)
    # loopback counts every byte twice (sent and received)
    assert Flag.CROSS_TRAFFIC not in meter.flags(quiet_load(), own_bytes=16 << 20)


@pytest.mark.parametrize(
    ("load", "flag"),
    [({"cpu_pct_of_core": 97.0}, Flag.CPU_SATURATED), ({"system_cpu_pct": 99.0}, Flag.CPU_SATURATED)],
)
def test_a_starved_agent_is_flagged(load: dict[str, float], flag: Flag) -> None:
    assert flag in LoadMeter(interface="lo").flags(quiet_load(**load), own_bytes=0)


def test_a_calm_agent_is_not_flagged() -> None:
    assert LoadMeter(interface="lo").flags(quiet_load(), own_bytes=0) == []


def test_throttling_is_flagged_when_the_quota_held_the_agent_back() -> None:
    meter = LoadMeter(interface="lo")
    assert Flag.CPU_THROTTLED in meter.flags(quiet_load(throttled_s=5.0), own_bytes=0)


def test_meter_reads_own_cpu() -> None:
    meter = LoadMeter(interface="lo")
    sum(i * i for i in range(300_000))
    load = meter.load()
    assert load.cpu_seconds > 0 and load.rss_mb and load.rss_mb > 1


def test_cgroup_cpu_stat_v1_and_v2() -> None:
    assert parse_throttled("nr_periods 10\nnr_throttled 2\nthrottled_time 1500000000\n") == 1.5
    assert parse_throttled("usage_usec 9\nthrottled_usec 250000\n") == 0.25
    assert parse_throttled("usage_usec 9\n") is None


def test_loopback_is_not_wireless() -> None:
    assert not is_wireless("lo")


def test_health_snapshot() -> None:
    snapshot = health()
    for key in ("cpu_pct", "memory_pct", "disk_pct", "uptime_s", "if_bytes_sent"):
        assert key in snapshot
    assert snapshot["uptime_s"] is not None and int(snapshot["uptime_s"]) > 0

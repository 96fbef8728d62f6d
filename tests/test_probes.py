"""ping, dns and ookla probes against real local servers (Ookla's own servers are mocked)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import dns.message
import dns.rrset
import pytest

from dokiem.agent.measure import MeasureRequest, measure
from dokiem.agent.probes import ookla, ping
from dokiem.agent.probes.dns import measure_dns, time_named
from dokiem.agent.probes.wire import HttpFailure
from dokiem.contract import ServerKind
from testkit.agentkit import QUICK
from testkit.processes import free_port


async def test_tcp_ping_to_a_listening_port() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        stats = await ping.tcp_ping("127.0.0.1", port, count=4, interval_s=0.01, timeout_s=1)
    assert stats.method == "tcp-connect" and stats.sent == 4 and stats.received == 4 and stats.loss_pct == 0
    assert stats.min_ms is not None and stats.max_ms is not None and stats.min_ms <= stats.max_ms


async def test_tcp_ping_counts_a_refusal_as_an_answer() -> None:
    stats = await ping.tcp_ping("127.0.0.1", free_port(), count=3, interval_s=0.01, timeout_s=1)
    assert stats.received == 3


async def test_ping_prefers_icmp_where_allowed() -> None:
    stats = await ping.ping("127.0.0.1", free_port(), count=3, interval_s=0.01)
    if ping._icmp_mode() is None:
        assert stats.method == "tcp-connect"
    else:
        assert stats.method in ("icmp", "icmp-raw") and stats.received == 3


@pytest.fixture
def dns_server() -> Iterator[str]:
    """A real UDP DNS server answering every A query with 192.0.2.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            answer = dns.message.make_response(query)
            answer.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", "192.0.2.1"))
            sock.sendto(answer.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join()
    sock.close()


async def test_named_resolver_is_timed(dns_server: str) -> None:
    timing = await time_named("tinhthanhhoa.vn", dns_server, timeout_s=2)
    assert timing.error is None and timing.ms is not None and timing.ms > 0


async def test_silent_resolver_is_an_error_not_a_figure() -> None:
    timing = await time_named("example.vn", f"127.0.0.1:{free_port()}", timeout_s=0.5)
    assert timing.ms is None and timing.error


async def test_system_and_named_resolvers_together(dns_server: str) -> None:
    timings = await measure_dns(["localhost"], [dns_server])
    assert [t.resolver for t in timings] == ["system", dns_server]
    assert all(t.ms is not None for t in timings)


class FakeSpeedtest:
    """Stands in for speedtest-cli's client: Ookla's servers cannot be reached from here."""

    url = ""

    def __init__(self, **_: Any) -> None:
        pass

    def get_servers(self, servers: Any = None) -> None:
        pass

    def get_best_server(self) -> dict[str, str]:
        return {"url": self.url, "sponsor": "VNPT", "name": "Thanh Hoa"}


async def test_ookla_server_is_measured_with_dokiems_engine(
    testserver_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import speedtest

    FakeSpeedtest.url = f"{testserver_url}speedtest/upload.php"
    monkeypatch.setattr(speedtest, "Speedtest", FakeSpeedtest)
    server = await ookla.best_ookla_server()
    assert server.kind is ServerKind.OOKLA and server.name == "VNPT (Thanh Hoa)"
    result = await measure(MeasureRequest(server=server, settings=QUICK, ping_count=0))
    assert result.error is None, result.error
    assert result.server is not None and result.server.kind is ServerKind.OOKLA
    assert result.download_mbps and result.upload_mbps and result.latency_ms


async def test_ookla_list_unreachable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import speedtest

    def refuse(**_: Any) -> None:
        raise speedtest.ConfigRetrievalError("HTTP Error 403")

    monkeypatch.setattr(speedtest, "Speedtest", refuse)
    with pytest.raises(HttpFailure) as info:
        await ookla.best_ookla_server()
    assert info.value.code == "ookla_unreachable"

"""systemd's view of the agent: READY once it runs, WATCHDOG pings from its event loop at half of
WatchdogSec, and a STATUS line with the next run and the outbox, over a real Unix datagram socket
as systemd listens on it (sd_notify)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from dokiem.agent.service import Agent
from dokiem.agent.systemd import Notifier
from testkit.agentkit import config_for, make_result
from testkit.brokers import Broker, running_broker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with running_broker(tmp_path) as b:
        yield b


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    yield path, sock
    sock.close()


async def _datagram(sock: socket.socket) -> dict[str, str]:
    data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 4096), 30)
    return dict(line.split("=", 1) for line in data.decode().splitlines())


async def test_the_agent_says_ready_then_pings_the_watchdog_with_its_status(
    tmp_path: Path, broker: Broker, listener: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sock = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # WatchdogSec=0.2 s: a ping every 0.1 s
    agent = Agent(config_for(tmp_path / "agent", broker.url))
    agent.outbox.put(make_result(1))  # something waiting to be sent, so the status has a depth to say
    running = asyncio.create_task(agent.run())
    try:
        ready = await _datagram(sock)
        assert ready["READY"] == "1" and ready["STATUS"].startswith("next run ")
        assert "outbox" in ready["STATUS"]
        pings = [await _datagram(sock) for _ in range(3)]
        assert all(p["WATCHDOG"] == "1" and "outbox" in p["STATUS"] for p in pings)
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running


def test_without_systemd_nothing_is_sent_and_nothing_fails(tmp_path: Path) -> None:
    assert Notifier({}).send("READY=1") is False
    assert Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")}).send("READY=1") is False
    assert Notifier({"WATCHDOG_USEC": "120000000"}).watchdog_s == 60.0


def test_an_abstract_socket_name_is_honoured() -> None:
    name = f"dokiem-test-{id(object())}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    try:
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).send("STATUS=ok") is True
        assert sock.recv(100) == b"STATUS=ok"
    finally:
        sock.close()

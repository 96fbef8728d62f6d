"""The test server serves a resident's test only under a ticket the collector signed (issue 38): for this server,
unexpired, going forwards (download, upload, summary) once, within its bytes and time. Through HTTP against a
real ``dokiem testserver``, and the gate's bounds with a clock of its own."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dokiem.contract import utcnow
from dokiem.testserver import tickets
from dokiem.testserver.tickets import DOWN, UP, TicketGate, TicketRefused
from dokiem.vouch import TICKET_LIFETIME, ServerSummary, Ticket, seal, unseal
from testkit.processes import start_testserver
from testkit.residentkit import COLLECTOR_KEY, SERVER_ID, signing_options, ticket_token

SERVER_KEY = Ed25519PrivateKey.generate()
CK = 2  # MiB a download asks for


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_testserver(*signing_options(tmp_path_factory.mktemp("gate"), SERVER_KEY))
    yield url
    proc.terminate()
    proc.wait(10)


def _get(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def _download(url: str, token: str) -> tuple[int, bytes]:
    return _get(f"{url}garbage.php?ckSize={CK}&ticket={urllib.parse.quote(token)}")


def _upload(url: str, token: str) -> tuple[int, bytes]:
    return _get(f"{url}empty.php?ticket={urllib.parse.quote(token)}", data=b"\0" * (1 << 20))


def _summary(url: str, token: str) -> tuple[int, bytes]:
    return _get(f"{url}summary?ticket={urllib.parse.quote(token)}")


def _reason(body: bytes) -> str:
    return str(json.loads(body)["error"])


def test_a_ticket_the_collector_signed_runs_its_test_once(server: str) -> None:
    token = ticket_token()
    status, body = _download(server, token)
    assert status == 200 and len(body) == CK << 20
    assert _upload(server, token)[0] == 200
    status, body = _summary(server, token)
    assert status == 200
    summary = unseal(json.loads(body)["summary"], ServerSummary, SERVER_KEY.public_key())
    assert summary.download is not None and summary.download.bytes == CK << 20
    for again in (_download, _upload, _summary):  # spent: nothing more under it
        status, body = again(server, token)
        assert status == 403 and _reason(body) == "ticket_used"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("6a1f0e3c-8d7e-4e61-9d1e-6f0a3c2b1a00", "ticket_invalid"),  # a made-up id, as before issue 38
        (seal(Ticket(server_id=SERVER_ID, issued_at=utcnow(), expires_at=utcnow() + TICKET_LIFETIME),
              Ed25519PrivateKey.generate()), "ticket_invalid"),  # signed, not by the collector
        (ticket_token(server_id="another-server"), "ticket_other_server"),
        (ticket_token(issued_at=utcnow() - timedelta(minutes=11)), "ticket_expired"),
    ],
    ids=["made-up", "forged", "other-server", "expired"],
)  # fmt: skip
def test_a_ticket_not_the_collectors_for_this_server_is_refused_before_a_byte(
    server: str, token: str, reason: str
) -> None:
    for ask in (_download, _upload, _summary):
        status, body = ask(server, token)
        assert status == 403 and _reason(body) == reason and len(body) < 1000


def test_a_test_goes_forwards_and_an_agent_needs_no_ticket(server: str) -> None:
    token = ticket_token()
    assert _upload(server, token)[0] == 200
    status, body = _download(server, token)
    assert status == 409 and _reason(body) == "ticket_order"
    assert _get(f"{server}garbage.php?ckSize=1")[0] == 200  # an agent's request names no ticket


def test_each_direction_is_bounded_in_bytes_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [utcnow()]
    monkeypatch.setattr(tickets, "MAX_DIRECTION_BYTES", 10 << 20)
    gate = TicketGate(COLLECTOR_KEY.public_key(), SERVER_ID, clock=lambda: now[0])
    token = ticket_token()
    ticket_id, left = gate.admit(token, DOWN)
    assert left == 10 << 20
    gate.moved(ticket_id, DOWN, 10 << 20)
    with pytest.raises(TicketRefused) as spent:
        gate.admit(token, DOWN)
    assert spent.value.reason == "ticket_bytes_up"
    gate.admit(token, UP)
    now[0] += timedelta(seconds=tickets.MAX_DIRECTION_S + 1)
    with pytest.raises(TicketRefused) as late:
        gate.admit(token, UP)
    assert late.value.reason == "ticket_time_up"


async def test_a_ticket_moves_no_more_than_its_bytes_through_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, with the bound at 1 MiB: a download asking for 4 gets 1; an upload of 3 is cut off with 413."""
    from aiohttp.test_utils import TestClient, TestServer

    from dokiem.testserver.server import Voucher, create_app

    monkeypatch.setattr(tickets, "MAX_DIRECTION_BYTES", 1 << 20)
    app = create_app(voucher=Voucher(SERVER_ID, SERVER_KEY, COLLECTOR_KEY.public_key()))
    async with TestClient(TestServer(app)) as client:
        token = ticket_token()
        down = await client.get("/garbage.php", params={"ckSize": "4", "ticket": token})
        assert down.status == 200 and len(await down.read()) == 1 << 20
        up = await client.post("/empty.php", params={"ticket": token}, data=b"\0" * (3 << 20))
        assert up.status == 413
        again = await client.post("/empty.php", params={"ticket": token}, data=b"\0" * 1024)
        assert again.status == 403 and _reason(await again.read()) == "ticket_bytes_up"


async def test_half_sent_heads_are_cut_and_one_address_holds_only_its_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 38: 1,100 half-sent heads took every file descriptor and /healthz stopped answering. Now a head
    has a deadline and one address holds a bounded share of the connections (5 here; 256 deployed)."""
    import asyncio
    import socket

    from dokiem.testserver import server as testserver

    monkeypatch.setattr(testserver, "HEAD_TIMEOUT_S", 1.0)
    monkeypatch.setattr(testserver, "MAX_CONNECTIONS_PER_ADDRESS", 5)
    runner, port = await testserver.start("127.0.0.1", 0)

    def half_head(source: str) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), source_address=(source, 0), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never ends its head
        return sock

    def closed(sock: socket.socket) -> bool:
        try:
            return sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def healthz(source: str) -> int:
        with socket.create_connection(("127.0.0.1", port), source_address=(source, 0), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return int(sock.recv(64).split()[1])

    try:
        held = [await asyncio.to_thread(half_head, "127.0.0.7") for _ in range(5)]
        extra = await asyncio.to_thread(half_head, "127.0.0.7")
        assert await asyncio.to_thread(closed, extra)  # over the address's share: closed at once
        assert await asyncio.to_thread(healthz, "127.0.0.8") == 200  # anyone else is served meanwhile
        assert all([await asyncio.to_thread(closed, sock) for sock in held])  # cut at the head's deadline
        assert await asyncio.to_thread(healthz, "127.0.0.7") == 200  # and the address may come back
        for sock in (*held, extra):
            sock.close()
    finally:
        await runner.cleanup()


async def test_a_kept_alive_connections_later_heads_have_the_same_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept-alive connection's next head, trickled or never sent, is cut at the same deadline as its first;
    an answer a slow client takes longer than the deadline to read is not cut (the clock starts after it)."""
    import asyncio
    import socket
    import time

    from dokiem.testserver import server as testserver

    monkeypatch.setattr(testserver, "HEAD_TIMEOUT_S", 1.0)
    runner, port = await testserver.start("127.0.0.1", 0)

    def answer_of(sock: socket.socket, path: str, slow: bool = False) -> int:
        """Sends a whole request on the kept-alive connection and reads its answer whole; its body's size."""
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        reader = sock.makefile("rb")
        assert reader.readline().split()[1] == b"200"
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if slow:
            first = reader.read(1 << 20)
            time.sleep(2.0)  # the slow reader is the case itself: longer than the head deadline
            return len(first) + len(reader.read(length - len(first)))
        return len(reader.read(length))

    def cut_after(sock: socket.socket, trickle: bytes) -> bool:
        sock.sendall(trickle)
        try:
            return sock.recv(1) == b""
        except ConnectionResetError:
            return True

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
            assert await asyncio.to_thread(answer_of, sock, "/healthz") > 0
            assert await asyncio.to_thread(answer_of, sock, "/garbage?ckSize=8", True) == 8 << 20
            assert await asyncio.to_thread(cut_after, sock, b"GET /healthz HTTP/1.1\r\nHo")  # the third head never ends
        with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
            assert await asyncio.to_thread(answer_of, sock, "/healthz") > 0
            assert await asyncio.to_thread(cut_after, sock, b"")  # nor is a next head ever begun
    finally:
        await runner.cleanup()

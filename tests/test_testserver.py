"""The test server, as LibreSpeed and i-Speed-style clients call it, over real sockets."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator

import pytest

from dokiem.settings import parse_listen
from dokiem.testserver.server import ConcurrencyCap
from testkit.processes import start_testserver


def get(
    url: str, headers: dict[str, str] | None = None, data: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


@pytest.mark.parametrize("path", ["backend/garbage.php", "garbage.php", "backend/garbage", "garbage"])
def test_garbage_under_every_spelling(testserver_url: str, path: str) -> None:
    status, headers, body = get(f"{testserver_url}{path}?ckSize=2", {"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200
    assert len(body) == 2 * 2**20
    assert headers["content-type"] == "application/octet-stream"
    assert "no-store" in headers["cache-control"]
    assert "content-encoding" not in headers


def test_garbage_is_incompressible(testserver_url: str) -> None:
    import zlib

    _, _, body = get(f"{testserver_url}backend/garbage.php?ckSize=1")
    assert len(zlib.compress(body)) > 0.99 * len(body)


def test_bad_cksize_is_a_clear_400(testserver_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        get(f"{testserver_url}backend/garbage.php?ckSize=lots")
    assert info.value.code == 400
    assert b"ckSize" in info.value.read()


@pytest.mark.parametrize("path", ["backend/empty.php", "empty.php", "backend/empty", "empty"])
def test_empty_answers_get_and_post(testserver_url: str, path: str) -> None:
    assert get(f"{testserver_url}{path}")[0] == 200
    status, headers, body = get(f"{testserver_url}{path}", data=b"x" * 300_000)
    assert status == 200 and body == b"" and "no-store" in headers["cache-control"]


@pytest.mark.parametrize("path", ["backend/getIP.php", "getIP.php", "backend/getIP", "getIP"])
def test_get_ip(testserver_url: str, path: str) -> None:
    _, _, body = get(f"{testserver_url}{path}")
    assert json.loads(body)["processedString"] == "127.0.0.1"


def test_health(testserver_url: str) -> None:
    _, _, body = get(f"{testserver_url}healthz")
    health = json.loads(body)
    assert health["status"] == "ok" and health["capacity"] == 20


def test_speedtest_mini_endpoints(testserver_url: str) -> None:
    assert get(f"{testserver_url}speedtest/latency.txt")[2] == b"test=test"
    assert len(get(f"{testserver_url}speedtest/random350x350.jpg")[2]) == 2 * 350 * 350
    assert get(f"{testserver_url}speedtest/upload.php", data=b"content1=" + b"A" * 1000)[2] == b"size=1009"


def _open_test(url: str, source: str) -> tuple[socket.socket, bytes]:
    """Start a large download from ``source`` and return the socket with the response head."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    sock = socket.create_connection((host, int(port)), source_address=(source, 0), timeout=10)
    sock.sendall(b"GET /backend/garbage.php?ckSize=1024 HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    return sock, head


@pytest.fixture
def one_slot_server() -> Iterator[str]:
    proc, url = start_testserver("--max-tests", "1")
    yield url
    proc.terminate()
    proc.wait(10)


def test_concurrency_cap_answers_503_with_retry_after(one_slot_server: str) -> None:
    first, head = _open_test(one_slot_server, "127.0.0.1")
    try:
        assert head.startswith(b"HTTP/1.1 200")
        _, _, body = get(f"{one_slot_server}healthz")
        assert json.loads(body)["tests_in_progress"] == 1
        second, head2 = _open_test(one_slot_server, "127.0.0.2")
        second.close()
        assert head2.startswith(b"HTTP/1.1 503")
        assert b"Retry-After: 30" in head2
        third, head3 = _open_test(one_slot_server, "127.0.0.1")  # the running test may open more streams
        third.close()
        assert head3.startswith(b"HTTP/1.1 200")
    finally:
        first.close()


def test_slots_free_after_the_grace_period() -> None:
    now = [0.0]
    slots = ConcurrencyCap(capacity=1, grace_s=5.0, clock=lambda: now[0])
    assert slots.acquire("a")
    slots.release("a")
    assert not slots.acquire("b")  # a's test may still be between its phases
    now[0] = 5.1
    assert slots.acquire("b")
    assert slots.in_use == 1


def test_a_held_slot_never_expires() -> None:
    now = [0.0]
    slots = ConcurrencyCap(capacity=1, grace_s=5.0, clock=lambda: now[0])
    assert slots.acquire("a")
    now[0] = 1000.0
    assert not slots.acquire("b")


@pytest.mark.parametrize(
    ("listen", "expected"),
    [("0.0.0.0:8080", ("0.0.0.0", 8080)), (":9000", ("0.0.0.0", 9000)), ("[::1]:81", ("::1", 81))],
)
def test_parse_listen(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["8080", "host:", "host:http", "host:70000"])
def test_parse_listen_refuses_bad_input(listen: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen(listen)

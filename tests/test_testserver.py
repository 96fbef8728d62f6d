"""The test server, as LibreSpeed and i-Speed-style clients call it, over real sockets."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dokiem.settings import parse_listen
from dokiem.testserver.counting import DOWN, MAX_FLOWS, UP, TicketCounts
from dokiem.testserver.server import ConcurrencyCap
from dokiem.vouch import Unsure
from testkit.processes import DOKIEM, server_log, start_testserver
from testkit.residentkit import open_download, signing_options, ticket_token


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


@pytest.fixture
def one_slot_server() -> Iterator[str]:
    proc, url = start_testserver("--max-tests", "1")
    yield url
    proc.terminate()
    proc.wait(10)


def test_concurrency_cap_answers_503_with_retry_after(one_slot_server: str) -> None:
    first, head = open_download(one_slot_server, "127.0.0.1")
    try:
        assert head.startswith(b"HTTP/1.1 200")
        _, _, body = get(f"{one_slot_server}healthz")
        assert json.loads(body)["tests_in_progress"] == 1
        second, head2 = open_download(one_slot_server, "127.0.0.2")
        second.close()
        assert head2.startswith(b"HTTP/1.1 503")
        assert b"Retry-After: 30" in head2
        third, head3 = open_download(one_slot_server, "127.0.0.1")  # the running test may open more streams
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


def test_residents_never_take_the_agents_slots() -> None:
    slots = ConcurrencyCap(capacity=4, clock=lambda: 0.0)  # two for residents' tests, by default
    assert slots.acquire("ticket:1", resident=True) and slots.acquire("ticket:2", resident=True)
    assert not slots.acquire("ticket:3", resident=True)  # residents' share is full
    assert slots.acquire("ticket:1", resident=True)  # a running test opens more streams
    assert slots.acquire("10.0.0.1") and slots.acquire("10.0.0.2")  # the agents' share stays free
    assert not slots.acquire("10.0.0.3")
    assert (slots.in_use, slots.residents_in_use) == (4, 2)


def test_a_signing_server_holds_agents_slots_against_residents(tmp_path: Path) -> None:
    """Through HTTP: with two slots, one resident's test fills the residents' share; a second resident is
    told to come back, and so is a client naming no ticket from outside the agents' network (issue 38: 20 of
    them took every slot); an agent still measures. Each resident by ticket (many share one address)."""
    proc, url = start_testserver("--max-tests", "2", "--agent-network", "127.0.0.2/32",
                                 *signing_options(tmp_path, Ed25519PrivateKey.generate()))  # fmt: skip
    held: list[socket.socket] = []
    try:
        first, head = open_download(url, "127.0.0.1", ticket_token())
        held.append(first)
        assert head.startswith(b"HTTP/1.1 200")
        second, head2 = open_download(url, "127.0.0.1", ticket_token())
        held.append(second)
        assert head2.startswith(b"HTTP/1.1 503")
        anonymous, head4 = open_download(url, "127.0.0.3")  # no ticket, not an agent's address
        held.append(anonymous)
        assert head4.startswith(b"HTTP/1.1 503")
        agent, head3 = open_download(url, "127.0.0.2")
        held.append(agent)
        assert head3.startswith(b"HTTP/1.1 200")
        health = json.loads(get(f"{url}healthz")[2])
        assert (health["residents_in_progress"], health["resident_capacity"], health["tests_in_progress"]) == (1, 1, 2)
    finally:
        for sock in held:
            sock.close()
        proc.terminate()
        proc.wait(10)


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


class _Connection:
    """A connection as the kernel's tcp_info shows it: what the client acknowledged, what arrived."""

    def __init__(self) -> None:
        self.acked = self.received = self.sacked = self.out_of_order = 0
        self.closed = False

    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes:
        if self.closed:
            raise OSError(9, "Bad file descriptor")
        info = bytearray(232)
        struct.pack_into("=I", info, 16, 1000)  # tcpi_snd_mss
        struct.pack_into("=I", info, 28, self.sacked)  # tcpi_sacked: segments beyond a hole
        struct.pack_into("=QQ", info, 120, self.acked, self.received)  # tcpi_bytes_acked, tcpi_bytes_received
        struct.pack_into("=I", info, 224, self.out_of_order)  # tcpi_rcv_ooopack
        return bytes(info)


def test_a_ticket_is_counted_as_the_kernel_counts_its_connections() -> None:
    """Two streams of one ticket, read at the same instants: the first quarter is warm-up; bytes a stream
    wrote into its send buffer but the client never acknowledged are not counted; a closed connection's
    last reading stands; idle samples after the last byte add no seconds; an upload the browser carries
    on a connection a download used adds nothing to the download."""
    now = [1000.0]
    counts = TicketCounts(clock=lambda: now[0], wall=lambda: now[0])
    ticket, streams = uuid.uuid4(), [_Connection(), _Connection()]
    streams[0].acked = 5_000  # the connection carried an earlier request: its count starts from here
    for stream in streams:
        counts.open(ticket, DOWN, stream)
    for _ in range(8):  # 1 MB a second acknowledged on each stream, for 8 s
        now[0] += 1
        for stream in streams:
            stream.acked += 1_000_000
        counts.sample()
    counts.count(ticket, DOWN, 64_000_000, began=1000.0)  # what the application wrote: send buffers too
    streams[0].closed = True
    for _ in range(3):  # the page has stopped; the other connection idles
        now[0] += 1
        counts.sample()
    counts.close(ticket, DOWN)
    counts.close(ticket, DOWN)
    counts.open(ticket, UP, streams[1])  # the kept-alive connection carries the upload now
    for _ in range(8):
        now[0] += 1
        streams[1].acked += 300  # the upload's answers: acknowledged bytes, but no download's
        streams[1].received += 2_000_000
        counts.sample()
    counts.close(ticket, UP)
    summary = counts.summary(ticket, "th-1")
    assert summary is not None and summary.download is not None and summary.upload is not None
    tally = summary.download
    assert tally.tcp_counted and tally.seconds == 6 and tally.bytes == 12_000_000  # seconds 2..8, both streams
    assert summary.upload.bytes == 12_000_000 and summary.upload.seconds == 6  # after its first quarter
    assert summary.first_at.timestamp() == 1000.0 and summary.last_at.timestamp() == 1019.0


def test_without_tcp_info_the_count_is_unsure_and_gives_no_figure() -> None:
    counts = TicketCounts(clock=lambda: 1010.0)
    ticket = uuid.uuid4()
    counts.open(ticket, UP, None)  # no socket to read (not Linux, or a transport without one)
    counts.count(ticket, UP, 8_000_000, began=1000.0)
    summary = counts.summary(ticket, "th-1")
    assert summary is not None and summary.upload is not None
    assert summary.upload.unsure is Unsure.UNREADABLE and not summary.upload.vouched
    assert summary.upload.bytes == 8_000_000 and summary.upload.seconds == 10  # the application's, for the record


def _streaming(counts: TicketCounts, now: list[float], ticket: uuid.UUID, streams: list[_Connection],
               seconds: int, per_tick: int) -> None:  # fmt: skip
    for _ in range(seconds * 10):
        now[0] += 0.1
        for stream in streams:
            stream.acked += per_tick
        counts.sample()


def test_a_connection_closed_while_moving_ends_the_interval_at_its_last_reading() -> None:
    """The page aborts its streams at once: one connection is found closed while the other still moved. Its
    bytes after its last reading are unknown, so the figure ends at the last reading of both (issue 39): the
    rate is the line's, not the line's plus a closed stream's missing time."""
    now = [0.0]
    counts = TicketCounts(clock=lambda: now[0], wall=lambda: 1_000_000.0 + now[0])
    ticket, streams = uuid.uuid4(), [_Connection(), _Connection()]
    for stream in streams:
        counts.open(ticket, DOWN, stream)
    _streaming(counts, now, ticket, streams, seconds=8, per_tick=100_000)  # 2 MB/s in all
    streams[0].acked += 60_000  # moved after its last reading, then closed: never seen
    streams[0].closed = True
    now[0] += 0.1
    streams[1].acked += 100_000
    counts.sample()  # the closed one is missed; the other still moved
    counts.close(ticket, DOWN)
    counts.close(ticket, DOWN)
    summary = counts.summary(ticket, "th-1")
    assert summary is not None and summary.download is not None and summary.download.vouched
    assert summary.download.mbps == pytest.approx(16.0)  # 2 MB/s: the end at 8.0 s, not 8.1 s with 0.1 MB
    assert summary.first_at.timestamp() == pytest.approx(1_000_000.0)  # times of day from the wall clock


def _lossy(direction: int) -> float:
    """8 s at 1,000,000 bytes a tick-second (100,000 a reading) on one connection, with a lost segment at
    2.0 s (where the warm-up ends): for 0.3 s what follows it waits at the receiver, then counts at once. The
    figure the server signs, in MB/s."""
    now = [0.0]
    counts = TicketCounts(clock=lambda: now[0])
    ticket, stream = uuid.uuid4(), _Connection()
    counts.open(ticket, direction, stream)
    waiting = 0
    for tick in range(1, 81):
        now[0] = tick / 10
        if 19 <= tick <= 21:  # behind the hole: SACKed at the client, out of order at the server
            waiting += 1
            stream.sacked += 100  # segments of 1,000 bytes
            stream.out_of_order += 70
        else:
            stream.acked += 100_000 * (waiting + 1)
            stream.received += 100_000 * (waiting + 1)
            stream.sacked, waiting = 0, 0
        counts.sample()
    counts.close(ticket, direction)
    summary = counts.summary(ticket, "th-1")
    assert summary is not None
    tally = summary.download if direction == DOWN else summary.upload
    assert tally is not None and tally.vouched and tally.mbps is not None
    return tally.mbps / 8


@pytest.mark.parametrize("direction", [DOWN, UP], ids=["download", "upload"])
def test_a_loss_at_the_warm_up_edge_adds_no_window(direction: int) -> None:
    """Issue 39: an interval begun while data waited behind a hole counted the whole wait's bytes when the
    resend filled it, above what the line carried. The download counts what the client SACKed too; the
    upload begins its interval at a reading after the hole was filled."""
    assert _lossy(direction) == pytest.approx(1.0)


def test_a_direction_too_short_to_read_is_unsure() -> None:
    now = [0.0]
    counts = TicketCounts(clock=lambda: now[0])
    ticket, stream = uuid.uuid4(), _Connection()
    counts.open(ticket, DOWN, stream)
    _streaming(counts, now, ticket, [stream], seconds=0, per_tick=0)
    for _ in range(4):  # 0.4 s: three readings after its warm-up
        now[0] += 0.1
        stream.acked += 1_000_000
        counts.sample()
    counts.close(ticket, DOWN)
    summary = counts.summary(ticket, "th-1")
    assert summary is not None and summary.download is not None
    assert summary.download.unsure is Unsure.TOO_SHORT and not summary.download.vouched


def test_a_direction_never_clean_is_unsure_not_an_error() -> None:
    """An upload whose every reading saw data arrive out of order has no reading to bound a figure: unsure."""
    now = [0.0]
    counts = TicketCounts(clock=lambda: now[0])
    ticket, stream = uuid.uuid4(), _Connection()
    counts.open(ticket, UP, stream)
    for _ in range(20):
        now[0] += 0.1
        stream.received += 10_000
        stream.out_of_order += 1
        counts.sample()
    counts.close(ticket, UP)
    summary = counts.summary(ticket, "th-1")
    assert summary is not None and summary.upload is not None and not summary.upload.vouched


def test_more_connections_than_read_make_the_count_unsure() -> None:
    now = [0.0]
    counts = TicketCounts(clock=lambda: now[0])
    ticket, streams = uuid.uuid4(), [_Connection() for _ in range(MAX_FLOWS + 1)]
    for stream in streams:
        counts.open(ticket, UP, stream)
    now[0] = 8.0
    for _ in streams:
        counts.count(ticket, UP, 1_000_000, began=0.0)
        counts.close(ticket, UP)
    summary = counts.summary(ticket, "th-1")
    assert summary is not None and summary.upload is not None and summary.upload.unsure is Unsure.TOO_MANY_CONNECTIONS


def test_clients_that_leave_before_their_answer_leave_no_traceback(tmp_path: Path) -> None:
    """An agent's measurement ends its downloads and pings when its time is up: the test server must take that
    quietly. Its tracebacks once filled an unread stderr pipe in a long test session, and the server stopped."""
    proc, url = start_testserver()
    try:
        for _ in range(3):
            done = subprocess.run([*DOKIEM, "measure", "--server", url, "--json", "--max-seconds", "3", "-q"],
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
            assert done.returncode == 0, done.stderr
        assert json.loads(get(f"{url}healthz")[2])["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(10)
    said = server_log(url).read_text()
    assert "Traceback" not in said and "Error handling request" not in said, said[-2000:]


@pytest.mark.parametrize("network", ["10.0.0.300/8", "foo", "10.0.0.0/33", ""])
def test_a_bad_agent_network_is_refused_by_name(network: str) -> None:
    done = subprocess.run([*DOKIEM, "--lang", "en", "testserver", "--agent-network", network],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "--agent-network" in done.stderr and "Traceback" not in done.stderr

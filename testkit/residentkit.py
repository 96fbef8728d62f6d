"""Residents' tests for the tests: Ed25519 keys on disk, a test server that signs its counts, the
collector's [residents] section pointing at it."""

from __future__ import annotations

import contextlib
import csv
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dokiem.collector.config import ResidentServer, ResidentsSection
from dokiem.contract import utcnow
from dokiem.regions import Regions
from dokiem.vouch import TICKET_LIFETIME, WARMUP_SHARE, Ticket, seal
from testkit.pathlab import SERVER_IP, PathLab, PathShape
from testkit.processes import REPO, start_testserver

SERVER_ID = "th-speedtest-1"
COLLECTOR_KEY = Ed25519PrivateKey.generate()  # the tests' collector: it signs the tickets the test servers check
LAB_TESTSERVER = f"http://{SERVER_IP}:8080/"  # the signing test server in a path lab's server namespace


def write_keys(folder: Path, key: Ed25519PrivateKey) -> tuple[Path, Path]:
    """The key's private and public halves as PEM files in ``folder``."""
    private, public = folder / f"{id(key)}.key", folder / f"{id(key)}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))  # fmt: skip
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    return private, public


def ticket_token(server_id: str = SERVER_ID, issued_at: datetime | None = None) -> str:
    """A ticket the tests' collector signed for ``server_id``, issued ``issued_at`` (now by default)."""
    issued = issued_at or utcnow()
    return seal(Ticket(server_id=server_id, issued_at=issued, expires_at=issued + TICKET_LIFETIME), COLLECTOR_KEY)


def resident_test(url: str, ticket: str, seconds: float = 1.0, paced: bool = True) -> str:
    """A resident's test as the page runs it: a download and an upload under the ticket, then the server's signed
    summary. ``paced``: each direction lasts about ``seconds``, as on a line (loopback would be over in
    milliseconds, under the half second the server needs to read the kernel's count, issue 38)."""
    token = urllib.parse.quote(ticket)
    with urllib.request.urlopen(f"{url}garbage.php?ckSize={64 if paced else 4}&ticket={token}", timeout=30) as down:
        until = time.monotonic() + seconds
        while down.read(256 << 10) and (not paced or time.monotonic() < until):
            if paced:
                time.sleep(seconds / 50)  # a reader at a line's pace: the server's writes wait for it
    chunks = 16

    def body() -> Iterator[bytes]:
        for _ in range(chunks):
            yield b"\0" * (64 << 10)
            if paced:
                time.sleep(seconds / chunks)

    upload = urllib.request.Request(f"{url}empty.php?ticket={token}", data=body(), method="POST",
                                    headers={"Content-Length": str(chunks * (64 << 10))})  # fmt: skip
    urllib.request.urlopen(upload, timeout=30).read()
    with urllib.request.urlopen(f"{url}summary?ticket={token}", timeout=10) as answer:
        return str(json.load(answer)["summary"])


def signing_options(folder: Path, key: Ed25519PrivateKey) -> list[str]:
    """``dokiem testserver``'s options to sign with ``key`` as SERVER_ID and take the tests' collector's tickets."""
    private, _ = write_keys(folder, key)
    _, collector_public = write_keys(folder, COLLECTOR_KEY)
    return ["--signing-key", str(private), "--server-id", SERVER_ID, "--ticket-key", str(collector_public)]


@contextlib.contextmanager
def signing_test_server(folder: Path, key: Ed25519PrivateKey) -> Iterator[str]:
    """``dokiem testserver --signing-key … --server-id … --ticket-key …`` on loopback; yields its URL."""
    proc, url = start_testserver(*signing_options(folder, key))
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def residents_section(folder: Path, server_key: Ed25519PrivateKey, url: str, **settings: object) -> ResidentsSection:
    """The collector's [residents]: its own new key, and the one test server at ``url``."""
    collector_key, _ = write_keys(folder, COLLECTOR_KEY)
    _, server_public = write_keys(folder, server_key)
    server = ResidentServer(id=SERVER_ID, url=url, public_key=server_public)
    return ResidentsSection(key_file=collector_key, servers=[server], **settings)  # type: ignore[arg-type]


def commune_points() -> dict[str, tuple[float, float]]:
    """Each 2025 commune's published point (the region file's lat, lon: inside its commune)."""
    folder = Regions.load().provinces["38"].folder
    with (folder / "communes-2025-07.csv").open(encoding="utf-8", newline="") as f:
        return {row["commune_code"]: (float(row["lat"]), float(row["lon"])) for row in csv.DictReader(f)}


def serve_in_lab(lab: PathLab, key: Ed25519PrivateKey, folder: Path, *options: str,
                 preexec_fn: Callable[[], None] | None = None) -> int:  # fmt: skip
    """iperf3 (the reference) and a ``dokiem testserver`` signing with ``key`` at LAB_TESTSERVER, in the
    lab's server namespace; the test server's pid (``ip netns exec`` execs it: the same process)."""
    lab.spawn(lab.server, "iperf3", "-s", "-J", "-B", SERVER_IP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = lab.spawn(lab.server, sys.executable, "-m", "dokiem", "testserver", "--listen", f"{SERVER_IP}:8080",
                       *signing_options(folder, key), *options, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd=REPO, preexec_fn=preexec_fn)  # fmt: skip
    lab.wait_reachable(f"{LAB_TESTSERVER}healthz")
    return server.pid


def visit_from_client(lab: PathLab, url: str, shots: Path) -> dict[str, str]:
    """testkit.browser's visit at 360 px, the browser and its driver in the lab's client namespace (whose
    default route carries the test); what the page showed once done."""
    done = subprocess.run(lab.exec(lab.client, sys.executable, "-m", "testkit.browser", url, "360", str(shots)),
                          capture_output=True, text=True, timeout=300, cwd=REPO)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the browser's visit failed: {done.stderr[:2000]}")
    return dict(json.loads(done.stdout))


def open_download(url: str, source: str, ticket: str = "") -> tuple[socket.socket, bytes]:
    """A large download begun from ``source`` (a resident's under ``ticket``, else an agent's or anyone's): the
    socket, held open, and the response's head."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    sock = socket.create_connection((host, int(port)), source_address=(source, 0), timeout=15)
    query = f"&ticket={urllib.parse.quote(ticket)}" if ticket else ""
    sock.sendall(f"GET /backend/garbage.php?ckSize=1024{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    return sock, head


def iperf3_window(shape: PathShape) -> tuple[int, int]:
    """iperf3's (-t, -O) over the page's own window on this path: its warm-up omitted, its measured time
    timed (on a lossy path the rate falls for seconds after slow start, so a longer window reads lower)."""
    seconds = ResidentsSection().page_test.direction_seconds(shape.rtt_ms)
    return max(2, round(seconds * (1 - WARMUP_SHARE))), max(1, round(seconds * WARMUP_SHARE))

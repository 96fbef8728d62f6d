"""Issue 38's attacks on the test server, run again against today's ``dokiem testserver`` (a real process on
loopback, signing as a deployed one does, with the agents' network named), each measured as the issue
measured it; the figures go to docs/security.md beside what the issue found.

    .venv/bin/python bench/trust_again.py              # writes docs/security.md's "trust-again" section
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import selectors
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from bench.docs import run_line, show_and_record  # noqa: E402
from dokiem.contract import utcnow  # noqa: E402
from testkit.processes import start_testserver  # noqa: E402
from testkit.residentkit import open_download, signing_options, ticket_token  # noqa: E402

AGENT = "127.0.0.2"  # the agents' network here: one address


def pulled(url: str, ticket: str, mib: int = 1024) -> tuple[str, int, float]:
    """(status, bytes, seconds) of a download under ``ticket``."""
    began, got = time.monotonic(), 0
    try:
        query = urllib.parse.urlencode({"ckSize": mib, "ticket": ticket})
        with urllib.request.urlopen(f"{url}garbage.php?{query}", timeout=60) as answer:
            while chunk := answer.read(1 << 20):
                got += len(chunk)
            status = str(answer.status)
    except urllib.error.HTTPError as refused:
        status = f"{refused.code} {json.loads(refused.read()).get('error', '')}".strip()
    return status, got, time.monotonic() - began


def _status(download: tuple[socket.socket, bytes]) -> str:
    """The answer's status; the connection closed."""
    sock, head = download
    sock.close()
    return head.split()[1].decode()


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``sock``; None if it still held it after ``seconds``."""
    began = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(1 << 16):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - began


def closed_times(socks: list[socket.socket], seconds: float) -> list[float | None]:
    """When the server closed each of ``socks`` (time.monotonic), all watched at once; None for one it still
    held after ``seconds``."""
    ends: list[float | None] = [None] * len(socks)
    with selectors.DefaultSelector() as watch:
        for n, sock in enumerate(socks):
            sock.setblocking(False)
            watch.register(sock, selectors.EVENT_READ, n)
        deadline = time.monotonic() + seconds
        while watch.get_map() and time.monotonic() < deadline:
            for key, _ in watch.select(timeout=0.5):
                try:
                    if key.fileobj.recv(1 << 16):  # type: ignore[union-attr]
                        continue
                except ConnectionResetError:
                    pass
                ends[key.data] = time.monotonic()
                watch.unregister(key.fileobj)
    return ends


def healthz(url: str, source: str) -> str:
    host, port = url.split("//")[1].rstrip("/").split(":")
    try:
        with socket.create_connection((host, int(port)), source_address=(source, 0), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return sock.recv(64).split()[1].decode()
    except OSError as exc:
        return type(exc).__name__


def attacks(url: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []

    def row(attack: str, found: str, now: Callable[[], str]) -> None:
        rows.append((attack, found, now()))
        print(f"{attack}: {rows[-1][2]}", file=sys.stderr)

    def made_up() -> str:
        status, got, seconds = pulled(url, str(uuid.uuid4()))
        return f"{status}, {got:,} bytes in {seconds:.2f} s"

    def old_ticket() -> str:
        status, got, _ = pulled(url, ticket_token(issued_at=utcnow() - timedelta(minutes=11)), 1)
        return f"{status}, {got:,} bytes"

    def made_up_slots() -> str:
        answers = [_status(open_download(url, "127.0.0.9", str(uuid.uuid4()))) for _ in range(10)]
        sock, head = open_download(url, AGENT)
        agent = _status((sock, head))
        return f"10 × {', '.join(sorted(set(answers)))}; then an agent: {agent}"

    def no_ticket_crowd() -> str:
        held = [open_download(url, f"127.0.1.{n + 1}") for n in range(20)]
        agent_download = open_download(url, AGENT)
        statuses, agent = [_status(download) for download in held], _status(agent_download)
        return (f"{statuses.count('200')} served, {statuses.count('503')} told 503 (the residents' half);"
                f" then an agent: {agent}")  # fmt: skip

    def half_heads() -> str:
        host, port = url.split("//")[1].rstrip("/").split(":")

        def half(_: int) -> tuple[socket.socket, float] | None:
            try:
                sock = socket.create_connection((host, int(port)), source_address=("127.0.0.7", 0), timeout=15)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                return sock, time.monotonic()
            except OSError:
                return None

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            socks = [s for s in pool.map(half, range(1100)) if s is not None]
        during = healthz(url, "127.0.0.8")
        ends = closed_times([sock for sock, _ in socks], 40)
        held = [end - opened_at for (_, opened_at), end in zip(socks, ends, strict=True) if end is not None]
        for sock, _ in socks:
            sock.close()
        if len(held) < len(socks):
            return f"{len(socks) - len(held)} of {len(socks)} still open after 40 s"
        at_once, at_deadline = [h for h in held if h < 1], [h for h in held if h >= 1]
        return (f"/healthz from another address meanwhile: {during}; {len(at_once):,} closed on opening (over the"
                f" address's 256), {len(at_deadline):,} after {min(at_deadline):.1f}–{max(at_deadline):.1f} s"
                " (the head's deadline)")  # fmt: skip

    def kept_alive_trickle() -> str:
        host, port = url.split("//")[1].rstrip("/").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(4096)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
            after = closed_within(sock, 30)
        return "held for 30 s and more" if after is None else f"closed after {after:.1f} s"

    row("a made-up ticket id asks for 1 GiB", "3 GiB pulled in 0.8 s, and a signed summary", made_up)
    row("a ticket 11 minutes old", "served", old_ticket)
    row("10 made-up tickets from one address, then an agent", "every residents' slot taken", made_up_slots)
    row("20 clients naming no ticket, then an agent", "all 20 slots taken: the agent got 503", no_ticket_crowd)
    row("1,100 half-sent request heads from one address", "file descriptors exhausted: /healthz stopped answering",
        half_heads)  # fmt: skip
    row("a kept-alive connection's second head, never finished", "(not measured by the issue)", kept_alive_trickle)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "security.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dokiem-trust-") as tmp:
        options = signing_options(Path(tmp), Ed25519PrivateKey.generate())
        proc, url = start_testserver("--agent-network", f"{AGENT}/32", *options)
        try:
            rows = attacks(url)
        finally:
            proc.terminate()
            proc.wait(10)
    lines = [run_line(".venv/bin/python bench/trust_again.py", time.monotonic() - began), "",
             "| attack | as issue 38 found it | now |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {attack} | {found} | {now} |" for attack, found, now in rows]
    show_and_record(lines, args.out, "trust-again", not args.no_write)


if __name__ == "__main__":
    main()

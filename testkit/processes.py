"""Real processes on free loopback ports: start one, wait until it answers, fail with its stderr if it dies."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOKIEM = [sys.executable, "-m", "dokiem"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_until_ready(ready: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, timeout_s: float) -> None:
    """Poll ``ready`` until it holds; fail at once, with the process's stderr, if the process died."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if proc.poll() is not None:
            err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {err}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} was not ready in {timeout_s} s")
        time.sleep(0.02)


def answers(url: str, status: int) -> bool:
    """Does ``url`` answer with ``status`` (certificate not checked: readiness only)?"""
    try:
        with urllib.request.urlopen(url, timeout=1, context=_unverified()) as response:
            return bool(response.status == status)
    except OSError:
        return False


def wait_until_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    wait_until_ready(lambda: answers(url + "healthz", 200), proc, f"the test server at {url}", timeout_s)


def _unverified() -> ssl.SSLContext:
    """Readiness polling only: the tests that matter verify the certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def start_testserver(*args: str, scheme: str = "http", host: str = "127.0.0.1") -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [*DOKIEM, "testserver", "--listen", f"127.0.0.1:{port}", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"{scheme}://{host}:{port}/"
    wait_until_healthy(url, proc)
    drain_stderr(proc, server_log(url))
    return proc, url


def server_log(url: str) -> Path:
    """Where a test server started by start_testserver writes what it says."""
    return Path(tempfile.gettempdir()) / f"dokiem-testserver-{url.rstrip('/').rsplit(':', 1)[1]}.log"


def drain_stderr(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Read a long-lived server's stderr as it comes, into ``log`` (its last words for a failing test): a pipe
    nobody reads blocks the server once 64 KiB of logs fill it."""
    assert proc.stderr is not None

    def drain() -> None:
        with log.open("wb") as out:
            for line in iter(proc.stderr.readline, b""):  # type: ignore[union-attr]
                out.write(line)
                out.flush()

    threading.Thread(target=drain, daemon=True).start()

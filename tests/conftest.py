"""Fixtures: real servers on free loopback ports (the test server as its own process)."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

DOKIEM = [sys.executable, "-m", "dokiem"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_until_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """Poll the health endpoint until it answers; fail early if the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"test server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "healthz", timeout=1, context=_unverified()) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy in {timeout_s} s")


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
    return proc, url


@pytest.fixture(scope="session")
def testserver_url() -> Iterator[str]:
    proc, url = start_testserver()
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def run_dokiem() -> object:
    def run(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        return subprocess.run([*DOKIEM, *args], capture_output=True, text=True, timeout=timeout, env=env)

    return run


REPO = Path(__file__).resolve().parent.parent

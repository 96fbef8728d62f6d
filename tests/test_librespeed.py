"""The measuring client against LibreSpeed's stock PHP backend (``../shared/librespeed/``), served
as test points serve it: PHP's built-in server, which closes the connection after every response
and sends ``Connection: close`` beside the script's own ``Connection: keep-alive``."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest

from agent.probes.wire import parse_head
from tests.conftest import REPO, free_port

STOCK = REPO.parent / "shared" / "librespeed" / "backend"


def _wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the PHP server exited"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture(scope="module")
def php_builtin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    php = shutil.which("php")
    assert php, "php is missing: the README's test command installs php-cli"
    assert (STOCK / "garbage.php").exists(), f"LibreSpeed's backend is missing at {STOCK}"
    root = tmp_path_factory.mktemp("librespeed")
    shutil.copytree(STOCK, root / "backend")  # a document root holding backend/, as LibreSpeed deploys it
    port = free_port()
    process = subprocess.Popen([php, "-S", f"127.0.0.1:{port}", "-t", str(root)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_up(f"http://127.0.0.1:{port}/backend/empty.php", process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(10)


def test_a_repeated_connection_header_is_one_list_and_close_wins() -> None:
    head = parse_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\nX: 1\r\nConnection: keep-alive")
    assert head is not None and head.header("connection") == "close, keep-alive" and not head.keeps_alive
    old = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 0")
    assert old is not None and not old.keeps_alive  # HTTP/1.0 closes unless the server says keep-alive
    kept = parse_head(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive")
    assert kept is not None and kept.keeps_alive


def test_php_builtin_server_is_measured_and_says_each_sample_was_a_new_connection(
    php_builtin: str, run_dokiem: object
) -> None:
    import json

    done = run_dokiem("--lang", "en", "measure", "--server", php_builtin, "--ping-count", "0",  # type: ignore[operator]
                      "--max-seconds", "3", "--json")  # fmt: skip
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result.get("error") is None, done.stdout + done.stderr
    assert result["download_mbps"] > 0 and result["upload_mbps"] > 0 and result["latency_ms"] > 0
    method = result["method"]
    # php -S closes after every response: every latency sample went on a new connection, and says so
    assert method["latency_count"] == 20 and method["latency_new_connections"] == 20
    assert (
        method["counting"] == "tcp_info received (down), tcp_info acked (up)" and "app_counted" not in result["flags"]
    )


def test_the_counting_label_says_what_was_done() -> None:
    from agent.measure import counting_label
    from agent.probes.http import PhaseResult

    def phase(direction: str, kernel: bool) -> PhaseResult:
        return PhaseResult(direction, 100.0, 1, 1.0, 1.0, 2, [], [], kernel_counted=kernel)

    assert counting_label(phase("download", True), phase("upload", False)) == (
        "tcp_info received (down), app bytes sent (up)"
    )
    assert counting_label(None, None) == "none"

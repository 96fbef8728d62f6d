"""The measuring client against LibreSpeed's stock PHP backend (``../shared/librespeed/``), served
as test points serve it: PHP's built-in server (which closes the connection after every response
and sends ``Connection: close`` beside the script's own ``Connection: keep-alive``), Apache with
mod_php and nginx with php-fpm (``testkit/webservers.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dokiem.agent.probes.wire import parse_head
from testkit.webservers import SERVERS


@pytest.fixture(scope="module", params=list(SERVERS))
def librespeed(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(how it is served, base URL) for each way test points deploy LibreSpeed's backend."""
    with SERVERS[request.param]() as url:
        yield request.param, url


def test_a_repeated_connection_header_is_one_list_and_close_wins() -> None:
    head = parse_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\nX: 1\r\nConnection: keep-alive")
    assert head is not None and head.header("connection") == "close, keep-alive" and not head.keeps_alive
    old = parse_head(b"HTTP/1.0 200 OK\r\nContent-Length: 0")
    assert old is not None and not old.keeps_alive  # HTTP/1.0 closes unless the server says keep-alive
    kept = parse_head(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive")
    assert kept is not None and kept.keeps_alive


def test_the_stock_backend_is_measured_however_it_is_served(librespeed: tuple[str, str], run_dokiem: Any) -> None:
    served, url = librespeed
    done = run_dokiem("--lang", "en", "measure", "--server", url, "--ping-count", "0", "--max-seconds", "3", "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result.get("error") is None, f"{served}: {done.stdout} {done.stderr}"
    assert result["download_mbps"] > 0 and result["upload_mbps"] > 0 and result["latency_ms"] > 0
    method = result["method"]
    assert method["latency_count"] == 20
    assert method["counting"] == "tcp_info received (down), tcp_info acked (up)"
    assert "app_counted" not in result["flags"]
    # php -S closes after every response: each latency sample went on a new connection, and says so;
    # Apache and nginx keep the connection alive as LibreSpeed's script asks
    assert method["latency_new_connections"] == (20 if served == "php -S" else 0), served


def test_the_counting_label_says_what_was_done() -> None:
    from dokiem.agent.measure import counting_label
    from dokiem.agent.probes.http import PhaseResult

    def phase(direction: str, kernel: bool) -> PhaseResult:
        return PhaseResult(direction, 100.0, 1, 1.0, 1.0, 2, [], [], kernel_counted=kernel)

    assert counting_label(phase("download", True), phase("upload", False)) == (
        "tcp_info received (down), app bytes sent (up)"
    )
    assert counting_label(None, None) == "none"

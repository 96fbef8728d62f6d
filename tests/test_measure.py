"""``dokiem measure`` end to end on loopback: sane figures, and a clear error for each failure."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dokiem.agent.probes.http import SpeedSettings
from dokiem.contract import Result
from testkit.badservers import bad_server
from testkit.processes import REPO, free_port, start_testserver

Run = Callable[..., subprocess.CompletedProcess[str]]
QUICK = ("--max-seconds", "3", "--ping-count", "3")


def measured(run: Run, url: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    proc = run("measure", "--server", url, "--json", *QUICK, *extra)
    return proc, json.loads(proc.stdout)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], payload: dict[str, Any], code: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert payload["error"]["code"] == code, payload["error"]
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Phép đo thất bại:"), last
    Result.model_validate(payload)


def test_measure_against_the_test_server_gives_sane_figures(run_dokiem: Run, testserver_url: str) -> None:
    proc, payload = measured(run_dokiem, testserver_url, "--dns-name", "localhost")
    assert proc.returncode == 0, proc.stderr
    result = Result.model_validate(payload)
    jsonschema.validate(payload, json.loads((REPO / "dokiem/schema/result.schema.json").read_text()))
    assert result.error is None
    assert result.download_mbps is not None and result.download_mbps > 10
    assert result.upload_mbps is not None and result.upload_mbps > 10
    assert result.latency_ms is not None and 0 < result.latency_ms < 1000
    assert result.jitter_ms is not None and result.jitter_ms >= 0
    assert result.loss_pct == 0.0
    assert result.dns_ms is not None
    assert result.samples_down_mbps and result.samples_up_mbps
    assert result.method.streams_down and result.method.streams_down >= 2
    assert result.method.measured_down_s and result.method.measured_down_s >= SpeedSettings().measure_min_s
    moved = result.method.moved_down_bytes, result.method.moved_up_bytes
    assert moved[0] and moved[1] and result.bytes_up and moved[0] >= result.bytes_down and moved[1] >= result.bytes_up
    assert result.data_used_bytes == moved[0] + moved[1]  # per direction, warm-up included
    assert result.bytes_down and result.bytes_down * 8 / 1e6 / result.method.measured_down_s == pytest.approx(
        result.download_mbps, rel=0.01
    )
    assert result.agent_load is not None and result.agent_load.cpu_seconds > 0


def test_measure_prints_a_vietnamese_table_by_default(run_dokiem: Run, testserver_url: str) -> None:
    proc = run_dokiem("measure", "--server", testserver_url, *QUICK, "--no-upload")
    assert proc.returncode == 0, proc.stderr
    assert "Tải xuống" in proc.stdout and "Mbit/s" in proc.stdout
    assert "Tải lên" in proc.stdout and "không đo" in proc.stdout  # upload skipped: said, not 0
    assert "Đang đo tải xuống" in proc.stderr  # the progress display


def test_measure_in_english(run_dokiem: Run, testserver_url: str) -> None:
    proc = run_dokiem("--lang", "en", "measure", "--server", testserver_url, *QUICK, "--no-download", "--no-upload")
    assert proc.returncode == 0, proc.stderr
    assert "Latency" in proc.stdout and "not measured" in proc.stdout


def test_the_servers_name_is_timed_by_default(run_dokiem: Run, testserver_url: str) -> None:
    named = testserver_url.replace("127.0.0.1", "localhost")
    proc, payload = measured(run_dokiem, named, "--no-download", "--no-upload")
    assert proc.returncode == 0, proc.stderr
    assert [d["name"] for d in payload["dns"]] == ["localhost"] and payload["dns_ms"] >= 0


def test_server_down(run_dokiem: Run) -> None:
    proc, payload = measured(run_dokiem, f"http://127.0.0.1:{free_port()}/")
    assert_clean_failure(proc, payload, "connect_failed")
    assert "download_mbps" not in payload


def test_name_that_does_not_resolve(run_dokiem: Run) -> None:
    proc, payload = measured(run_dokiem, "http://does-not-exist.invalid/")
    assert_clean_failure(proc, payload, "dns_failed")


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("html", "not_a_speedtest_server"),
        ("redirect", "redirect"),
        ("midstream", "closed_mid_stream"),
        ("notfound", "http_status"),
    ],
)
def test_misbehaving_servers(run_dokiem: Run, mode: str, code: str) -> None:
    with bad_server(mode) as url:
        proc, payload = measured(run_dokiem, url)
    assert_clean_failure(proc, payload, code)
    assert "download_mbps" not in payload


def test_redirect_names_the_target(run_dokiem: Run) -> None:
    with bad_server("redirect") as url:
        _, payload = measured(run_dokiem, url)
    assert "https://speedtest.example.vn/" in payload["error"]["message"]


def test_silent_server_ends_in_time_with_an_error(run_dokiem: Run) -> None:
    with bad_server("silent") as url:
        proc, payload = measured(run_dokiem, url)
    assert_clean_failure(proc, payload, "timeout")


@pytest.fixture
def busy_server() -> Iterator[str]:
    """A test server with one slot, held by another client (127.0.0.2) for the whole test."""
    proc, url = start_testserver("--max-tests", "1")
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    holder = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
    holder.sendall(b"GET /backend/garbage.php?ckSize=1024 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert holder.recv(12) == b"HTTP/1.1 200"
    yield url
    holder.close()
    proc.terminate()
    proc.wait(10)


def test_busy_server_is_reported_and_flagged(run_dokiem: Run, busy_server: str) -> None:
    proc, payload = measured(run_dokiem, busy_server)
    assert_clean_failure(proc, payload, "server_busy")
    assert "server_busy" in payload["flags"]
    assert "latency_ms" in payload  # what was measured before the 503 is kept


@pytest.mark.parametrize("url", ["ftp://host/", "host:8080", "http://"])
def test_bad_server_url_is_a_usage_error(run_dokiem: Run, url: str) -> None:
    proc = run_dokiem("measure", "--server", url)
    assert proc.returncode == 2
    assert "--server" in proc.stderr and "Traceback" not in proc.stderr


def test_server_or_ookla_is_required(run_dokiem: Run) -> None:
    proc = run_dokiem("measure")
    assert proc.returncode == 2 and "--ookla" in proc.stderr


def test_up_runs_the_whole_flow(run_dokiem: Run, tmp_path: Path) -> None:
    proc = run_dokiem("up", "--runs", "1", "--max-seconds", "3", "--data-dir", str(tmp_path / "data"))
    assert proc.returncode == 0, proc.stderr
    header, row = proc.stdout.strip().splitlines()
    assert header.startswith("Thời điểm | Tải xuống | Tải lên")
    assert row.endswith("| đạt") and "Mbit/s" in row
    archive = sqlite3.connect(tmp_path / "data" / "collector" / "archive.db")
    assert archive.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 1  # it went through MQTT
    # the residents' page is served too, its keys made once and readable by their owner only
    assert re.search(r"Trang đo cho người dân: http://127\.0\.0\.1:\d+/do/", proc.stderr), proc.stderr
    for name in ("collector.key", "testserver.key"):
        assert (tmp_path / "data" / "keys" / name).stat().st_mode & 0o077 == 0


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_measure_over_https(run_dokiem: Run, tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    proc, url = start_testserver("--tls-cert", str(cert), "--tls-key", str(key), scheme="https", host="localhost")
    try:
        done = run_dokiem("measure", "--server", url, "--json", *QUICK, env={"SSL_CERT_FILE": str(cert)})
        untrusted = run_dokiem("measure", "--server", url, "--json", *QUICK)
    finally:
        proc.terminate()
        proc.wait(10)
    result = Result.model_validate_json(done.stdout)
    assert done.returncode == 0 and result.error is None, done.stderr
    assert result.download_mbps and result.upload_mbps and result.latency_ms
    assert json.loads(untrusted.stdout)["error"]["code"] == "tls_failed"


def test_testserver_refuses_a_key_without_a_certificate(run_dokiem: Run, tls_files: tuple[Path, Path]) -> None:
    proc = run_dokiem("testserver", "--tls-key", str(tls_files[1]))
    assert proc.returncode == 2 and "--tls-cert" in proc.stderr


@pytest.mark.parametrize("agent_id", ["a/b", "#", "x" * 65, "-lead"])
def test_bad_agent_id_is_a_usage_error(run_dokiem: Run, agent_id: str) -> None:
    proc = run_dokiem("measure", "--server", "http://127.0.0.1:1/", "--agent-id", agent_id)
    assert proc.returncode == 2 and "--agent-id" in proc.stderr and "Traceback" not in proc.stderr

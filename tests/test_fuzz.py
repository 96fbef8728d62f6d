"""Hostile input at the collector's doors: MQTT ingest (topics and payloads) and the HTTP API.

Hypothesis generates the inputs. CI runs a few hundred per door; ``bench/fuzz.py`` runs the same
tests with ``DOKIEM_FUZZ_EXAMPLES`` raised and writes the counts tried to docs/security.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dokiem.collector.config import load
from dokiem.collector.service import Collector
from dokiem.contract import result_topic, status_topic
from testkit.agentkit import make_result
from testkit.processes import free_port

EXAMPLES = int(os.environ.get("DOKIEM_FUZZ_EXAMPLES", "300"))
TOKEN = "fuzz-token-1234567890"
TRIED: Counter[str] = Counter()
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    yield
    if target := os.environ.get("DOKIEM_FUZZ_REPORT"):
        Path(target).write_text(json.dumps(dict(TRIED)))


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Collector:
    folder = tmp_path_factory.mktemp("fuzz")
    env = {"DOKIEM_BROKER_URL": "mqtt://127.0.0.1:1", "DOKIEM_DATA_DIR": str(folder),
           "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{free_port()}", "DOKIEM_API_TOKEN": TOKEN}  # fmt: skip
    return Collector(load(None, environ=env))


def no_ack() -> None:
    return None


def _ingest(collector: Collector, topic: str, payload: bytes) -> None:
    before = collector.archive.results.count()
    collector.handle([(topic, payload, no_ack)])
    assert collector.archive.results.count() - before <= 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(topic=st.text(max_size=80), payload=st.binary(max_size=4000))
def test_random_topics_and_bytes_are_refused_without_a_crash(collector: Collector, topic: str, payload: bytes) -> None:
    TRIED["ingest: random topic and bytes"] += 1
    before = collector.archive.results.count()
    collector.handle([(topic, payload, no_ack), (f"dokiem/v1/x/{topic}", payload, no_ack)])
    assert collector.archive.results.count() == before


@FUZZ
@given(data=st.data())
def test_results_with_a_field_replaced_are_stored_or_refused(collector: Collector, data: st.DataObject) -> None:
    TRIED["ingest: a valid result with one field replaced"] += 1
    base = json.loads(make_result().to_json())
    path = [data.draw(st.sampled_from(sorted(base)))]
    if isinstance(base[path[0]], dict) and base[path[0]] and data.draw(st.booleans()):
        path.append(data.draw(st.sampled_from(sorted(base[path[0]]))))
    target = base
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(json_values)
    _ingest(collector, result_topic(base.get("agent_id") if isinstance(base.get("agent_id"), str) else "x"),
            json.dumps(base).encode())  # fmt: skip


@FUZZ
@given(document=json_values, agent=st.text(min_size=1, max_size=20).filter(lambda a: "/" not in a))
def test_arbitrary_json_as_result_and_status(collector: Collector, document: object, agent: str) -> None:
    TRIED["ingest: arbitrary JSON on result and status topics"] += 1
    payload = json.dumps(document).encode()
    _ingest(collector, result_topic(agent), payload)
    collector.handle([(status_topic(agent), payload, no_ack)])


STATUS = {"state": "online", "agent_id": "th-380-001", "version": "0.4.0", "at": "2026-11-24T08:00:00Z",
          "health": {"cpu_pct": 3.5, "memory_pct": 40.0, "temperature_c": 51.2, "disk_pct": 12.0, "uptime_s": 9000,
                     "load1": 0.2, "if_bytes_sent": 10, "if_bytes_recv": 20, "if_errors": 0, "if_drops": 0},
          "outbox": {"depth": 0, "oldest_age_s": 3.0, "dropped_age": 0, "dropped_size": 0},
          "last_error": None, "config": {"fleet_version": "q4", "error": None}, "skipped_runs": 0,
          "schedule": {"interval_minutes": 60}, "faults": []}  # fmt: skip


@FUZZ
@given(data=st.data())
def test_statuses_of_the_topics_own_agent_with_a_field_replaced(collector: Collector, data: st.DataObject) -> None:
    """The status path as an enrolled agent can reach it: its own topic, its own id in the payload."""
    TRIED["ingest: a valid status (own agent id) with one field replaced"] += 1
    status = json.loads(json.dumps(STATUS))
    section = data.draw(st.sampled_from(sorted(status)))
    target, key = status, section
    if isinstance(status[section], dict) and data.draw(st.booleans()):
        target, key = status[section], data.draw(st.sampled_from(sorted(status[section])))
    target[key] = data.draw(json_values | st.integers(min_value=2**62) | st.text(alphabet=st.characters(), max_size=80))
    if key == "agent_id":
        target[key] = "th-380-001"  # the topic's own agent: what the ACL lets it write
    before = collector.stats["statuses"] + collector.stats["quarantined"]
    collector.handle([(status_topic("th-380-001"), json.dumps(status).encode(), no_ack)])
    assert collector.stats["statuses"] + collector.stats["quarantined"] == before + 1  # stored or kept, never lost
    agents = collector.archive.registry.agents()
    assert all(json.dumps(agent) for agent in agents)  # what /api/agents serves stays serialisable


# --- the HTTP API, over real sockets --------------------------------------------------------


@pytest.fixture(scope="module")
def api(collector: Collector) -> Iterator[tuple[str, int]]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        holder["runner"] = await collector._start_api()
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()), daemon=True)
    thread.start()
    assert ready.wait(10)
    host, port = collector.config.http.listen.split(":")
    yield host, int(port)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _exchange(address: tuple[str, int], request: bytes, half_close: bool = False) -> bytes:
    """Send, then read until the server closes (it does after an answer to "Connection: close");
    ``half_close`` says "no more" for raw bytes that are not a whole request."""
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(request)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    line = answer.split(b"\r\n", 1)[0]
    assert line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), answer[:200]
    return int(line.split()[1])


paths = st.sampled_from(["/healthz", "/metrics", "/api/agents", "/api/results", "/api/results/", "/api/quarantine",
                         "/", "/x"])  # fmt: skip
query_keys = st.sampled_from(["district", "since", "until", "format", "limit", "reason", "x"])
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@FUZZ
@given(
    path=paths,
    query=st.dictionaries(query_keys, st.text(max_size=40), max_size=4),
    token=st.one_of(st.none(), header_text, st.just(TOKEN), st.text(max_size=30)),
    method=st.sampled_from(["GET", "POST", "HEAD"]),
)
def test_api_requests_are_answered_and_refused_without_the_token(
    api: tuple[str, int], path: str, query: dict[str, str], token: str | None, method: str
) -> None:
    TRIED["HTTP API: paths, queries, tokens, methods"] += 1
    from urllib.parse import urlencode

    target = path + ("?" + urlencode(query) if query else "")
    headers = "Host: x\r\nConnection: close\r\n" + (f"Authorization: Bearer {token}\r\n" if token is not None else "")
    # non-ASCII tokens go out as UTF-8 bytes, as a misconfigured client would send them
    status = _status(_exchange(api, f"{method} {target} HTTP/1.1\r\n{headers}\r\n".encode("utf-8", "surrogatepass")))
    assert status < 500
    if path != "/healthz" and token != TOKEN:
        # never data without the token; 400 is aiohttp refusing a control character in the header itself
        assert status in (400, 401, 404, 405)


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_raw_bytes_on_the_api_socket_never_take_it_down(api: tuple[str, int], raw: bytes) -> None:
    TRIED["HTTP API: raw bytes on the socket"] += 1
    answer = _exchange(api, raw, half_close=True)
    if answer:
        assert _status(answer) < 500
    assert _status(_exchange(api, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200

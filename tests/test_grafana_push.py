"""`dokiem grafana push` against a stand-in for Grafana's HTTP API (Grafana's server cannot run here)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TOKEN = "glsa_test_token"


class FakeGrafana:
    """Just the endpoints push uses, keeping what it was sent; refuses a wrong token like Grafana (401)."""

    def __init__(self) -> None:
        self.datasources: dict[str, dict[str, Any]] = {}
        self.folders: dict[str, str] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")

            def _route(self) -> None:
                fake.requests.append((self.command, self.path))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._answer(401, {"message": "invalid API key"})
                method, path = self.command, self.path.split("?")[0]
                if method == "GET" and path.startswith("/api/datasources/uid/"):
                    uid = path.rsplit("/", 1)[1]
                    if uid in fake.datasources:
                        return self._answer(200, fake.datasources[uid])
                    return self._answer(404, {"message": "Data source not found"})
                if method in ("POST", "PUT") and path.startswith("/api/datasources"):
                    body = self._body()
                    fake.datasources[body["uid"]] = body
                    return self._answer(200, {"message": "Datasource saved", "datasource": body})
                if method == "GET" and path.startswith("/api/folders/"):
                    uid = path.rsplit("/", 1)[1]
                    if uid in fake.folders:
                        return self._answer(200, {"uid": uid, "title": fake.folders[uid]})
                    return self._answer(404, {"message": "folder not found"})
                if method == "POST" and path == "/api/folders":
                    body = self._body()
                    fake.folders[body["uid"]] = body["title"]
                    return self._answer(200, body)
                if method == "POST" and path == "/api/dashboards/db":
                    body = self._body()
                    assert body["overwrite"] is True and body["folderUid"] == "dokiem"
                    fake.dashboards[body["dashboard"]["uid"]] = body["dashboard"]
                    uid = body["dashboard"]["uid"]
                    return self._answer(200, {"status": "success", "uid": uid, "url": f"/d/{uid}"})
                return self._answer(404, {"message": f"no route {method} {path}"})

            do_GET = do_POST = do_PUT = _route

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    fake = FakeGrafana()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_push_creates_then_updates_datasource_folder_and_dashboards(run_dokiem: Any, grafana: FakeGrafana) -> None:
    env = {"DOKIEM_INFLUX_READ_TOKEN": "influx-read-token"}
    first = run_dokiem("grafana", "push", "--url", grafana.url, "--token", TOKEN, "--influx-url",
                       "http://influxdb:8086", env=env)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert set(grafana.dashboards) == {
        "dokiem-province",
        "dokiem-district",
        "dokiem-commune",
        "dokiem-fleet",
        "dokiem-residents",
        "dokiem-server",
        "dokiem-coverage",
    }
    source = grafana.datasources["dokiem-influxdb"]
    assert source["url"] == "http://influxdb:8086" and source["jsonData"]["dbName"] == "dokiem"
    assert source["secureJsonData"] == {"httpHeaderValue1": "Token influx-read-token"}
    assert grafana.folders == {"dokiem": "dokiem"}
    assert grafana.dashboards["dokiem-province"]["title"] == "dokiem · Toàn tỉnh"
    assert "influx-read-token" not in first.stdout + first.stderr
    again = run_dokiem("grafana", "push", "--url", grafana.url, "--token", TOKEN)
    assert again.returncode == 0, again.stderr
    assert ("PUT", "/api/datasources/uid/dokiem-influxdb") in grafana.requests  # updated in place, not doubled


def test_push_with_a_wrong_token_or_no_grafana_says_so(run_dokiem: Any, grafana: FakeGrafana) -> None:
    refused = run_dokiem("grafana", "push", "--url", grafana.url, "--token", "wrong")
    assert refused.returncode == 1 and f"Grafana tại {grafana.url} từ chối" in refused.stderr
    assert "Traceback" not in refused.stderr and not grafana.dashboards
    grafana.server.shutdown()
    grafana.server.server_close()
    gone = run_dokiem("--lang", "en", "grafana", "push", "--url", grafana.url, "--token", TOKEN)
    assert gone.returncode == 1 and "unreachable" in gone.stderr and "Traceback" not in gone.stderr

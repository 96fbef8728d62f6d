"""The HTTP API: /healthz (open), and behind the token /metrics, /api/agents, /api/results, /api/quarantine."""

from __future__ import annotations

import csv
import hmac
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from dokiem.contract import FIGURES
from dokiem.files import csv_cell

if TYPE_CHECKING:
    from collector.service import Collector

COLLECTOR = web.AppKey("collector", object)
CSV_FIGURES = tuple(f for f in FIGURES if not f.endswith(("_down_ms", "_up_ms")))  # per-direction ones: JSON only
CSV_COLUMNS = ("result_id", "agent_id", "started_at", *CSV_FIGURES, "error")


def _collector(request: web.Request) -> Collector:
    return request.app[COLLECTOR]  # type: ignore[return-value]


@web.middleware
async def require_token(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.path == "/healthz":
        return await handler(request)
    token = _collector(request).config.http.api_token
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token:
        return web.json_response({"error": "the API is disabled: set http.api_token (DOKIEM_API_TOKEN)"}, status=401)
    # a header with bytes that are not UTF-8 is simply a wrong token (never a 500)
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode()):
        return web.json_response({"error": "missing or wrong token: send 'Authorization: Bearer TOKEN'"}, status=401)
    return await handler(request)


async def healthz(request: web.Request) -> web.Response:
    c = _collector(request)
    return web.json_response({"status": "ok", "broker_connected": c.broker_connected})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(text=_collector(request).metrics_text(), content_type="text/plain")


async def agents(request: web.Request) -> web.Response:
    return web.json_response(_collector(request).archive.agents())


def _when(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise web.HTTPBadRequest(
            text=f"{name}={raw!r} is not a date (use 2026-07-01 or 2026-07-01T00:00:00+07:00)\n"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def results(request: web.Request) -> web.Response:
    rows = _collector(request).archive.query(
        district=request.query.get("district") or None, since=_when(request, "since"), until=_when(request, "until")
    )
    if request.query.get("format", "json") == "csv":
        return web.Response(text=_csv(rows), content_type="text/csv")
    return web.json_response(rows)


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, "district", "commune", "isp", "access"])
    for row in rows:
        site, filed = row.get("site") or {}, row["filed"]
        error = (row.get("error") or {}).get("code")
        cells = [*(row.get(c) for c in CSV_COLUMNS[:-1]), error, filed["district_code"], filed["commune_code"],
                 site.get("isp"), site.get("access")]  # fmt: skip
        writer.writerow([csv_cell(cell) for cell in cells])
    return out.getvalue()


async def quarantine(request: web.Request) -> web.Response:
    """Kept messages, oldest first: ``?reason=schema&since=2026-07-01&limit=100``."""
    try:
        limit = int(request.query.get("limit", "1000"))
    except ValueError:
        raise web.HTTPBadRequest(text="limit must be a whole number\n") from None
    if not 1 <= limit <= 100_000:
        raise web.HTTPBadRequest(text="limit must be between 1 and 100000\n")
    kept = _collector(request).archive.quarantined(request.query.get("reason") or None, _when(request, "since"), limit)
    return web.json_response([item.as_json() for item in kept])


def create_app(collector: Collector) -> web.Application:
    app = web.Application(middlewares=[require_token])
    app[COLLECTOR] = collector
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/agents", agents)
    app.router.add_get("/api/results", results)
    app.router.add_get("/api/quarantine", quarantine)
    return app

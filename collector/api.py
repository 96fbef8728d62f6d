"""The HTTP API: /healthz, /public/ (the site ``dokiem publish`` wrote, if ``http.public_dir`` names
it) and /do/ (residents' tests, where ``[residents]`` is set) are open; /metrics, /api/agents,
/api/results, /api/quarantine are behind the token."""

from __future__ import annotations

import base64
import csv
import hmac
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast, get_args

from aiohttp import web

from dokiem.collector.archive import Page
from dokiem.collector.residents import ResidentDoor, add_routes
from dokiem.contract import DETAILS, FIGURES, Source
from dokiem.files import csv_cell
from dokiem.httpdoor import heads_in_time, request_deadline

if TYPE_CHECKING:
    from dokiem.collector.service import Collector

COLLECTOR = web.AppKey("collector", object)
CSV_FIGURES = tuple(f for f in FIGURES if f not in DETAILS)  # per-direction ones: JSON only
CSV_COLUMNS = ("result_id", "agent_id", "started_at", *CSV_FIGURES, "error")


def _collector(request: web.Request) -> Collector:
    return request.app[COLLECTOR]  # type: ignore[return-value]


@web.middleware
async def require_token(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.path == "/healthz" or request.path.startswith((PUBLIC, RESIDENTS)):
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


# What one answer may hold: a page of results is a few MB, of kept messages (up to 64 KB each) a few more.
MAX_PAGE = {"results": 10_000, "agents": 10_000, "quarantine": 100}
DEFAULT_PAGE = {"results": 1000, "agents": 1000, "quarantine": 100}


def _limit(request: web.Request, listing: str) -> int:
    try:
        limit = int(request.query.get("limit", DEFAULT_PAGE[listing]))
    except ValueError:
        raise web.HTTPBadRequest(text="limit must be a whole number\n") from None
    if not 1 <= limit <= MAX_PAGE[listing]:
        raise web.HTTPBadRequest(text=f"limit must be between 1 and {MAX_PAGE[listing]}\n")
    return limit


def _after(request: web.Request) -> tuple[Any, ...] | None:
    """The key a ``cursor`` (from the previous page's Link header) stands for."""
    raw = request.query.get("cursor")
    if not raw:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
        if (
            not isinstance(key, list)
            or not 1 <= len(key) <= 2
            or not all(isinstance(k, int | float | str) for k in key)
        ):
            raise ValueError(key)
    except ValueError:
        raise web.HTTPBadRequest(text="cursor is not one this API gave: take it from the Link header\n") from None
    return tuple(key)


def _paged(request: web.Request, page: Page[Any], response: web.Response) -> web.Response:
    """The page's place in the whole listing, in headers (the body stays the list it always was):
    ``X-Total-Count`` and, when more follows, ``Link: <…&cursor=…>; rel="next"``. Never a silent cut."""
    response.headers["X-Total-Count"] = str(page.total)
    if page.after is not None:
        cursor = base64.urlsafe_b64encode(json.dumps(list(page.after)).encode()).decode().rstrip("=")
        response.headers["Link"] = f'<{request.rel_url.update_query(cursor=cursor)}>; rel="next"'
    return response


async def agents(request: web.Request) -> web.Response:
    page = _collector(request).archive.registry.page(limit=_limit(request, "agents"), after=_after(request))
    return _paged(request, page, web.json_response(page.items))


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


def _source(request: web.Request) -> Source:
    """Whose results: the agents' (by default) or the residents' (``?source=resident``), never both in one
    listing, as nowhere else pools them (issue 22)."""
    raw = request.query.get("source") or "agent"
    if raw not in get_args(Source):
        raise web.HTTPBadRequest(text=f"source={raw[:40]!r} is not one of {', '.join(get_args(Source))}\n")
    return cast(Source, raw)


async def results(request: web.Request) -> web.Response:
    """Results as filed, oldest first: ``?source=resident&district=381&since=2026-07-01&limit=1000``; a
    resident's carries the test server's figures and the page's own beside them (``page_*_mbps``)."""
    page = _collector(request).archive.results.page(
        district=request.query.get("district") or None, since=_when(request, "since"), until=_when(request, "until"),
        limit=_limit(request, "results"), after=_after(request), source=_source(request),
    )  # fmt: skip
    if request.query.get("format", "json") == "csv":
        return _paged(request, page, web.Response(text=_csv(page.items), content_type="text/csv"))
    return _paged(request, page, web.json_response(page.items))


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
    page = _collector(request).archive.quarantine.page(
        request.query.get("reason") or None, _when(request, "since"), _limit(request, "quarantine"), _after(request)
    )
    return _paged(request, page, web.json_response([item.as_json() for item in page.items]))


PUBLIC = "/public/"
RESIDENTS = "/do/"  # residents' own tests (issue 22): open, the figures vouched for by the test server


def create_app(collector: Collector) -> web.Application:
    deadline = request_deadline(collector.config.http.request_timeout_s)
    app = web.Application(middlewares=[heads_in_time, deadline, require_token], client_max_size=1 << 20)
    app[COLLECTOR] = collector
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/agents", agents)
    app.router.add_get("/api/results", results)
    app.router.add_get("/api/quarantine", quarantine)
    residents = collector.config.residents
    if residents.key_file is not None and residents.servers:
        add_routes(app, ResidentDoor(residents, collector, collector.regions))
    public = collector.config.http.public_dir
    if public is not None:
        # files only: no listing, no symlink out of the folder (aiohttp refuses "..", 403/404)
        public.mkdir(parents=True, exist_ok=True)  # published later: served as soon as it is there
        app.router.add_get(PUBLIC, _public_index)
        app.router.add_static(PUBLIC, public, show_index=False, follow_symlinks=False)
    return app


async def _public_index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"{PUBLIC}index.html")

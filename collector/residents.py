"""Residents' door (issue 22): ``POST /do/ticket`` and ``POST /do/result``, open without a token.

A ticket names one of the province's test servers; a result is taken only with the summary that server
signed for that ticket (collector/vouching.py), and the figures stored are the server's, the page's
beside them. Every refusal answers with its reason and is kept in the quarantine under it. No address
is stored: each door counts requests per address under a keyed hash whose key changes every day, in
memory only; no cookie is set.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar, get_args
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import ValidationError

from dokiem import figures as registry
from dokiem.collation import collation_key
from dokiem.collector.archive import bucket_of
from dokiem.collector.config import ResidentsSection
from dokiem.collector.nosignal import NoSignalDoor
from dokiem.collector.published import PublishedMedians
from dokiem.collector.validate import Reason, Refusal, check_bounds, parse_strict
from dokiem.collector.vouching import TicketBook, disagrees
from dokiem.contract import RESIDENT, Access, BrowserConnection, Flag, Method, Result, ServerRef, Site, first_error
from dokiem.figures import Labels
from dokiem.i18n import LANGS, Translator
from dokiem.regions import Regions
from dokiem.thresholds import load_thresholds
from dokiem.vouch import (
    LocateQuery,
    ResidentSubmission,
    ServerSummary,
    Tally,
    read_private_key,
    read_public_key,
)

if TYPE_CHECKING:
    from dokiem.collector.service import Collector

TOPIC = "do/result"  # how the quarantine names this door
MAX_ADDRESSES = 100_000  # addresses counted at once (a flood from many addresses is forgotten, not grown)
V = TypeVar("V")
RESIDENT_AGENT = "resident"  # the agent_id of every resident's result: no person is named
TURNED_AWAY = "residents_turned_away:"  # the collector's stats count the door's 429s and 503s under this, by reason


class DoorRate:
    """All addresses together: at most ``per_second`` requests a second on the residents' door (a burst of
    a few seconds' worth), so a flood from many addresses is turned away before any work. The agents'
    ingest shares this process: what a flood still costs it is measured in bench/residents_flood.py."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second, self.clock = per_second, clock
        self.burst = max(1.0, 3 * per_second)
        self._tokens, self._at = self.burst, clock()

    def allow(self) -> bool:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class ForgottenDaily(Generic[V]):
    """Entries under a keyed hash of what names them (a sender, and a commune), the key drawn afresh each day and
    never written: nothing kept names anyone, each day starts empty, a flood past MAX_ADDRESSES is forgotten."""

    def __init__(self, clock: Callable[[], float], new: Callable[[], V]) -> None:
        self.clock, self._new = clock, new
        self._day, self._key = -1, b""
        self.entries: dict[bytes, V] = {}

    def __getitem__(self, name: str) -> V:
        day = int(self.clock() // 86_400)
        if day != self._day:
            self._day, self._key, self.entries = day, os.urandom(32), {}
        if len(self.entries) >= MAX_ADDRESSES:
            self.entries.clear()
        return self.entries.setdefault(hmac.new(self._key, name.encode(), hashlib.sha256).digest()[:16], self._new())


class SenderCap:
    """At most ``per_day`` tests of one commune counted a day from one sender (issue 38); in memory only, so a
    restart or a flood forgets the day's counts (the publication rule's days and sender-days still hold)."""

    def __init__(self, per_day: int, clock: Callable[[], float] = time.time) -> None:
        self.per_day = per_day
        self._counted: ForgottenDaily[list[float]] = ForgottenDaily(clock, list)

    def full(self, sender: str, commune: str) -> bool:
        return len(self._of(sender, commune)) >= self.per_day

    def count(self, sender: str, commune: str) -> None:
        self._of(sender, commune).append(self._counted.clock())

    def _of(self, sender: str, commune: str) -> list[float]:
        return self._counted[f"{sender_of(sender)}\0{commune}"]


class OverSenderCap(Exception):
    """The sender's tests of this commune are counted for today."""


class AddressLimiter:
    """At most ``per_hour`` requests an hour from one address (ForgottenDaily: the addresses themselves are
    never kept)."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.time) -> None:
        self.per_hour, self.clock = per_hour, clock
        self._seen: ForgottenDaily[deque[float]] = ForgottenDaily(clock, deque)

    def allow(self, address: str) -> bool:
        """Whether ``address`` may make one more request this hour, which is then counted."""
        seen = self._seen_of(address)
        if len(seen) >= self.per_hour:
            return False
        seen.append(self.clock())
        return True

    def spent(self, address: str) -> bool:
        """Whether ``address`` has made its requests for this hour (nothing is counted)."""
        return len(self._seen_of(address)) >= self.per_hour

    def _seen_of(self, address: str) -> deque[float]:
        seen = self._seen[sender_of(address)]
        while seen and seen[0] <= self.clock() - 3600:
            seen.popleft()
        return seen


def sender_of(address: str) -> str:
    """Who a request comes from, for the limits: an IPv4 address, or an IPv6 address's /64 (one household or
    one phone holds a whole /64, and picks any address in it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


class ResidentDoor:
    def __init__(self, config: ResidentsSection, collector: Collector, regions: Regions) -> None:
        assert config.key_file is not None
        self.config, self.collector, self.regions = config, collector, regions
        self.urls = {server.id: server.url for server in config.servers}
        self.book = TicketBook(key=read_private_key(config.key_file),
                               servers={s.id: read_public_key(s.public_key) for s in config.servers})  # fmt: skip
        self.tickets = AddressLimiter(config.per_address_per_hour)
        self.results = AddressLimiter(config.per_address_per_hour)
        self.located = AddressLimiter(config.per_address_per_hour)
        self.reported = AddressLimiter(config.per_address_per_hour)
        self.door = DoorRate(config.max_per_second)
        self.sender_cap = SenderCap(config.tests_per_sender_day)
        # the senders' buckets' key: stable (one address, one bucket, every day), and only the collector's
        self.sender_key = hashlib.sha256(b"dokiem resident senders\0" + config.key_file.read_bytes()).digest()
        self.locator = collector.locator  # the collector's, which places survey samples too: built once
        self.published = PublishedMedians(collector.config.http.public_dir)
        self.proxies = {str(address) for address in collector.config.http.trusted_proxies}
        self.reports = NoSignalDoor(self, collector.coverage)

    def page_config(self, lang: str) -> dict[str, object]:
        """What the page needs: the test servers, the communes of 2025 in Vietnamese order, the province's
        ISPs, the national thresholds and the communes' published medians to compare with, and how each
        direction of the test is shaped by the path (vouch.PageTest)."""
        communes = [(code, c.name, ", ".join(p.districts[d].name for d in c.districts if d in p.districts))
                    for p in self.regions.provinces.values() for code, c in p.communes.items()]  # fmt: skip
        tr = Translator(lang if lang in LANGS else "vi")
        thresholds = [{"name": t.name(lang), "access": t.access.value if t.access else None,
                       "download_mbps": t.download_mbps, "upload_mbps": t.upload_mbps}
                      for t in load_thresholds().thresholds]  # fmt: skip
        return {
            "servers": [{"id": server_id, "url": url} for server_id, url in self.urls.items()],
            # each with its former district(s): a resident may know the old name ("quang xuong")
            "communes": [
                {"code": code, "name": name, "former": former}
                for code, name, former in sorted(communes, key=lambda c: collation_key(c[1]))
            ],
            "isps": self.collector.isps.names(),
            "thresholds": thresholds,
            "figures": [
                {"name": f.name, "label": Labels(tr).name(f), "unit": f.unit.symbol} for f in registry.on_page()
            ],
            "medians": self.published.medians(),
            "test": self.config.page_test.for_page(),
            "report": self.reports.page_config(),
            # the Network Information API's types the result takes as the browser's claim
            "connections": list(get_args(BrowserConnection)),
        }

    def sender(self, request: web.Request) -> str:
        """Who sent the request: its peer, or, from a proxy the config trusts (deploy/nginx), the address
        the proxy names in X-Real-IP. Anyone else's X-Real-IP is no one's word: a resident cannot pose as
        another address to get a fresh hourly allowance."""
        peer = request.remote or "?"
        named = request.headers.get("X-Real-IP", "").strip()
        if named and peer in self.proxies:
            try:
                return str(ipaddress.ip_address(named))
            except ValueError:
                return peer  # a proxy naming no address: counted as the proxy
        return peer

    def admit(self, sender: str, limiter: AddressLimiter, too_many: str) -> web.Response | None:
        """None where the request may go on; else the refusal. The sender's own limit is asked first and counts
        nothing, so one address over its allowance never spends the others' shared rate."""
        if limiter.spent(sender):
            return self._turned_away("too_many", too_many)
        if not self.door.allow():
            return self._turned_away("busy", "too many residents' tests at once across the province: try again"
                                     " shortly")  # fmt: skip
        if not limiter.allow(sender):
            return self._turned_away("too_many", too_many)
        return None

    def _turned_away(self, reason: str, detail: str) -> web.Response:
        """429, or 503 when the whole door is busy; counted by reason for /metrics, not kept (no result came)."""
        self.collector.stats[TURNED_AWAY + reason] += 1
        response = _refused(503 if reason == "busy" else 429, reason, detail)
        if reason == "busy":
            response.headers["Retry-After"] = "30"
        return response

    async def ticket(self, request: web.Request) -> web.Response:
        refused = self.admit(self.sender(request), self.tickets, "too many tests from here this hour: try"
                                 " again later")  # fmt: skip
        if refused is not None:
            return refused
        body = await _body(request, self.config.max_body_bytes)
        server_id = body.get("server_id") if isinstance(body, dict) else None
        if server_id is None and len(self.urls) == 1:
            server_id = next(iter(self.urls))
        if not isinstance(server_id, str) or server_id not in self.urls:
            return _refused(400, "unknown_server", f"server_id must be one of {sorted(self.urls)}")
        try:
            token = self.book.issue(server_id)
        except OverflowError as exc:
            return _refused(503, "busy", str(exc))
        return web.json_response({"ticket": token, "server": {"id": server_id, "url": self.urls[server_id]}},
                                 headers={"Cache-Control": "no-store"})  # fmt: skip

    async def locate(self, request: web.Request) -> web.Response:
        """The commune at the browser's point. The point is read, looked up and dropped: never stored, logged
        or sent back (the answer names the commune only), and it comes in a body, out of the access log."""
        refused = self.admit(self.sender(request), self.located, "too many look-ups from here this hour: pick"
                                 " the commune by name")  # fmt: skip
        if refused is not None:
            return refused
        raw = await request.content.read(self.config.max_body_bytes + 1)
        if len(raw) > self.config.max_body_bytes:
            return _refused(413, "too_large", f"over {self.config.max_body_bytes} bytes")
        try:
            point = LocateQuery.model_validate_json(raw)
        except ValidationError as exc:
            first = first_error(exc)
            return _refused(400, "bad_point", f"{first.where}: {first.message}")
        found = self.locator.commune_at(point.lat, point.lon)
        if found is None:
            return _refused(404, "outside", "the point is in none of the province's communes: pick one by name")
        return web.json_response(
            {"code": found.commune_code, "name": found.name}, headers={"Cache-Control": "no-store"}
        )

    async def result(self, request: web.Request) -> web.Response:
        sender = self.sender(request)
        refused = self.admit(sender, self.results, "too many results from here this hour: try again later")
        if refused is not None:
            return refused
        raw = await request.content.read(self.config.max_body_bytes + 1)
        try:
            if len(raw) > self.config.max_body_bytes:
                raise Refusal(Reason.TOO_LARGE, f"over {self.config.max_body_bytes} bytes")
            result = self._resident_result(raw, sender)
        except Refusal as refusal:
            self.collector.keep(TOPIC, None, refusal, raw)
            return _refused(422, refusal.reason.value, refusal.detail)
        except OverSenderCap:
            today = self.config.tests_per_sender_day
            return self._turned_away("sender_cap", f"this commune has {today} tests from here today: your figures"
                                     " are shown, not counted again until tomorrow")  # fmt: skip
        self.collector.store_resident(result)
        self.sender_cap.count(sender, str(result.site.commune_code))
        self._count_sender(result, sender)
        return web.json_response({"result_id": str(result.result_id), "download_mbps": result.download_mbps,
                                  "upload_mbps": result.upload_mbps, "flags": [f.value for f in result.flags]},
                                 headers={"Cache-Control": "no-store"})  # fmt: skip

    def _count_sender(self, result: Result, address: str) -> None:
        """The address into its bucket for the commune's day (the disclosure rule's count); then forgotten."""
        access = result.site.access.value if result.site.access else ""
        self.collector.archive.senders.note(result.started_at, str(result.site.commune_code), access,
                                            self.bucket(address))  # fmt: skip

    def bucket(self, address: str) -> int:
        """The sender's bucket under the collector's key (archive/senders.py): all that is kept of who sent."""
        return bucket_of(self.sender_key, sender_of(address))

    def _resident_result(self, raw: bytes, sender: str) -> Result:
        submission = parse_strict(ResidentSubmission, raw)
        province = next((p.code for p in self.regions.provinces.values() if submission.commune_code in p.communes),
                        None)  # fmt: skip
        if province is None:
            raise Refusal(Reason.UNKNOWN_REGION, f"no commune {submission.commune_code} in the 2025 list")
        if self.sender_cap.full(sender, submission.commune_code):
            raise OverSenderCap  # before the ticket is spent: nothing of the test is used
        isp = self.collector.isps.canonical(submission.isp)
        if isp is None:
            raise Refusal(Reason.UNKNOWN_ISP, f"{submission.isp!r} is not on the province's list of ISPs")
        site = Site(province_code=province, commune_code=submission.commune_code, isp=isp,
                    access=Access(submission.access))  # fmt: skip
        ticket, summary = self.book.redeem(submission.ticket, submission.summary)  # spent only once all else holds
        result = _from_summary(summary, submission, site, self.urls[ticket.server_id])
        check_bounds(result, self.collector.limits)  # a server's word is bounded as an agent's is (issue 38)
        return result


def _counted(tally: Tally | None) -> Tally | None:
    """A direction's tally where the server vouches for it (issues 38, 39): the kernel's count over one interval.
    One the server calls unsure (too short, unreadable, too many connections) is no figure."""
    return tally if tally is not None and tally.vouched else None


def _from_summary(summary: ServerSummary, submission: ResidentSubmission, site: Site, url: str) -> Result:
    """The server's figures, the page's beside them, flagged where the page read over 10% off."""
    download, upload = _counted(summary.download), _counted(summary.upload)
    down = download.mbps if download else None
    up = upload.mbps if upload else None
    page = submission.page
    unsure = any(tally is not None and tally.unsure is not None for tally in (summary.download, summary.upload))
    flags = [flag for flag, on in ((Flag.WIFI, submission.wifi),
                                   (Flag.PAGE_DISAGREES, disagrees(page.download_mbps, down)
                                    or disagrees(page.upload_mbps, up)),
                                   (Flag.SERVER_UNSURE, unsure)) if on]  # fmt: skip
    return Result(
        agent_id=RESIDENT_AGENT, source=RESIDENT, started_at=summary.first_at,
        finished_at=max(summary.last_at, summary.first_at + timedelta(milliseconds=1)), site=site,
        server=ServerRef(id=summary.server_id, url=url), download_mbps=_round(down), upload_mbps=_round(up),
        latency_ms=page.latency_ms, jitter_ms=page.jitter_ms, page_download_mbps=page.download_mbps,
        page_upload_mbps=page.upload_mbps, browser_connection=submission.connection,
        bytes_down=download.bytes if download else None,
        bytes_up=upload.bytes if upload else None,
        method=Method(name="dokiem-web", version="1", counting="server"), flags=flags,
    )  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def _body(request: web.Request, limit: int) -> object:
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        return None
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return None


def _refused(status: int, reason: str, detail: str) -> web.Response:
    return web.json_response({"error": reason, "detail": detail}, status=status, headers={"Cache-Control": "no-store"})


PAGE = Path(__file__).with_name("page")
PAGE_FILES = {"do.js": "text/javascript", "nosignal.js": "text/javascript", "h3.js": "text/javascript",
              "do.css": "text/css", "icon.svg": "image/svg+xml", "manifest.webmanifest": "application/manifest+json",
              "h3.LICENSE.txt": "text/plain"}  # fmt: skip
SERVICE_WORKER = "sw.js"  # served at /do/sw.js: a worker's scope is its own folder, and it keeps /do/


def _page_headers(door: ResidentDoor) -> dict[str, str]:
    """No file from anywhere but here and the test servers; no inline script; never framed."""
    servers = " ".join(sorted({_origin(url) for url in door.urls.values()}))
    policy = (f"default-src 'self'; connect-src 'self' {servers}; script-src 'self'; style-src 'self'; "
              "img-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
              "frame-ancestors 'none'")  # fmt: skip
    return {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache", "Permissions-Policy": "geolocation=(self)"}  # fmt: skip


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def add_routes(app: web.Application, door: ResidentDoor) -> None:
    async def index(request: web.Request) -> web.Response:
        return web.Response(body=(PAGE / "index.html").read_bytes(), content_type="text/html", charset="utf-8",
                            headers=_page_headers(door))  # fmt: skip

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in PAGE_FILES:
            raise web.HTTPNotFound()
        return web.Response(body=(PAGE / name).read_bytes(), content_type=PAGE_FILES[name],
                            headers=_page_headers(door))  # fmt: skip

    async def page_config(request: web.Request) -> web.Response:
        return web.json_response(
            door.page_config(request.query.get("lang", "vi")), headers={"Cache-Control": "no-cache"}
        )

    app.router.add_get("/do/", index)
    app.router.add_get("/do", _redirect)

    async def service_worker(request: web.Request) -> web.Response:
        return web.Response(body=(PAGE / SERVICE_WORKER).read_bytes(), content_type="text/javascript",
                            headers=_page_headers(door))  # fmt: skip

    app.router.add_get("/do/static/{name}", static)
    app.router.add_get(f"/do/{SERVICE_WORKER}", service_worker)
    app.router.add_get("/do/config", page_config)
    app.router.add_post("/do/ticket", door.ticket)
    app.router.add_post("/do/result", door.result)
    app.router.add_post("/do/locate", door.locate)
    app.router.add_post("/do/report", door.reports.report)


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/do/")

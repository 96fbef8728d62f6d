"""Residents' door (issue 22): a ticket from the collector, a test against a real ``dokiem testserver`` that
signs what it counted, the result stored with the server's figures and kept apart as a resident's; each
forged, replayed or malformed submission refused with its reason and kept in the quarantine; a handful
an hour per address; no address stored."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dokiem.collector.archive import SenderSpread
from dokiem.collector.locate import CommuneLocator
from dokiem.collector.residents import AddressLimiter, DoorRate, SenderCap, sender_of
from dokiem.collector.service import Collector
from dokiem.contract import Flag, Result
from dokiem.regions import Regions
from dokiem.reports.quarterly import resident_figures
from dokiem.thresholds import load_thresholds
from dokiem.vouch import ServerSummary, Unsure, seal, unseal
from testkit.brokers import Broker
from testkit.collectorkit import api_get, collector_config, collector_running
from testkit.influx import Influx
from testkit.residentkit import SERVER_ID, commune_points, resident_test, residents_section
from testkit.webservers import nginx_in_front

COMMUNE = next(iter(Regions.load().provinces["38"].communes))  # a commune of 2025
PER_HOUR = 20


@pytest.fixture
async def door(
    tmp_path: Path, broker: Broker, influx: Influx, test_point: str, server_key: Ed25519PrivateKey
) -> AsyncIterator[Collector]:
    residents = residents_section(tmp_path, server_key, test_point, per_address_per_hour=PER_HOUR)
    async with collector_running(collector_config(tmp_path, broker, influx).model_copy(
            update={"residents": residents})) as collector:  # fmt: skip
        yield collector


def _post(collector: Collector, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    host, port = collector.config.http.listen.rsplit(":", 1)
    request = urllib.request.Request(f"http://{host}:{port}{path}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


async def _ticket(collector: Collector) -> tuple[str, str]:
    status, body = await asyncio.to_thread(
        _post, collector, "/do/ticket", json.dumps({"server_id": SERVER_ID}).encode()
    )
    assert status == 200, body
    return str(body["ticket"]), str(body["server"]["url"])


def _submission(ticket: str, summary: str, **changes: Any) -> bytes:
    page = {"download_mbps": 1000.0, "upload_mbps": 1000.0, "latency_ms": 12.5}
    body: dict[str, Any] = {
        "ticket": ticket,
        "summary": summary,
        "commune_code": COMMUNE,
        "access": "fixed",
        "isp": "VNPT",
        "page": page,
    }
    return json.dumps(body | changes).encode()


async def test_a_residents_test_is_stored_with_the_servers_figures_and_kept_apart(
    door: Collector, server_key: Ed25519PrivateKey
) -> None:
    ticket, url = await _ticket(door)
    summary_token = await asyncio.to_thread(resident_test, url, ticket)
    status, body = await asyncio.to_thread(_post, door, "/do/result", _submission(ticket, summary_token))
    assert status == 200, body
    (stored,) = door.archive.results.query()
    result = Result.model_validate_json(str(door.archive.results.payload_of(str(stored["result_id"]))))
    summary = unseal(summary_token, ServerSummary, server_key.public_key())
    assert result.source == "resident" and result.agent_id == "resident" and result.site.commune_code == COMMUNE
    assert summary.download is not None and summary.download.tcp_counted and summary.upload is not None
    assert result.bytes_down == summary.download.bytes > 0 and result.bytes_up == summary.upload.bytes > 0
    assert result.download_mbps == pytest.approx(summary.download.mbps, rel=1e-3)
    assert result.page_download_mbps == 1000.0 and Flag.PAGE_DISAGREES in result.flags  # the page's, beside
    assert body["flags"] == ["page_disagrees"]
    rows = list(door.archive.results.report_rows(result.started_at, result.finished_at))
    assert rows == []  # never in the agents' figures
    (listed,) = json.loads(await api_get(door, "/api/results?source=resident"))
    assert listed["result_id"] == str(result.result_id) and listed["download_mbps"] == result.download_mbps
    assert listed["page_download_mbps"] == 1000.0  # the page's own figure, beside the server's
    assert json.loads(await api_get(door, "/api/results")) == []  # the agents' listing, as before
    with pytest.raises(urllib.error.HTTPError) as refused:
        await api_get(door, "/api/results?source=everyone")
    assert refused.value.code == 400 and b"agent, resident" in refused.value.read()
    day = result.started_at.replace(hour=0, minute=0, second=0, microsecond=0)
    counted = door.archive.senders.spread(day - timedelta(days=1), day + timedelta(days=2))
    assert counted == {(COMMUNE, "fixed"): SenderSpread(1, 1, 1)}  # the sender counted (a bucket), the address nowhere
    replay = await asyncio.to_thread(_post, door, "/do/result", _submission(ticket, summary_token))
    assert replay[0] == 422 and replay[1]["error"] == "ticket_replayed"
    assert door.archive.quarantine.counts() == {"ticket_replayed": 1}


async def test_forged_and_malformed_submissions_are_refused_with_their_reason_and_kept(
    door: Collector, server_key: Ed25519PrivateKey
) -> None:
    ticket, url = await _ticket(door)
    genuine = await asyncio.to_thread(resident_test, url, ticket)
    summary = unseal(genuine, ServerSummary, server_key.public_key())
    made_up = seal(summary.model_copy(update={"download": None}), Ed25519PrivateKey.generate())
    cases = {
        "summary_invalid": _submission(ticket, made_up),
        "ticket_invalid": _submission("forged." + ticket.split(".")[1], genuine),
        "schema": b'{"ticket": 1}',
        "unknown_region": _submission(ticket, genuine, commune_code="99999"),
        "unknown_isp": _submission(ticket, genuine, isp="VNPT lừa đảo"),
        "too_large": b"{" + b" " * (20 << 10) + b"}",
    }
    for reason, body in cases.items():
        status, answer = await asyncio.to_thread(_post, door, "/do/result", body)
        assert (status, answer["error"]) == (422, reason), answer
    assert door.archive.quarantine.counts() == dict.fromkeys(cases, 1)
    assert door.archive.results.count() == 0
    status, answer = await asyncio.to_thread(_post, door, "/do/result", _submission(ticket, genuine))
    assert status == 200, answer  # the refusals before did not spend the ticket


async def test_a_direction_the_kernel_did_not_count_gives_no_figure_and_no_test(
    door: Collector, server_key: Ed25519PrivateKey
) -> None:
    """A test over in milliseconds (issue 38: a 1 MiB download the page read at 19.2 Mbit/s was signed at 96.4
    from the server's count of its own writes): the server says its count is its own; the collector stores
    no figure from it, and such a test counts for nothing in the residents' figures."""
    ticket, url = await _ticket(door)
    summary_token = await asyncio.to_thread(resident_test, url, ticket, 1.0, False)
    summary = unseal(summary_token, ServerSummary, server_key.public_key())
    assert summary.download is not None and not summary.download.tcp_counted  # too short to read
    assert summary.download.unsure is Unsure.TOO_SHORT  # and says so (issue 39)
    status, body = await asyncio.to_thread(_post, door, "/do/result", _submission(ticket, summary_token))
    assert status == 200, body
    (stored,) = door.archive.results.query()
    result = Result.model_validate_json(str(door.archive.results.payload_of(str(stored["result_id"]))))
    assert result.download_mbps is None and result.bytes_down is None
    assert Flag.SERVER_UNSURE in result.flags and "server_unsure" in body["flags"]
    rows = door.archive.results.report_rows(result.started_at, result.finished_at, source="resident")
    assert resident_figures(rows, load_thresholds()).tests == 0


async def test_a_servers_figure_no_line_carries_is_refused_as_an_agents_would_be(
    door: Collector, server_key: Ed25519PrivateKey
) -> None:
    """A test server that signs 33,554 Mbit/s (issue 38: a resident's was stored where an agent's was refused):
    its summary holds, the figure is out of bounds."""
    ticket, url = await _ticket(door)
    genuine = unseal(await asyncio.to_thread(resident_test, url, ticket), ServerSummary, server_key.public_key())
    assert genuine.download is not None
    huge = genuine.download.model_copy(update={"bytes": 4_194_304_000, "seconds": 1.0})
    inflated = seal(genuine.model_copy(update={"download": huge}), server_key)
    status, answer = await asyncio.to_thread(_post, door, "/do/result", _submission(ticket, inflated))
    assert (status, answer["error"]) == (422, "out_of_bounds"), answer
    assert door.archive.results.count() == 0 and door.archive.quarantine.counts() == {"out_of_bounds": 1}


async def test_a_handful_an_hour_per_address_and_no_address_kept(door: Collector, tmp_path: Path) -> None:
    answers = [await asyncio.to_thread(_post, door, "/do/ticket", b"{}") for _ in range(PER_HOUR + 1)]
    assert [status for status, _ in answers] == [200] * PER_HOUR + [429]
    status, _ = await asyncio.to_thread(_post, door, "/do/result", b"not json")
    assert status == 422 and door.archive.quarantine.counts() == {"not_json": 1}  # kept: its body, nothing else
    stored = b"".join(path.read_bytes() for path in (tmp_path / "collector").rglob("*") if path.is_file())
    assert stored and b"127.0.0.1" not in stored


async def test_a_sender_counts_for_a_few_tests_of_a_commune_a_day(
    tmp_path: Path, broker: Broker, influx: Influx, test_point: str, server_key: Ed25519PrivateKey
) -> None:
    """Issue 38: 300 tests from 60 addresses in 487 s made a commune's figures. Now one sender's tests of a
    commune are counted a few a day (2 here); one more is refused before its ticket is spent (the same test is
    then taken for another commune), and the refusal is counted in /metrics."""
    residents = residents_section(tmp_path, server_key, test_point, per_address_per_hour=PER_HOUR,
                                  tests_per_sender_day=2)  # fmt: skip
    config = collector_config(tmp_path, broker, influx).model_copy(update={"residents": residents})
    other = next(code for code in Regions.load().provinces["38"].communes if code != COMMUNE)
    async with collector_running(config) as door:
        for _ in range(2):
            ticket, url = await _ticket(door)
            summary = await asyncio.to_thread(resident_test, url, ticket)
            assert (await asyncio.to_thread(_post, door, "/do/result", _submission(ticket, summary)))[0] == 200
        ticket, url = await _ticket(door)
        summary = await asyncio.to_thread(resident_test, url, ticket)
        status, body = await asyncio.to_thread(_post, door, "/do/result", _submission(ticket, summary))
        assert (status, body["error"]) == (429, "sender_cap")
        status, body = await asyncio.to_thread(_post, door, "/do/result", _submission(ticket, summary,
                                                                                      commune_code=other))  # fmt: skip
        assert status == 200, body  # the ticket was not spent by the refusal
        stored = [Result.model_validate_json(str(door.archive.results.payload_of(str(row["result_id"]))))
                  for row in door.archive.results.query()]  # fmt: skip
        assert sorted(str(r.site.commune_code) for r in stored) == sorted([COMMUNE] * 2 + [other])
        metrics = (await api_get(door, "/metrics")).decode()
        assert 'dokiem_residents_turned_away_total{reason="sender_cap"} 1' in metrics


def test_the_sender_cap_counts_a_day_per_commune_under_a_daily_key() -> None:
    now = [86_400.0 * 100]
    cap = SenderCap(2, clock=lambda: now[0])
    for _ in range(2):
        assert not cap.full("203.0.113.7", "16000")
        cap.count("203.0.113.7", "16000")
    assert cap.full("203.0.113.7", "16000")
    assert not cap.full("203.0.113.7", "16003") and not cap.full("203.0.113.8", "16000")  # its own count each
    assert cap.full("2001:db8:1:2::9", "16000") is False
    cap.count("2001:db8:1:2::9", "16000")
    cap.count("2001:db8:1:2::a", "16000")  # the same /64: the same sender
    assert cap.full("2001:db8:1:2::b", "16000")
    now[0] += 86_400
    assert not cap.full("203.0.113.7", "16000")  # the next day
    assert all(len(name) == 16 and b"203" not in name for name in cap._counted.entries)


def test_the_limiter_counts_an_hour_and_forgets_each_day() -> None:
    now = [86_400.0 * 100]
    limiter = AddressLimiter(2, clock=lambda: now[0])
    assert [limiter.allow("203.0.113.7") for _ in range(3)] == [True, True, False]
    assert limiter.allow("203.0.113.8")  # another address, its own count
    now[0] += 3601
    assert limiter.allow("203.0.113.7")  # an hour later
    assert all(len(key) == 16 and b"203" not in key for key in limiter._seen.entries)  # keyed hashes, not addresses


def test_an_ipv6_sender_is_its_64_and_an_address_over_its_limit_spends_nothing_else() -> None:
    """Ten addresses of one /64 (what one phone or one household holds) are one sender; an address over its
    limit is told so without counting (issue 38)."""
    limiter = AddressLimiter(6, clock=lambda: 86_400.0 * 100)
    taken = [limiter.allow(f"2001:db8:12:34::{n:x}") for n in range(10)]
    assert taken == [True] * 6 + [False] * 4
    assert limiter.allow("2001:db8:12:35::1")  # the next /64: someone else
    assert sender_of("2001:db8:12:34:ffff::9") == "2001:db8:12:34::/64" and sender_of("203.0.113.7") == "203.0.113.7"
    assert limiter.spent("2001:db8:12:34::99") and not limiter.spent("203.0.113.7")
    assert not limiter.spent("203.0.113.7")  # asking counts nothing


async def test_an_address_over_its_limit_does_not_spend_the_doors_shared_rate(door: Collector) -> None:
    """One address asking far beyond its handful an hour gets 429 each time, and the door's shared rate (ten a
    second, a burst of thirty) is still there for another address."""
    mine = [await asyncio.to_thread(_post_from, f"http://{door.config.http.listen}", "/do/ticket", b"{}", "127.0.0.9")
            for _ in range(PER_HOUR + 40)]  # fmt: skip
    assert [status for status, _ in mine] == [200] * PER_HOUR + [429] * 40
    status, _ = await asyncio.to_thread(
        _post_from, f"http://{door.config.http.listen}", "/do/ticket", b"{}", "127.0.0.10"
    )
    assert status == 200


def test_every_communes_point_is_found_in_that_commune() -> None:
    locator = CommuneLocator(Regions.load())
    found = {code: locator.commune_at(lat, lon) for code, (lat, lon) in commune_points().items()}
    assert len(found) == 166 and all(f is not None and f.commune_code == code for code, f in found.items())


async def test_a_located_point_becomes_its_commune_and_nothing_else(door: Collector) -> None:
    """A commune's point through the door: the answer names the commune only, and nothing is stored."""
    points = commune_points()
    for code, (lat, lon) in list(points.items())[:: len(points) // 5]:
        status, body = await asyncio.to_thread(_post, door, "/do/locate", json.dumps({"lat": lat, "lon": lon}).encode())
        assert (status, body["code"]) == (200, code), body
        assert set(body) == {"code", "name"}
    assert door.archive.results.query() == [] and door.archive.quarantine.listed() == []


BAD_POINTS = dict(
    zip(
        [
            "Hà Nội",
            "latitude 91",
            "a string and an extra key",
            "NaN",
            "1e400",
            "a list",
            "not UTF-8",
            "empty",
            "70 KB",
        ],
        [
            (b'{"lat": 21.0285, "lon": 105.8542}', 404, "outside"),  # Hà Nội: no commune of this province
            (b'{"lat": 91, "lon": 105.8}', 400, "bad_point"),
            (b'{"lat": "19.8", "lon": 105.8, "x": 1}', 400, "bad_point"),
            (b'{"lat": NaN, "lon": 105.8}', 400, "bad_point"),
            (b'{"lat": 1e400, "lon": 105.8}', 400, "bad_point"),
            (b"[19.8, 105.8]", 400, "bad_point"),
            (b"\xff\xfe", 400, "bad_point"),
            (b"", 400, "bad_point"),
            (b'{"lat": 19.8, "lon": 105.8, "pad": "' + b"x" * 70_000 + b'"}', 413, "too_large"),
        ],
        strict=True,
    )
)  # what, answer, reason


async def test_a_bad_point_is_refused_with_a_reason(door: Collector) -> None:
    for what, (body, status, error) in BAD_POINTS.items():
        got, answer = await asyncio.to_thread(_post, door, "/do/locate", body)
        assert (got, answer["error"]) == (status, error), (what, answer)
        assert "105.8" not in answer["detail"]  # the point is never echoed


def test_the_door_takes_a_few_a_second_from_everyone_together() -> None:
    now = [0.0]
    door = DoorRate(per_second=2, clock=lambda: now[0])
    taken = sum(door.allow() for _ in range(100))
    assert taken == 6  # a burst of three seconds' worth, then nothing until time passes
    now[0] = 1.0
    assert [door.allow() for _ in range(3)] == [True, True, False]


def _post_from(url: str, path: str, body: bytes, source: str, real_ip: str | None = None) -> tuple[int, dict[str, Any]]:
    """POST from the loopback address ``source`` (127.x.y.z), naming ``real_ip`` in X-Real-IP if given."""
    host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    headers = {"Content-Type": "application/json", **({"X-Real-IP": real_ip} if real_ip else {})}
    try:
        connection.request("POST", path, body, headers)
        answer = connection.getresponse()
        return answer.status, {**json.loads(answer.read() or b"{}"), "retry-after": answer.getheader("Retry-After")}
    finally:
        connection.close()


FORGED = json.dumps({"ticket": "eyJmb3JnZWQiOiB0cnVlfQ.AAAA", "summary": "eyJmb3JnZWQiOiB0cnVlfQ.AAAA",
                     "commune_code": COMMUNE, "access": "fixed", "isp": "VNPT"}).encode()  # fmt: skip


async def test_behind_nginx_each_address_is_its_own_and_a_flood_is_refused_in_front(
    tmp_path: Path, broker: Broker, test_point: str, server_key: Ed25519PrivateKey
) -> None:
    """deploy/nginx in front: the collector counts each resident by the address nginx names, takes nobody
    else's word for one, and a flood beyond the door's rate is refused by nginx, as the page reads it."""
    residents = residents_section(tmp_path, server_key, test_point, per_address_per_hour=3, max_per_second=1000)
    config = collector_config(tmp_path, broker, None)
    http_section = config.http.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    ticket = json.dumps({"server_id": SERVER_ID}).encode()
    async with collector_running(config.model_copy(update={"residents": residents, "http": http_section})) as door:
        direct = f"http://{door.config.http.listen}/"
        with contextlib.ExitStack() as stack:  # nginx waits for the collector, which answers on this loop
            log = tmp_path / "nginx-access.log"
            front = await asyncio.to_thread(
                stack.enter_context, nginx_in_front(door.config.http.listen, access_log=log)
            )
            asked = [await asyncio.to_thread(_post_from, front, "/do/ticket", ticket, "127.0.0.2") for _ in range(4)]
            assert [status for status, _ in asked] == [200, 200, 200, 429]
            other = await asyncio.to_thread(_post_from, front, "/do/ticket", ticket, "127.0.0.3")
            assert other[0] == 200  # another resident behind the same nginx: an allowance of their own
            posing = [await asyncio.to_thread(_post_from, direct, "/do/ticket", ticket, "127.0.0.4", f"10.0.0.{n}")
                      for n in range(4)]  # fmt: skip
            assert [status for status, _ in posing] == [200, 200, 200, 429]  # counted as 127.0.0.4, whatever it says
            junk = [await asyncio.to_thread(_post_from, direct, "/do/ticket", ticket, "127.0.0.1", "../etc; drop")
                    for _ in range(4)]  # fmt: skip
            assert [status for status, _ in junk] == [200, 200, 200, 429]  # a trusted proxy naming no address: itself
            flood = await asyncio.gather(*(asyncio.to_thread(_post_from, front, "/do/result", FORGED, f"127.0.9.{n}")
                                           for n in range(1, 201)))  # fmt: skip
            await asyncio.to_thread(urllib.request.urlopen, f"{front}healthz", timeout=10)
            logged = log.read_text()  # the residents' door is not logged (issue 38), the rest is
            assert "/healthz" in logged and "/do/" not in logged and "127.0.0.2" not in logged
    busy = [body for status, body in flood if status == 503]
    passed = [body for status, body in flood if status != 503]
    assert busy and all(b["error"] == "busy" and b["retry-after"] for b in busy)  # what the page says in Vietnamese
    assert all(b["error"] == "ticket_invalid" for b in passed)  # what got through was read and refused by the door
    assert door.archive.quarantine.counts() == {"ticket_invalid": len(passed)}  # the collector saw only those


def test_the_residents_settings_are_set_from_the_environment_too() -> None:
    """As every other section's: DOKIEM_RESIDENTS_<KEY> (the sender cap of issue 38 among them), and a bad value
    named by its variable."""
    from dokiem.collector.config import load
    from dokiem.settings import ConfigError

    environ = {"DOKIEM_RESIDENTS_TESTS_PER_SENDER_DAY": "2", "DOKIEM_RESIDENTS_PER_ADDRESS_PER_HOUR": "9",
               "DOKIEM_RESIDENTS_MOBILE_TEST_MB": "50"}  # fmt: skip
    config = load(None, environ=environ)
    assert (config.residents.tests_per_sender_day, config.residents.per_address_per_hour) == (2, 9)
    assert config.residents.page_test.mobile_bytes == 50_000_000  # what the page is told (issue 39)
    for variable, bad in (("DOKIEM_RESIDENTS_TESTS_PER_SENDER_DAY", "0"), ("DOKIEM_RESIDENTS_MOBILE_TEST_MB", "0"),
                          ("DOKIEM_RESIDENTS_MOBILE_TEST_MB", "lots")):  # fmt: skip
        with pytest.raises(ConfigError) as refused:
            load(None, environ={variable: bad})
        assert variable in str(refused.value)

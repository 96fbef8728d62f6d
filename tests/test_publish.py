"""The public results site: nothing that identifies an agent or a line leaves the archive, a commune
without enough data is marked and its figures are nowhere, the figures are the quarterly report's,
and the collector serves it openly at /public/."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import re
import stat
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from dokiem.collation import unit_key
from dokiem.collector.archive import Archive, sqlite_url
from dokiem.collector.service import Collector
from dokiem.contract import Access, Flag, Premises, Result, ServerRef, Site
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.reports.tables import format_value
from dokiem.synthetic import SyntheticAgent, synthetic_results
from dokiem.thresholds import SHIPPED, load_thresholds
from testkit.brokers import Broker
from testkit.collectorkit import TOKEN, collector_config, collector_running
from testkit.processes import DOKIEM
from testkit.reportkit import QUARTER

MIN_SAMPLES = 40
SERVER_IPS = ("203.0.113.7", "2001:db8::77")


def _agent(n: int, commune: str, access: Access, premises: Premises | None = None) -> SyntheticAgent:
    site = Site(province_code="38", commune_code=commune, isp=("VNPT", "Viettel", "FPT")[n % 3], access=access,
                lat=19.81234 + n / 10_000, lon=105.78765 + n / 10_000, premises=premises,
                plan_down_mbps=300.0 if access is Access.FIXED else None)  # fmt: skip
    return SyntheticAgent(f"pub-{commune}-{access.value}-{n}", site, 0.8)


AGENTS = (
    [_agent(n, "14797", Access.FIXED) for n in range(4)]  # published: 4 agents
    + [_agent(n, "14797", Access.MOBILE) for n in range(3)]  # published: 3 agents
    + [_agent(n, "14758", Access.FIXED, "household") for n in range(2)]  # held back: 2 households' agents only
    + [_agent(0, "14758", Access.MOBILE)]  # published: one agent, in the commune's office
)


def _results() -> list[Result]:
    results = list(synthetic_results(AGENTS, QUARTER.start, QUARTER.end, 900, failed_share=0.02))
    out = []
    for n, result in enumerate(results):
        update: dict[str, Any] = {"server": ServerRef(id="s1", url=f"http://[{SERVER_IPS[1]}]/" if n % 2 else
                                                      f"http://{SERVER_IPS[0]}:8080/")}  # fmt: skip
        if n % 50 == 7:
            update |= {"flags": [Flag.WIFI], "download_mbps": 0.5}  # unsound: left out, counted
        out.append(result.model_copy(update=update))
    return out


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Result], Path]:
    root = tmp_path_factory.mktemp("publish")
    results = _results()
    archive = Archive.from_url(sqlite_url(root / "archive.db"))
    archive.results.add(results)
    archive.close()
    thresholds = root / "thresholds.toml"
    thresholds.write_text(
        SHIPPED.read_text(encoding="utf-8").replace("min_samples = 300", f"min_samples = {MIN_SAMPLES}")
    )
    for command in (["publish", "--out", str(root / "site")],
                    ["report", "quarterly", "--out", str(root / "report"), "--format", "csv"]):  # fmt: skip
        done = subprocess.run([*DOKIEM, *command, "--quarter", str(QUARTER), "--archive",
                               sqlite_url(root / 'archive.db'), "--thresholds", str(thresholds)],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
    return root / "site", results, root / "report"


def _every_text(site: Path) -> dict[Path, str]:
    texts = {}
    for path in site.rglob("*"):
        if path.is_file():
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            texts[path] = data.decode("utf-8")
    return texts


def test_nothing_identifying_leaves_the_archive(published: tuple[Path, list[Result], Path]) -> None:
    site, results, _ = published
    texts = _every_text(site)
    assert len(texts) > 10 and sum(path.stat().st_size for path in texts) < 10 * 2**20
    secrets = {a.agent_id for a in AGENTS} | set(SERVER_IPS)
    secrets |= {f"{a.site.lat}" for a in AGENTS} | {f"{a.site.lon}" for a in AGENTS}
    for r in results:  # a run's own time, in any form it was stored in
        secrets |= {r.started_at.isoformat(), str(int(r.started_at.timestamp() * 1000)), f"{r.started_at:%H:%M:%S}"}
    for path, text in texts.items():
        leaked = [secret for secret in secrets if secret in text]
        assert leaked == [], f"{path} holds {leaked[:3]}"
    records = list(csv.DictReader(io.StringIO(texts[site / "data" / "tests.csv.gz"])))
    assert records and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00\+07:00", r["hour"]) for r in records)
    assert set(records[0]) == {"hour", "province", "district", "commune", "isp", "access", "failed", "download_mbps",
                               "upload_mbps", "latency_ms", "jitter_ms", "loss_pct"}  # fmt: skip


def _held(result: Result) -> bool:
    """A run of the held-back group: the households' agents' fixed lines in 14758."""
    return result.site.commune_code == "14758" and result.site.access is Access.FIXED


def test_a_commune_without_enough_data_is_marked_and_its_figures_are_nowhere(
    published: tuple[Path, list[Result], Path],
) -> None:
    site, results, _ = published
    rows = {
        (r["code"], r["access"]): r for r in csv.DictReader((site / "data" / "communes.csv").open(encoding="utf-8"))
    }
    held = rows["14758", "fixed"]
    assert held["published"] == "False" and held["download_median_mbps"] == "" and held["agents"] == ""
    assert rows["14797", "fixed"]["published"] == "True"
    office = rows["14758", "mobile"]  # one office's agent: the commune's line, published (issue 22)
    assert office["published"] == "True" and office["agents"] == "1"
    page = (site / "communes" / "14758.html").read_text(encoding="utf-8")
    assert "Chưa đủ số liệu để công bố" in page
    # the held-back group's median, as any page or file would print it, appears nowhere
    import statistics

    sound = [r.download_mbps for r in results if _held(r) and r.error is None and not r.flags]
    median = statistics.median(sound)
    printed = {format_value(median, "mbps", Translator("vi")), f"{median:.2f}", f"{median:.1f}"}
    for path, text in _every_text(site).items():
        assert not printed & set(re.findall(r"[\d.,]+", text)), path
    records = list(csv.DictReader(io.StringIO(_every_text(site)[site / "data" / "tests.csv.gz"])))
    shown = {(r["commune"], r["access"]) for r in records}
    assert shown == {("14797", "fixed"), ("14797", "mobile"), ("14758", "mobile")}  # the held-back group's: held
    readme = (site / "data" / "README.txt").read_text(encoding="utf-8")
    held_runs = sum(1 for r in results if _held(r) and not r.flags)
    unsound = sum(1 for r in results if r.flags)
    assert f"{held_runs} lượt của các nhóm chưa đủ số liệu" in readme and f"{unsound} lượt bị loại" in readme


def test_the_site_shows_the_quarterly_reports_figures(published: tuple[Path, list[Result], Path]) -> None:
    site, _, report = published
    with (report / f"dokiem-quarterly-{QUARTER}-vi-communes.csv").open(encoding="utf-8-sig") as f:
        reported = {(row["Mã"], row["Loại truy nhập"]): row for row in csv.DictReader(f)}
    for row in json.loads((site / "data" / "communes.json").read_text(encoding="utf-8")):
        if not row["published"]:
            continue
        theirs = reported[row["code"], Translator("vi")(f"access_{row['access']}")]
        assert row["download_median_mbps"] == pytest.approx(float(theirs["Tải xuống trung vị (Mbit/s)"]), abs=0.01)
        assert row["tests"] == int(theirs["Lượt đo"])
        assert row["latency_median_ms"] == pytest.approx(float(theirs["Độ trễ trung vị (ms)"]), abs=0.01)
        assert row["latency_p10_ms"] <= row["latency_median_ms"] <= row["latency_p90_ms"]  # the spread, as asked
    page = (site / "communes" / "14797.html").read_text(encoding="utf-8")
    assert "Độ trễ (ms)" in page and "Tải xuống (Mbit/s)" in page and "Tải lên (Mbit/s)" in page
    # latency under load in words, by the thresholds' classes (issue 21)
    rules, tr = load_thresholds().responsiveness, Translator("vi")
    rows = [r for r in json.loads((site / "data" / "communes.json").read_text(encoding="utf-8"))
            if r["published"] and r["code"] == "14797"]  # fmt: skip
    assert len(rows) == 2  # fixed and mobile
    for row in rows:
        level = rules.rpm_class(row["responsiveness_median_rpm"])
        said = tr("pub_rpm", loaded=format_value(row["loaded_latency_median_ms"], "ms", tr),
                  rpm=tr.number(row["responsiveness_median_rpm"], 0), level=tr(f"rpm_level_{level}"))  # fmt: skip
        assert said in page.replace("&#x27;", "'")
    index = (site / "index.html").read_text(encoding="utf-8")
    fixed = next(r for r in json.loads((site / "data" / "communes.json").read_text()) if r["access"] == "fixed"
                 and r["published"])  # fmt: skip
    assert format_value(fixed["download_median_mbps"], "mbps", Translator("vi")) in index


def test_the_pages_are_small_accessible_and_self_contained(published: tuple[Path, list[Result], Path]) -> None:
    site = published[0]
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.startswith("<!doctype html>") and '<html lang="vi">' in index and 'name="viewport"' in index
    assert '<svg viewBox="0 0 640' in index and 'role="img"' in index and "<desc" in index
    assert "<script" not in index and not re.search(r'(src|href)="https?://', index)  # nothing fetched elsewhere
    features = json.loads((Path(__file__).parent.parent / "dokiem/regions/38/communes-2025-07.geojson").read_text())
    assert index.count("<path ") == 2 * len(features["features"])  # both maps draw every commune
    assert 'href="communes/14797.html"' in index and (site / "communes" / "14797.html").exists()
    assert len(index) < 400_000


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.commune_names: list[str] = []
        self._in_commune_link = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)
        href = dict(attrs).get("href") or ""
        self._in_commune_link = tag == "a" and href.startswith("communes/")

    def handle_data(self, data: str) -> None:
        if self._in_commune_link:
            self.commune_names.append(data)
            self._in_commune_link = False


def test_every_link_of_the_site_leads_to_a_page_it_holds_readable_by_the_web_server(
    published: tuple[Path, list[Result], Path],
) -> None:
    site = published[0]
    pages = sorted(site.rglob("*.html"))
    province = Regions.load().provinces["38"]
    assert len(list((site / "communes").glob("*.html"))) >= len(province.communes)  # a page per commune
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.links:
            target = urllib.parse.urlsplit(link)
            if target.scheme or target.netloc or not target.path:
                assert target.scheme in ("", "https", "mailto"), (page, link)  # a licence, a contact
                continue
            assert (page.parent / target.path).resolve().is_file(), f"{page.relative_to(site)} links to {link}"
    for path in [site, *site.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path


def test_the_site_lists_the_communes_in_vietnamese_order(published: tuple[Path, list[Result], Path]) -> None:
    parser = _Links()
    parser.feed((published[0] / "index.html").read_text(encoding="utf-8"))
    names = parser.commune_names
    assert len(names) >= len(Regions.load().provinces["38"].communes)
    assert names == sorted(names, key=unit_key)
    assert names != sorted(names)  # code point order would differ (Đ after Z, "Phường" before "Xã")


@pytest.fixture
async def serving(
    tmp_path: Path, broker: Broker, published: tuple[Path, list[Result], Path]
) -> AsyncIterator[Collector]:
    config = collector_config(tmp_path, broker, None)
    config = config.model_copy(update={"http": config.http.model_copy(update={"public_dir": published[0]})})
    async with collector_running(config) as collector:
        yield collector


def _get(collector: Collector, path: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://{collector.config.http.listen}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


async def test_the_collector_serves_the_site_openly_and_nothing_else(serving: Collector) -> None:
    status, body = await asyncio.to_thread(_get, serving, "/public/index.html")
    assert status == 200 and b"<svg" in body
    assert (await asyncio.to_thread(_get, serving, "/public/"))[0] == 200  # to index.html
    assert (await asyncio.to_thread(_get, serving, "/public/data/communes.csv"))[0] == 200
    assert (await asyncio.to_thread(_get, serving, "/public/../archive.db"))[0] in (403, 404)
    assert (await asyncio.to_thread(_get, serving, "/public/%2e%2e/archive.db"))[0] in (403, 404)
    assert (await asyncio.to_thread(_get, serving, "/api/agents"))[0] == 401  # the API keeps its token
    assert (await asyncio.to_thread(_get, serving, "/api/agents", TOKEN))[0] == 200

"""A newcomer's first hour (issue 33), as a newcomer types it: ``dokiem up`` in a fresh folder, then the report
and the site with no options; the demo quarter in the report, the site and a dashboard's query against a real
InfluxDB; every error a user meets on the way in the language asked for."""

from __future__ import annotations

import csv
import re
import sqlite3
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from dokiem.collector.archive import Archive, sqlite_url
from dokiem.collector.archive.db import sqlite_path
from dokiem.collector.demo import NotATrial, fill_demo
from dokiem.grafana.dashboards import build_all
from dokiem.i18n import Translator
from dokiem.regions import Regions, find_communes
from dokiem.reports.quarterly import Quarter
from dokiem.synthetic import synthetic_agents, synthetic_results
from dokiem.thresholds import load_thresholds
from testkit.influx import Influx
from testkit.processes import DOKIEM

Run = Callable[..., subprocess.CompletedProcess[str]]
REGIONS = Regions.load()
PROVINCE = REGIONS.provinces["38"]
UP = ("up", "--province", "38", "--runs", "1", "--max-seconds", "3")
# the whole flow for a province with its former districts, the one with most units and the one with the largest area
FLOWED = [
    "38",
    max(REGIONS.provinces, key=lambda c: len(REGIONS.provinces[c].communes)),
    max(REGIONS.provinces, key=lambda c: sum(u.area_km2 or 0 for u in REGIONS.provinces[c].communes.values())),
]


def _pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())


def test_the_quick_start_reaches_the_report_and_the_site_with_no_options(run_dokiem: Run, tmp_path: Path) -> None:
    up = run_dokiem(*UP, "--commune", "hoang hoa", "--isp", "viettel", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    first = up.stderr.splitlines()[0]
    assert "Xã Hoằng Hóa (mã 15865)" in first and "Viettel" in first and "cố định" in first
    report = run_dokiem("report", "quarterly", "--format", "pdf", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "dokiem-data/collector/archive.db" in report.stderr  # says which archive it found
    (pdf,) = tmp_path.glob("dokiem-quarterly-*-vi.pdf")
    text = _pdf_text(pdf)
    assert "Xã Hoằng Hóa" in text and "Thanh Hóa" in text
    site = run_dokiem("publish", cwd=tmp_path)
    assert site.returncode == 0, site.stderr
    page = tmp_path / "dokiem-data" / "site" / "communes" / "15865.html"
    assert "Xã Hoằng Hóa" in page.read_text(encoding="utf-8")
    assert "Hoằng Hóa" in (tmp_path / "dokiem-data" / "site" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("code", FLOWED)
def test_the_demo_quarter_is_marked_everywhere_and_agrees_with_a_dashboard(
    run_dokiem: Run, tmp_path: Path, influx: Influx, code: str
) -> None:
    province = REGIONS.provinces[code]
    up = run_dokiem(*UP[:2], code, *UP[3:], "--demo", "--influx", influx.url, cwd=tmp_path, timeout=600)
    assert up.returncode == 0, up.stderr
    assert f"{province.name} (mã {code})" in up.stderr.splitlines()[0]
    quarter = Quarter.parse(re.search(r"quý (\d{4}Q\d)", up.stderr).group(1))  # type: ignore[union-attr]
    report = run_dokiem("report", "quarterly", "--format", "pdf,docx,csv", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    (pdf,) = tmp_path.glob(f"dokiem-quarterly-{quarter}-demo-vi.pdf")
    text = _pdf_text(pdf)
    assert "DỮ LIỆU MẪU" in text and province.name in text
    assert ("huyện cũ" in text.lower()) == bool(province.districts)  # the layer is there only with its data
    from docx import Document

    docx_text = " ".join(p.text for p in Document(str(pdf.with_suffix(".docx"))).paragraphs)
    assert f"trên địa bàn {province.in_text}" in docx_text and f"UBND {province.full_name}".upper() in " ".join(
        p.text for t in Document(str(pdf.with_suffix(".docx"))).tables for c in t.rows[0].cells for p in c.paragraphs
    )
    with (tmp_path / f"dokiem-quarterly-{quarter}-demo-vi-province.csv").open(encoding="utf-8-sig") as f:
        fixed = next(row for row in csv.DictReader(f) if row["Loại truy nhập"] == "Cố định")
    # the site up published: every commune of the province with a page, each page saying it is demo data
    site = tmp_path / "dokiem-data" / "site"
    pages = list((site / "communes").glob("*.html"))
    assert {p.stem for p in pages} == set(province.communes)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.count('<a href="communes/') >= len(province.communes)  # the map links every unit
    assert all("DỮ LIỆU MẪU" in p.read_text(encoding="utf-8") for p in [site / "index.html", *pages])
    assert "DỮ LIỆU MẪU" in (site / "data" / "README.txt").read_text(encoding="utf-8")
    # the dashboards read the same quarter from InfluxDB: the province's fixed median is the report's
    board = build_all(Translator("vi"), load_thresholds(), Regions.load(only=code))["province"]
    (panel,) = [p for p in board["panels"] if p["title"] == "Trung vị toàn tỉnh"]
    window = f"time >= {int(quarter.start.timestamp())}s and time < {int(quarter.end.timestamp())}s"
    query = panel["targets"][0]["query"].replace("$timeFilter", window).replace("$isp", ".*")
    (series,) = influx.query(query.replace("$ip_version", ".*"))
    assert series["values"][0][1] == pytest.approx(float(fixed["Tải xuống trung vị (Mbit/s)"]), abs=0.01)
    demo_agents = influx.query('SHOW TAG VALUES FROM "speedtest" WITH KEY = "agent"')[0]["values"]
    assert {agent for _, agent in demo_agents if agent.startswith("demo-")} and all(
        agent.startswith("demo-") or agent in ("local", "resident") for _, agent in demo_agents
    )
    # a deployed collector refuses the demo's archive
    refused = run_dokiem("collector", "run", cwd=tmp_path,
                         env={"DOKIEM_ARCHIVE_URL": "sqlite:///dokiem-data/collector/archive.db"})  # fmt: skip
    assert refused.returncode == 1 and "dữ liệu mẫu" in refused.stderr, refused.stderr


def test_the_demo_never_goes_into_an_archive_from_the_field(tmp_path: Path) -> None:
    archive = Archive.from_url(sqlite_url(tmp_path / "archive.db"))
    quarter = Quarter.parse("2026Q3")
    field = list(synthetic_results(synthetic_agents(REGIONS, "38")[:2], quarter.start, quarter.end, 10))
    archive.results.add(field)
    with pytest.raises(NotATrial) as refused:
        fill_demo(archive, REGIONS, "38", [(quarter.start, quarter.end)])
    assert set(refused.value.agents) == {r.agent_id for r in field}
    assert archive.results.count() == len(field) and not archive.meta.demo
    archive.close()


def test_a_three_slash_sqlite_url_is_relative_as_in_sqlalchemy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert sqlite_path("sqlite:///data/archive.db") == Path("data/archive.db")
    assert sqlite_path("sqlite:////var/lib/dokiem/archive.db") == Path("/var/lib/dokiem/archive.db")
    assert sqlite_url(tmp_path / "a.db") == f"sqlite:///{tmp_path}/a.db" and sqlite_url(tmp_path).count("/") > 3
    # an archive deployed as sqlite:///var/... before three slashes were relative is still found where it is
    legacy = tmp_path / "old" / "archive.db"
    legacy.parent.mkdir()
    sqlite3.connect(legacy).close()
    assert sqlite_path(f"sqlite://{legacy}") == legacy
    created = Archive.from_url("sqlite:///here/archive.db")
    created.close()
    assert (tmp_path / "here" / "archive.db").is_file()


@pytest.mark.parametrize(
    ("typed", "code"),
    [("hoang hoa", "15865"), ("Xã Hoằng Hóa", "15865"), ("Hoằng Hoá", "15865"), ("XA HOANG HOA", "15865"),
     ("15865", "15865"), ("phuong sam son", "16531"), ("hac", "14797")],
)  # fmt: skip
def test_a_commune_is_found_by_name_without_diacritics_or_by_code(typed: str, code: str) -> None:
    assert [unit.code for unit in find_communes(PROVINCE, typed)] == [code]


def test_a_commune_name_that_fits_several_or_none_is_refused_with_the_candidates(
    run_dokiem: Run, tmp_path: Path
) -> None:
    assert len(find_communes(PROVINCE, "thach")) > 1 and find_communes(PROVINCE, "xyz") == []
    several = run_dokiem(*UP, "--commune", "thach", cwd=tmp_path)
    assert several.returncode == 2 and "Xã Thạch Bình (15211)" in several.stderr
    none = run_dokiem("--lang", "en", *UP, "--commune", "xyz", cwd=tmp_path)
    assert none.returncode == 2 and "names no single commune of Thanh Hóa (found: none)" in none.stderr
    assert not (tmp_path / "dokiem-data").exists()  # refused before anything started


# Words of English sentences a user could meet; a message in Vietnamese carries none of them (paths, option
# names, URLs and the values the user typed are taken out first)
ENGLISH = {"the", "is", "not", "no", "error", "invalid", "value", "for", "such", "option", "command", "missing",
           "try", "help", "usage", "file", "directory", "cannot", "read", "must", "should", "input", "valid",
           "choose", "from", "one", "of", "or", "and", "found", "give", "key", "line", "use", "required", "range",
           "none", "names", "archive", "could", "open", "exist", "does", "please", "unknown"}  # fmt: skip
TYPED = re.compile(r"'[^']*'|“[^”]*”|\"[^\"]*\"|(?:sqlite|postgresql|https?|mqtt)://\S+|/\S+|--[\w-]+|\[[^\]]*\]")


def english_words(text: str) -> set[str]:
    return {word for word in re.findall(r"[A-Za-z]+", TYPED.sub(" ", text)) if word.lower() in ENGLISH}


ERROR_PATHS: list[tuple[str, ...]] = [
    ("nosuch",),
    ("--nope",),
    ("report", "quarterly", "--quarter", "2026Q9"),
    ("report", "quarterly", "--format", "png"),
    ("report", "quarterly", "--cutoff", "yesterday"),
    ("report", "quarterly", "--archive", "sqlite:///nowhere/archive.db"),
    ("report", "quarterly", "--archive", "mysql://db/archive"),
    ("report", "quarterly", "--config", "absent.toml"),
    ("report", "quarterly", "--config", "bad.toml"),
    ("report", "quarterly", "--config", "broken.toml"),
    ("report", "quarterly", "--thresholds", "bad-rules.toml"),
    ("publish", "--archive", "sqlite:///nowhere/archive.db"),
    ("publish", "--out"),
    ("up", "--max-seconds", "1"),
    ("up", "--access", "satellite"),
    ("up", "--commune", "xyz"),
    ("up", "--isp", "Gmobile"),
    ("up", "--listen", "nowhere"),
    ("up", "--province", "99"),
    ("regions", "list", "--province", "Thanh Hoa"),
    ("regions", "list"),  # 34 provinces and none chosen
    ("measure", "--server"),
    ("measure",),
    ("collector", "run", "--config", "bad.toml"),
    ("collector", "reindex", "--since", "2026-07-01"),
    ("testserver", "--tls-cert", "bad.toml"),
    ("testserver", "--max-tests", "2", "--max-resident-tests", "3"),
    ("testserver", "--signing-key", "bad.toml"),
]


@pytest.mark.parametrize("args", ERROR_PATHS, ids=lambda args: " ".join(args))
def test_every_error_on_the_way_is_in_the_language_asked_for(
    run_dokiem: Run, tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "bad.toml").write_text('[collector]\nbatch_size = "many"\n', encoding="utf-8")
    (tmp_path / "broken.toml").write_text("[collector\n", encoding="utf-8")
    (tmp_path / "bad-rules.toml").write_text("[report]\nmin_samples = -1\n", encoding="utf-8")
    vietnamese = run_dokiem(*args, cwd=tmp_path)
    assert vietnamese.returncode != 0 and "Traceback" not in vietnamese.stderr
    assert vietnamese.stderr.strip() and not english_words(vietnamese.stderr), vietnamese.stderr
    english = run_dokiem("--lang", "en", *args, cwd=tmp_path)
    assert english.returncode == vietnamese.returncode and english_words(english.stderr), english.stderr


def test_publish_serves_the_site_it_wrote(tmp_path: Path) -> None:
    archive = Archive.from_url(sqlite_url(tmp_path / "archive.db"))
    quarter = Quarter.parse("2026Q3")
    fill_demo(archive, REGIONS, "38", [(quarter.start, quarter.end)])
    archive.close()
    args = ["publish", "--quarter", "2026Q3", "--archive", sqlite_url(tmp_path / "archive.db"), "--out",
            str(tmp_path / "site"), "--serve", "127.0.0.1:0"]  # fmt: skip
    proc = subprocess.Popen([*DOKIEM, *args], stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        address = None
        for line in proc.stderr:
            if found := re.search(r"Trang công bố: (http://\S+/)", line):
                address = found.group(1)
                break
        assert address is not None, "publish --serve never said where it serves"
        with urllib.request.urlopen(address, timeout=10) as page:  # / leads to index.html
            body = page.read().decode("utf-8")
        assert "DỮ LIỆU MẪU" in body and "Thanh Hóa" in body
    finally:
        proc.terminate()
        proc.wait(10)

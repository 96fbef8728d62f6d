"""The quarterly report's residents' section (issue 22): residents' own tests by commune and by ISP, apart
from the agents' figures (which they never change), their Wi-Fi tests counted in and said; in the CSV,
the PDF and the DOCX as a person reads them."""

from __future__ import annotations

import csv
import gzip
import statistics
import subprocess
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from dokiem.collector.archive import Archive, bucket_of, sqlite_url
from dokiem.contract import RESIDENT, Flag, Result
from dokiem.figures import Labels, Stat, figure
from dokiem.i18n import Translator
from dokiem.synthetic import synthetic_agents, synthetic_results
from testkit.processes import DOKIEM
from testkit.reportkit import MIN_SAMPLES, QUARTER, REGIONS, write_thresholds

CSV_STEM = f"dokiem-quarterly-{QUARTER}-vi"


def _residents(results: list[Result]) -> list[Result]:
    """Residents' own tests where some agents stand, far above any agent's figure; every third over Wi-Fi."""
    return [
        r.model_copy(update={"result_id": uuid.uuid4(), "agent_id": "resident", "source": RESIDENT,
                             "download_mbps": 5000.0 + n % 17, "upload_mbps": 4000.0 + n % 5,
                             "flags": [Flag.WIFI] if n % 3 == 0 else []})
        for n, r in enumerate(results) if r.error is None and r.site.commune_code
    ]  # fmt: skip


def _archive(path: Path, results: list[Result]) -> Path:
    archive = Archive.from_url(sqlite_url(path))
    archive.results.add(results, place=lambda r: REGIONS.place_site(r.site, r.started_at))
    archive.close()
    return path


def _report(archive: Path, out: Path, formats: str) -> None:
    done = subprocess.run([*DOKIEM,
        "report", "quarterly", "--quarter", str(QUARTER), "--archive", sqlite_url(archive), "--out", str(out),
        "--format", formats], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr


def _csv(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{CSV_STEM}-{table}.csv").open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Result]]:
    """The same agents' quarter reported alone and with residents' tests beside it."""
    folder = tmp_path_factory.mktemp("residents")
    agents = synthetic_agents(REGIONS, "38", per_district=1)[:6]
    results = list(synthetic_results(agents, QUARTER.start, QUARTER.end, 300, failed_share=0.02))
    residents = _residents(results[::2])
    alone, beside = folder / "alone", folder / "beside"
    _report(_archive(folder / "agents.db", results), alone, "csv")
    _report(_archive(folder / "both.db", [*results, *residents]), beside, "csv,pdf,docx")
    return alone, beside, residents


def test_residents_tests_are_their_own_tables_and_change_no_agents_figure(
    reports: tuple[Path, Path, list[Result]],
) -> None:
    alone, beside, residents = reports
    for table in ("province", "districts", "communes", "isps", "access"):
        assert _csv(alone, table) == _csv(beside, table), table  # the agents' figures, untouched
    assert not (alone / f"{CSV_STEM}-residents_communes.csv").exists()  # no residents: no such table
    by_commune: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in residents:
        by_commune[(str(r.site.commune_code), r.site.access.value)].append(r)
    rows = _csv(beside, "residents_communes")
    tr = Translator("vi")
    access = {tr(f"access_{a}"): a for a in ("fixed", "mobile", "public_wifi")}
    got = {(row[tr("rpt_code")], access[row[tr("rpt_by_access")]]): row for row in rows}
    assert set(got) == set(by_commune)
    for key, mine in by_commune.items():  # Wi-Fi tests count: a resident's Wi-Fi is part of what they get
        assert int(got[key][tr("rpt_tests")]) == len(mine)
        assert float(got[key][Labels(tr).title(figure("download_mbps"), Stat.MEDIAN)]) == pytest.approx(
            statistics.median(r.download_mbps or 0 for r in mine), abs=1e-3
        )
    isps = _csv(beside, "residents_isps")
    assert sum(int(row[tr("rpt_tests")]) for row in isps) == len(residents)


def test_the_pdf_and_docx_say_what_the_residents_sample_is(reports: tuple[Path, Path, list[Result]]) -> None:
    _, beside, residents = reports
    tr = Translator("vi")
    pdf = beside / f"{CSV_STEM}.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert tr("rpt_s_residents") in text
    wifi = sum(Flag.WIFI in r.flags for r in residents)
    said = tr("rpt_residents_counts", tests=tr.number(len(residents), 0), wifi=tr.number(wifi, 0))
    flat = " ".join(text.split())
    assert said.split(" (")[0] in flat and "mẫu tự chọn" in flat
    pages = [page for page in text.split("\f") if tr("rpt_s_residents") in page]
    assert len(pages) == 1 and tr("rpt_table_residents_communes") in " ".join(pages[0].split())
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(beside / "page")], check=True)  # to look at
    from docx import Document

    document = Document(str(beside / f"{CSV_STEM}.docx"))
    headings = [p.text for p in document.paragraphs]
    assert any(h.endswith(f". {tr('docx_s_residents')}") for h in headings)
    assert any("mẫu tự chọn" in p for p in headings)


def test_the_site_and_open_data_show_residents_apart_from_enough_addresses_over_days(tmp_path: Path) -> None:
    """Two communes with as many residents' tests as a group needs: one from 3 addresses over the quarter
    (published, on its page beside the agents' and in residents.csv and residents_tests.csv.gz by the hour), one
    from sixty addresses in one afternoon, as one person made it in issue 38 (held back everywhere: a burst is
    not a commune, whatever addresses it comes from). The addresses were counted into buckets, never kept."""
    fixed = [a for a in synthetic_agents(REGIONS, "38", per_district=1) if a.site.access.value == "fixed"]
    agents = [fixed[0], next(a for a in fixed if a.site.commune_code != fixed[0].site.commune_code)]
    results = list(synthetic_results(agents, QUARTER.start, QUARTER.end, 2 * MIN_SAMPLES + 40, failed_share=0))
    (shown, shown_tests), (held, held_tests) = _two_communes(_residents(results))
    archive = Archive.from_url(sqlite_url(tmp_path / "archive.db"))
    archive.results.add(results + shown_tests + held_tests, place=lambda r: REGIONS.place_site(r.site, r.started_at))
    three = _addresses_in_distinct_buckets(3)
    for n, r in enumerate(shown_tests):  # three addresses take turns in the shown commune
        archive.senders.note(r.started_at, shown, r.site.access.value, bucket_of(KEY, three[n % 3]))
    burst = held_tests[0].started_at
    for n, r in enumerate(held_tests):  # sixty addresses send every test of the other, on one day
        archive.senders.note(burst, held, r.site.access.value, bucket_of(KEY, f"198.51.100.{n % 60}"))
    archive.close()
    rules = write_thresholds(tmp_path / "thresholds.toml")
    done = subprocess.run([*DOKIEM, "publish", "--quarter", str(QUARTER), "--archive",
                           sqlite_url(tmp_path / 'archive.db'), "--thresholds", str(rules), "--out",
                           str(tmp_path / "site")], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with (tmp_path / "site" / "data" / "residents.csv").open(encoding="utf-8") as f:
        rows = {row["code"]: row for row in csv.DictReader(f)}
    assert rows[shown]["published"] == "True" and rows[held]["published"] == "False"
    assert rows[held]["download_median_mbps"] == "" and rows[shown]["agents"] == ""
    with gzip.open(tmp_path / "site" / "data" / "residents_tests.csv.gz", "rt", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    assert {r["commune"] for r in records} == {shown} and all(r["hour"].endswith(":00+07:00") for r in records)
    assert len(records) == len(shown_tests)  # Wi-Fi tests are kept for residents
    tr = Translator("vi")
    page = (tmp_path / "site" / "communes" / f"{held}.html").read_text(encoding="utf-8")
    assert tr("pub_residents") in page and "198.51.100" not in page
    assert tr("pub_residents_thin", tests=tr.number(len(held_tests), 0), minimum=tr.number(MIN_SAMPLES, 0),
              addresses="3", days="14") in page  # fmt: skip
    assert tr("pub_residents_counts", tests=tr.number(len(shown_tests), 0)) in (
        tmp_path / "site" / "communes" / f"{shown}.html").read_text(encoding="utf-8")  # fmt: skip


KEY = b"the collector's sender key (test)"


def _addresses_in_distinct_buckets(count: int) -> list[str]:
    """``count`` addresses the key puts in different buckets (a few in a row may share one)."""
    found: dict[int, str] = {}
    for n in range(1, 255):
        found.setdefault(bucket_of(KEY, f"203.0.113.{n}"), f"203.0.113.{n}")
        if len(found) == count:
            return list(found.values())
    raise AssertionError("the buckets are not spread")


def _two_communes(residents: list[Result]) -> list[tuple[str, list[Result]]]:
    """Two communes' residents' tests, each of one access type, at least MIN_SAMPLES of them."""
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in residents:
        groups[(str(r.site.commune_code), r.site.access.value)].append(r)
    big = sorted((key for key, tests in groups.items() if len(tests) >= MIN_SAMPLES), key=lambda k: k[0])
    assert len({commune for commune, _ in big}) >= 2, {k: len(v) for k, v in groups.items()}
    first, second = big[0], next(key for key in big if key[0] != big[0][0])
    return [(first[0], groups[first]), (second[0], groups[second])]

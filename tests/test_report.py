"""The quarterly report: figures checked against the generated results, then the files a person opens."""

from __future__ import annotations

import csv
import re
import shutil
import statistics
import subprocess
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfbase.pdfmetrics import stringWidth

from dokiem.collector.archive import Archive, sqlite_url
from dokiem.contract import Access, Result
from dokiem.figures import Stat
from dokiem.i18n import Translator
from dokiem.reports.findings import findings, key_figures
from dokiem.reports.pdf import PADDING, QUALITY_PART, SPEED_PART, Styles, register_fonts, table_pieces
from dokiem.reports.quarterly import GroupStats, Quarter, QuarterlyFigures
from dokiem.reports.tables import Column, Table, format_value, report_tables
from dokiem.settings import ConfigError
from dokiem.synthetic import synthetic_agents, synthetic_results
from dokiem.thresholds import SHIPPED, load_thresholds
from testkit.reportkit import MIN_SAMPLES, QUARTER, REGIONS


def _p(values: list[float], percent: int) -> float:
    """Linear interpolation between ranks (statistics' inclusive method), independent of numpy."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _by(results: list[Result], key: Callable[[Result], str | None]) -> dict[str, list[Result]]:
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        if (k := key(r)) is not None:
            groups[k].append(r)
    return groups


def _group(figures: QuarterlyFigures, breakdown: str, key: str, access: str | None = None) -> GroupStats:
    (found,) = [g for g in figures.groups[breakdown] if g.key == key and (access is None or g.access == access)]
    return found


def test_quarters_parse_and_step_across_years() -> None:
    assert Quarter.parse("2026q1").previous() == Quarter(2025, 4)
    assert Quarter.parse("2025-Q4").next() == Quarter(2026, 1)
    assert QUARTER.start.isoformat() == "2026-07-01T00:00:00+07:00" and QUARTER.end.month == 10
    for bad in ("2026Q5", "Q3 2026", "2026"):
        with pytest.raises(ValueError, match="YEARQn"):
            Quarter.parse(bad)


def test_district_figures_match_the_results(
    figures: QuarterlyFigures, quarter_data: tuple[Path, list[Result], list[Result]]
) -> None:
    _, current, previous = quarter_data
    # a group per former district and access type: fixed and mobile are never one median
    districts = _by(current, lambda r: f"{r.site.district_code}/{r.site.access}")
    assert {f"{g.key}/{g.access}" for g in figures.groups["district"]} == set(districts)
    assert {r.site.access for r in current} == set(Access)  # fixed, mobile and public Wi-Fi: each its own group
    earlier = _by(previous, lambda r: f"{r.site.district_code}/{r.site.access}")
    for key, results in districts.items():
        code, access = key.split("/")
        group = _group(figures, "district", code, access)
        ok = [r for r in results if r.error is None]
        down = [r.download_mbps for r in ok if r.download_mbps is not None]
        assert group.tests == len(results) and group.failed == len(results) - len(ok)
        assert group.agents == len({r.agent_id for r in results})
        assert group.download.median == pytest.approx(statistics.median(down))
        assert group.download.mean == pytest.approx(statistics.fmean(down))
        assert group.download.p10 == pytest.approx(_p(down, 10))
        assert group.download.p90 == pytest.approx(_p(down, 90))
        assert group.upload.median == pytest.approx(statistics.median(r.upload_mbps for r in ok))
        assert group.latency_median == pytest.approx(statistics.median(r.latency_ms for r in ok))
        assert group.stat("loss_pct", Stat.MEAN) == pytest.approx(statistics.fmean(r.loss_pct for r in ok))
        assert group.few_samples == (len(ok) < MIN_SAMPLES)
        before = [r.download_mbps for r in earlier[key] if r.error is None]
        assert group.change("download_median") == pytest.approx(statistics.median(down) - statistics.median(before))
    assert _group(figures, "district", "380", "fixed").few_samples is False
    assert _group(figures, "district", "381", "mobile").few_samples is True


def test_plan_shares_80_80_and_thresholds(
    figures: QuarterlyFigures, quarter_data: tuple[Path, list[Result], list[Result]]
) -> None:
    _, current, _ = quarter_data
    ok = [r for r in current if r.error is None and r.site.access is Access.FIXED]  # plans are fixed lines
    total = figures.province("fixed")
    assert total is not None and total.tests == sum(r.site.access is Access.FIXED for r in current)
    ratios = [r.download_mbps / r.site.plan_down_mbps for r in ok if r.site.plan_down_mbps]
    assert total.plan_tests == len(ratios)
    assert total.plan_good == pytest.approx(sum(x >= 0.95 for x in ratios) / len(ratios))
    assert total.plan_mid == pytest.approx(sum(0.8 <= x < 0.95 for x in ratios) / len(ratios))
    assert total.plan_low == pytest.approx(sum(x < 0.8 for x in ratios) / len(ratios))
    assert total.plan_good + total.plan_mid + total.plan_low == pytest.approx(1)
    per_agent = [_p(sorted(r.download_mbps for r in rs), 20) for rs in _by(ok, lambda r: r.agent_id).values()]
    assert total.speed_80_80 == pytest.approx(_p(per_agent, 20))
    assert total.thresholds["fixed_2025"] == pytest.approx(sum(r.download_mbps >= 200 for r in ok) / len(ok))
    assert total.thresholds["mobile_4g"] is None  # a threshold counts its own access type only
    mobile = [r for r in current if r.error is None and r.site.access is Access.MOBILE]
    qcvn = sum(r.download_mbps >= 100 and r.upload_mbps >= 30 and r.latency_ms <= 50 for r in mobile)
    mobile_total = figures.province("mobile")
    assert mobile_total is not None and mobile_total.thresholds["qcvn_126_5g"] == pytest.approx(qcvn / len(mobile))
    assert mobile_total.download.median == pytest.approx(statistics.median(r.download_mbps for r in mobile))
    assert _group(figures, "access", "fixed").thresholds["mobile_4g"] is None  # no mobile test in a fixed group
    # an ISP's fixed and mobile networks are grouped apart
    assert {g.key for g in figures.groups["isp"]} == {"VNPT|fixed", "Viettel|fixed", "FPT|fixed", "Viettel|mobile",
                                                      "VinaPhone|mobile", "MobiFone|mobile", "VNPT|public_wifi",
                                                      "Viettel|public_wifi", "FPT|public_wifi"}  # fmt: skip
    viettel_mobile = [r for r in mobile if r.site.isp == "Viettel"]
    assert _group(figures, "isp", "Viettel|mobile").download.median == pytest.approx(
        statistics.median(r.download_mbps for r in viettel_mobile)
    )
    assert set(figures.isp_trend) == {g.key for g in figures.groups["isp"]}
    assert len(figures.isp_trend["VNPT|fixed"]) in (13, 14)  # weeks of the quarter


def _report(
    run_dokiem: Any, archive: Path, out: Path, *extra: str, lang: str = "vi"
) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = run_dokiem(
        "--lang", lang, "report", "quarterly", "--quarter", str(QUARTER), "--archive", sqlite_url(archive),
        "--out", str(out), *extra,
    )  # fmt: skip
    return done


def test_csv_and_xlsx_hold_every_group(
    run_dokiem: Any, tmp_path: Path, quarter_data: tuple[Path, list[Result], list[Result]], figures: QuarterlyFigures
) -> None:
    import openpyxl

    done = _report(run_dokiem, quarter_data[0], tmp_path, lang="en")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "dokiem-quarterly-2026Q3-en.pdf").exists()
    with (tmp_path / "dokiem-quarterly-2026Q3-en-districts.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    groups = {(r.site.district_code, r.site.access) for r in quarter_data[1]}  # each district's access types
    assert len(rows) == len(groups) and rows[0]["Former district"] == "Thành phố Thanh Hóa"
    assert [row["Access"] for row in rows[:3]] == ["Fixed", "Mobile", "Public Wi-Fi"]  # the city has a hotspot
    access_of = {"Fixed": "fixed", "Mobile": "mobile", "Public Wi-Fi": "public_wifi"}
    by_code = {(row["Code"], access_of[row["Access"]]): row for row in rows}
    for group in figures.groups["district"]:
        row = by_code[group.key, group.access]
        assert float(row["Download median (Mbit/s)"]) == pytest.approx(group.download.median, abs=1e-3)
        assert int(row["Tests"]) == group.tests
    book = openpyxl.load_workbook(tmp_path / "dokiem-quarterly-2026Q3-en.xlsx", read_only=True)
    assert {"By former district", "By commune (since 2025-07-01)", "By ISP", "By access type", "Whole province"} <= set(
        book.sheetnames
    ), book.sheetnames
    isps = [row[0] for row in book["By ISP"].iter_rows(min_row=2, values_only=True)]
    assert "Viettel (Mobile)" in isps and "Viettel (Fixed)" in isps
    sheet = list(book["By commune (since 2025-07-01)"].iter_rows(values_only=True))
    header, body = sheet[0], sheet[1:]
    communes = {(r.site.commune_code, r.site.access) for r in quarter_data[1] if r.site.commune_code}
    assert len(body) == len(figures.groups["commune"]) == len(communes) > 40  # 88 agents in 48 of the 166
    median, code, access = (header.index(h) for h in ("Download median (Mbit/s)", "Code", "Access"))
    groups = {(g.key, g.access): g for g in figures.groups["commune"]}
    for row in body:
        assert row[median] == pytest.approx(groups[row[code], access_of[str(row[access])]].download.median)


def test_pdf_read_as_a_person_would(
    run_dokiem: Any, tmp_path: Path, quarter_data: tuple[Path, list[Result], list[Result]], figures: QuarterlyFigures
) -> None:
    """Pages rendered to PNG (pdftoppm) and read back by OCR (tesseract, Vietnamese): the district
    table shows the names with their diacritics and the medians from the archive."""
    for tool in ("pdftoppm", "pdftotext", "tesseract"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: the README's test command installs poppler-utils and tesseract-ocr-vie")
    done = _report(run_dokiem, quarter_data[0], tmp_path, "--format", "pdf")
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "dokiem-quarterly-2026Q3-vi.pdf"
    page = _page_with(pdf, "Theo huyện cũ — tốc độ")
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-f", str(page), "-l", str(page), str(pdf), str(tmp_path / "p")],
                   check=True)  # fmt: skip
    (png,) = tmp_path.glob("p-*.png")
    text = subprocess.run(["tesseract", str(png), "-", "-l", "vie", "--psm", "6"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    lines = text.splitlines()
    districts = REGIONS.provinces["38"].districts
    read = 0
    for group in figures.groups["district"]:
        name = districts[group.key].name
        assert group.download.median is not None
        median = f"{group.download.median:.1f}".replace(".", ",")
        if any(line.startswith(name) and f" {group.key} " in line and f" {median} " in line for line in lines):
            read += 1
    # OCR may misread a letter here and there; a person reads nearly every row as printed (the rows of the
    # first page: a former district's fixed and mobile lines, in code order)
    assert read >= 20, text


def _page_with(pdf: Path, heading: str) -> int:
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                              check=True).stdout)[1])  # type: ignore[index]  # fmt: skip
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout  # fmt: skip
        if heading in text:
            return page
    raise AssertionError(f"no page of {pdf} has {heading!r}")


def _pdf_text(pdf: Path, *pages: int) -> str:
    span = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    return subprocess.run(["pdftotext", "-layout", *span, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def _printed_on_one_line(text: str, cells: list[str]) -> bool:
    """A row as printed: its cells on one line, in order, each whole (not cut at a border)."""
    pattern = r"(?:^|\s)" + r"\s+(?:\S+\s+)*?".join(re.escape(cell) for cell in cells) + r"(?:\s|$)"
    return any(re.search(pattern, line) for line in text.splitlines())


def _parts_printed(tables: list[Table], tr: Translator) -> list[tuple[Table, str, list[Column]]]:
    """(table, part, the columns the part prints): the name columns and those the part names."""
    out = []
    for table in (t for t in tables if t.rows):
        for part, keys in ((tr("rpt_part_speed"), SPEED_PART), (tr("rpt_part_quality"), QUALITY_PART)):
            columns = [c for c in table.columns if c.kind == "text" or c.key in keys
                       or any(k.endswith("_") and c.key.startswith(k) for k in keys)]  # fmt: skip
            out.append((table, part, columns))
    return out


def _segment(text: str, heading: str, tables: list[Table], tr: Translator) -> str:
    """The text from ``heading`` to the next part's heading: one part's pieces, over as many pages."""
    start = text.index(heading)
    after = [text.find(f"{t.title} — {p}", start + len(heading)) for t, p, _ in _parts_printed(tables, tr)]
    return text[start : min([a for a in after if a > start], default=len(text))]


def test_the_pdf_prints_the_key_figures_on_page_one_and_every_group_whole(
    run_dokiem: Any, tmp_path: Path, quarter_data: tuple[Path, list[Result], list[Result]], thresholds_file: Path,
    figures: QuarterlyFigures,
) -> None:  # fmt: skip
    """What a reader of the printed report sees (pdftotext -layout): page 1 holds every key figure with its
    value; every row of every breakdown is printed with its name and download median on one line; every
    word of every column heading is printed whole."""
    done = _report(run_dokiem, quarter_data[0], tmp_path, "--format", "pdf", "--thresholds", str(thresholds_file))
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "dokiem-quarterly-2026Q3-vi.pdf"
    tr = Translator("vi")
    first_page = _pdf_text(pdf, 1)
    summary = key_figures(figures, REGIONS, tr)
    assert len(summary.rows) >= 10
    for label, access, value in summary.rows:
        cells = [str(label), str(access), format_value(value, "number", tr)] if access else [str(label)]
        assert _printed_on_one_line(first_page, cells), (cells, first_page)
    everything = _pdf_text(pdf)
    tables = report_tables(figures, tr, REGIONS)
    for table, part, columns in _parts_printed(tables, tr):
        words = set(_segment(everything, f"{table.title} — {part}", tables, tr).split())
        for column in columns:
            assert set(column.title.split()) <= words, (table.id, part, column.title)
    for table in tables:
        names = [n for n, c in enumerate(table.columns) if c.kind == "text"]
        median = next(n for n, c in enumerate(table.columns) if c.key == "down_median")
        for row, flagged in zip(table.rows, table.flagged, strict=True):
            cells = [format_value(row[n], "text", tr) for n in names]
            cells[0] += " *" if flagged else ""
            printed = [*cells, format_value(row[median], table.columns[median].kind, tr)]
            assert _printed_on_one_line(everything, printed), (table.id, printed)


HEAD_WORDS = st.sampled_from(["Tải", "xuống", "trung", "vị", "(Mbit/s)", "Lượt", "đo", "Mã", "Độ", "biến", "thiên",
                               "trễ", "Đạt:", "QCVN", "126:2021", "≥", "Nhà", "mạng", "cũ", "(%)"])  # fmt: skip


@st.composite
def _tables(draw: st.DrawFn) -> Table:
    names = draw(st.integers(1, 3))
    figures = draw(st.integers(1, 30))
    title = st.lists(HEAD_WORDS, min_size=1, max_size=8).map(" ".join)
    columns = [Column(f"n{n}", draw(title), "text") for n in range(names)]
    columns += [Column(f"f{n}", draw(title), draw(st.sampled_from(["mbps", "int", "pct", "delta_pct"])))
                for n in range(figures)]  # fmt: skip
    text = st.text(alphabet="ABCĐHXaăâbđêôơưạảãáàệộ ", min_size=1, max_size=30).map(str.strip).filter(bool)
    value = st.floats(0, 99_999, allow_nan=False)
    rows = [[draw(text) for _ in range(names)] + [draw(value) for _ in range(figures)]
            for _ in range(draw(st.integers(1, 4)))]  # fmt: skip
    return Table("t", "T", columns, rows, [draw(st.booleans()) for _ in rows])


@given(_tables())
@settings(max_examples=60, deadline=None)
def test_a_printed_table_never_breaks_a_heading_word_nor_spills_a_value(table: Table) -> None:
    """Laid out as the PDF lays it out, then wrapped by reportlab itself: each heading word stays on its line
    and each value fits inside its borders, however many columns (a table too wide is split in pieces)."""
    styles = Styles(*register_fonts())
    tr = Translator("vi")
    for piece in table_pieces(table, [c.key for c in table.columns], tr, styles):
        header, *body = piece._cellvalues
        for cell, width in zip(header, piece._colWidths, strict=True):
            inside = width - 2 * PADDING
            cell.wrap(inside, 1_000)
            assert sum(len(line.words if hasattr(line, "words") else line[1]) for line in cell.blPara.lines) == len(
                cell.text.split()
            ), (cell.text, width)
        for row in body:
            for text, width in zip(row, piece._colWidths, strict=True):
                assert stringWidth(text, styles.regular, styles.cell.fontSize) <= width - 2 * PADDING, (text, width)


def test_latency_under_load_is_said_in_words_where_the_buffer_is_bloated(
    figures: QuarterlyFigures, quarter_data: tuple[Path, list[Result], list[Result]]
) -> None:
    """Issue 21: each group's share of tests with a bloated buffer (latency rising by the bound under load,
    or low responsiveness), as counted from the results themselves; the findings name the former
    districts bloated in most of their tests and say the province's level in words."""
    rules = figures.rules.responsiveness
    _, current, _ = quarter_data
    groups = {(g.key, g.access): g for g in figures.groups["district"]}
    bloated_districts = set()
    for key, results in _by(current, lambda r: f"{r.site.district_code}/{r.site.access}").items():
        ok = [r for r in results if r.error is None]
        bloated = [r for r in ok if r.loaded_latency_ms - r.latency_ms >= rules.bloat_added_ms  # type: ignore[operator]
                   or r.responsiveness_rpm < rules.low_below_rpm]  # type: ignore[operator]  # fmt: skip
        group = groups[tuple(key.split("/"))]  # type: ignore[index]
        assert group.bloated == pytest.approx(len(bloated) / len(ok))
        if not group.few_samples and group.access == "fixed" and len(bloated) > len(ok) / 2:
            bloated_districts.add(REGIONS.provinces["38"].districts[group.key].name)
    assert bloated_districts, "the generated quarter has bloated districts"
    tr = Translator("vi")
    sentences = findings(figures, REGIONS, tr)
    fixed_bloated = next(s for s in sentences if "bộ đệm phình" in s)  # fixed comes first, then mobile
    assert set(fixed_bloated.rsplit(": ", 1)[1].rstrip(".").split(", ")) == bloated_districts
    province = figures.province("fixed")
    assert province is not None and province.rpm_median is not None
    level = tr(f"rpm_level_{rules.rpm_class(province.rpm_median)}")
    assert any(format_value(round(province.rpm_median), "number", tr) in s and level in s for s in sentences)


def test_no_results_bad_quarter_and_bad_thresholds_are_explained(
    run_dokiem: Any, tmp_path: Path, quarter_data: tuple[Path, list[Result], list[Result]]
) -> None:
    empty = run_dokiem("report", "quarterly", "--quarter", "2024Q1", "--archive", sqlite_url(quarter_data[0]),
                       "--out", str(tmp_path))  # fmt: skip
    assert empty.returncode == 1 and "không có kết quả nào trong quý 2024Q1" in empty.stderr
    assert "Traceback" not in empty.stderr and not list(tmp_path.iterdir())
    missing = run_dokiem("report", "quarterly", "--archive", sqlite_url(tmp_path / "nowhere" / "archive.db"))
    assert missing.returncode == 1 and "Không có kho lưu trữ ở" in missing.stderr
    assert not (tmp_path / "nowhere").exists()
    bad = tmp_path / "rules.toml"
    bad.write_text(SHIPPED.read_text(encoding="utf-8").replace("download_mbps = 40", "download_mbps = -40"))
    refused = run_dokiem("report", "quarterly", "--thresholds", str(bad), "--archive", sqlite_url(quarter_data[0]))
    assert refused.returncode == 2
    assert f"{bad}, [[thresholds]] thứ 3, khóa download_mbps): phải lớn hơn 0" in refused.stderr
    with pytest.raises(ConfigError, match="plan_min_ratio"):
        bad.write_text("[report]\nplan_min_ratio = 0.99\nplan_good_ratio = 0.9\n")
        load_thresholds(bad)


def test_runs_flagged_unsound_are_left_out_of_the_figures_and_counted(tmp_path: Path) -> None:
    from dokiem.contract import Flag
    from dokiem.reports.quarterly import quarterly_figures

    agents = synthetic_agents(REGIONS, "38", per_district=1)[:1]  # one fixed agent in the former Thành phố Thanh Hóa
    results = list(synthetic_results(agents, QUARTER.start, QUARTER.end, 40, failed_share=0))
    unsound = {r.result_id for r in results[::4]}
    results = [r.model_copy(update={"flags": [Flag.WIFI], "download_mbps": 1.0}) if r.result_id in unsound else r
               for r in results]  # fmt: skip
    archive = Archive.from_url(sqlite_url(tmp_path / "archive.db"))
    archive.results.add(results)
    rows = list(archive.results.report_rows(QUARTER.start, QUARTER.end))
    archive.close()
    figures = quarterly_figures(rows, [], QUARTER, load_thresholds())
    (group,) = figures.groups["district"]
    sound = [r.download_mbps for r in results if r.result_id not in unsound]
    assert group.excluded == len(unsound) == 10 and group.tests == 40
    assert group.download.median == pytest.approx(statistics.median(sound))


def test_a_report_reads_only_what_was_received_by_its_cutoff(tmp_path: Path, run_dokiem: Any) -> None:
    """Issue 26: a published quarter does not change when late results arrive; the report says its cut-off."""
    from datetime import datetime, timedelta

    from dokiem.contract import LOCAL_TIME
    from dokiem.reports.build import read_figures

    agents = synthetic_agents(REGIONS, "38", per_district=1)
    early = list(synthetic_results(agents, QUARTER.start, QUARTER.end, 300, seed=11))
    late = list(synthetic_results(agents, QUARTER.start, QUARTER.end, 200, seed=12))
    cutoff = datetime(2026, 10, 5, 17, 0, tzinfo=LOCAL_TIME)
    path = tmp_path / "archive.db"
    archive = Archive.from_url(sqlite_url(path))
    archive.results.add(early, received_at=(cutoff - timedelta(days=1)).timestamp())
    published = read_figures(archive, QUARTER, load_thresholds(), cutoff=cutoff)
    archive.results.add(late, received_at=(cutoff + timedelta(days=1)).timestamp())  # arrived after
    again = read_figures(archive, QUARTER, load_thresholds(), cutoff=cutoff)
    everything = read_figures(archive, QUARTER, load_thresholds())
    archive.close()
    assert published.tests == again.tests == len(early) and everything.tests == len(early) + len(late)
    assert [g.download for g in published.groups["district"]] == [g.download for g in again.groups["district"]]
    done = run_dokiem("report", "quarterly", "--quarter", str(QUARTER), "--archive", sqlite_url(path),
                      "--cutoff", "2026-10-05T17:00", "--format", "pdf", "--out", str(tmp_path / "out"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    pdf = next((tmp_path / "out").glob("*.pdf"))
    text = subprocess.run(["pdftotext", "-l", "2", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "số liệu nhận đến 05/10/2026 17:00" in " ".join(text.split())
    bad = run_dokiem("report", "quarterly", "--archive", sqlite_url(path), "--cutoff", "5/10/2026")
    assert bad.returncode == 2 and "--cutoff" in bad.stderr

"""The quarterly report as the department's Word document: per access type everywhere, the
administrative layout of Decree 30, findings in words checked against the tables, opened by
python-docx and converted by LibreOffice as a person's Word would."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.shared import Pt

from dokiem.collector.archive import Archive, sqlite_url
from dokiem.i18n import Translator
from dokiem.reports.build import read_figures
from dokiem.reports.findings import findings, key_figures
from dokiem.reports.quarterly import QuarterlyFigures
from dokiem.reports.tables import format_value, report_tables, thresholds_table
from testkit.reportkit import QUARTER, REGIONS

LETTERHEAD = """number = "125"
date = "05/10/2026"
signer_name = "Nguyễn Văn An"
recipients = ["Bộ Khoa học và Công nghệ;", "Lưu: VT."]
"""


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory, quarter_data: tuple[Path, Any, Any], thresholds_file: Path,
             run_dokiem: Any) -> Path:  # fmt: skip
    out = tmp_path_factory.mktemp("docx")
    letterhead = out / "letterhead.toml"
    letterhead.write_text(LETTERHEAD, encoding="utf-8")
    done = run_dokiem("report", "quarterly", "--quarter", str(QUARTER), "--archive", sqlite_url(quarter_data[0]),
                      "--out", str(out), "--format", "docx,csv", "--letterhead", str(letterhead),
                      "--thresholds", str(thresholds_file))  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out / f"dokiem-quarterly-{QUARTER}-vi.docx"


@pytest.fixture(scope="module")
def run_dokiem() -> Any:
    from testkit.processes import DOKIEM

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*DOKIEM, *args], capture_output=True, text=True, timeout=300)

    return run


def _texts(path: Path) -> list[str]:
    """Every paragraph, in the body and in the (header and signature) tables' cells."""
    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                texts += [p.text for p in cell.paragraphs]
    return texts


def test_the_docx_has_the_administrative_layout(document: Path) -> None:
    opened = docx.Document(str(document))
    normal = opened.styles["Normal"].font
    assert (normal.name, normal.size) == ("Times New Roman", Pt(13))
    section = opened.sections[0]
    assert round(section.left_margin.mm) == 30 and round(section.right_margin.mm) == 15
    header = [p.text for cell in opened.tables[0].rows[0].cells for p in cell.paragraphs]
    assert header[:2] == ["UBND TỈNH THANH HÓA", "SỞ KHOA HỌC VÀ CÔNG NGHỆ"]
    assert "Số: 125/BC-SKHCN" in header and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header
    assert "Độc lập - Tự do - Hạnh phúc" in header and "Thanh Hóa, ngày 05 tháng 10 năm 2026" in header
    texts = _texts(document)
    for heading in ("I. TÓM TẮT KẾT QUẢ", "II. PHƯƠNG PHÁP ĐO", "III. KẾT QUẢ THEO HUYỆN CŨ",
                    "IV. KẾT QUẢ THEO XÃ (TỪ 01/7/2025)", "V. KẾT QUẢ THEO NHÀ MẠNG",
                    "VI. SO VỚI NGƯỠNG QUỐC GIA VÀ QCVN 34:2022/BTTTT", "VII. THAY ĐỔI SO VỚI QUÝ TRƯỚC",
                    "VIII. CÁC NHÓM CHƯA ĐỦ SỐ LƯỢT ĐO", "PHỤ LỤC: KẾT QUẢ THEO XÃ"):  # fmt: skip
        assert heading in texts, heading
    assert "BÁO CÁO" in texts and "Nơi nhận:" in texts and "- Lưu: VT." in texts and "Nguyễn Văn An" in texts
    assert len(opened.inline_shapes) == 3  # the district chart, the commune map, the ISP trend


def test_the_docx_tables_give_fixed_and_mobile_apart(document: Path, figures: QuarterlyFigures) -> None:
    opened = docx.Document(str(document))
    tr = Translator("vi")
    by_title = {}
    for table in opened.tables[1:-1]:  # between the header and the signature
        by_title.setdefault(tuple(c.text for c in table.rows[0].cells), table)
    districts = next(t for head, t in by_title.items() if head[:2] == ("Huyện cũ", "Loại truy nhập")
                     and "Thiết bị đo" in head)  # fmt: skip
    rows = [[c.text for c in row.cells] for row in districts.rows[1:]]
    assert len(rows) == len(figures.groups["district"])
    assert {row[1] for row in rows} == {"Cố định", "Di động", "Wi-Fi công cộng"}  # no row over two
    names = {code: d.name for code, d in REGIONS.provinces["38"].districts.items()}
    for group in figures.groups["district"]:
        name = names[group.key] + (" *" if group.few_samples else "")
        (row,) = [r for r in rows if r[0] == name and r[1] == tr(f"access_{group.access}")]
        assert row[4] == format_value(group.download.median, "mbps", tr)


def test_the_docx_gives_every_key_figure_before_the_breakdowns(document: Path, figures: QuarterlyFigures) -> None:
    opened = docx.Document(str(document))
    tr = Translator("vi")
    summary = key_figures(figures, REGIONS, tr)
    first = opened.tables[1]  # the first after the letterhead: the key figures, before every breakdown
    assert [c.text for c in first.rows[0].cells] == [c.title for c in summary.columns]
    printed = [[c.text for c in row.cells] for row in first.rows[1:]]
    expected = [[format_value(label, "text", tr), format_value(access, "text", tr), format_value(value, "number", tr)]
                for label, access, value in summary.rows]  # fmt: skip
    assert printed == expected


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_number_in_the_findings_is_in_the_tables(quarter_data: tuple[Path, Any, Any], lang: str) -> None:
    from dokiem.thresholds import load_thresholds

    tr = Translator(lang)
    archive = Archive.from_url(sqlite_url(quarter_data[0]))
    try:
        figures = read_figures(archive, QUARTER, load_thresholds())
    finally:
        archive.close()
    tables = [key_figures(figures, REGIONS, tr), *report_tables(figures, tr, REGIONS), thresholds_table(figures, tr)]
    cells = {format_value(value, column.kind, tr).lstrip("+-") for table in tables for row in table.rows
             for column, value in zip(table.columns, row, strict=True)}  # fmt: skip
    sentences = findings(figures, REGIONS, tr)
    assert len(sentences) >= 8
    number = r"\d[\d.,]*\d|\d" if lang == "vi" else r"\d[\d,.]*\d|\d"
    said = 0
    for sentence in sentences:
        for found in re.findall(number, sentence):
            assert found in cells, f"{found!r} in {sentence!r} is in no table"
            said += 1
    assert said >= 10  # medians, counts, thresholds, the change and the sample minimum


def test_libreoffice_opens_the_docx_as_word_would(document: Path, tmp_path: Path) -> None:
    """Converted to PDF by LibreOffice (headless), the pages hold the header, the findings, the tables."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is missing: the README's test command installs libreoffice-writer-nogui"
    done = subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(document)],
                          capture_output=True, text=True, timeout=180,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / document.with_suffix(".pdf").name
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "TÓM TẮT KẾT QUẢ" in text and "Thành phố Thanh Hóa" in text and "Nơi nhận:" in text
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                              text=True).stdout)[1])  # type: ignore[index]  # fmt: skip
    assert pages >= 5


@pytest.mark.parametrize(
    ("content", "message"),
    [("numbr = '1'\n", "key numbr"), ("number = \n", "not valid TOML"), ("recipients = 'x'\n", "key recipients")],
)
def test_a_bad_letterhead_is_refused_with_the_key(
    tmp_path: Path, quarter_data: tuple[Path, Any, Any], run_dokiem: Any, content: str, message: str
) -> None:
    bad = tmp_path / "letterhead.toml"
    bad.write_text(content, encoding="utf-8")
    done = run_dokiem("--lang", "en", "report", "quarterly", "--quarter", str(QUARTER), "--archive",
                      sqlite_url(quarter_data[0]), "--out", str(tmp_path / "out"), "--format", "docx",
                      "--letterhead", str(bad))  # fmt: skip
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()

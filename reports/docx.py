"""The report as the Word document a Vietnamese department edits, signs and sends up.

Laid out as Decree 30/2020/NĐ-CP sets out an administrative document: A4, margins 20/20/30/15 mm,
Times New Roman 13 pt; the issuing body and the number on the left and the national motto and the
place and date on the right of the header; the title; the text in numbered sections; the
recipients ("Nơi nhận") and the signature block at the end. The letterhead (``--letterhead``)
fills the blanks; what it leaves empty stays a blank for the office.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Mm, Pt
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from dokiem.contract import LOCAL_TIME
from dokiem.i18n import Translator
from dokiem.reports.charts import Picture
from dokiem.reports.letterhead import Letterhead
from dokiem.reports.tables import Table, format_value

FONT = "Times New Roman"
BODY_PT, TABLE_PT = 13, 10
TEXT_WIDTH_MM = 210 - 30 - 15
PICTURE_SIZE = (TEXT_WIDTH_MM / 25.4, 8.6)  # inches the text block holds: width, height for one picture


def _font(document: DocumentType) -> None:
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(BODY_PT)
    # Word picks the font for Vietnamese letters from the East Asian and complex-script slots too
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)


def _page(document: DocumentType) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)


def _line(
    container: DocumentType | _Cell, text: str, *, size: float = BODY_PT, bold: bool = False, italic: bool = False,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER, after: float = 0,
) -> Paragraph:  # fmt: skip
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(after)
    paragraph.paragraph_format.space_before = Pt(0)
    run = paragraph.add_run(text)
    run.font.size, run.bold, run.italic = Pt(size), bold, italic
    return paragraph


def _date_line(letterhead: Letterhead, today: datetime) -> str:
    if letterhead.date:
        day, month, year = [*letterhead.date.split("/"), "", "", ""][:3]
        return f"{letterhead.place}, ngày {day} tháng {month} năm {year}"
    return f"{letterhead.place}, ngày      tháng      năm {today:%Y}"


def _header(document: DocumentType, letterhead: Letterhead, today: datetime) -> None:
    table = document.add_table(rows=1, cols=2)  # no style: no borders, as on a printed letterhead
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, Mm(70), Mm(105))  # a little wider than the text: the motto on one line
    left, right = table.rows[0].cells
    left.paragraphs[0].text = ""
    _line(left, letterhead.parent.upper(), size=13)
    _line(left, letterhead.body.upper(), size=13, bold=True)
    _line(left, "――――――", size=9)
    _line(left, f"Số: {letterhead.number or '      '}/BC-{letterhead.abbreviation}", size=13)
    _line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
    _line(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True)
    _line(right, "―――――――――――", size=9)
    _line(right, _date_line(letterhead, today), size=13, italic=True)
    for cell in (left, right):  # the cell's own first paragraph stays empty: drop it
        first = cell.paragraphs[0]
        if not first.text:
            first._element.getparent().remove(first._element)


def _widths(table: DocxTable, *widths: Length) -> None:
    """Column widths Word (the cells') and LibreOffice (the grid's) both honour."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width


def _heading(document: DocumentType, text: str) -> None:
    _line(document, text, bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=6).paragraph_format.space_before = Pt(12)


def _text(document: DocumentType, text: str) -> None:
    paragraph = _line(document, text, align=WD_ALIGN_PARAGRAPH.JUSTIFY, after=6)
    paragraph.paragraph_format.first_line_indent = Cm(1.27)


def _picture(document: DocumentType, picture: Picture) -> None:
    width = min(picture.width, PICTURE_SIZE[0])
    document.add_picture(io.BytesIO(picture.png), width=Mm(width * 25.4))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _table(document: DocumentType, table: Table, keys: Sequence[str], tr: Translator) -> DocxTable | None:
    """The columns named in ``keys`` (in that order) of a report table; flagged rows marked with *."""
    index = {c.key: i for i, c in enumerate(table.columns)}
    columns = [table.columns[index[k]] for k in keys if k in index]
    if not table.rows or not columns:
        return None
    out: DocxTable = document.add_table(rows=len(table.rows) + 1, cols=len(columns))
    out.style = "Table Grid"
    out.alignment = WD_TABLE_ALIGNMENT.CENTER
    # the name column takes the room it needs; the figures share the rest
    weights = [3.0 if n == 0 else 1.4 if c.kind == "text" else 1.0 for n, c in enumerate(columns)]
    _widths(out, *(Mm(TEXT_WIDTH_MM * w / sum(weights)) for w in weights))
    _row(out.rows[0].cells, [c.title for c in columns], bold=True)
    for row, flagged, target in zip(table.rows, table.flagged, out.rows[1:], strict=True):
        cells = [format_value(row[index[c.key]], c.kind, tr) for c in columns]
        if flagged:
            cells[0] += " *"
        _row(target.cells, cells, numbers_from=sum(c.kind == "text" for c in columns))
    return out


def _row(cells: Sequence[object], texts: Sequence[str], bold: bool = False, numbers_from: int | None = None) -> None:
    for n, (cell, text) in enumerate(zip(cells, texts, strict=True)):
        paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
        run = paragraph.add_run(text)
        run.font.size, run.bold = Pt(TABLE_PT), bold
        if bold:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif numbers_from is not None and n >= numbers_from:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _signature(document: DocumentType, letterhead: Letterhead, tr: Translator) -> None:
    document.add_paragraph()
    table = document.add_table(rows=1, cols=2)
    _widths(table, Mm(85), Mm(80))
    left, right = table.rows[0].cells
    first = left.paragraphs[0]
    run = first.add_run(tr("docx_recipients"))
    run.font.size, run.bold, run.italic = Pt(12), True, True
    for recipient in letterhead.recipients:
        _line(left, f"- {recipient}", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    right.paragraphs[0].text = ""
    if letterhead.signer_authority:
        _line(right, letterhead.signer_authority.upper(), bold=True)
    _line(right, letterhead.signer_title.upper(), bold=True, after=60)
    _line(right, letterhead.signer_name or " ", bold=True)


Section = tuple[str, list[str], list[tuple[Table, Sequence[str]]], list[Picture]]  # heading, text, tables, pictures


def write_docx(
    path: Path, letterhead: Letterhead, title: str, subtitle: str, sections: list[Section], tr: Translator,
    today: datetime | None = None,
) -> Path:  # fmt: skip
    """The document: header, title, each section (its paragraphs, pictures and tables), signature."""
    document = Document()
    _page(document)
    _font(document)
    _header(document, letterhead, today or datetime.now(LOCAL_TIME))
    _line(document, title, size=14, bold=True).paragraph_format.space_before = Pt(18)
    _line(document, subtitle, size=14, bold=True, after=12)
    for heading, paragraphs, tables, pictures in sections:
        _heading(document, heading)
        for text in paragraphs:
            _text(document, text)
        for picture in pictures:
            _picture(document, picture)
        for table, keys in tables:
            _line(document, table.title, size=12, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=3)
            _table(document, table, keys, tr)
            document.add_paragraph()
    _signature(document, letterhead, tr)
    document.core_properties.title = f"{title} {subtitle}"
    document.core_properties.author = letterhead.body
    document.save(str(path))
    return path

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
from functools import cache
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
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
# inches a picture may take: the text block's width, and a height that leaves room for a section's text
# above it on the same page (a taller one moves to the next page and leaves this one two-thirds blank)
PICTURE_SIZE = (TEXT_WIDTH_MM / 25.4, 6.2)
# Times New Roman's widths, read from its metric twin Liberation Serif (Debian's fonts-liberation); a letter
# it lacks (some precomposed Vietnamese ones: Ở, Ọ, Ệ) LibreOffice sets in DejaVu Serif, wider: measured so
METRIC_FONTS = {False: ("LiberationSerif-Regular.ttf", "DejaVuSerif.ttf"),
                True: ("LiberationSerif-Bold.ttf", "DejaVuSerif-Bold.ttf")}  # fmt: skip
METRIC_DIRS = ("/usr/share/fonts/truetype/liberation", "/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF")
CELL_PADDING_MM = 2.5  # more than Word's and LibreOffice's default cell margins (1.9 mm), each side


@cache
def _advances(bold: bool) -> list[dict[int, float]]:
    """Per font of METRIC_FONTS found, each letter's advance in thousandths of an em."""
    from reportlab.pdfbase.ttfonts import TTFont

    found = []
    for name in METRIC_FONTS[bold]:
        path = next((Path(d, name) for d in METRIC_DIRS if Path(d, name).exists()), None)
        if path is not None:
            found.append(dict(TTFont(name, str(path)).face.charWidths))
    return found


def text_width_mm(text: str, size: float, bold: bool = False) -> float:
    """How wide ``text`` is set in Times New Roman at ``size`` points (an estimate without the metrics)."""
    fonts = _advances(bold)
    average = 620 if bold else 500
    units = sum(next((font[ord(c)] for font in fonts if ord(c) in font), average) for c in text)
    return units / 1000 * size * 25.4 / 72


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
    """The issuing body and the number on the left, the motto and the date on the right: each line on one
    line, the columns as wide as their longest line is set (Decree 30's layout, not a guessed width)."""
    left_lines = [
        ((letterhead.parent or "").upper(), 13, False, False),
        (letterhead.body.upper(), 13, True, False),
        ("――――――", 9, False, False),
        (f"Số: {letterhead.number or '      '}/BC-{letterhead.abbreviation}", 13, False, False),
    ]
    right_lines = [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, True, False),
                   ("Độc lập - Tự do - Hạnh phúc", 13, True, False),
                   ("―――――――――――", 9, False, False), (_date_line(letterhead, today), 13, False, True)]  # fmt: skip
    table = document.add_table(rows=1, cols=2)  # no style: no borders, as on a printed letterhead
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, *(Mm(max(text_width_mm(text, size, bold) for text, size, bold, _ in lines) + 2 * CELL_PADDING_MM)
                     for lines in (left_lines, right_lines)))  # fmt: skip
    left, right = table.rows[0].cells
    for cell, lines in ((left, left_lines), (right, right_lines)):
        for text, size, bold, italic in lines:
            _line(cell, text, size=size, bold=bold, italic=italic)
    for cell in (left, right):  # the cell's own first paragraph stays empty: drop it
        first = cell.paragraphs[0]
        if not first.text:
            first._element.getparent().remove(first._element)


def _widths(table: DocxTable, *widths: Length) -> None:
    """Column widths Word (the cells') and LibreOffice (the grid's and the table's own) both honour."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    total = table._tbl.tblPr.find(qn("w:tblW"))
    if total is None:
        total = OxmlElement("w:tblW")
        table._tbl.tblPr.append(total)
    total.set(qn("w:type"), "dxa")
    total.set(qn("w:w"), str(sum(int(w.twips) for w in widths)))


def _heading(document: DocumentType, text: str) -> None:
    heading = _line(document, text, bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=6)
    heading.paragraph_format.space_before = Pt(12)
    heading.paragraph_format.keep_with_next = True  # never alone at the foot of a page


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
    weights = [3.0 if n == 0 else 1.4 if c.kind in ("text", "date") else 1.0 for n, c in enumerate(columns)]
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
    """ "Nơi nhận" and the signature block: one table row that may not break across pages."""
    document.add_paragraph().paragraph_format.keep_with_next = True
    table = document.add_table(rows=1, cols=2)
    _widths(table, Mm(85), Mm(80))
    _cant_split(table.rows[0])
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


def _cant_split(row: object) -> None:
    properties = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    properties.append(OxmlElement("w:cantSplit"))


def _page_numbers(document: DocumentType) -> None:
    """The page number at the top centre from page 2 (Decree 30): a PAGE field in the header, none on page 1."""
    section = document.sections[0]
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"  # what a reader that does not update fields shows; Word and LibreOffice count
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


Section = tuple[str, list[str], list[tuple[Table, Sequence[str]]], list[Picture]]  # heading, text, tables, pictures


def write_docx(
    path: Path, letterhead: Letterhead, title: str, subtitle: str, sections: list[Section], tr: Translator,
    today: datetime | None = None,
) -> Path:  # fmt: skip
    """The document: header, title, each section (its paragraphs, pictures and tables), signature."""
    document = Document()
    _page(document)
    _font(document)
    _page_numbers(document)
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
            caption = _line(document, table.title, size=12, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=3)
            caption.paragraph_format.keep_with_next = True
            _table(document, table, keys, tr)
            document.add_paragraph()
    _signature(document, letterhead, tr)
    document.core_properties.title = f"{title} {subtitle}"
    document.core_properties.author = letterhead.body
    document.save(str(path))
    return path

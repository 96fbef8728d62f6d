"""The PDF a person reads: summary, the pictures (districts, ISPs over the quarter, the commune map),
then the tables.

Set in DejaVu Sans, which carries every Vietnamese letter; it comes from the system (Debian's
``fonts-dejavu-core``) or the directory named by ``DOKIEM_REPORT_FONT_DIR``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus.flowables import Flowable

from dokiem import figures as registry
from dokiem.i18n import Translator
from dokiem.reports.charts import Picture
from dokiem.reports.findings import coverage_sentences
from dokiem.reports.tables import COVERAGE_KEYS, RESIDENT_FIGURES, Column, Table, format_value
from dokiem.thresholds import CoverageRules

FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
)
PAGE = landscape(A4)
MARGIN = 12 * mm
FRAME = (PAGE[0] - 2 * MARGIN, PAGE[1] - MARGIN - 14 * mm - 12)  # what a page holds below its margins

# The columns of each table's parts in the PDF (the XLSX and CSV carry all of them); a part too wide for
# the page is split further, each piece repeating the table's name columns.
# a breakdown's two pages: the headline figures' statistics, then every other reported figure's and the quality
SPEED_PART = ("agents", "tests", "failed", *registry.table_keys(lambda f: f.headline))
QUALITY_PART = ("tests", "excluded", *registry.table_keys(lambda f: not f.headline), "bloated", "plan_good",
                "plan_mid", "plan_low", "plan_mean_ratio", "speed_80_80", "change_down_median", "change_up_median",
                "change_tests", "threshold_")  # fmt: skip
PADDING = 3.0  # points each side of a cell's text
SLACK = 0.5  # points: a word exactly as wide as its cell is split by reportlab's wrap (its sums round)


class FontMissing(RuntimeError):
    pass


def register_fonts() -> tuple[str, str]:
    """Register DejaVu Sans (regular, bold) and return their names."""
    dirs = [os.environ["DOKIEM_REPORT_FONT_DIR"]] if os.environ.get("DOKIEM_REPORT_FONT_DIR") else list(FONT_DIRS)
    for folder in dirs:
        regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
            pdfmetrics.registerFontFamily("DejaVuSans", normal="DejaVuSans", bold="DejaVuSans-Bold")
            return "DejaVuSans", "DejaVuSans-Bold"
    raise FontMissing(
        f"DejaVuSans.ttf and DejaVuSans-Bold.ttf are not in {', '.join(dirs)}: install Debian's fonts-dejavu-core "
        "or set DOKIEM_REPORT_FONT_DIR to a folder holding them"
    )


class Styles:
    def __init__(self, regular: str, bold: str) -> None:
        self.title = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=4)
        self.heading = ParagraphStyle("heading", fontName=bold, fontSize=11, leading=14, spaceBefore=6, spaceAfter=4)
        self.body = ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11, spaceAfter=4)
        self.cell = ParagraphStyle("cell", fontName=regular, fontSize=6.5, leading=8)
        self.head_cell = ParagraphStyle("head", fontName=bold, fontSize=6.3, leading=7.5)
        self.regular, self.bold = regular, bold


def cell_texts(table: Table, chosen: Sequence[Column], tr: Translator) -> list[list[str]]:
    """The body as it is printed: values formatted for the reader, a thin group's name starred."""
    index = {c.key: i for i, c in enumerate(table.columns)}
    body = []
    for row, flagged in zip(table.rows, table.flagged, strict=True):
        cells = [format_value(row[index[c.key]], c.kind, tr) for c in chosen]
        if flagged:
            cells[0] = f"{cells[0]} *"
        body.append(cells)
    return body


@dataclass(frozen=True)
class Fit:
    """What a column needs: ``least`` keeps every header word and every value whole on its line;
    ``ease`` is the width its header would take on one line (never asked for in full)."""

    least: float
    ease: float


def column_fits(chosen: Sequence[Column], body: list[list[str]], styles: Styles) -> list[Fit]:
    fits = []
    for n, column in enumerate(chosen):
        words = column.title.split() or [""]
        head_word = max(pdfmetrics.stringWidth(w, styles.bold, styles.head_cell.fontSize) for w in words)
        head_line = pdfmetrics.stringWidth(column.title, styles.bold, styles.head_cell.fontSize)
        widest = max((pdfmetrics.stringWidth(row[n], styles.regular, styles.cell.fontSize) for row in body), default=0)
        least = max(head_word, widest) + 2 * PADDING + SLACK
        fits.append(Fit(least, max(least, min(head_line + 2 * PADDING, 3 * least))))
    return fits


def column_widths(fits: Sequence[Fit], available: float) -> list[float] | None:
    """Widths from the content: each column its least, the room left shared out towards each one's
    ease, then evenly; None when even the least widths do not fit."""
    widths = [fit.least for fit in fits]
    room = available - sum(widths)
    if room < 0:
        return None
    wanted = [fit.ease - fit.least for fit in fits]
    share = min(1.0, room / sum(wanted)) if sum(wanted) else 0.0
    widths = [w + share * extra for w, extra in zip(widths, wanted, strict=True)]
    spare = (available - sum(widths)) / len(widths)
    return [w + spare for w in widths]


def _residents(sentences: list[str], tables: list[Table], tr: Translator, styles: Styles) -> list[Flowable]:
    """Residents' own tests on a page of their own, apart from the agents' figures (issue 22)."""
    if not sentences:
        return []
    story: list[Flowable] = [PageBreak(), Paragraph(escape(tr("rpt_s_residents")), styles.heading)]
    story += [Paragraph(escape(line), styles.body) for line in sentences]
    for table in tables:
        if table.rows:
            story += [Spacer(1, 3 * mm), Paragraph(escape(table.title), styles.heading)]
            story += table_pieces(table, RESIDENT_FIGURES, tr, styles)
    return story


def _coverage(tables: Sequence[Table], tr: Translator, styles: Styles, rules: CoverageRules,
              covered: Sequence[Picture]) -> list[Flowable]:  # fmt: skip
    """The surveys' holes and commune centres, and the cells residents reported (issue 31), on a page of their own
    ("Khu vực lõm sóng", issue 30)."""
    story: list[Flowable] = [PageBreak(), Paragraph(escape(tr("docx_s_coverage")), styles.heading)]
    story += [Paragraph(escape(line), styles.body) for line in coverage_sentences(tables, tr, rules)]
    for table in tables:
        if table.rows:
            shown = table.only(COVERAGE_KEYS[table.id])
            story += [Spacer(1, 3 * mm), Paragraph(escape(table.title), styles.heading)]
            story += table_pieces(shown, [c.key for c in shown.columns], tr, styles)
    for picture in covered:
        story += [PageBreak(), _image(picture)]
    return story


def table_pieces(table: Table, keys: Sequence[str], tr: Translator, styles: Styles) -> list[LongTable]:
    """The name columns and those named in ``keys`` (a key ending in "_" takes every column it begins), as
    one table, or as several (each with the name columns) where one would not fit the page."""

    def named(column: Column) -> bool:
        return any(column.key == k or (k.endswith("_") and column.key.startswith(k)) for k in keys)

    names = [c for c in table.columns if c.kind == "text"]
    wanted = [c for c in table.columns if c.kind != "text" and named(c)]
    available = PAGE[0] - 2 * MARGIN
    parts: list[list[Column]] = [[]]
    for column in wanted:
        trial = names + parts[-1] + [column]
        if parts[-1] and column_widths(column_fits(trial, cell_texts(table, trial, tr), styles), available) is None:
            parts.append([])
        parts[-1].append(column)
    return [_pdf_table(table, names + part, tr, styles, available) for part in parts]


def _pdf_table(table: Table, chosen: list[Column], tr: Translator, styles: Styles, available: float) -> LongTable:
    body = cell_texts(table, chosen, tr)
    widths = column_widths(column_fits(chosen, body, styles), available)
    assert widths is not None, "table_pieces splits a table until each part fits"
    header = [Paragraph(escape(c.title), styles.head_cell) for c in chosen]
    names = sum(1 for c in chosen if c.kind == "text")
    result = LongTable([header, *body], colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 1), (-1, -1), styles.regular, 6.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#999999")),
        ("ALIGN", (names, 1), (-1, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    style += [("BACKGROUND", (0, r), (-1, r), colors.HexColor("#FFF2CC")) for r, f in
              enumerate(table.flagged, start=1) if f]  # fmt: skip
    result.setStyle(TableStyle(style))
    return result


def _image(picture: Picture) -> Image:
    """The picture at its drawn size, shrunk (never stretched) to fit a page."""
    scale = min(1.0, FRAME[0] / (picture.width * 72), FRAME[1] / (picture.height * 72))
    return Image(io.BytesIO(picture.png), picture.width * 72 * scale, picture.height * 72 * scale)


class _Footer:
    def __init__(self, text: str, tr: Translator, font: str) -> None:
        self.text, self.tr, self.font = text, tr, font

    def __call__(self, canvas: object, doc: SimpleDocTemplate) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(self.font, 7)  # type: ignore[attr-defined]
        canvas.drawString(12 * mm, 7 * mm, self.text)  # type: ignore[attr-defined]
        canvas.drawRightString(PAGE[0] - 12 * mm, 7 * mm, self.tr("rpt_page", page=doc.page))  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]


def write_pdf(
    path: Path, title: str, intro: list[str], tables: list[Table], thresholds: Table, pictures: list[Picture],
    tr: Translator, residents: tuple[list[str], list[Table]] = ([], []), coverage: Sequence[Table] = (),
    rules: CoverageRules | None = None, covered: Sequence[Picture] = (),
) -> Path:  # fmt: skip
    regular, bold = register_fonts()
    styles = Styles(regular, bold)
    story: list[Flowable] = [Paragraph(escape(title), styles.title)]
    story += [Paragraph(escape(line), styles.body) for line in intro]
    key_figures, *breakdowns = tables
    story += [Spacer(1, 3 * mm), Paragraph(escape(key_figures.title), styles.heading)]
    story += table_pieces(key_figures, [c.key for c in key_figures.columns], tr, styles)  # on the first page
    for picture in pictures:
        story += [PageBreak(), _image(picture)]
    for table in breakdowns:
        if not table.rows:
            continue
        story.append(PageBreak())
        for part, keys in ((tr("rpt_part_speed"), SPEED_PART), (tr("rpt_part_quality"), QUALITY_PART)):
            story.append(Paragraph(escape(f"{table.title} — {part}"), styles.heading))
            for piece in table_pieces(table, keys, tr, styles):
                story += [piece, Spacer(1, 4 * mm)]
    story += _residents(*residents, tr, styles)
    story += _coverage(coverage, tr, styles, rules or CoverageRules(), covered)
    story.append(PageBreak())
    story.append(Paragraph(escape(thresholds.title), styles.heading))
    for row in thresholds.rows:
        story.append(Paragraph(f"<b>{escape(str(row[1]))}</b> — {escape(str(row[6]))}", styles.body))
    doc = SimpleDocTemplate(
        str(path), pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=14 * mm,
        title=title, author="dokiem",
    )  # fmt: skip
    footer = _Footer(title, tr, regular)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return path

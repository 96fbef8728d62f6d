"""CSV and XLSX: every table, every column, numbers as numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import xlsxwriter

from dokiem.files import csv_cell
from dokiem.reports.tables import Column, Kind, Table, Value, slug

_XLSX_FORMATS: dict[Kind, str] = {
    "int": "#,##0",
    "mbps": "0.0",
    "ms": "0.0",
    "pct": "0.00",
    "share": "0.0%",
    "ratio": "0.00",
    "delta_pct": "+0.0;-0.0;0.0",  # percent points as numbers: the header says (%)
    "delta_int": "+#,##0;-#,##0;0",
}


def _csv_value(value: Value) -> object:
    """A cell as the CSV holds it; text from agents (an ISP's name) can never start a formula."""
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    return csv_cell(value)


def write_csv(tables: list[Table], out_dir: Path, stem: str) -> list[Path]:
    """One file per table; UTF-8 with a byte-order mark so that Excel shows the diacritics."""
    written = []
    for table in tables:
        path = out_dir / f"{stem}-{table.id}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([c.title for c in table.columns])
            writer.writerows([_csv_value(v) for v in row] for row in table.rows)
        written.append(path)
    return written


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join("-" if ch in "[]:*?/\\" else ch for ch in title)[:31]  # Excel refuses these in a name
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def write_xlsx(tables: list[Table], notes: list[str], path: Path, notes_title: str) -> Path:
    """One sheet per table, headers frozen and filterable; rows with too few samples shaded."""
    with xlsxwriter.Workbook(str(path)) as book:
        header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"})
        formats = {kind: book.add_format({"num_format": spec}) for kind, spec in _XLSX_FORMATS.items()}
        shaded = {kind: book.add_format({"num_format": spec, "bg_color": "#FFF2CC"}) for kind, spec in
                  _XLSX_FORMATS.items()}  # fmt: skip
        text, text_shaded = book.add_format(), book.add_format({"bg_color": "#FFF2CC"})
        used: set[str] = set()
        sheet = book.add_worksheet(_sheet_name(notes_title, used))
        sheet.set_column(0, 0, 120)
        for row, line in enumerate(notes):
            sheet.write_string(row, 0, line)
        for table in tables:
            sheet = book.add_worksheet(_sheet_name(table.title, used))
            for col, column in enumerate(table.columns):
                sheet.write_string(0, col, column.title, header)
                sheet.set_column(col, col, 28 if column.kind == "text" else 13)
            for r, (values, flagged) in enumerate(zip(table.rows, table.flagged, strict=True), start=1):
                for col, (column, value) in enumerate(zip(table.columns, values, strict=True)):
                    if value is None or value == "":
                        sheet.write_blank(r, col, None, text_shaded if flagged else text)
                    elif isinstance(value, str):
                        sheet.write_string(r, col, value, text_shaded if flagged else text)
                    else:
                        sheet.write_number(r, col, value, (shaded if flagged else formats).get(column.kind, text))
            sheet.freeze_panes(1, 1)
            sheet.set_row(0, 45)
            if table.rows:
                sheet.autofilter(0, 0, len(table.rows), len(table.columns) - 1)
    return path


def write_keyed_csv(table: Table, path: Path, split_by: str | None = None) -> list[Path]:
    """A table as data for programs: plain UTF-8, the columns named by their keys, numbers as numbers; with
    ``split_by``, a file per value of that column beside it too (``…-viettel.csv``: one per operator)."""
    written = [_keyed(table.columns, table.rows, path)]
    for value, part in table.split_by(split_by) if split_by is not None else ():
        written.append(_keyed(part.columns, part.rows, path.with_name(f"{path.stem}-{slug(value)}{path.suffix}")))
    return written


def _keyed(columns: list[Column], rows: list[list[Value]], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([c.key for c in columns])
        writer.writerows([_csv_value(v) for v in row] for row in rows)
    return path

"""Open data: the published figures per level (commune, former district, ISP) as CSV and JSON, the
per-test records, a data dictionary and the licence.

The per-test records carry no agent id, no IP address, no point finer than the commune and no
time finer than the hour; runs flagged unsound and runs of a group held back are left out and
counted in the dictionary. Column names stay English (a data set is read by programs); the
dictionary says what each means in the reader's language.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dokiem import figures as registry
from dokiem.contract import LOCAL_TIME
from dokiem.figures import Labels
from dokiem.i18n import Translator
from dokiem.reports.tables import REPORTED_COLUMNS

# the columns of each level's file: who, then the registry's published statistics, then the derived ones
NAME_COLUMNS = ("code", "name", "district", "isp", "access", "published", "tests", "agents")
CHANGE_COLUMN, BLOATED_COLUMN = "download_median_change_mbps", "bloated_share"
DERIVED_COLUMNS = (CHANGE_COLUMN, BLOATED_COLUMN)
# the per-test records: where and when (to the hour), then the headline figures
RECORD_PLACE_COLUMNS = ("hour", "province", "district", "commune", "isp", "access", "failed")


def unit_columns(**named: Any) -> dict[str, Any]:
    """A level row's columns that say whose it is (code, name, district, isp, access): those not ``named`` empty."""
    unknown = named.keys() - set(NAME_COLUMNS[:5])
    if unknown:
        raise MissingColumn(f"no level column {sorted(unknown)}")
    return dict.fromkeys(NAME_COLUMNS[:5]) | named


# the surveys' cells (issue 30): one row per cell and operator, never a coordinate
COVERAGE_COLUMNS = ("operator", "cell", "commune_code", "commune_name", "best_class", "samples", "days",
                    "first_seen", "last_seen", "broadband_share", "service_share", "hole")  # fmt: skip


def write_coverage(folder: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """``coverage.csv``: each surveyed cell and operator, its best class, how often broadband was there."""
    return _write_cells(folder / "coverage.csv", COVERAGE_COLUMNS, rows)


def _write_cells(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(_exactly(row, columns, path.name) for row in rows)
    return path


# residents' "no signal" reports (issue 31): the cells shown by their rule, the report's table's columns
REPORTED_CSV_COLUMNS = tuple(key for key, _ in REPORTED_COLUMNS)


def write_reported(folder: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """``coverage_reported.csv``: each cell residents reported no signal in, by operator, with its counts."""
    return _write_cells(folder / "coverage_reported.csv", REPORTED_CSV_COLUMNS, rows)


def level_columns() -> tuple[str, ...]:
    return (*NAME_COLUMNS, *registry.published_columns(), *DERIVED_COLUMNS)


def figure_columns() -> tuple[str, ...]:
    """A level row's figure columns: empty, all of them, where a group is not published."""
    return (*registry.published_columns(), *DERIVED_COLUMNS)


def record_columns() -> tuple[str, ...]:
    return (*RECORD_PLACE_COLUMNS, *registry.names(lambda f: f.headline))


class MissingColumn(ValueError):
    """A row lacks one of its file's columns, or has one the file does not: a renamed key would publish an
    empty column, so nothing is written."""


def _exactly(row: dict[str, Any], columns: Sequence[str], where: str) -> dict[str, Any]:
    if row.keys() != set(columns):
        missing, unknown = sorted(set(columns) - row.keys()), sorted(row.keys() - set(columns))
        raise MissingColumn(f"{where}: row lacks {missing or 'nothing'}, has unknown {unknown or 'nothing'}")
    return {key: _cell(row[key]) for key in columns}


@dataclass(frozen=True)
class Licence:
    name: str = "CC BY 4.0"
    url: str = "https://creativecommons.org/licenses/by/4.0/"
    holder: str = ""  # empty: the department of the site's province (reports.letterhead.department_of)


def _cell(value: Any) -> Any:
    return round(value, 2) if isinstance(value, float) else value


def write_level(folder: Path, name: str, rows: Sequence[dict[str, Any]]) -> list[Path]:
    """``name.csv`` and ``name.json``: the same rows, held-back groups with their figures empty."""
    columns = level_columns()
    cells = [_exactly(row, columns, f"{name}.csv") for row in rows]
    csv_path, json_path = folder / f"{name}.csv", folder / f"{name}.json"
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(cells)
    json_path.write_text(json.dumps(cells, ensure_ascii=False), encoding="utf-8")
    return [csv_path, json_path]


def hour_of(started_ms: int) -> str:
    """The run's local hour, never finer: 2026-07-01T19:00+07:00."""
    moment = datetime.fromtimestamp(started_ms // 3_600_000 * 3600, LOCAL_TIME)
    return moment.isoformat(timespec="minutes")


def write_records(folder: Path, records: Iterable[dict[str, Any]], source: str = "") -> tuple[Path, int]:
    """``tests.csv.gz`` (``residents_tests.csv.gz`` for the residents' source): one row per published run;
    returns the path and how many were written."""
    path = folder / f"{source + '_' if source else ''}tests.csv.gz"
    columns = record_columns()
    written = 0
    with gzip.open(path, "wb", compresslevel=9) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        for record in records:
            writer.writerow(_exactly(record, columns, path.name))
            written += 1
    return path, written


def write_licence(folder: Path, licence: Licence, lang: str) -> Path:
    path = folder / "LICENSE.txt"
    if lang == "vi":
        text = (
            f"Dữ liệu trong thư mục này được cấp phép theo {licence.name} ({licence.url}).\n"
            f"Khi dùng lại, ghi nguồn: {licence.holder}, dữ liệu đo kiểm chất lượng băng rộng (dokiem).\n"
        )
    else:
        text = (
            f"The data in this folder is licensed under {licence.name} ({licence.url}).\n"
            f"Credit when reusing it: {licence.holder}, broadband quality measurements (dokiem).\n"
        )
    path.write_text(text, encoding="utf-8")
    return path


def column_notes(tr: Translator) -> str:
    """What each level column that holds a number means: the registry's words for a figure's statistic."""
    labels = Labels(tr)
    notes = [f"{name}: {tr(f'pub_col_{name}')}" for name in ("tests", "agents")]
    notes += [f"{f.column(stat)}: {labels.title(f, stat)}" for f in registry.published() for stat in f.published]
    notes += [f"{name}: {tr(f'pub_col_{name}')}" for name in DERIVED_COLUMNS]
    return "; ".join(notes)


def write_dictionary(folder: Path, lines: Sequence[str]) -> Path:
    path = folder / "README.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

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

from dokiem.contract import LOCAL_TIME

LEVEL_COLUMNS = (
    "code", "name", "district", "isp", "access", "published", "tests", "agents", "download_median_mbps",
    "download_p10_mbps", "download_p90_mbps", "upload_median_mbps", "upload_p10_mbps", "upload_p90_mbps",
    "latency_median_ms", "latency_p10_ms", "latency_p90_ms", "download_median_change_mbps",
    "loaded_latency_median_ms", "responsiveness_median_rpm", "bloated_share",
)  # fmt: skip
RECORD_COLUMNS = ("hour", "province", "district", "commune", "isp", "access", "failed", "download_mbps",
                  "upload_mbps", "latency_ms", "jitter_ms", "loss_pct")  # fmt: skip


@dataclass(frozen=True)
class Licence:
    name: str = "CC BY 4.0"
    url: str = "https://creativecommons.org/licenses/by/4.0/"
    holder: str = "Sở Khoa học và Công nghệ tỉnh Thanh Hóa"


def _cell(value: Any) -> Any:
    return round(value, 2) if isinstance(value, float) else value


def write_level(folder: Path, name: str, rows: Sequence[dict[str, Any]]) -> list[Path]:
    """``name.csv`` and ``name.json``: the same rows, held-back groups with their figures empty."""
    csv_path, json_path = folder / f"{name}.csv", folder / f"{name}.json"
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, LEVEL_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({key: _cell(row.get(key)) for key in LEVEL_COLUMNS} for row in rows)
    json_path.write_text(
        json.dumps([{key: _cell(row.get(key)) for key in LEVEL_COLUMNS} for row in rows], ensure_ascii=False),
        encoding="utf-8",
    )
    return [csv_path, json_path]


def hour_of(started_ms: int) -> str:
    """The run's local hour, never finer: 2026-07-01T19:00+07:00."""
    moment = datetime.fromtimestamp(started_ms // 3_600_000 * 3600, LOCAL_TIME)
    return moment.isoformat(timespec="minutes")


def write_records(folder: Path, records: Iterable[dict[str, Any]], source: str = "") -> tuple[Path, int]:
    """``tests.csv.gz`` (``residents_tests.csv.gz`` for the residents' source): one row per published run;
    returns the path and how many were written."""
    path = folder / f"{source + '_' if source else ''}tests.csv.gz"
    written = 0
    with gzip.open(path, "wb", compresslevel=9) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, RECORD_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow({key: _cell(record.get(key)) for key in RECORD_COLUMNS})
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


def write_dictionary(folder: Path, lines: Sequence[str]) -> Path:
    path = folder / "README.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

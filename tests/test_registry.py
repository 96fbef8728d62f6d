"""The registry of figures (dokiem/figures.py) is the one place a figure is added: every list of figures is read
from it, a made-up figure turns up in every output, and a row that lacks a column is refused, never published
as an empty column."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from dokiem import contract, figures
from dokiem.collector.archive.results import COLUMNS, REPORT_COLUMNS
from dokiem.figures import Labels, Stat
from dokiem.i18n import LANGS, Translator, catalogue
from dokiem.reports import opendata
from dokiem.series import FIELDS, Measurement

HERE = Path(__file__).parent


def _made_up(out: Path, how: str) -> dict[str, typing.Any]:
    done = subprocess.run([sys.executable, str(HERE / "made_up_figure.py"), str(out), how],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_a_made_up_figure_turns_up_in_every_output_and_nowhere_once_its_row_is_gone(tmp_path: Path) -> None:
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    found = _made_up(tmp_path / "with", "with")
    for place in ("archive", "influx", "csv", "xlsx", "docx", "pdf", "dictionary", "site", "dashboards"):
        assert found[place] is True, place
    assert found["open_data"] == ["sparkle_median_ms", "sparkle_p10_ms", "sparkle_p90_ms"]
    assert found["open_data_medians"] and found["open_data_medians"] == found["expected_medians"]
    assert found["records"] is False  # the per-test records carry the headline figures only: it is none
    gone = _made_up(tmp_path / "without", "without")  # its value still in the Result, its row gone
    assert not any(gone[place] for place in gone), gone


def test_the_contracts_lists_are_the_registrys_and_every_figure_is_a_result_field() -> None:
    assert tuple(f.name for f in figures.REGISTRY) == contract.FIGURES
    assert tuple(f.name for f in figures.headline()) == contract.HEADLINE_FIGURES
    assert len(contract.HEADLINE_FIGURES) == 5
    fields = contract.Result.model_fields
    for row in figures.REGISTRY:
        assert row.name in fields, row.name
        assert "float" in str(fields[row.name].annotation), row.name  # a number, or none
        assert row.name.endswith(f"_{row.unit.value}"), row.name  # the stem and the open data's column follow
    assert set(contract.FIGURES) <= set(FIELDS[Measurement.SPEEDTEST])


def test_the_archive_and_the_report_read_the_registrys_reported_figures() -> None:
    reported = [f.name for f in figures.reported()]
    assert [c.name for c in COLUMNS if c.name in contract.FIGURES] == reported
    assert [c for c in REPORT_COLUMNS if c in contract.FIGURES] == reported


def test_every_figure_has_its_words_in_both_languages() -> None:
    for lang in LANGS:
        words = Labels(Translator(lang))
        for row in figures.REGISTRY:
            assert row.label in catalogue(), row.label
            for stat in row.report:
                title = words.title(row, stat)
                assert title.startswith(words.name(row)) and title.endswith(f"({row.unit.symbol})")
    assert Labels(Translator("vi")).title(figures.figure("download_mbps"), Stat.MEDIAN) == "Tải xuống trung vị (Mbit/s)"


def test_an_unknown_figure_is_named_with_those_there_are() -> None:
    with pytest.raises(KeyError, match="download_mbps"):
        figures.figure("sparkle_ms")


def _level_row() -> dict[str, object]:
    return opendata.unit_columns(code="14758", name="Xã Hải Bình", access="fixed") | {
        "published": True, "tests": 320, "agents": 1, **dict.fromkeys(opendata.figure_columns(), 1.5),
    }  # fmt: skip


def test_a_level_row_with_a_renamed_or_missing_column_is_refused_never_an_empty_column(tmp_path: Path) -> None:
    written = opendata.write_level(tmp_path, "communes", [_level_row()])
    assert written[0].read_text(encoding="utf-8").splitlines()[0].split(",") == list(opendata.level_columns())
    renamed = _level_row()
    renamed["download_median_mbit"] = renamed.pop("download_median_mbps")
    with pytest.raises(opendata.MissingColumn, match="download_median_mbps"):
        opendata.write_level(tmp_path, "communes", [renamed])
    missing = _level_row()
    del missing["bloated_share"]
    with pytest.raises(opendata.MissingColumn, match="bloated_share"):
        opendata.write_level(tmp_path, "communes", [missing])
    with pytest.raises(opendata.MissingColumn, match="commune"):
        opendata.unit_columns(commune="14758")

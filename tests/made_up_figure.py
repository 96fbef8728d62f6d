"""Run by tests/test_registry.py in its own interpreter: a made-up figure added as a figure is added — one row in
the registry, its label in the catalogue, its field and value in a Result — and nothing else; then every output
is written and this prints, as JSON, where the figure's name or its column titles turned up.

    python tests/made_up_figure.py OUT_DIR with|without
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import statistics
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from dokiem import figures
from dokiem.figures import ALL_STATS, SPREAD, Better, Figure, Stat, Unit

NAME, LABEL = "sparkle_ms", "Sparkle"
out, added = Path(sys.argv[1]), sys.argv[2] == "with"
if added:  # the row, and its words in both languages
    figures.REGISTRY = (*figures.REGISTRY, Figure(NAME, Unit.MS, Better.LOWER, "sparkle", "sparkle", report=ALL_STATS,
                                                  published=SPREAD, dashboards=(Stat.MEDIAN,), brief=True))  # fmt: skip
    from dokiem.i18n import add_texts

    add_texts({"sparkle": ("Lấp lánh", LABEL)})

from dokiem import contract  # noqa: E402 (after the row: the contract's lists read the registry once)


class Result(contract.Result):  # the figure's field in the Result, as the contract would declare it
    sparkle_ms: contract.Millis | None = None


contract.Result = Result  # type: ignore[misc]

from dokiem.collector.archive import Archive, sqlite_url  # noqa: E402
from dokiem.collector.archive.db import connect  # noqa: E402
from dokiem.collector.influx import result_line  # noqa: E402
from dokiem.grafana.dashboards import build_all  # noqa: E402
from dokiem.i18n import Translator  # noqa: E402
from dokiem.regions import Regions  # noqa: E402
from dokiem.reports.build import FORMATS, read_figures, write_report  # noqa: E402
from dokiem.reports.opendata import Licence  # noqa: E402
from dokiem.reports.publish import publish_site  # noqa: E402
from dokiem.reports.quarterly import Quarter  # noqa: E402
from dokiem.synthetic import commune_agents, synthetic_results  # noqa: E402
from dokiem.thresholds import load_thresholds  # noqa: E402

regions = Regions.load()
quarter = Quarter(2026, 3)
agents = [a for a in commune_agents(regions, "38", "made-up-") if a.site.access.value == "fixed"][:4]
results = [r.model_copy(update={NAME: 10.0 + n % 7}) if r.error is None else r
           for n, r in enumerate(synthetic_results(agents, quarter.start, quarter.end, 4 * 320, seed=5))]  # fmt: skip
archive = Archive(connect(sqlite_url(out / "archive.db")))
archive.results.add(results, place=lambda r: regions.place_site(r.site, r.started_at))
tr = Translator("en")
cut = datetime(2030, 1, 1, tzinfo=UTC)
quarterly = read_figures(archive, quarter, load_thresholds(), cutoff=cut)
written = write_report(quarterly, FORMATS, out / "report", tr, regions)
publish_site(archive, quarterly, regions, out / "site", tr, Licence())
archive.close()

title = f"{LABEL} median (ms)"
pdf_text = subprocess.run(["pdftotext", "-raw", str(next(p for p in written if p.suffix == ".pdf")), "-"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
docx = next(p for p in written if p.suffix == ".docx")
xlsx = next(p for p in written if p.suffix == ".xlsx")
communes = (out / "site" / "data" / "communes.csv").read_text(encoding="utf-8").splitlines()
header = communes[0].split(",")
published = [dict(zip(header, line.split(","), strict=False)) for line in communes[1:]]
boards = json.dumps(build_all(tr, load_thresholds(), regions), ensure_ascii=False)
with sqlite3.connect(out / "archive.db") as db:
    columns = [row[1] for row in db.execute("PRAGMA table_info(results)")]
with gzip.open(out / "site" / "data" / "tests.csv.gz", "rt") as records:
    records_header = records.readline()


def _median_of(commune: str) -> float:
    return statistics.median(getattr(r, NAME) for r in results if r.error is None and r.site.commune_code == commune)


with gzip.open(out / "site" / "data" / "tests.csv.gz", "rt") as records:
    records_header = records.readline()


def _median_of(commune: str) -> float:
    return statistics.median(getattr(r, NAME) for r in results if r.error is None and r.site.commune_code == commune)


found = {
    "archive": NAME in columns,
    "influx": f"{NAME}=" in (result_line(results[0]) or ""),
    "csv": any(title in p.read_text(encoding="utf-8-sig").splitlines()[0] for p in written if p.suffix == ".csv"),
    "xlsx": title in zipfile.ZipFile(xlsx).read("xl/sharedStrings.xml").decode(),
    "docx": title in zipfile.ZipFile(docx).read("word/document.xml").decode(),
    "pdf": f"{LABEL} median" in " ".join(pdf_text.split()),
    "open_data": [column for column in header if column.startswith("sparkle_")],
    "open_data_medians": sorted({row.get("sparkle_median_ms", "") for row in published} - {""}),
    "dictionary": "sparkle_median_ms" in (out / "site" / "data" / "README.txt").read_text(encoding="utf-8"),
    "site": any(f"{LABEL} (ms)" in page.read_text(encoding="utf-8") for page in (out / "site").rglob("*.html")),
    "dashboards": title in boards and f'median(\\"{NAME}\\")' in boards,
    # each published commune's median as the statistics module computes it from the Results themselves
    "expected_medians": sorted({str(_median_of(row["code"])) for row in published if row.get("sparkle_median_ms")}),
    "records": NAME in records_header,
}
print(json.dumps(found))

"""The report tests' quarter: a generated archive (3,000 results in 2026Q3, 400 more for district 380,
800 in 2026Q2) and thresholds that publish groups of 150 tests."""

from __future__ import annotations

from pathlib import Path

from dokiem.collector.archive import Archive, sqlite_url
from dokiem.contract import Result
from dokiem.regions import Regions
from dokiem.reports.quarterly import Quarter
from dokiem.synthetic import synthetic_agents, synthetic_results
from dokiem.thresholds import SHIPPED

QUARTER = Quarter.parse("2026Q3")
MIN_SAMPLES = 150
REGIONS = Regions.load()


def write_thresholds(path: Path) -> Path:
    path.write_text(SHIPPED.read_text(encoding="utf-8").replace("min_samples = 300", f"min_samples = {MIN_SAMPLES}"))
    return path


def write_quarter_archive(path: Path) -> tuple[Path, list[Result], list[Result]]:
    """(the archive, the quarter's results, the previous quarter's)."""
    agents = synthetic_agents(REGIONS, "38")
    current = list(synthetic_results(agents, QUARTER.start, QUARTER.end, 3000))
    city = [a for a in agents if a.site.district_code == "380"]
    current += list(synthetic_results(city, QUARTER.start, QUARTER.end, 400, seed=9))
    previous = list(synthetic_results(agents, QUARTER.previous().start, QUARTER.previous().end, 800, seed=4))
    archive = Archive.from_url(sqlite_url(path))
    archive.results.add(current + previous)
    archive.close()
    return path, current, previous

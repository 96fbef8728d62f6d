"""A year of one province's results rebuilt into InfluxDB from the archive (issue 32): InfluxDB is never backed
up, so this is how long a server restored from a backup takes to show its dashboards again, and what the
archive grows by in a year.

The year is synthetic at the field's rate: an office agent on a fixed line in each of Thanh Hóa's 166
communes and a mobile one in every other (249), a speed test an hour each (the default schedule): about 2.2
million results. They are archived (SQLite, as deployed), then ``dokiem collector reindex`` runs as a
department runs it, into a real influxd (Debian's 1.6), its time and peak memory measured. Beside it in the
same run, the ceiling: the same points written straight to InfluxDB's /write in batches of 5,000, with no
archive read and no line built. And a year-long dashboard query (the province's monthly medians), raw. The
reindex's peak memory is GNU time's (Debian's ``time`` package).

    .venv/bin/python bench/reindex_year.py                     # writes docs/benchmarks.md
    .venv/bin/python bench/reindex_year.py --days 30           # a month, to try it
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bench.docs import run_line, show_and_record  # noqa: E402
from dokiem.collector.archive import Archive, sqlite_url  # noqa: E402
from dokiem.collector.influx import result_line  # noqa: E402
from dokiem.contract import Access, Result  # noqa: E402
from dokiem.regions import Regions  # noqa: E402
from dokiem.synthetic import commune_agents, synthetic_results  # noqa: E402
from testkit.influx import Influx  # noqa: E402
from testkit.processes import DOKIEM  # noqa: E402

START = datetime(2025, 12, 1, tzinfo=UTC)
BATCH = 5_000


def build_archive(path: Path, days: int) -> tuple[int, float]:
    """(results, seconds): the year archived as the collector archives it, batch by batch."""
    regions = Regions.load()
    agents = commune_agents(regions, "38", "th")
    hours = days * 24
    archive = Archive.from_url(sqlite_url(path))
    began, added = time.monotonic(), 0
    fixed = [a for a in agents if a.site.access is Access.FIXED]
    mobile = [a for a in agents if a.site.access is Access.MOBILE]
    end = START + timedelta(days=days)
    results = itertools.chain(synthetic_results(fixed, START, end, len(fixed) * hours, seed=1),
                              synthetic_results(mobile, START, end, len(mobile) * hours, seed=2))  # fmt: skip
    try:
        while batch := list(itertools.islice(results, BATCH)):
            archive.results.add(batch, place=lambda r: regions.place_site(r.site, r.started_at))
            added += len(batch)
            if added % 200_000 < BATCH:
                print(f"archived {added:,}", file=sys.stderr)
    finally:
        archive.close()
    return added, time.monotonic() - began


def ceiling(influx: Influx, archive_path: Path, sample: int) -> float:
    """Lines a second InfluxDB takes straight, in batches of 5,000 (the lines made beforehand)."""
    regions = Regions.load()
    archive = Archive.from_url(sqlite_url(archive_path), create=False)
    try:
        results = [Result.from_json(stored.payload) for stored in archive.results.pending(sample)]
    finally:
        archive.close()
    lines = [result_line(r, regions.place_site(r.site, r.started_at)) or "" for r in results]
    influx.query('CREATE DATABASE "ceiling"')
    began = time.monotonic()
    for n in range(0, len(lines), BATCH):
        body = "\n".join(lines[n : n + BATCH]).encode()
        request = urllib.request.Request(f"{influx.url}/write?db=ceiling&precision=ms", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=120) as answer:
            assert answer.status == 204
    return len(lines) / (time.monotonic() - began)


def reindex(influx: Influx, archive_path: Path) -> tuple[float, float]:
    """(seconds, peak MB) of ``dokiem collector reindex`` over the whole archive, as a department runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOKIEM_")}
    env |= {"DOKIEM_ARCHIVE_URL": sqlite_url(archive_path), "DOKIEM_DATA_DIR": str(archive_path.parent),
            "DOKIEM_INFLUX_URL": influx.url}  # fmt: skip
    began = time.monotonic()
    # GNU time's peak resident set of this one process (getrusage's children figure is the largest child's so far)
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *DOKIEM, "--lang", "en", "collector", "reindex", "--since",
                           "2025-01-01"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)  # fmt: skip
    seconds = time.monotonic() - began
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def year_query(influx: Influx) -> tuple[float, int]:
    """(seconds, points) of the province's monthly fixed-line medians over the whole range."""
    query = ('SELECT median("download_mbps") FROM "speedtest" WHERE time >= \'2025-12-01T00:00:00Z\' AND'
             " \"access\" = 'fixed' GROUP BY time(30d)")  # fmt: skip
    began = time.monotonic()
    series = influx.query(query)
    return time.monotonic() - began, sum(1 for s in series for value in s.get("values", []) if value[1] is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--ceiling-sample", type=int, default=200_000, help="points written straight, for the ceiling")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dokiem-year-") as tmp:
        archive_path = Path(tmp) / "archive.db"
        results, archived_s = build_archive(archive_path, args.days)
        size_mb = sum(p.stat().st_size for p in Path(tmp).glob("archive.db*")) / 1e6
        influx = Influx(Path(tmp) / "influx")
        (Path(tmp) / "influx").mkdir()
        influx.start()
        try:
            straight = ceiling(influx, archive_path, args.ceiling_sample)
            print(f"ceiling {straight:,.0f} lines/s", file=sys.stderr)
            seconds, peak_mb = reindex(influx, archive_path)
            print(f"reindex {seconds:,.0f} s, peak {peak_mb:,.0f} MB", file=sys.stderr)
            query_s, points = year_query(influx)
        finally:
            influx.stop()
    rate = results / seconds
    command = ".venv/bin/python bench/reindex_year.py" + (f" --days {args.days}" if args.days != 365 else "")
    lines = [
        run_line(command, time.monotonic() - began), "",
        f"{results:,} results over {args.days} days (249 agents, a test an hour each), archived in"
        f" {archived_s:,.0f} s; the archive (SQLite) {size_mb:,.0f} MB, {size_mb * 1e6 / results:,.0f} bytes a result.",
        "",
        "| | results/s | ratio to the ceiling | time | peak memory |",
        "|---|---|---|---|---|",
        f"| `dokiem collector reindex` (archive → InfluxDB) | {rate:,.0f} | {rate / straight:.2f} | {seconds:,.0f} s |"
        f" {peak_mb:,.0f} MB |",
        f"| ceiling: the same points straight to /write | {straight:,.0f} | 1.00 | — | — |",
        "",
        f"The range's monthly fixed-line medians for the province, from the raw points: {points} months in"
        f" {query_s:.2f} s.",
    ]  # fmt: skip
    show_and_record(lines, args.out, "reindex-year", not args.no_write)


if __name__ == "__main__":
    main()

"""The quarterly report over a million results: time and peak memory (issue 5: < 30 s, < 1 GB).

Builds (once, then reuses) a SQLite archive holding ``--results`` generated results in 2026Q3 for
Thanh Hóa's 27 districts (81 agents, three ISPs fixed and mobile, full payloads) and a quarter of
a quarter as many in 2026Q2, then runs, in one go, each as its own process:

1. the floor: a Python process that only streams the report's columns of the quarter out of the
   archive (what no report can avoid);
2. ``dokiem report quarterly --quarter 2026Q3 --format xlsx,pdf,csv,docx`` on the same archive.

Wall time and peak RSS (``ru_maxrss`` of the child) of both, and their ratio.

    .venv/bin/python bench/report.py                 # writes docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.docs import write_section  # noqa: E402
from dokiem.collector.archive import Archive, sqlite_url  # noqa: E402
from dokiem.regions import Regions  # noqa: E402
from dokiem.reports.quarterly import Quarter  # noqa: E402
from dokiem.synthetic import synthetic_agents, synthetic_results  # noqa: E402

QUARTER = Quarter.parse("2026Q3")
SCAN = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from dokiem.collector.archive import Archive, sqlite_url
from dokiem.reports.quarterly import Quarter
q = Quarter.parse("2026Q3")
archive = Archive.from_url(sqlite_url(Path(sys.argv[2]).resolve()))
n = sum(1 for _ in archive.results.report_rows(q.start, q.end))
print(n)
"""


def build_archive(path: Path, count: int, per_district: int) -> None:
    if path.exists():
        return
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    archive = Archive.from_url(sqlite_url(tmp))
    agents = synthetic_agents(Regions.load(only="38"), "38", per_district=per_district)
    batch = []
    started = time.monotonic()
    parts = ((QUARTER, count, 2), (QUARTER.previous(), count // 4, 3))
    for quarter, n, seed in parts:
        for i, result in enumerate(synthetic_results(agents, quarter.start, quarter.end, n, seed=seed), start=1):
            batch.append(result)
            if len(batch) == 20_000:
                archive.results.add(batch)
                batch = []
                print(f"\r  building the archive: {quarter} {i:,}/{n:,}", end="", file=sys.stderr, flush=True)
    archive.results.add(batch)
    archive.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    tmp.rename(path)
    print(f"\n  built in {time.monotonic() - started:.0f} s", file=sys.stderr)


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        raise RuntimeError("ru_maxrss did not move: run each measured command in a fresh bench process")
    return seconds, peak / 1024, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=int, default=1_000_000)
    parser.add_argument("--agents-per-district", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dokiem-bench-report")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--previous", type=Path, help="a checkout of the previous commit, run beside on the same archive"
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    db = args.cache / f"archive-{args.results}-{args.agents_per_district}.db"
    build_archive(db, args.results, args.agents_per_district)
    agents = 27 * args.agents_per_district
    size_mib = db.stat().st_size / 2**20
    out = Path(tempfile.mkdtemp(prefix="dokiem-report-"))
    dokiem = [sys.executable, "-m", "dokiem.cli"] if not (Path(sys.executable).parent / "dokiem").exists() else [
        str(Path(sys.executable).parent / "dokiem")]  # fmt: skip
    # The report first: ru_maxrss of children is a maximum over all of them, so the smaller
    # process (the scan) is measured in its own child bench run below.
    report_s, report_mib, _ = timed([*dokiem, "report", "quarterly", "--quarter", str(QUARTER), "--out", str(out),
                                     "--format", "xlsx,pdf,csv,docx", "--archive", sqlite_url(db)])  # fmt: skip
    scan = subprocess.run(
        [sys.executable, __file__, "--scan-only", str(db)], capture_output=True, text=True, check=True
    )
    scan_s, scan_mib, rows = (float(x) for x in scan.stdout.split())
    previous = []
    if args.previous is not None:
        done = subprocess.run([sys.executable, __file__, "--previous-only", str(args.previous.resolve()), str(db)],
                              capture_output=True, text=True, check=True)  # fmt: skip
        prev_s, prev_mib = (float(x) for x in done.stdout.split())
        commit = subprocess.run(["git", "-C", str(args.previous), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()  # fmt: skip
        previous = [f"| the same, previous commit ({commit}) | {prev_s:.1f} s | {prev_mib:,.0f} MiB | "
                    f"{prev_s / scan_s:.2f} |"]  # fmt: skip
    files = sorted(p.name for p in out.iterdir())
    with (out / "dokiem-quarterly-2026Q3-vi-communes.csv").open(encoding="utf-8-sig") as table:
        communes = len({row["Mã"] for row in csv.DictReader(table)})  # a row per commune and access type
    pages = subprocess.run(["pdfinfo", str(out / "dokiem-quarterly-2026Q3-vi.pdf")], capture_output=True, text=True)
    pdf_pages = next((line.split()[-1] for line in pages.stdout.splitlines() if line.startswith("Pages:")), "?")
    lines = [
        f"Command: `.venv/bin/python bench/report.py --results {args.results}"
        f"{' --previous CHECKOUT' if args.previous else ''}` on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}), {time.strftime('%Y-%m-%d')}.",
        "",
        f"Archive: SQLite, {size_mib:,.0f} MiB, {int(rows):,} results in {QUARTER} (+{args.results // 4:,} in "
        f"{QUARTER.previous()} for the change column), 27 districts, {agents} agents in "
        f"{communes} communes, full payloads.",
        "",
        "| run | wall time | peak RSS | vs the bare scan |",
        "|---|---|---|---|",
        f"| bare scan of the report's columns (floor) | {scan_s:.1f} s | {scan_mib:,.0f} MiB | 1.00 |",
        f"| `dokiem report quarterly --format xlsx,pdf,csv,docx` | {report_s:.1f} s | {report_mib:,.0f} MiB | "
        f"{report_s / scan_s:.2f} |",
        *previous,
        "",
        f"Goal: under 30 s and under 1 GiB — {'met' if report_s < 30 and report_mib < 1024 else 'NOT met'}. "
        f"Files written: {len(files)} ({', '.join(f for f in files if not f.endswith('.csv'))} and the CSVs); "
        f"the PDF has {pdf_pages} pages.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_docs:
        write_section(REPO / "docs" / "benchmarks.md", "report", text)


def previous_only(checkout: Path, db: Path) -> None:
    """The report as the previous commit writes it, in a fresh process (ru_maxrss is a maximum over children)."""
    out = Path(tempfile.mkdtemp(prefix="dokiem-report-previous-"))
    env = os.environ | {"PYTHONPATH": str(checkout)}
    command = [sys.executable, "-m", "dokiem", "report", "quarterly", "--quarter", str(QUARTER), "--out", str(out),
               "--format", "xlsx,pdf,csv,docx", "--archive", sqlite_url(db)]  # fmt: skip
    seconds, mib, _ = timed(command, env)
    print(seconds, mib)


def scan_only(db: Path) -> None:
    seconds, mib, out = timed([sys.executable, "-c", SCAN, str(REPO), str(db)])
    print(seconds, mib, out.strip())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--scan-only":
        scan_only(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "--previous-only":
        previous_only(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()

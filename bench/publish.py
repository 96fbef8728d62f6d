"""Publishing a quarter of 250,000 results: `dokiem publish` against a bare scan of the same rows.

1. A bare scan of the report's columns out of the archive (the floor: what reading alone costs).
2. ``dokiem publish --quarter 2026Q3`` on the same archive (read, group, the disclosure rule,
   the pages, the two SVG maps, the open data with every published run).

Wall time and each child's peak RSS; the site's size on disk. The archive is built once and
cached (``bench/report.py``'s generator: Thanh Hóa's 27 former districts, 20 agents each).

    .venv/bin/python bench/publish.py [--results 250000]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dokiem.collector.archive import sqlite_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.docs import write_section  # noqa: E402
from bench.report import QUARTER, build_archive, timed  # noqa: E402

GOAL_MIB = 10  # the issue: the whole site for a quarter well under 10 MB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=int, default=250_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dokiem-bench-report")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    db = args.cache / f"archive-{args.results}-20.db"
    build_archive(db, args.results, 20)
    out = Path(tempfile.mkdtemp(prefix="dokiem-publish-")) / "site"
    dokiem = [str(Path(sys.executable).parent / "dokiem")]
    seconds, mib, stdout = timed([*dokiem, "publish", "--quarter", str(QUARTER), "--out", str(out), "--archive",
                                  sqlite_url(db)])  # fmt: skip
    scan = subprocess.run([sys.executable, str(REPO / "bench" / "report.py"), "--scan-only", str(db)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    scan_s, scan_mib, rows = (float(x) for x in scan.stdout.split())
    files = [p for p in out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files) / 2**20
    index = (out / "index.html").stat().st_size / 1024
    records = (out / "data" / "tests.csv.gz").stat().st_size / 2**20
    lines = [
        f"Command: `.venv/bin/python bench/publish.py --results {args.results}` on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}), {time.strftime('%Y-%m-%d')}.",
        "",
        f"Archive: SQLite, {int(rows):,} results in {QUARTER}, 540 agents in Thanh Hóa's 27 former districts.",
        "",
        "| run | wall time | peak RSS | vs the bare scan |",
        "|---|---|---|---|",
        f"| bare scan of the report's columns (floor) | {scan_s:.1f} s | {scan_mib:,.0f} MiB | 1.00 |",
        f"| `dokiem publish` | {seconds:.1f} s | {mib:,.0f} MiB | {seconds / scan_s:.2f} |",
        "",
        f"Site: {len(files)} files, {size:.1f} MiB (index.html {index:.0f} KiB with both maps; the per-test "
        f"records {records:.1f} MiB gzip'ed). Goal: well under {GOAL_MIB} MB — "
        f"{'met' if size < GOAL_MIB / 2 else 'NOT met'}. `dokiem publish` said: {stdout.strip()}",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_docs:
        write_section(REPO / "docs" / "benchmarks.md", "publish", text)


if __name__ == "__main__":
    main()

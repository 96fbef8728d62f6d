"""What one person with N addresses needs to get a commune's residents' figures published (issue 38).

Issue 38 found that 300 tests from 60 loopback addresses, made in 487 s, published a commune's residents'
median at a value the sender chose. This bench plays that person against the collector's own rules, before
and after the change, in one run: the door's limits (``AddressLimiter``: tickets and results an hour per
address), the sender cap (``SenderCap``: a commune's tests counted a day per sender), the archive's sender
buckets (``Senders``, in a real SQLite archive) and the publication rule (``resident_figures`` and
``residents_publishable`` with the shipped thresholds). "Before" is the same code with the cap and the
days rules set to what they were (no cap, one day, one sender-day: 300 tests from 3 addresses).

The person is greedy but not wasteful: every hour, every address asks for as many tickets and sends as many
results as the door takes and counts (the rule is public: a capped address rests until the next day), on one line, at
most as many tests at once as the test server's residents' share (10 of 20 slots), each test 20 s (8 s each
way and the page's latency). Time is simulated (the limits read a clock they are given); nothing waits.

    .venv/bin/python bench/residents_sybil.py              # writes docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bench.docs import run_line, show_and_record  # noqa: E402
from dokiem.collector.archive import REPORT_COLUMNS, Archive, bucket_of, sqlite_url  # noqa: E402
from dokiem.collector.config import ResidentsSection  # noqa: E402
from dokiem.collector.residents import AddressLimiter, SenderCap  # noqa: E402
from dokiem.regions import Regions  # noqa: E402
from dokiem.reports.disclosure import residents_publishable  # noqa: E402
from dokiem.reports.quarterly import resident_figures  # noqa: E402
from dokiem.thresholds import Thresholds, load_thresholds  # noqa: E402

TEST_S = 20.0  # one test: 8 s each way and the page's latency
AT_ONCE = 10  # the test server's residents' share (half of its 20 slots)
QUARTER_HOURS = 92 * 24
START = datetime(2026, 10, 1, tzinfo=UTC).timestamp()


@dataclass
class Attempt:
    hours: int | None  # until published; None: not within a quarter
    made: int  # tests the person ran
    counted: int  # tests the collector stored


def attack(addresses: int, rules: Thresholds, per_hour: int, per_day: int, folder: Path) -> Attempt:
    """One person with ``addresses`` addresses against the door's limits and the publication rule."""
    now = [START]
    tickets, results = AddressLimiter(per_hour, lambda: now[0]), AddressLimiter(per_hour, lambda: now[0])
    cap = SenderCap(per_day, lambda: now[0])
    commune = next(iter(Regions.load().provinces["38"].communes))
    archive = Archive.from_url(sqlite_url(folder / f"sybil-{addresses}-{per_day}.db"))
    key = b"the collector's sender key (bench)"
    rows: list[tuple[Any, ...]] = []
    made = 0
    try:
        for hour in range(QUARTER_HOURS):
            line_left = int(AT_ONCE * 3600 / TEST_S)
            for n in range(addresses):
                sender = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
                # the rule is public: an address whose tests of the day are counted rests until tomorrow
                while (line_left > 0 and not cap.full(sender, commune)
                       and tickets.allow(sender) and results.allow(sender)):  # fmt: skip
                    line_left -= 1
                    made += 1
                    now[0] += TEST_S / AT_ONCE / 10  # the hour's tests spread through it
                    cap.count(sender, commune)
                    moment = datetime.fromtimestamp(now[0], UTC)
                    archive.senders.note(moment, commune, "fixed", bucket_of(key, sender))
                    rows.append(_row(commune, moment))
                if line_left == 0:
                    break
            now[0] = START + (hour + 1) * 3600
            if len(rows) >= rules.report.min_samples and _published(archive, rows, rules, commune):
                return Attempt(hour + 1, made, len(rows))
        return Attempt(None, made, len(rows))
    finally:
        archive.close()


def _row(commune: str, moment: datetime) -> tuple[Any, ...]:
    """The archive's report row of a resident's test at 20 Mbit/s (the value the person chose)."""
    values = {"agent_id": "resident", "started_ms": int(moment.timestamp() * 1000), "province_code": "38",
              "commune_code": commune, "isp": "VNPT", "access": "fixed", "failed": 0, "download_mbps": 20.0,
              "upload_mbps": 20.0, "latency_ms": 10.0, "jitter_ms": 1.0}  # fmt: skip
    return tuple(values.get(column) for column in REPORT_COLUMNS)


def _published(archive: Archive, rows: list[tuple[Any, ...]], rules: Thresholds, commune: str) -> bool:
    first, last = rows[0][1], rows[-1][1]
    since, until = (datetime.fromtimestamp(ms / 1000, UTC) for ms in (first, last + 86_400_000))
    spread = archive.senders.spread(since, until).get((commune, "fixed"))
    if spread is None:
        return False
    groups = resident_figures(rows, rules, {(commune, "fixed"): spread}).groups.get("commune", [])
    group = next((g for g in groups if g.key == commune and g.access == "fixed"), None)
    return residents_publishable(group, spread, rules.report)


def report(runs: list[tuple[int, Attempt, Attempt]], rules: Thresholds, per_hour: int, per_day: int,
           command: str, seconds: float) -> list[str]:  # fmt: skip
    r = rules.report
    lines = [run_line(command, seconds), "",
             f"One person, N addresses, one line; the door gives {per_hour} tickets and results an hour per address;"
             f" {AT_ONCE} tests at once, {TEST_S:g} s each. Before: {r.min_samples} tests from"
             f" {r.min_resident_addresses} addresses, no cap. After: that, and at most {per_day} tests of a commune"
             f" counted a day per sender, on {r.min_resident_days} days, from {r.min_resident_sender_days}"
             " (day, sender) pairs.", "",
             "| addresses | before: time to publish | tests run | after: time to publish | tests run |",
             "|---|---|---|---|---|"]  # fmt: skip
    for addresses, before, after in runs:
        lines.append(f"| {addresses:,} | {_span(before.hours)} | {before.made:,} | {_span(after.hours)} |"
                     f" {after.made:,} |")  # fmt: skip
    return lines


def _span(hours: int | None) -> str:
    if hours is None:
        return "never within a quarter"
    return f"{hours} h" if hours < 48 else f"{hours / 24:.1f} days"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, nargs="+", default=[1, 3, 16, 60, 1000])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    began = time.monotonic()
    shipped, door = load_thresholds(), ResidentsSection()
    before_rules = shipped.model_copy(update={"report": shipped.report.model_copy(
        update={"min_resident_days": 1, "min_resident_sender_days": 1})})  # fmt: skip
    runs = []
    with tempfile.TemporaryDirectory(prefix="dokiem-sybil-") as tmp:
        for addresses in args.addresses:
            before = attack(addresses, before_rules, door.per_address_per_hour, 10**9, Path(tmp))
            after = attack(addresses, shipped, door.per_address_per_hour, door.tests_per_sender_day, Path(tmp))
            runs.append((addresses, before, after))
            print(f"{addresses} addresses: before {before}, after {after}", file=sys.stderr)
    command = "bench/residents_sybil.py" + (f" --addresses {' '.join(map(str, args.addresses))}"
                                            if args.addresses != [1, 3, 16, 60, 1000] else "")  # fmt: skip
    lines = report(runs, shipped, door.per_address_per_hour, door.tests_per_sender_day,
                   f".venv/bin/python {command}", time.monotonic() - began)  # fmt: skip
    show_and_record(lines, args.out, "residents-sybil", not args.no_write)


if __name__ == "__main__":
    main()

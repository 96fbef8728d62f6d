"""What keeping acknowledged results costs an agent's outbox (issue 32): the acknowledgements of 20,000 queued
results (an outage drained: the most an outbox holds) with acknowledged results kept (14 days, at most 10,000,
as deployed) and without, alternated in one run; SQLite with synchronous=FULL, as on a Pi.

    .venv/bin/python bench/outbox_acks.py              # writes docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bench.docs import run_line, show_and_record  # noqa: E402
from dokiem.agent.outbox import Outbox  # noqa: E402
from testkit.agentkit import make_result  # noqa: E402


def acks_per_second(count: int, keep: bool) -> float:
    results = [make_result(n) for n in range(count)]
    with tempfile.TemporaryDirectory(prefix="dokiem-acks-") as folder:
        box = Outbox(Path(folder) / "outbox.db", **({} if keep else {"keep_sent_s": 0}))
        for result in results:
            box.put(result)
        began = time.perf_counter()
        for result in results:
            box.remove(str(result.result_id))
        seconds = time.perf_counter() - began
        box.close()
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    began = time.monotonic()
    rows = []
    for _ in range(args.rounds):
        off, on = acks_per_second(args.count, False), acks_per_second(args.count, True)
        rows.append((off, on))
    lines = [run_line(".venv/bin/python bench/outbox_acks.py", time.monotonic() - began), "",
             f"{args.count:,} acknowledgements a round; acknowledged results kept 14 days, at most 10,000, or not.", "",
             "| round | not kept (acks/s) | kept (acks/s) | ratio |", "|---|---|---|---|"]  # fmt: skip
    lines += [f"| {n} | {off:,.0f} | {on:,.0f} | {on / off:.2f} |" for n, (off, on) in enumerate(rows, start=1)]
    show_and_record(lines, args.out, "outbox-acks", not args.no_write)


if __name__ == "__main__":
    main()

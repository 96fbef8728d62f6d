"""The fuzz run behind docs/security.md: tests/test_fuzz.py with many more inputs per door.

    .venv/bin/python bench/fuzz.py --examples 20000      # writes the counts into docs/security.md

The same tests run in CI with 300 inputs each; here every door gets ``--examples`` (Hypothesis
may stop a door earlier when it has tried every distinct input it can make).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.docs import run_line, show_and_record  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    counts_file = Path(tempfile.mkdtemp(prefix="dokiem-fuzz-")) / "counts.json"
    env = {**os.environ, "DOKIEM_FUZZ_EXAMPLES": str(args.examples), "DOKIEM_FUZZ_REPORT": str(counts_file)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fuzz.py"],
                          cwd=REPO, env=env, capture_output=True, text=True)  # fmt: skip
    seconds = time.monotonic() - started
    print(done.stdout[-2000:], done.stderr[-2000:])
    counts = json.loads(counts_file.read_text()) if counts_file.exists() else {}
    outcome = "no failure: every input was refused or stored, no crash, no 5xx, no data without the token"
    if done.returncode != 0:
        outcome = "FAILED — see the pytest output of the run"
    lines = [
        run_line(f".venv/bin/python bench/fuzz.py --examples {args.examples}", seconds) + ".",
        "",
        "| door | inputs tried |",
        "|---|---|",
        *(f"| {door} | {n:,} |" for door, n in sorted(counts.items())),
        f"| **total** | **{sum(counts.values()):,}** |",
        "",
        f"Outcome: {outcome}.",
    ]
    show_and_record(lines, REPO / "docs" / "security.md", "fuzz", write=not args.no_docs)
    raise SystemExit(done.returncode)


if __name__ == "__main__":
    main()

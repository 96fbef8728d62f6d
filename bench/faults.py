"""The fault-injection run behind docs/security.md: the agent's fault tests, repeated with new seeds.

    .venv/bin/python bench/faults.py --rounds 3      # writes the counts into docs/security.md

Each round runs tests/test_agent_faults.py (three broker restarts under ``dokiem agent run``: mid-drain
of 3,000 results, idle, mid-measurement; a corrupt outbox; damaged pages; a full tmpfs) and the kill -9
test of tests/test_agent_mqtt.py (300 results, six SIGKILLs, broker restarts at random), each round
with another ``DOKIEM_TEST_SEED``. CI runs one round of each.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.docs import run_line, show_and_record  # noqa: E402

TESTS = ["tests/test_agent_faults.py", "tests/test_agent_mqtt.py::test_nothing_lost_through_kill_9_and_broker_restarts"]
# what one round injects, by test: (faults, results that must arrive)
PER_ROUND = {
    "broker restarts under `agent run` (mid-drain, idle, mid-measurement)": (3, 3000),
    "corrupt outbox files (whole file; damaged pages)": (2, 1),
    "full disk (2 MiB tmpfs filled to the last byte)": (1, 7),
    "SIGKILLs of the agent, with broker restarts at random": (6, 300),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    passed = 0
    for seed in range(1, args.rounds + 1):
        env = {**os.environ, "DOKIEM_TEST_SEED": str(seed)}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
                              cwd=REPO, env=env, capture_output=True, text=True)  # fmt: skip
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
        print(f"round {seed}: {summary}")
        for line in done.stdout.splitlines():
            if line.startswith(("FAILED", "ERROR")):
                print("   ", line)
        if done.returncode == 0 and re.search(r"\d+ passed", summary) and "failed" not in summary:
            passed += 1
    seconds = time.monotonic() - started
    outcome = "no result lost, the agent never exited, its heartbeat named each fault."
    if passed != args.rounds:
        outcome = "FAILED — see the rounds above."
    lines = [
        run_line(f".venv/bin/python bench/faults.py --rounds {args.rounds}", seconds)
        + f"; rounds passed: {passed} of {args.rounds}.",
        "",
        "| fault | injected | results that had to arrive |",
        "|---|---|---|",
        *(f"| {what} | {n * args.rounds:,} | {r * args.rounds:,} |" for what, (n, r) in PER_ROUND.items()),
        "",
        f"Outcome: {outcome}",
    ]
    show_and_record(lines, REPO / "docs" / "security.md", "faults", write=not args.no_docs)
    raise SystemExit(0 if passed == args.rounds else 1)


if __name__ == "__main__":
    main()

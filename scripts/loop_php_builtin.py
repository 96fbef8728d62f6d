"""Run ``dokiem measure`` again and again against LibreSpeed under PHP's built-in server and count failures.

``php -S`` serves one connection at a time and closes each after its response: the hardest of the
three deployments for a client that stops streams mid-body. A run that leaves a half-closed socket
behind stalls the server for the next phase (``no_data`` on the upload). Prints each failure and the
count; takes about 7 s per run.

    .venv/bin/python scripts/loop_php_builtin.py --runs 40
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from testkit.webservers import php_builtin  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--source", type=Path, default=REPO, help="a dokiem checkout to run (default: this one)")
    args = parser.parse_args()
    failures = 0
    with php_builtin() as url:
        for n in range(1, args.runs + 1):
            command = [sys.executable, "-m", "dokiem", "--lang", "en", "measure", "--server", url,
                       "--ping-count", "0", "--max-seconds", "3", "--json"]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, cwd=args.source, timeout=120)
            error = json.loads(done.stdout).get("error")
            if error:
                failures += 1
                print(f"run {n}: {error['code']}: {error['message']}", flush=True)
    print(f"{failures} of {args.runs} runs failed against php -S ({url})")


if __name__ == "__main__":
    main()

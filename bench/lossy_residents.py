"""A resident's test on a lossy path, taken apart (issue 39): is its figure the server's true count, and how far
can a separate iperf3 run be from it?

Runs ``bench/residents_lab.py``'s visit (the page in Chromium through the router's line and delay line, iperf3
just before and just after) ``--visits`` times and, during each, reads the server namespace's connections with
``ss`` (iproute2) every 0.1 s. For each visit it prints:

- the stored download figure (the test server's count) beside the same window read from ``ss``: the bytes the
  client acknowledged or SACKed, summed over the page's download connections, over the last three quarters of
  their span (the server's warm-up rule): an independent reading of the sender's kernel;
- iperf3 before and after as the lab reads it (the median of the receiver's one-second readings) and as the
  mean of those same seconds.

Then the spread: stored against each reference, iperf3 after against before, and the median's shortfall
against the mean where the rate falls after slow start.

    sudo .venv/bin/python bench/lossy_residents.py --case "100/30@60ms:0.5%+50ms" --visits 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from itertools import pairwise
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
import testkit.pathlab as pathlab  # noqa: E402
from bench.lab import parse_case  # noqa: E402
from bench.residents_lab import accuracy  # noqa: E402
from dokiem.vouch import WARMUP_SHARE  # noqa: E402
from testkit.residentkit import LAB_TESTSERVER  # noqa: E402

SS_EVERY_S = 0.1
PAGE_PORT = str(urllib.parse.urlsplit(LAB_TESTSERVER).port)


class Watch:
    """The iperf3 runs' one-second readings, and ``ss`` in the server namespace while the page runs."""

    def __init__(self) -> None:
        self.seconds: list[list[float]] = []  # per iperf3 direction run, in order: down, up, down, up
        self.delivered: list[tuple[float, int]] = []  # (monotonic, bytes) of the page's download connections
        self._page = threading.Event()  # set while no iperf3 runs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def next_visit(self) -> None:
        self.seconds.clear()
        self.delivered.clear()

    def install(self) -> None:
        run_iperf3 = pathlab.PathLab.iperf3

        def iperf3(lab: pathlab.PathLab, *args: Any) -> tuple[float, float]:
            if self._thread is None:  # every visit's lab has the same namespaces
                self._thread = threading.Thread(target=self._read_ss, args=(lab.server,), daemon=True)
                self._thread.start()
            self._page.clear()
            try:
                rates = run_iperf3(lab, *args)
            finally:
                self._page.set()
            self.seconds += lab.iperf3_seconds[-2:]  # this run's download and upload
            return rates

        pathlab.PathLab.iperf3 = iperf3  # type: ignore[method-assign]

    def _read_ss(self, namespace: str) -> None:
        while not self._stop.is_set():
            self._page.wait(1)
            if self._page.is_set():
                out = subprocess.run(["ip", "netns", "exec", namespace, "ss", "-tinH", "state", "established"],
                                     capture_output=True, text=True).stdout  # fmt: skip
                self.delivered.append((time.monotonic(), _delivered(out)))
            time.sleep(SS_EVERY_S)

    def stop(self) -> None:
        self._stop.set()
        self._page.set()


def _delivered(ss_output: str) -> int:
    """What the server's connections on the page's port have delivered: acknowledged, and SACKed beyond a hole."""
    total, port = 0, None
    for line in ss_output.splitlines():
        if not line.startswith((" ", "\t")):
            fields = line.split()
            port = fields[2].rsplit(":", 1)[-1] if len(fields) >= 4 else None
        elif port == PAGE_PORT and (acked := re.search(r"bytes_acked:(\d+)", line)):
            sacked, mss = re.search(r"\bsacked:(\d+)", line), re.search(r"\bmss:(\d+)", line)
            total += int(acked[1]) + (int(sacked[1]) * int(mss[1]) if sacked and mss else 0)
    return total


def ss_download_mbps(delivered: list[tuple[float, int]], seconds: float) -> float:
    """The page's download over the last three quarters of its span, as ``ss`` read the sender's kernel."""
    moving = [(a, b) for a, b in pairwise(delivered) if b[1] - a[1] > 50_000]
    t0 = moving[0][0][0]
    t1 = max(b[0] for _, b in moving if b[0] <= t0 + seconds + 0.3)

    def at(x: float) -> float:
        for (ta, a), (tb, b) in pairwise(delivered):
            if ta <= x <= tb:
                return a + (b - a) * (x - ta) / (tb - ta)
        raise ValueError(x)

    warm = t0 + WARMUP_SHARE * (t1 - t0)
    return (at(t1) - at(warm)) * 8 / (t1 - warm) / 1e6


def spread(values: list[float]) -> str:
    return (f"mean {statistics.mean(values):.3f}, median {statistics.median(values):.3f}, "
            f"{min(values):.3f}–{max(values):.3f}, sd {statistics.stdev(values):.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", default="100/30@60ms:0.5%+50ms", help="bench/lab.py's form")
    parser.add_argument("--visits", type=int, default=8)
    args = parser.parse_args()
    if args.visits < 2:
        parser.error("--visits: at least 2, to tell a spread")
    shape = parse_case(args.case)
    rows: list[dict[str, Any]] = []
    watch = Watch()
    watch.install()
    for visit in range(args.visits):
        watch.next_visit()
        with tempfile.TemporaryDirectory() as folder:
            row = asyncio.run(accuracy(shape, Path(folder)))
        down_before, up_before, down_after, up_after = watch.seconds[-4:]
        kernel = ss_download_mbps(watch.delivered, row.seconds / 2)
        rows.append({"stored": row.stored, "ss_down": kernel, "iperf3": [down_before, up_before, down_after, up_after]})
        print(json.dumps(rows[-1]), flush=True)
        print(f"visit {visit + 1}: stored {row.stored[0]:.2f} / {row.stored[1]:.2f}, ss over the same window "
              f"{kernel:.2f} ({row.stored[0] / kernel:.3f})", flush=True)  # fmt: skip
    watch.stop()
    for name, k, (before, after) in (("download", 0, (0, 2)), ("upload", 1, (1, 3))):
        by = {"median": statistics.median, "mean": statistics.mean}
        for label, of in by.items():
            ratios = [r["stored"][k] / ((of(r["iperf3"][before]) + of(r["iperf3"][after])) / 2) for r in rows]
            print(f"{name}: stored / iperf3 ({label} of its seconds): {spread(ratios)}")
        itself = [statistics.median(r["iperf3"][after]) / statistics.median(r["iperf3"][before]) for r in rows]
        print(f"{name}: iperf3 after / before: {spread(itself)}")
        short = [
            statistics.mean(s) / statistics.median(s) for r in rows for s in (r["iperf3"][before], r["iperf3"][after])
        ]
        print(f"{name}: iperf3's mean / median of its seconds: {spread(short)}")
    print(f"download: stored / ss: {spread([r['stored'][0] / r['ss_down'] for r in rows])}")


if __name__ == "__main__":
    main()

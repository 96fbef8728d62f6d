"""What shipping every province costs (issue 34): the wheel's size with the 34 provinces' data beside the
same wheel without the data, and the time to load one province (what a server with ``collector.province``
does at start) beside loading all 34 (a national server), in the same run.

    python bench/regions.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from dokiem.regions import SHIPPED, Regions, province_folders

ROOT = Path(__file__).resolve().parent.parent


def wheel_size() -> tuple[int, int]:
    """(the wheel's bytes, the bytes of its regions data compressed in it)."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out,
                        str(ROOT)], check=True)  # fmt: skip
        (wheel,) = Path(out).glob("dokiem-*.whl")
        with zipfile.ZipFile(wheel) as opened:
            regions = sum(i.compress_size for i in opened.infolist() if "/regions/" in i.filename)
        return wheel.stat().st_size, regions


def timed(load: object, runs: int = 20) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        load()  # type: ignore[operator]
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1000


def main() -> None:
    size, regions = wheel_size()
    print(f"wheel: {size / 2**20:.2f} MiB, of which the regions data {regions / 2**20:.2f} MiB "
          f"(without it {(size - regions) / 2**20:.2f} MiB)")  # fmt: skip
    folders = province_folders()
    most = max(folders, key=lambda c: len(Regions.load(only=c).provinces[c].communes))
    print(f"load one province ({most}, most units): {timed(lambda: Regions.load(only=most)):.1f} ms (median of 20)")
    print(f"load all {len(folders)} provinces: {timed(lambda: Regions.load()):.1f} ms (median of 20)")
    boundaries = sum((SHIPPED / c / "communes-2025-07.geojson").stat().st_size for c in folders)
    print(f"boundaries on disk: {boundaries / 2**20:.1f} MiB for {len(folders)} provinces")


if __name__ == "__main__":
    main()

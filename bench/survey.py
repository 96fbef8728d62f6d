"""What a coverage survey costs (issue 30): the agent's side per sample through the real parts (ModemManager's
mock on a private bus: the GNSS fix and the modem's state over D-Bus each sample, the outbox on disk), the bytes
a survey sends an hour on the mobile line, and the report's side over a year of one car's samples for the province
(cells, classes, holes, commune centres) beside the bare scan of the same samples.

    .venv/bin/python bench/survey.py                   # writes docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

import h3  # noqa: E402

from bench.docs import run_line, show_and_record  # noqa: E402
from dokiem.agent.config import SurveySection  # noqa: E402
from dokiem.agent.outbox import Outbox  # noqa: E402
from dokiem.agent.probes.position import ModemLocation  # noqa: E402
from dokiem.agent.probes.radio import modem_state  # noqa: E402
from dokiem.agent.survey import Surveyor  # noqa: E402
from dokiem.collector.archive import Archive, sqlite_url  # noqa: E402
from dokiem.collector.archive.surveys import PlacedSample  # noqa: E402
from dokiem.contract import Radio, Technology  # noqa: E402
from dokiem.regions import Regions  # noqa: E402
from dokiem.reports.coverage import commune_centres, coverage_cells, holes  # noqa: E402
from dokiem.survey import Position, PositionSource, Registration, SurveyBatch, SurveySample  # noqa: E402
from dokiem.thresholds import load_thresholds  # noqa: E402
from testkit.modemmanager import VINAPHONE_5G, modemmanager, private_bus  # noqa: E402

RULES = load_thresholds().coverage
REGIONS = Regions.load()


CGROUP = Path("/sys/fs/cgroup/cpu/dokiem-bench-survey")
PI_BUDGET_PCT = 25  # a quarter of one core: what a Pi 4's agent may take beside everything else on it


def in_budget(pct: int, samples: int) -> tuple[float, float]:
    """(CPU seconds a sample, wall seconds a sample) of the agent's side in a child held to ``pct`` of a core
    (cgroup v1 ``cpu`` quota, as bench/lab.py holds a Pi's budget)."""
    CGROUP.mkdir(exist_ok=True)
    (CGROUP / "cpu.cfs_period_us").write_text("100000")
    (CGROUP / "cpu.cfs_quota_us").write_text(str(pct * 1000))

    def join() -> None:
        (CGROUP / "cgroup.procs").write_text(str(os.getpid()))

    done = subprocess.run([sys.executable, __file__, "--agent-only", str(samples)], capture_output=True, text=True,
                          check=True, preexec_fn=join)  # fmt: skip
    cpu, wall = (float(x) for x in done.stdout.split()[:2])
    return cpu, wall


def agent_side(samples: int) -> tuple[float, int, int, float]:
    """(CPU seconds a sample, outbox bytes a sample as sent, gzip'd bytes a sample, wall seconds a sample) with
    D-Bus as on a Pi; samples taken back to back (no sleep between), so the wall time says what one costs."""
    with tempfile.TemporaryDirectory(prefix="dokiem-survey-") as folder, private_bus(Path(folder)) as bus:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus
        with modemmanager(bus) as mm:
            path = mm.add_modem(VINAPHONE_5G)
            mm.add_gnss(path, "45202")
            commune = next(iter(REGIONS.provinces["38"].communes.values()))
            assert commune.lat is not None and commune.lon is not None
            clock = [datetime.now(UTC) - timedelta(hours=1)]
            outbox = Outbox(Path(folder) / "outbox.db")
            position = ModemLocation(clock=lambda: clock[0])

            async def survey() -> tuple[float, float]:
                assert await position.prepare() is None
                surveyor = Surveyor("th-bench", SurveySection(), RULES, outbox, position, modem=modem_state,
                                    clock=lambda: clock[0])  # fmt: skip
                began, wall = time.process_time(), time.perf_counter()
                for n in range(samples):
                    clock[0] += timedelta(seconds=5)
                    mm.move(path, commune.lat + n * 1e-5, commune.lon, clock[0].strftime("%H%M%S.00"))  # type: ignore[operator]
                    await surveyor.sample()
                    if (n + 1) % 12 == 0:
                        surveyor.flush()
                surveyor.flush()
                return time.process_time() - began, time.perf_counter() - wall

            cpu, wall = asyncio.run(survey())
            payloads = [item.payload.encode() for item in outbox.oldest(10_000)]
        del os.environ["DBUS_SYSTEM_BUS_ADDRESS"]
    sent = sum(len(p) for p in payloads)
    return cpu / samples, sent // samples, sum(len(gzip.compress(p)) for p in payloads) // samples, wall / samples


def a_year(archive: Archive, days: int, per_day: int) -> int:
    """One car's year: ``days`` days of ``per_day`` samples each along the province's communes, a batch a minute."""
    rng = random.Random(7)
    communes = [c for c in REGIONS.provinces["38"].communes.values() if c.lat is not None and c.lon is not None]
    start = datetime.now(UTC) - timedelta(days=days + 1)
    radio = {True: Radio(technology=Technology.G4, operator_code="452-04", rsrp_dbm=-95.0), False: None}
    written = 0
    for day in range(days):
        route = rng.sample(communes, 6)
        at = start + timedelta(days=day, hours=8)
        for first in range(0, per_day, 12):
            samples, placed = [], []
            for n in range(first, min(first + 12, per_day)):
                commune = route[n * len(route) // per_day]
                lat, lon = commune.lat + rng.uniform(-0.01, 0.01), commune.lon + rng.uniform(-0.01, 0.01)  # type: ignore[operator]
                moment = at + timedelta(seconds=5 * n)
                service = rng.random() > 0.1
                sample = SurveySample(at=moment, position=Position(lat=lat, lon=lon, accuracy_m=9.0, fix_at=moment,
                                                                   source=PositionSource.MODEM),
                                      registration=Registration.HOME if service else Registration.SEARCHING,
                                      sim_operator_code="452-04", radio=radio[service])  # fmt: skip
                samples.append(sample)
                placed.append(PlacedSample(sample, commune.code, h3.latlng_to_cell(lat, lon, RULES.cell_resolution)))
            batch = SurveyBatch(survey_id=uuid.uuid4(), agent_id="th-bench", samples=samples)
            archive.surveys.add(batch, placed, Counter())
            written += len(samples)
    return written


def report_side(days: int, per_day: int) -> tuple[int, float, float, int, int]:
    """(samples, seconds to scan them, seconds to class them into cells, holes and centres, cells, holes)."""
    with tempfile.TemporaryDirectory(prefix="dokiem-survey-year-") as folder:
        archive = Archive.from_url(sqlite_url(Path(folder) / "archive.db"))
        written = a_year(archive, days, per_day)
        since, until = datetime.now(UTC) - timedelta(days=400), datetime.now(UTC)
        began = time.perf_counter()
        scanned = sum(1 for _ in archive.surveys.samples(since, until))
        scan = time.perf_counter() - began
        began = time.perf_counter()
        cells = coverage_cells(archive.surveys.samples(since, until), RULES)
        found, _ = holes(cells, RULES), commune_centres(cells, REGIONS, RULES)
        classed = time.perf_counter() - began
        archive.close()
    assert scanned == written
    return written, scan, classed, len(cells), len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=600, help="samples through ModemManager's mock")
    parser.add_argument("--days", type=int, default=250, help="survey days in the year")
    parser.add_argument("--per-day", type=int, default=4320, help="samples a survey day (6 h at one per 5 s)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    began = time.monotonic()
    cpu, sent, zipped, wall = agent_side(args.samples)
    pi_cpu, pi_wall = in_budget(PI_BUDGET_PCT, args.samples)
    an_hour = 3600 // SurveySection().sample_seconds
    written, scan, classed, cells, found = report_side(args.days, args.per_day)
    lines = [run_line(".venv/bin/python bench/survey.py", time.monotonic() - began), "",
             f"The agent, {args.samples:,} samples through ModemManager's mock (D-Bus: the fix and the modem's state"
             " each sample) into the outbox, a batch a minute:", "",
             "| per sample | CPU | wall | bytes queued (JSON) | gzip'd | an hour at one per 5 s |",
             "|---|---|---|---|---|---|",
             f"| unconstrained | {cpu * 1000:.1f} ms | {wall * 1000:.1f} ms | {sent:,} | {zipped:,} |"
             f" {cpu * an_hour:.1f} s CPU ({100 * cpu / SurveySection().sample_seconds:.2f}% of one core),"
             f" {sent * an_hour / 2**20:.2f} MiB |",
             f"| held to {PI_BUDGET_PCT}% of a core | {pi_cpu * 1000:.1f} ms | {pi_wall * 1000:.1f} ms "
             f"({pi_wall / wall:.2f}×) | | | the 5 s period kept: a sample takes {pi_wall / 5 * 100:.2f}% of it |",
             "", f"The report, a year of one car ({args.days} days × {args.per_day:,} samples = {written:,}), SQLite:",
             "", "| step | seconds | vs the bare scan |", "|---|---|---|",
             f"| bare scan of the year's samples | {scan:.1f} | 1.00 |",
             f"| cells, classes, holes and commune centres | {classed:.1f} | {classed / scan:.2f} |", "",
             f"{cells:,} (cell, operator) pairs; {found:,} holes by the shipped rule (10% of the samples without"
             " service, at random: few cells fall under half)."]  # fmt: skip
    show_and_record(lines, args.out, "survey", not args.no_write)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--agent-only":
        cpu, _, _, wall = agent_side(int(sys.argv[2]))
        print(cpu, wall)
    else:
        main()

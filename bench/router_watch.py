"""What watching the office router costs an agent (issue 23): CPU, bytes on the LAN and time before a test.

Builds the office of tests/test_router_watch.py (testkit/pathlab.py with a staff computer;
testkit/officelab.py: Debian's miniupnpd and snmpd in the router namespace) and runs, in the agent's
namespace, what the agent runs before a heavy test: finding the router (UPnP's SSDP search, or SNMP's
interface walk), then the watch (counters read every second for ``watch_seconds``), then the wait for the
counters' next refresh that the run starts on. Beside it, in the same run, the speed test itself on the
same line: each cost is given as a share of the test's (these machines are shared and noisy). The CPU is
the agent process's own (user + system), the bytes those of the agent's interface (both directions).

    sudo .venv-test/bin/python bench/router_watch.py [--repeats 3] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.docs import run_line, show_and_record  # noqa: E402
from testkit.officelab import TESTSERVER, router_section, serve_office  # noqa: E402
from testkit.pathlab import PathLab, PathShape, path_lab  # noqa: E402

LINE = PathShape(down_mbps=50, up_mbps=20, one_way_ms=5, buffer_ms=50)

# Runs in the agent's namespace: one source's discovery, watch and settle, then a speed test, each with
# the process's CPU seconds, the interface's bytes and the wall time it took.
PROBE = r"""
import asyncio, json, sys, time
from dokiem.agent.measure import MeasureRequest, measure
from dokiem.agent.router import RouterSection, Sampler, find_router, watch
from dokiem.agent.servers import configured_server
from dokiem.fleet import ServerEntry

interface, server, section = sys.argv[1], sys.argv[2], RouterSection.model_validate(json.loads(sys.argv[3]))

def moved():
    base = f"/sys/class/net/{interface}/statistics/"
    return sum(int(open(base + name).read()) for name in ("rx_bytes", "tx_bytes"))

async def costed(step):
    cpu, wire, wall = time.process_time(), moved(), time.monotonic()
    value = await step()
    return value, {"cpu_s": time.process_time() - cpu, "bytes": moved() - wire, "s": time.monotonic() - wall}

async def main():
    busy = (section.busy_mbps, section.busy_mbps)
    counters, found = await costed(lambda: find_router(section))
    traffic, watched = await costed(lambda: watch(counters, section.watch_seconds, section.poll_seconds, busy))
    sampler = Sampler(counters, section.poll_seconds)
    await sampler.start()  # a quiet line: the run starts at once
    request = MeasureRequest(server=configured_server(ServerEntry(url=server)), ping_count=0)
    result, run = await costed(lambda: measure(request))
    _, settled = await costed(lambda: sampler.stop(section.settle_seconds))
    print(json.dumps({"find": found, "watch": watched, "settle": settled, "run": run,
                      "error": result.error.code if result.error else None}))

asyncio.run(main())
"""


def once(lab: PathLab, source: str) -> dict[str, dict[str, float]]:
    section = json.dumps(router_section(lab, source))
    done = subprocess.run(lab.exec(lab.client, sys.executable, "-c", PROBE, lab.client_interface, TESTSERVER, section),
                          capture_output=True, text=True, timeout=300, cwd=REPO)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the probe failed for {source}: {done.stderr[-2000:]}")
    costs: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return costs


def row(source: str, runs: list[dict[str, dict[str, float]]]) -> str:
    def med(step: str, key: str) -> float:
        return statistics.median(r[step][key] for r in runs)

    before = {key: med("find", key) + med("watch", key) + med("settle", key) for key in ("cpu_s", "bytes", "s")}
    before["bytes"] -= med("settle", "bytes")  # the test's own last bytes cross while the counters settle
    run = {key: med("run", key) for key in ("cpu_s", "bytes", "s")}
    return (f"| {source} | {med('find', 's'):.2f} | {med('watch', 's'):.2f} | {med('settle', 's'):.2f} | "
            f"{before['s']:.1f} s = {before['s'] / run['s']:.2f} of the test's {run['s']:.1f} s | "
            f"{before['cpu_s'] * 1000:.0f} ms = {before['cpu_s'] / run['cpu_s']:.3f} of the test's "
            f"{run['cpu_s'] * 1000:.0f} ms | {before['bytes'] / 1024:.1f} KiB = {before['bytes'] / run['bytes']:.5f} "
            f"of the test's {run['bytes'] / 1e6:.0f} MB |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sources", default="upnp,snmp")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/router_watch.py needs root (network namespaces); run it with sudo")
    began = time.monotonic()
    rows = []
    with path_lab("dkq", LINE, staff=True) as lab, tempfile.TemporaryDirectory() as folder:
        serve_office(lab, Path(folder))
        for source in args.sources.split(","):
            runs = []
            for n in range(args.repeats):
                print(f"{source}: run {n + 1} of {args.repeats} (find the router, watch, settle, then a test)…")
                runs.append(once(lab, source))
            rows.append(row(source, runs))
    command = "sudo .venv-test/bin/python bench/router_watch.py " + " ".join(sys.argv[1:])
    lines = [
        run_line(command.strip(), time.monotonic() - began),
        "",
        f"A quiet {LINE.label()} office line; medians of {args.repeats} runs; each cost beside the speed test's in"
        " the same run. Find: SSDP search (UPnP) or the IF-MIB walk (SNMP), once per agent start (kept after);"
        " watch: the counters read every poll_seconds (0.25 s) for watch_seconds (8); settle: after the test,"
        " until the router refreshes its counters (a busy line also waits for one before the test). Time, CPU and"
        " bytes are"
        " find + watch + settle.",
        "",
        "| source | find (s) | watch (s) | settle (s) | time added to a test | agent CPU | bytes on the LAN |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    show_and_record(lines, args.out, "router-watch", not args.no_write)


if __name__ == "__main__":
    main()

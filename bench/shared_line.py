"""Own and others' traffic on a shared office line (issue 35): do they add up to no more than the line?

The office of tests/test_router_watch.py (testkit/pathlab.py with a staff computer; testkit/officelab.py:
Debian's miniupnpd and snmpd in the router namespace) on a 90/30 Mbit/s line. A staff computer downloads
with one TCP stream (iperf3 -R) the whole time, yielding to the test and taking the line back after it;
``dokiem agent once`` measures (no deferral) and its Result gives the download and others' traffic. Beside
today's agent, in the same run, the agent as it was at ``--before`` (a git worktree): the sum of the two
figures over the line's rate is the ratio to look at (at most 1.05: a figure that adds up).

    sudo .venv-test/bin/python bench/shared_line.py [--repeats 3] [--before REV]
"""

from __future__ import annotations

import argparse
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
from dokiem.agent.outbox import Outbox  # noqa: E402
from dokiem.contract import Flag, Result  # noqa: E402
from testkit.agentkit import write_config  # noqa: E402
from testkit.officelab import TESTSERVER, router_section, serve_office  # noqa: E402
from testkit.pathlab import SERVER_IP, STAFF_IP, PathLab, PathShape, path_lab  # noqa: E402

LINE = PathShape(down_mbps=90, up_mbps=30, one_way_ms=5, buffer_ms=50)


def agent_once(lab: PathLab, folder: Path, source: str, code: Path) -> Result:
    config = write_config(folder, "mqtt://127.0.0.1:1", measure={"servers": [TESTSERVER], "ping_count": 0},
                          site={"plan_down_mbps": LINE.down_mbps, "plan_up_mbps": LINE.up_mbps},
                          router={"max_defers": 0, **router_section(lab, source)})  # fmt: skip
    once = lab.exec(lab.client, sys.executable, "-m", "dokiem", "agent", "once", "--send-timeout", "1", "--config",
                    str(config))  # fmt: skip
    subprocess.run(once, capture_output=True, text=True, timeout=300, cwd=code)
    outbox = Outbox(folder / "data" / "outbox.db")
    (queued,) = outbox.oldest()
    outbox.close()
    return Result.from_json(queued.payload)


def shared(lab: PathLab, source: str, code: Path, folder: Path) -> Result:
    assert lab.staff is not None
    staff = lab.spawn(lab.staff, "iperf3", "-c", SERVER_IP, "-B", STAFF_IP, "-R", "-t", "300",
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        time.sleep(3)  # the staff's download has the line
        return agent_once(lab, folder, source, code)
    finally:
        staff.terminate()
        staff.wait(10)


def row(label: str, source: str, results: list[Result]) -> str:
    ok = [r for r in results if r.error is None]
    down = statistics.median(r.download_mbps or 0 for r in ok)
    others = [r.cross_traffic_down_mbps for r in ok if r.cross_traffic_down_mbps is not None]
    sums = [(r.download_mbps or 0) + (r.cross_traffic_down_mbps or 0) for r in ok if r.cross_traffic_down_mbps]
    unusable = sum(Flag.ROUTER_UNUSABLE.value in r.flags for r in ok)
    worst = max(sums) / LINE.down_mbps if sums else float("nan")
    median_others = statistics.median(others) if others else float("nan")
    return f"| {label} | {source} | {len(ok)} | {down:.1f} | {median_others:.1f} | {worst:.2f} | {unusable} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sources", default="upnp,snmp")
    parser.add_argument("--before", default="1fa69bf", help="the agent before others' traffic was windowed")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/shared_line.py needs root (network namespaces); run it with sudo")
    began = time.monotonic()
    rows = []
    with path_lab("dks", LINE, staff=True) as lab, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tree = folder / "before"
        worktree = ["git", "-C", str(REPO), "worktree"]
        subprocess.run([*worktree, "add", "--detach", "-q", str(tree), args.before], check=True)
        try:
            serve_office(lab, folder)
            for source in args.sources.split(","):
                for label, code in (("today", REPO), (f"at {args.before}", tree)):
                    results = []
                    for n in range(args.repeats):
                        print(f"{source}, {label}: run {n + 1} of {args.repeats}…", file=sys.stderr, flush=True)
                        results.append(shared(lab, source, code, folder / f"{source}-{label}-{n}"))
                    rows.append(row(label, source, results))
        finally:
            subprocess.run([*worktree, "remove", "--force", str(tree)], check=False)
    command = "sudo .venv-test/bin/python bench/shared_line.py " + " ".join(sys.argv[1:])
    lines = [
        run_line(command.strip(), time.monotonic() - began),
        "",
        f"A {LINE.label()} office line; a staff computer downloading with one TCP stream throughout; the agent"
        f" measures at once. Medians of {args.repeats} runs; the worst (download + others' traffic) over the"
        " line's 90 Mbit/s, which a figure that adds up keeps at 1.05 at most.",
        "",
        "| agent | source | runs | download (Mbit/s) | others' traffic ↓ (Mbit/s) | worst (own + others) / line |"
        " router unusable |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    show_and_record(lines, args.out, "shared-line", not args.no_write)


if __name__ == "__main__":
    main()

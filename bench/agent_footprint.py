"""The agent's footprint between runs: resident memory and CPU while idle (issue 3's Pi budget), and
what it writes to the disk (issue 15: an SD card wears by its writes): ``write_bytes`` of
``/proc/PID/io`` while idle (heartbeats, state) and across one speed test (outbox, state, usage),
the agent's data folder on a real disk (``/var/tmp``), not a tmpfs.

Starts a real Mosquitto and ``dokiem testserver`` on loopback and ``dokiem agent run`` with a
4-minute schedule. It samples RSS and CPU while the agent is connected and idle before its first
run, then again between runs after a full speed test (the window ends before the next slot,
read from the agent's state file). Beside it, the RSS of a bare Python process idling in
asyncio: the floor no Python agent can go below on this machine.

    .venv/bin/python bench/agent_footprint.py --seconds 60
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.docs import write_section
from testkit.brokers import port_open
from testkit.processes import free_port, wait_until_ready

REPO = Path(__file__).resolve().parent.parent
BASELINE = "import asyncio; asyncio.run(asyncio.sleep(10**6))"


def sample(proc: psutil.Process, seconds: float) -> tuple[float, float, int]:
    """(RSS in MiB at the end, CPU seconds used during the window, bytes written to disk in it)."""
    before, wrote = proc.cpu_times(), written(proc)
    time.sleep(seconds)
    after = proc.cpu_times()
    cpu = (after.user - before.user) + (after.system - before.system)
    return proc.memory_info().rss / 2**20, cpu, written(proc) - wrote


def written(proc: psutil.Process) -> int:
    """Bytes this process caused to be written to storage (/proc/PID/io write_bytes)."""
    return int(proc.io_counters().write_bytes)


def next_run(state: Path) -> float:
    """When the agent will next measure, from its state file (waits until the file says)."""
    for _ in range(100):
        try:
            value = json.loads(state.read_text()).get("next_run_at")
            if value:
                return float(value)
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise SystemExit("the agent never wrote its next run time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:  # a real disk: a tmpfs counts no write_bytes
        folder = Path(tmp)
        port = free_port()
        conf = f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n"
        (folder / "m.conf").write_text(conf)
        broker = subprocess.Popen([mosquitto, "-c", str(folder / "m.conf")], stderr=subprocess.DEVNULL)
        web = free_port()
        server = subprocess.Popen([sys.executable, "-m", "dokiem", "testserver", "--listen", f"127.0.0.1:{web}"],
                                  stderr=subprocess.DEVNULL, cwd=REPO)  # fmt: skip
        (folder / "agent.toml").write_text(
            f'[agent]\nid = "bench-1"\ndata_dir = "{folder / "data"}"\n[broker]\nurl = "mqtt://127.0.0.1:{port}"\n'
            "[schedule]\ninterval_minutes = 4\nlight_interval_minutes = 0\nclock_wait_minutes = 0\n"
            f'[measure]\nservers = ["http://127.0.0.1:{web}/"]\nmax_seconds = 5\n'
        )
        wait_until_ready(lambda: port_open(port), broker, "mosquitto", 10)
        agent_cmd = [sys.executable, "-m", "dokiem", "agent", "run", "--config", str(folder / "agent.toml")]
        agent = subprocess.Popen(agent_cmd, stderr=subprocess.DEVNULL, cwd=REPO)
        baseline = subprocess.Popen([sys.executable, "-c", BASELINE])
        try:
            sub = subprocess.run(["mosquitto_sub", "-p", str(port), "-t", "dokiem/v1/bench-1/status", "-C", "1",
                                  "-W", "30"], capture_output=True, text=True)  # fmt: skip
            if '"online"' not in sub.stdout:
                sys.exit("the agent did not come online")
            state = folder / "data" / "state.json"
            first_window = max(1.0, min(args.seconds, next_run(state) - time.time() - 2))
            proc = psutil.Process(agent.pid)
            idle_rss, idle_cpu, idle_written = sample(proc, first_window)
            before_run = written(proc)
            subprocess.run(["mosquitto_sub", "-p", str(port), "-t", "dokiem/v1/bench-1/result", "-C", "1",
                            "-W", "300"], capture_output=True, check=True)  # fmt: skip
            time.sleep(3)  # let the run's threads and buffers go
            run_written = written(proc) - before_run
            after_window = max(1.0, min(args.seconds, next_run(state) - time.time() - 2))
            after_rss, after_cpu, after_written = sample(proc, after_window)
            base_rss = psutil.Process(baseline.pid).memory_info().rss / 2**20
        finally:
            for proc in (agent, baseline, broker, server):
                proc.terminate()
                proc.wait(10)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = (
        f"Run {started} on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}), command: "
        f"`.venv/bin/python bench/agent_footprint.py --seconds {args.seconds:g}`\n\n"
        "| process | RSS (MiB) | CPU over the idle window | ratio of RSS to bare asyncio Python |\n|---|---|---|---|\n"
        f"| `dokiem agent run`, connected, before its first run | {idle_rss:.1f} | {idle_cpu:.2f} s in "
        f"{first_window:.0f} s ({100 * idle_cpu / first_window:.2f}% of a core) | {idle_rss / base_rss:.2f} |\n"
        f"| `dokiem agent run`, between runs, after a speed test | {after_rss:.1f} | {after_cpu:.2f} s in "
        f"{after_window:.0f} s ({100 * after_cpu / after_window:.2f}% of a core) | {after_rss / base_rss:.2f} |\n"
        f"| bare `asyncio.sleep` Python | {base_rss:.1f} | — | 1.00 |\n"
        "\n| written to disk (`/proc/PID/io` write_bytes) | bytes | per hour at this pace |\n|---|---|---|\n"
        f"| idle, before the first run ({first_window:.0f} s) | {idle_written:,} | "
        f"{idle_written * 3600 / first_window / 1024:,.0f} KiB |\n"
        f"| one speed test (the outbox row, state, data usage) | {run_written:,} | "
        f"{run_written / 1024:,.0f} KiB at hourly tests |\n"
        f"| idle after it ({after_window:.0f} s) | {after_written:,} | "
        f"{after_written * 3600 / after_window / 1024:,.0f} KiB |\n"
    )
    print(text)
    if not args.no_write:
        write_section(args.out, "footprint", text)


if __name__ == "__main__":
    main()

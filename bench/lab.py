"""Accuracy and CPU on shaped links: dokiem vs iperf3 (the reference) vs speedtest-cli's engine.

Builds a two-host lab on one machine (needs root): network namespaces ``dkb-srv`` and
``dkb-cli`` joined by a veth pair, each direction shaped with ``tc ... tbf``. The server side
runs ``iperf3 -s`` and ``dokiem testserver`` (which also serves Speedtest Mini's endpoints).
Each client runs unconstrained and again held to a CPU budget with the cgroup v1 ``cpu``
controller (the process joins the group before ``ip netns exec``, which hides /sys/fs/cgroup).

    sudo .venv/bin/python bench/lab.py                      # all cases, both budgets
    sudo .venv/bin/python bench/lab.py --cases 1000/1000 --budgets 20

Writes the table into docs/benchmarks.md between the ``lab`` markers (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.docs import write_section  # noqa: E402

SRV, CLI = "dkb-srv", "dkb-cli"
SRV_IF, CLI_IF = "dkb-s", "dkb-c"
# RFC 2544's benchmarking range: addresses of the lab's own hosts, inside its namespaces only.
SRV_IP, CLI_IP = "198.18.0.1", "198.18.0.2"
CGROUP = Path("/sys/fs/cgroup/cpu/dokiem-bench")
TESTSERVER_PORT = 8080


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def netns(ns: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *args]


class Lab:
    def __init__(self) -> None:
        self.servers: list[subprocess.Popen[bytes]] = []

    def up(self) -> None:
        self.down()
        sh("ip", "netns", "add", SRV)
        sh("ip", "netns", "add", CLI)
        sh("ip", "link", "add", SRV_IF, "netns", SRV, "type", "veth", "peer", "name", CLI_IF, "netns", CLI)
        for ns, dev, ip in ((SRV, SRV_IF, SRV_IP), (CLI, CLI_IF, CLI_IP)):
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        self.servers.append(subprocess.Popen(netns(SRV, "iperf3", "-s", "-B", SRV_IP), stdout=subprocess.DEVNULL))
        testserver = [sys.executable, "-m", "dokiem", "testserver", "--listen", f"{SRV_IP}:{TESTSERVER_PORT}"]
        self.servers.append(
            subprocess.Popen(netns(SRV, *testserver, "--max-tests", "100"), stdout=subprocess.DEVNULL, cwd=REPO)
        )
        self._wait_for_testserver()

    def _wait_for_testserver(self) -> None:
        probe = "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)"
        for _ in range(100):
            url = f"http://{SRV_IP}:{TESTSERVER_PORT}/healthz"
            if subprocess.run(netns(CLI, sys.executable, "-c", probe, url), capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("the lab's test server did not start")

    def shape(self, down_mbps: int, up_mbps: int) -> None:
        for ns, dev, rate in ((SRV, SRV_IF, down_mbps), (CLI, CLI_IF, up_mbps)):
            sh("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root", check=False)
            burst = max(16_000, rate * 1_000_000 // 8 // 250)  # a 4 ms bucket: above one tick at HZ=250
            sh("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf",
               "rate", f"{rate}mbit", "burst", str(burst), "latency", "20ms")  # fmt: skip

    def down(self) -> None:
        for proc in self.servers:
            proc.terminate()
            proc.wait(10)
        self.servers.clear()
        for ns in (SRV, CLI):
            sh("ip", "netns", "del", ns, check=False)


def set_budget(pct: int | None) -> Callable[[], None] | None:
    """A preexec function putting the child into a CPU-quota cgroup (None = unconstrained)."""
    if pct is None:
        return None
    CGROUP.mkdir(exist_ok=True)
    (CGROUP / "cpu.cfs_period_us").write_text("100000")
    (CGROUP / "cpu.cfs_quota_us").write_text(str(pct * 1000))

    def join() -> None:
        (CGROUP / "cgroup.procs").write_text(str(os.getpid()))

    return join


def run_client(cmd: list[str], budget: int | None) -> tuple[str, float]:
    """Run ``cmd`` in the client namespace; returns stdout and the CPU seconds it used."""
    proc = subprocess.Popen(
        netns(CLI, *cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=set_budget(budget), cwd=REPO
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out, err = proc.communicate(timeout=180)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-500:]}")
    return out.decode(), cpu


@dataclass
class Row:
    down_rate: int
    up_rate: int
    budget: int | None
    tool: str
    download: float
    upload: float
    cpu_s: float


def iperf3(budget: int | None) -> tuple[float, float, float]:
    figures, cpu_total = [], 0.0
    for reverse in (["-R"], []):
        out, cpu = run_client(["iperf3", "-c", SRV_IP, "-P", "4", "-O", "2", "-t", "10", "-J", *reverse], budget)
        figures.append(json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6)
        cpu_total += cpu
    return figures[0], figures[1], cpu_total


def speedtest_cli(budget: int | None) -> tuple[float, float, float]:
    url = f"http://{SRV_IP}:{TESTSERVER_PORT}/speedtest/upload.php"
    out, cpu = run_client([sys.executable, str(REPO / "bench" / "speedtest_engine.py"), url], budget)
    data = json.loads(out)
    return data["download_mbps"], data["upload_mbps"], cpu


def dokiem(budget: int | None) -> tuple[float, float, float]:
    url = f"http://{SRV_IP}:{TESTSERVER_PORT}/"
    out, cpu = run_client([sys.executable, "-m", "dokiem", "measure", "--server", url, "--json", "-q"], budget)
    data = json.loads(out)
    if data.get("error"):
        raise RuntimeError(f"dokiem measure failed: {data['error']}")
    return data["download_mbps"], data["upload_mbps"], cpu


TOOLS: dict[str, Callable[[int | None], tuple[float, float, float]]] = {
    "iperf3": iperf3,
    "speedtest-cli": speedtest_cli,
    "dokiem": dokiem,
}


def run_cases(cases: list[tuple[int, int]], budgets: list[int | None], tools: list[str]) -> list[Row]:
    lab = Lab()
    rows: list[Row] = []
    try:
        lab.up()
        for down_rate, up_rate in cases:
            lab.shape(down_rate, up_rate)
            for budget in budgets:
                for tool in tools:
                    d, u, cpu = TOOLS[tool](budget)
                    row = Row(down_rate, up_rate, budget, tool, d, u, cpu)
                    rows.append(row)
                    label = "none" if budget is None else f"{budget}%"
                    print(
                        f"{down_rate}/{up_rate} budget={label} {tool}: {d:.1f}/{u:.1f} Mbit/s cpu={cpu:.2f}s",
                        flush=True,
                    )
    finally:
        lab.down()
        if CGROUP.exists():
            CGROUP.rmdir()
    return rows


def same_case(rows: list[Row], row: Row, tool: str) -> Row | None:
    """The row of ``tool`` on the same link and budget as ``row``."""
    key = (row.down_rate, row.up_rate, row.budget)
    return next((r for r in rows if (r.down_rate, r.up_rate, r.budget) == key and r.tool == tool), None)


def table(rows: list[Row]) -> str:
    lines = [
        "| link down/up (Mbit/s) | client CPU budget | tool | download | upload | ratio to iperf3 (down / up) "
        "| client CPU s | CPU vs speedtest-cli |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ref = next(
            r
            for r in rows
            if (r.down_rate, r.up_rate, r.budget, r.tool) == (row.down_rate, row.up_rate, row.budget, "iperf3")
        )
        st = next(
            (
                r
                for r in rows
                if (r.down_rate, r.up_rate, r.budget, r.tool)
                == (row.down_rate, row.up_rate, row.budget, "speedtest-cli")
            ),
            None,
        )
        ratio = f"{row.download / ref.download:.3f} / {row.upload / ref.upload:.3f}"
        cpu_ratio = f"{row.cpu_s / st.cpu_s:.2f}" if st and row.tool != "iperf3" else "—"
        budget = "unconstrained" if row.budget is None else f"{row.budget}% of one core"
        lines.append(
            f"| {row.down_rate}/{row.up_rate} | {budget} | {row.tool} | {row.download:.1f} | {row.upload:.1f} "
            f"| {ratio} | {row.cpu_s:.2f} | {cpu_ratio} |"
        )
    return "\n".join(lines)


def within(rows: list[Row], tolerance: float = 0.03) -> list[str]:
    """The dokiem rows outside ±tolerance of iperf3 (same link, same budget)."""
    misses = []
    for row in rows:
        if row.tool != "dokiem":
            continue
        ref = next(
            r
            for r in rows
            if (r.down_rate, r.up_rate, r.budget, r.tool) == (row.down_rate, row.up_rate, row.budget, "iperf3")
        )
        for name, got, want in (("down", row.download, ref.download), ("up", row.upload, ref.upload)):
            if abs(got / want - 1) > tolerance:
                misses.append(f"{row.down_rate}/{row.up_rate} budget={row.budget} {name}: {got:.1f} vs {want:.1f}")
    return misses


def parse_cases(text: str) -> list[tuple[int, int]]:
    return [(int(d), int(u)) for d, u in (case.split("/") for case in text.split(","))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--cases", default="10/10,100/100,500/500,1000/1000,300/30", help="down/up Mbit/s, comma-separated"
    )
    parser.add_argument(
        "--budgets", default="none,20", help="client CPU budgets in %% of one core ('none' = unconstrained)"
    )
    parser.add_argument("--tools", default="iperf3,speedtest-cli,dokiem")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("iperf3") is None:
        sys.exit("bench/lab.py needs root (network namespaces, tc, cgroups) and iperf3 (apt-get install iperf3)")
    budgets = [None if b == "none" else int(b) for b in args.budgets.split(",")]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = run_cases(parse_cases(args.cases), budgets, args.tools.split(","))
    misses = within(rows) if "iperf3" in args.tools else []
    command = "sudo .venv/bin/python bench/lab.py " + " ".join(sys.argv[1:])
    text = (
        f"Run {started} on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}, "
        f"kernel {platform.release()}), command: `{command.strip()}`\n\n{table(rows)}\n\n"
        + ("dokiem within ±3% of iperf3 in every case." if not misses else "Outside ±3%: " + "; ".join(misses))
    )
    print(text)
    if not args.no_write:
        write_section(args.out, "lab", text)


if __name__ == "__main__":
    main()

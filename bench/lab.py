"""Accuracy, bytes and CPU on shaped links: dokiem vs iperf3 (the reference), against real servers.

Builds a two-host lab on one machine (needs root): network namespaces ``dkb-srv`` and
``dkb-cli`` joined by a veth pair, each direction shaped with ``tc ... tbf``. The server side
runs ``iperf3 -s``, ``dokiem testserver`` and LibreSpeed's stock PHP backend the three ways test
points deploy it (Apache + mod_php, nginx + php-fpm, ``php -S``; ``testkit/webservers.py``).
Each client runs unconstrained and again held to a CPU budget with the cgroup v1 ``cpu``
controller (the process joins the group before ``ip netns exec``, which hides /sys/fs/cgroup).
``dokiem-before`` is dokiem as it was at ``--before`` (a git worktree), run beside today's in the
same lab, so the bytes each moves compare on the same links.

    sudo .venv/bin/python bench/lab.py                      # all cases, both budgets, every server
    sudo .venv/bin/python bench/lab.py --cases 1000/1000 --budgets 20 --servers apache

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
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.docs import write_section  # noqa: E402
from testkit.webservers import SERVERS as WEB_SERVERS  # noqa: E402
from testkit.webservers import Where  # noqa: E402

SRV, CLI = "dkb-srv", "dkb-cli"
SRV_IF, CLI_IF = "dkb-s", "dkb-c"
# RFC 2544's benchmarking range: addresses of the lab's own hosts, inside its namespaces only.
SRV_IP, CLI_IP = "198.18.0.1", "198.18.0.2"
CGROUP = Path("/sys/fs/cgroup/cpu/dokiem-bench")
TESTSERVER_PORT = 8080
BEFORE = "849e52c"  # dokiem as issue 14 found it: stops at 5-9 s per direction
# LibreSpeed under each web server, by the name --servers takes; "testserver" is dokiem's own.
WEB = {"apache": "apache + mod_php", "nginx": "nginx + php-fpm", "php": "php -S"}


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def netns(ns: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *args]


def reachable_from_client(url: str) -> bool:
    probe = "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)"
    return subprocess.run(netns(CLI, sys.executable, "-c", probe, url), capture_output=True).returncode == 0


class Lab:
    def __init__(self) -> None:
        self.servers: list[subprocess.Popen[bytes]] = []
        self.web = ExitStack()
        self.urls: dict[str, str] = {}

    def serve(self, names: list[str]) -> None:
        """LibreSpeed's stock backend under each named web server, in the server namespace."""
        self.urls["testserver"] = f"http://{SRV_IP}:{TESTSERVER_PORT}/"
        # php -S serves one request at a time unless told to fork workers (PHP >= 7.4)
        where = Where(SRV_IP, ("ip", "netns", "exec", SRV), reachable_from_client, (("PHP_CLI_SERVER_WORKERS", "16"),))
        for name in names:
            if name in WEB:
                self.urls[name] = self.web.enter_context(WEB_SERVERS[WEB[name]](where))

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
        for _ in range(100):
            if reachable_from_client(f"http://{SRV_IP}:{TESTSERVER_PORT}/healthz"):
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
        self.web.close()
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


def run_client(cmd: list[str], budget: int | None, cwd: Path = REPO) -> tuple[str, float]:
    """Run ``cmd`` in the client namespace; returns stdout and the CPU seconds it used."""
    proc = subprocess.Popen(
        netns(CLI, *cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=set_budget(budget), cwd=cwd
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
    server: str  # "iperf3" for the reference
    tool: str
    download: float
    upload: float
    cpu_s: float
    moved_mb: float | None = None  # everything the run moved, both directions, warm-up included
    moved_down_mb: float | None = None
    moved_up_mb: float | None = None


@dataclass(frozen=True)
class Figures:
    download: float
    upload: float
    cpu_s: float
    moved_mb: float | None = None
    moved_down_mb: float | None = None
    moved_up_mb: float | None = None


def iperf3(budget: int | None, url: str, before: Path) -> Figures:
    figures, cpu_total = [], 0.0
    for reverse in (["-R"], []):
        out, cpu = run_client(["iperf3", "-c", SRV_IP, "-P", "4", "-O", "2", "-t", "10", "-J", *reverse], budget)
        figures.append(json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6)
        cpu_total += cpu
    return Figures(figures[0], figures[1], cpu_total)


def speedtest_cli(budget: int | None, url: str, before: Path) -> Figures:
    mini = f"http://{SRV_IP}:{TESTSERVER_PORT}/speedtest/upload.php"
    out, cpu = run_client([sys.executable, str(REPO / "bench" / "speedtest_engine.py"), mini], budget)
    data = json.loads(out)
    return Figures(data["download_mbps"], data["upload_mbps"], cpu)


def _dokiem_at(source: Path, budget: int | None, url: str) -> Figures:
    out, cpu = run_client([sys.executable, "-m", "dokiem", "measure", "--server", url, "--json", "-q"], budget, source)
    data = json.loads(out)
    if data.get("error"):
        raise RuntimeError(f"dokiem measure failed against {url}: {data['error']}")
    method = data.get("method", {})
    down, up = method.get("moved_down_bytes"), method.get("moved_up_bytes")
    return Figures(data["download_mbps"], data["upload_mbps"], cpu, (data.get("data_used_bytes") or 0) / 1e6,
                   down / 1e6 if down else None, up / 1e6 if up else None)  # fmt: skip


def dokiem(budget: int | None, url: str, before: Path) -> Figures:
    return _dokiem_at(REPO, budget, url)


def dokiem_before(budget: int | None, url: str, before: Path) -> Figures:
    return _dokiem_at(before, budget, url)


TOOLS: dict[str, Callable[[int | None, str, Path], Figures]] = {
    "iperf3": iperf3,
    "speedtest-cli": speedtest_cli,
    "dokiem-before": dokiem_before,
    "dokiem": dokiem,
}


def worktree_at(ref: str) -> Path:
    """dokiem's source as it was at ``ref``, checked out beside this one (kept for the next run)."""
    folder = Path(tempfile.gettempdir()) / f"dokiem-before-{ref}"
    if not (folder / "dokiem").is_dir():
        sh("git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(folder), ref)
    return folder


def run_cases(
    cases: list[tuple[int, int]], budgets: list[int | None], tools: list[str], servers: list[str], before: Path
) -> list[Row]:
    lab = Lab()
    rows: list[Row] = []
    try:
        lab.up()
        lab.serve(servers)
        for down_rate, up_rate in cases:
            lab.shape(down_rate, up_rate)
            for budget in budgets:
                for tool in tools:
                    for server in ["iperf3"] if tool in ("iperf3", "speedtest-cli") else servers:
                        got = TOOLS[tool](budget, lab.urls.get(server, ""), before)
                        row = Row(down_rate, up_rate, budget, server, tool, got.download, got.upload, got.cpu_s,
                                  got.moved_mb, got.moved_down_mb, got.moved_up_mb)  # fmt: skip
                        rows.append(row)
                        label = "none" if budget is None else f"{budget}%"
                        moved = f" moved={got.moved_mb:.0f} MB" if got.moved_mb is not None else ""
                        print(f"{down_rate}/{up_rate} budget={label} {server} {tool}: {got.download:.1f}/"
                              f"{got.upload:.1f} Mbit/s cpu={got.cpu_s:.2f}s{moved}", flush=True)  # fmt: skip
    finally:
        lab.down()
        if CGROUP.exists():
            CGROUP.rmdir()
    return rows


def reference(rows: list[Row], row: Row) -> Row:
    """The link's capacity: the highest of iperf3's readings of the same link (its run under each budget).
    A CPU budget limits the client, not the link, and can only lower a reading (iperf3 read 940 of
    955 Mbit/s at 20% of a core); at 10 Mbit/s iperf3's four streams in a 20 ms queue sometimes read
    3% low on their own."""
    key = (row.down_rate, row.up_rate)
    readings = [r for r in rows if (r.down_rate, r.up_rate) == key and r.tool == "iperf3"]
    best = max(readings, key=lambda r: r.download)
    return replace(best, upload=max(r.upload for r in readings))


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| link down/up (Mbit/s) | client CPU budget | server | tool | download | upload | ratio to iperf3 (down / up) "
        "| MB moved (down / up / run) | client CPU s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ref = reference(rows, row)
        ratio = f"{row.download / ref.download:.3f} / {row.upload / ref.upload:.3f}"
        budget = "unconstrained" if row.budget is None else f"{row.budget}% of one core"
        moved = f"{_mb(row.moved_down_mb)} / {_mb(row.moved_up_mb)} / {_mb(row.moved_mb)}"
        lines.append(
            f"| {row.down_rate}/{row.up_rate} | {budget} | {row.server} | {row.tool} | {row.download:.1f} "
            f"| {row.upload:.1f} | {ratio} | {moved} | {row.cpu_s:.2f} |"
        )
    return "\n".join(lines)


def bytes_table(rows: list[Row]) -> str:
    """Per link, the megabytes a run moved: dokiem before and now, summed over every server and budget."""
    lines = [
        "| link down/up (Mbit/s) | runs | MB per run before | MB per run now | now / before |",
        "|---|---|---|---|---|",
    ]
    for case in dict.fromkeys((r.down_rate, r.up_rate) for r in rows):
        now = [r.moved_mb for r in rows if (r.down_rate, r.up_rate) == case and r.tool == "dokiem" and r.moved_mb]
        was = [
            r.moved_mb for r in rows if (r.down_rate, r.up_rate) == case and r.tool == "dokiem-before" and r.moved_mb
        ]
        if now and was:
            per_now, per_was = sum(now) / len(now), sum(was) / len(was)
            lines.append(f"| {case[0]}/{case[1]} | {len(now)} + {len(was)} | {per_was:.0f} | {per_now:.0f} "
                         f"| {per_now / per_was:.2f} |")  # fmt: skip
    return "\n".join(lines)


def within(rows: list[Row], tolerance: float) -> list[str]:
    """The dokiem rows outside ±tolerance of iperf3 (same link, same budget)."""
    misses = []
    for row in rows:
        if row.tool != "dokiem":
            continue
        ref = reference(rows, row)
        for name, got, want in (("down", row.download, ref.download), ("up", row.upload, ref.upload)):
            if abs(got / want - 1) > tolerance:
                misses.append(f"{row.down_rate}/{row.up_rate} budget={row.budget} {row.server} {name}: "
                              f"{got:.1f} vs {want:.1f}")  # fmt: skip
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
    parser.add_argument("--tools", default="iperf3,dokiem-before,dokiem", help="also: speedtest-cli")
    parser.add_argument("--servers", default="testserver,apache,nginx,php", help="testserver, apache, nginx, php")
    parser.add_argument("--before", default=BEFORE, help="the git ref dokiem-before runs (default: %(default)s)")
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("iperf3") is None:
        sys.exit("bench/lab.py needs root (network namespaces, tc, cgroups) and iperf3 (apt-get install iperf3)")
    budgets = [None if b == "none" else int(b) for b in args.budgets.split(",")]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    tools = args.tools.split(",")
    before = worktree_at(args.before) if "dokiem-before" in tools else REPO
    rows = run_cases(parse_cases(args.cases), budgets, tools, args.servers.split(","), before)
    misses = within(rows, args.tolerance) if "iperf3" in args.tools else []
    command = "sudo .venv/bin/python bench/lab.py " + " ".join(sys.argv[1:])
    text = (
        f"Run {started} on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}, "
        f"kernel {platform.release()}), command: `{command.strip()}`; dokiem-before is {args.before}\n\n"
        f"{table(rows)}\n\nBytes per run:\n\n{bytes_table(rows)}\n\n"
        + (
            f"dokiem within ±{args.tolerance:.0%} of iperf3 in every case."
            if not misses
            else f"Outside ±{args.tolerance:.0%}: " + "; ".join(misses)
        )
    )
    print(text)
    if not args.no_write:
        write_section(args.out, "lab", text)


if __name__ == "__main__":
    main()

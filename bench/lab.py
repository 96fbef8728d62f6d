"""Accuracy, bytes and CPU on real paths: dokiem vs iperf3 (the reference), against real servers.

Builds the path lab of ``testkit/pathlab.py`` (needs root): client, router and server namespaces; the
router shapes each direction with ``tbf`` (rate, and the bottleneck's buffer) and holds every packet a
fixed time, dropping a share (``../shared/lab/delayline.c``: this kernel has no netem); the hosts run
cubic, Linux's default. The server side runs ``iperf3 -s``, ``dokiem testserver`` and LibreSpeed's stock
PHP backend the three ways test points deploy it (Apache + mod_php, nginx + php-fpm, ``php -S``;
``testkit/webservers.py``). Each client runs unconstrained and again held to a CPU budget with the cgroup
v1 ``cpu`` controller (the process joins the group before ``ip netns exec``, which hides
/sys/fs/cgroup). ``dokiem-before`` is dokiem as it was at ``--before`` (a git worktree), run beside
today's on the same paths. Beside iperf3's reading, each row gives the ceiling: the tbf rate times
1448/1514, the most TCP goodput a full-size Ethernet frame with timestamps carries.

A case is ``DOWN/UP[@RTTms][:LOSS%][+BUFFERms]`` (rates in Mbit/s; defaults 0 ms, no loss, a 50 ms buffer):

    sudo .venv/bin/python bench/lab.py                      # the issue-21 axes, both budgets, testserver + apache
    sudo .venv/bin/python bench/lab.py --cases 20/20@150ms,100/100@50ms:1% --budgets none --servers apache

Writes the table into docs/benchmarks.md between the ``lab-paths`` markers (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.docs import write_section  # noqa: E402
from testkit.pathlab import SERVER_IP, PathLab, PathShape  # noqa: E402
from testkit.webservers import SERVERS as WEB_SERVERS  # noqa: E402
from testkit.webservers import Where  # noqa: E402

CGROUP = Path("/sys/fs/cgroup/cpu/dokiem-bench")
TESTSERVER_PORT = 8080
BEFORE = "286e69a"  # dokiem before issue 21: requests a round trip apart, a warm-up blind to the round trip
# LibreSpeed under each web server, by the name --servers takes; "testserver" is dokiem's own.
WEB = {"apache": "apache + mod_php", "nginx": "nginx + php-fpm", "php": "php -S"}
GOODPUT_SHARE = 1448 / 1514  # TCP payload of a full Ethernet frame with timestamps: what tbf's rate carries
DEFAULT_CASES = ("100/100@10ms,100/100@50ms,100/100@150ms,100/100@300ms,100/100@50ms:0.2%,100/100@50ms:1%,"
                 "100/100@50ms+20ms,100/100@50ms+500ms,10/10@50ms,500/500@50ms")  # fmt: skip


def netns(ns: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *args]


def parse_case(text: str) -> PathShape:
    """``DOWN/UP[@RTTms][:LOSS%][+BUFFERms]`` as a path shape."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)(?:@(\d+(?:\.\d+)?)ms)?(?::(\d+(?:\.\d+)?)%)?"
                         r"(?:\+(\d+(?:\.\d+)?)ms)?", text.strip())  # fmt: skip
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not DOWN/UP[@RTTms][:LOSS%][+BUFFERms], e.g. 100/100@150ms:1%")
    down, up, rtt, loss, buffer = found.groups()
    return PathShape(float(down), float(up), one_way_ms=float(rtt or 0) / 2, loss=float(loss or 0) / 100,
                     buffer_ms=float(buffer or 50))  # fmt: skip


def case_label(shape: PathShape) -> str:
    label = f"{shape.down_mbps:g}/{shape.up_mbps:g} @{shape.rtt_ms:g} ms"
    if shape.loss:
        label += f", loss {shape.loss:.1%}"
    return label + f", buffer {shape.buffer_ms:g} ms"


class Lab:
    def __init__(self, shape: PathShape) -> None:
        self.path = PathLab("dkb", shape)
        self.web = ExitStack()
        self.urls: dict[str, str] = {}

    def reachable_from_client(self, url: str) -> bool:
        probe = "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)"
        return subprocess.run(netns(self.path.client, sys.executable, "-c", probe, url),
                              capture_output=True).returncode == 0  # fmt: skip

    def up(self, names: list[str]) -> None:
        self.path.start()
        self.path.spawn(self.path.server, "iperf3", "-s", "-B", SERVER_IP, stdout=subprocess.DEVNULL)
        self.path.spawn(self.path.server, sys.executable, "-m", "dokiem", "testserver", "--listen",
                        f"{SERVER_IP}:{TESTSERVER_PORT}", "--max-tests", "100", stdout=subprocess.DEVNULL,
                        cwd=REPO)  # fmt: skip
        self.urls["testserver"] = f"http://{SERVER_IP}:{TESTSERVER_PORT}/"
        self.path.wait_reachable(f"{self.urls['testserver']}healthz")
        # php -S serves one request at a time unless told to fork workers (PHP >= 7.4)
        where = Where(SERVER_IP, ("ip", "netns", "exec", self.path.server), self.reachable_from_client,
                      (("PHP_CLI_SERVER_WORKERS", "16"),))  # fmt: skip
        for name in names:
            if name in WEB:
                self.urls[name] = self.web.enter_context(WEB_SERVERS[WEB[name]](where))

    def down(self) -> None:
        self.web.close()
        self.path.close()


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


def run_client(lab: Lab, cmd: list[str], budget: int | None, cwd: Path = REPO) -> tuple[str, float]:
    """Run ``cmd`` in the client namespace; returns stdout and the CPU seconds it used."""
    proc = subprocess.Popen(netns(lab.path.client, *cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=set_budget(budget), cwd=cwd)  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out, err = proc.communicate(timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-500:]}")
    return out.decode(), cpu


@dataclass(frozen=True)
class Figures:
    download: float
    upload: float
    cpu_s: float
    moved_mb: float | None = None
    moved_down_mb: float | None = None
    moved_up_mb: float | None = None
    latency_ms: float | None = None
    loaded_ms: float | None = None
    rpm: float | None = None
    extra: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Row:
    shape: PathShape
    budget: int | None
    server: str  # "iperf3" for the reference
    tool: str
    got: Figures

    @property
    def case(self) -> str:
        return case_label(self.shape)


def iperf3(lab: Lab, budget: int | None, url: str, before: Path) -> Figures:
    figures, cpu_total = [], 0.0
    for reverse in (["-R"], []):
        out, cpu = run_client(lab, ["iperf3", "-c", SERVER_IP, "-P", "4", "-O", "3", "-t", "10", "-J", *reverse],
                              budget)  # fmt: skip
        figures.append(json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6)
        cpu_total += cpu
    return Figures(figures[0], figures[1], cpu_total)


def _dokiem_at(lab: Lab, source: Path, budget: int | None, url: str) -> Figures:
    out, cpu = run_client(lab, [sys.executable, "-m", "dokiem", "measure", "--server", url, "--json", "-q",
                                "--ping-count", "0"], budget, source)  # fmt: skip
    data = json.loads(out)
    if data.get("error"):
        raise RuntimeError(f"dokiem measure failed against {url}: {data['error']}")
    method = data.get("method", {})
    down, up = method.get("moved_down_bytes"), method.get("moved_up_bytes")
    return Figures(data["download_mbps"], data["upload_mbps"], cpu, (data.get("data_used_bytes") or 0) / 1e6,
                   down / 1e6 if down else None, up / 1e6 if up else None, data.get("latency_ms"),
                   data.get("loaded_latency_ms"), data.get("responsiveness_rpm"))  # fmt: skip


def dokiem(lab: Lab, budget: int | None, url: str, before: Path) -> Figures:
    return _dokiem_at(lab, REPO, budget, url)


def dokiem_before(lab: Lab, budget: int | None, url: str, before: Path) -> Figures:
    return _dokiem_at(lab, before, budget, url)


TOOLS: dict[str, Callable[[Lab, int | None, str, Path], Figures]] = {
    "iperf3": iperf3,
    "dokiem-before": dokiem_before,
    "dokiem": dokiem,
}


def worktree_at(ref: str) -> Path:
    """dokiem's source as it was at ``ref``, checked out beside this one (kept for the next run)."""
    folder = Path(tempfile.gettempdir()) / f"dokiem-before-{ref}"
    if not (folder / "dokiem").is_dir():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(folder), ref],
                       check=True, capture_output=True)  # fmt: skip
    return folder


def run_cases(
    cases: list[PathShape], budgets: list[int | None], tools: list[str], servers: list[str], before: Path
) -> list[Row]:
    rows: list[Row] = []
    try:
        for shape in cases:
            lab = Lab(shape)
            try:
                lab.up(servers)
                for budget in budgets:
                    for tool in tools:
                        for server in ["iperf3"] if tool == "iperf3" else servers:
                            got = TOOLS[tool](lab, budget, lab.urls.get(server, ""), before)
                            rows.append(Row(shape, budget, server, tool, got))
                            label = "none" if budget is None else f"{budget}%"
                            moved = f" moved={got.moved_mb:.0f} MB" if got.moved_mb is not None else ""
                            print(f"{case_label(shape)} budget={label} {server} {tool}: {got.download:.1f}/"
                                  f"{got.upload:.1f} Mbit/s rpm={got.rpm} cpu={got.cpu_s:.2f}s{moved}",
                                  flush=True)  # fmt: skip
            finally:
                lab.down()
    finally:
        if CGROUP.exists():
            CGROUP.rmdir()
    return rows


def reference(rows: list[Row], row: Row) -> tuple[float, float]:
    """The path's capacity as iperf3 reads it: the highest of its readings of the same path (a CPU budget
    limits the client, not the path, and can only lower a reading)."""
    readings = [r.got for r in rows if r.shape == row.shape and r.tool == "iperf3"]
    return max(r.download for r in readings), max(r.upload for r in readings)


def ceiling(shape: PathShape) -> tuple[float, float]:
    return shape.down_mbps * GOODPUT_SHARE, shape.up_mbps * GOODPUT_SHARE


def _num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| path (Mbit/s, round trip, loss, buffer) | client CPU | server | tool | down | up | ratio to iperf3 "
        "(down / up) | ratio to the ceiling | latency idle / loaded (ms) | RPM | MB moved (down / up / run) "
        "| client CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ref, top, got = reference(rows, row), ceiling(row.shape), row.got
        budget = "—" if row.budget is None else f"{row.budget}% of a core"
        moved = f"{_num(got.moved_down_mb)} / {_num(got.moved_up_mb)} / {_num(got.moved_mb)}"
        lines.append(
            f"| {row.case} | {budget} | {row.server} | {row.tool} | {got.download:.1f} | {got.upload:.1f} "
            f"| {got.download / ref[0]:.3f} / {got.upload / ref[1]:.3f} "
            f"| {got.download / top[0]:.3f} / {got.upload / top[1]:.3f} "
            f"| {_num(got.latency_ms, 1)} / {_num(got.loaded_ms, 1)} | {_num(got.rpm)} | {moved} | {got.cpu_s:.2f} |"
        )
    return "\n".join(lines)


def bytes_table(rows: list[Row]) -> str:
    """Per path, the megabytes a run moved: dokiem before and now, over every server and budget."""
    lines = [
        "| path | runs (now + before) | MB per run before | MB per run now | now / before |",
        "|---|---|---|---|---|",
    ]
    for shape in dict.fromkeys(r.shape for r in rows):
        now = [r.got.moved_mb for r in rows if r.shape == shape and r.tool == "dokiem" and r.got.moved_mb]
        was = [r.got.moved_mb for r in rows if r.shape == shape and r.tool == "dokiem-before" and r.got.moved_mb]
        if now and was:
            per_now, per_was = sum(now) / len(now), sum(was) / len(was)
            lines.append(f"| {case_label(shape)} | {len(now)} + {len(was)} | {per_was:.0f} | {per_now:.0f} "
                         f"| {per_now / per_was:.2f} |")  # fmt: skip
    return "\n".join(lines)


def within(rows: list[Row], tolerance: float, lossy_tolerance: float) -> list[str]:
    """The dokiem rows outside the tolerance of iperf3 on the same path (the wider one where it loses)."""
    misses = []
    for row in rows:
        if row.tool != "dokiem":
            continue
        allowed = lossy_tolerance if row.shape.loss else tolerance
        ref = reference(rows, row)
        for name, got, want in (("down", row.got.download, ref[0]), ("up", row.got.upload, ref[1])):
            if abs(got / want - 1) > allowed:
                misses.append(f"{row.case} budget={row.budget} {row.server} {name}: {got:.1f} vs {want:.1f}")
    return misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=DEFAULT_CASES, help="DOWN/UP[@RTTms][:LOSS%%][+BUFFERms], comma-separated")
    parser.add_argument(
        "--budgets", default="none,20", help="client CPU budgets in %% of one core ('none' = unconstrained)"
    )
    parser.add_argument("--tools", default="iperf3,dokiem-before,dokiem")
    parser.add_argument("--servers", default="testserver,apache", help="testserver, apache, nginx, php")
    parser.add_argument("--before", default=BEFORE, help="the git ref dokiem-before runs (default: %(default)s)")
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--lossy-tolerance", type=float, default=0.05)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("iperf3") is None:
        sys.exit("bench/lab.py needs root (network namespaces, tc, cgroups) and iperf3 (apt-get install iperf3)")
    cases = [parse_case(text) for text in args.cases.split(",")]
    budgets = [None if b == "none" else int(b) for b in args.budgets.split(",")]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    tools = args.tools.split(",")
    before = worktree_at(args.before) if "dokiem-before" in tools else REPO
    rows = run_cases(cases, budgets, tools, args.servers.split(","), before)
    misses = within(rows, args.tolerance, args.lossy_tolerance) if "iperf3" in tools else []
    command = "sudo .venv/bin/python bench/lab.py " + " ".join(sys.argv[1:])
    verdict = (f"dokiem within ±{args.tolerance:.0%} of iperf3 (±{args.lossy_tolerance:.0%} with loss) in every case."
               if not misses else f"Outside the tolerance: {'; '.join(misses)}")  # fmt: skip
    text = (
        f"Run {started} on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}, "
        f"kernel {platform.release()}), command: `{command.strip()}`; dokiem-before is {args.before}\n\n"
        f"{table(rows)}\n\nBytes per run:\n\n{bytes_table(rows)}\n\n{verdict}"
    )
    print(text)
    if not args.no_write:
        write_section(args.out, "lab-paths", text)


if __name__ == "__main__":
    main()

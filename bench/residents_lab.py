"""Residents' tests on real paths (issue 22): the page's figures against iperf3's, and what a test costs
the test server.

Builds the path lab of ``testkit/pathlab.py`` (needs root): Debian's Chromium runs the page in the client
namespace (``testkit/browser.py``) through the router's shaped line to ``dokiem testserver`` (with its
signing key) and ``iperf3 -s`` in the server namespace; the collector serves the page from this host's
side of the router. For each case:

- accuracy: what the collector stored (the test server's count), what the page read itself, and iperf3
  on the same path just before and just after the visit (four streams over the page's own window, the
  median of the receiver's one-second readings), as a ratio to their mean, beside
  the line's payload capacity (what its tbf carries of TCP payload at most); the test's length, bytes and
  streams as the page shaped it by the round trip (issue 39);
- cost: the test server's CPU seconds for the whole resident's test (its process, read from /proc).

Then capacity: the test server held to one core (cgroup v1 ``cpu`` quota), K residents' downloads (then
uploads) at once, each held to 50 Mbit/s by curl and each under its own ticket (so the server reads each
connection's ``tcp_info``); a core holds K residents when every one of them still gets its 50 Mbit/s.

    sudo .venv/bin/python bench/residents_lab.py
    sudo .venv/bin/python bench/residents_lab.py --cases 100/100,20/20@150ms --visits 1 --residents 0 --no-write

Writes into docs/benchmarks.md between the ``residents-paths`` markers (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.docs import run_line, write_section  # noqa: E402
from bench.lab import case_label, parse_case, set_budget  # noqa: E402
from dokiem.contract import Result  # noqa: E402
from testkit.brokers import running_broker  # noqa: E402
from testkit.collectorkit import collector_config, collector_running  # noqa: E402
from testkit.pathlab import UPLINK_IP, PathLab, PathShape, path_lab, payload_capacity_mbps  # noqa: E402
from testkit.processes import free_port  # noqa: E402
from testkit.residentkit import (  # noqa: E402
    LAB_TESTSERVER,
    iperf3_window,
    residents_section,
    serve_in_lab,
    ticket_token,
    visit_from_client,
)

RESIDENT_MBPS = 50
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass(frozen=True)
class Row:
    shape: PathShape
    iperf3: tuple[float, float]
    stored: tuple[float, float]
    page: tuple[float, float]
    server_cpu_s: float
    seconds: float  # the page's test, both directions
    megabytes: float
    streams: str
    iperf3_after: tuple[float, float] | None = None  # iperf3 again just after the visit (its own spread)

    @property
    def reference(self) -> tuple[float, float]:
        """iperf3 before and after the visit, their mean."""
        after = self.iperf3_after or self.iperf3
        return (self.iperf3[0] + after[0]) / 2, (self.iperf3[1] + after[1]) / 2

    @property
    def capacity(self) -> tuple[float, float]:
        return payload_capacity_mbps(self.shape.down_mbps), payload_capacity_mbps(self.shape.up_mbps)

    @property
    def ratio(self) -> tuple[float, float]:
        return self.stored[0] / self.reference[0], self.stored[1] / self.reference[1]

    @property
    def spread(self) -> str:
        """iperf3 after the visit against iperf3 before it: the path's own variation over a minute."""
        if self.iperf3_after is None:
            return "—"
        return f"{self.iperf3_after[0] / self.iperf3[0]:.3f} / {self.iperf3_after[1] / self.iperf3[1]:.3f}"

    @property
    def of_capacity(self) -> tuple[float, float]:
        return self.stored[0] / self.capacity[0], self.stored[1] / self.capacity[1]


async def accuracy(shape: PathShape, folder: Path) -> Row:
    key = Ed25519PrivateKey.generate()
    with path_lab("dkq", shape) as lab, running_broker(folder / "broker") as broker:
        pid = await asyncio.to_thread(serve_in_lab, lab, key, folder)
        config = collector_config(folder, broker, None, DOKIEM_HTTP_LISTEN=f"{UPLINK_IP}:{free_port()}")
        residents = residents_section(folder, key, LAB_TESTSERVER)
        async with collector_running(config.model_copy(update={"residents": residents})) as collector:
            reference = await asyncio.to_thread(lab.iperf3, *iperf3_window(shape))
            before = cpu_seconds(pid)
            seen = await asyncio.to_thread(visit_from_client, lab, f"http://{config.http.listen}/do/", folder)
            if seen["state"] != "done":
                raise RuntimeError(f"the page's test did not finish: {seen['error']}")
            spent = cpu_seconds(pid) - before
            again = await asyncio.to_thread(lab.iperf3, *iperf3_window(shape))
            (stored,) = collector.archive.results.query()
            result = Result.model_validate_json(str(collector.archive.results.payload_of(str(stored["result_id"]))))
    hooks = json.loads(seen["hooks"])
    return Row(shape, reference, (result.download_mbps or 0, result.upload_mbps or 0),
               (result.page_download_mbps or 0, result.page_upload_mbps or 0), spent, float(hooks["seconds"]),
               float(hooks["bytes"]) / 1e6, str(hooks["streams"]), again)  # fmt: skip


def curls(lab: PathLab, count: int, upload: Path | None, seconds: float) -> list[float]:
    """``count`` residents at once, each held to RESIDENT_MBPS, each under its own ticket: their Mbit/s."""
    limit = str(int(RESIDENT_MBPS * 1e6 / 8))
    runs = []
    for _ in range(count):
        ticket = urllib.parse.quote(ticket_token())  # the collector's own: the test server serves no other
        if upload is None:
            url, extra, speed = f"{LAB_TESTSERVER}garbage.php?ckSize=1024&ticket={ticket}", [], "%{speed_download}"
        else:
            url, speed = f"{LAB_TESTSERVER}empty.php?ticket={ticket}", "%{speed_upload}"
            # -T streams the file (--data-binary would hold it in memory, once per resident)
            extra = ["-X", "POST", "-T", str(upload), "-H", "Content-Type: application/octet-stream"]
        runs.append(subprocess.Popen(lab.exec(lab.client, "curl", "-s", "-o", "/dev/null", "--limit-rate", limit,
                                              "--max-time", f"{seconds:g}", "-w", speed, *extra, url),
                                     stdout=subprocess.PIPE, text=True))  # fmt: skip
    return [float(run.communicate(timeout=seconds + 30)[0] or 0) * 8 / 1e6 for run in runs]


@dataclass(frozen=True)
class Load:
    residents: int
    direction: str
    mean: float
    least: float
    server_cores: float


def capacity(counts: list[int], seconds: float, folder: Path) -> list[Load]:
    key = Ed25519PrivateKey.generate()
    blob = Path(tempfile.mkdtemp(dir="/dev/shm")) / "upload.bin"
    blob.write_bytes(os.urandom(1 << 20) * int(RESIDENT_MBPS / 8 * seconds * 2))
    loads = []
    try:
        with path_lab("dkq", PathShape(down_mbps=10_000, up_mbps=10_000)) as lab:
            most = str(max(counts) * 2)
            pid = serve_in_lab(
                lab, key, folder, "--max-tests", most, "--max-resident-tests", most, preexec_fn=set_budget(100)
            )
            for count in counts:
                for direction, upload in (("download", None), ("upload", blob)):
                    before, began = cpu_seconds(pid), time.monotonic()
                    got = curls(lab, count, upload, seconds)
                    cores = (cpu_seconds(pid) - before) / (time.monotonic() - began)
                    loads.append(Load(count, direction, statistics.fmean(got), min(got), cores))
                    print(loads[-1], flush=True)
    finally:
        shutil.rmtree(blob.parent)
    return loads


def _n(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def tables(rows: list[Row], loads: list[Load]) -> str:
    lines = ["| path | iperf3 down / up | iperf3 after / before | stored (server's count) down / up | ratio to iperf3 "
             "| line's payload capacity | stored / capacity | page's own down / up | test: seconds, MB, streams down/up"
             " | test server CPU |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        lines.append(
            f"| {case_label(r.shape)} | {_n(r.reference[0])} / {_n(r.reference[1])} | {r.spread} | {_n(r.stored[0])} / "
            f"{_n(r.stored[1])} | {r.ratio[0]:.3f} / {r.ratio[1]:.3f} | {_n(r.capacity[0])} / {_n(r.capacity[1])} | "
            f"{r.of_capacity[0]:.3f} / {r.of_capacity[1]:.3f} | {_n(r.page[0])} / {_n(r.page[1])} | "
            f"{r.seconds:.1f} s, {r.megabytes:,.0f} MB, {r.streams} | {r.server_cpu_s:.2f} s |"
        )
    if not loads:
        return "\n".join(lines)
    lines += ["", f"Residents at once against a test server held to one core, each at {RESIDENT_MBPS} Mbit/s:", "",
              "| residents | direction | mean Mbit/s | least | share of 50 (least) | test server cores used |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for load in loads:
        lines.append(f"| {load.residents} | {load.direction} | {_n(load.mean)} | {_n(load.least)} | "
                     f"{load.least / RESIDENT_MBPS:.2f} | {load.server_cores:.2f} |")  # fmt: skip
    return "\n".join(lines)


def from_log(path: Path) -> tuple[list[Row], list[Load]]:
    """The rows and loads a run printed (``--from-log``: its tables again, without running it again)."""
    scope = {"Row": Row, "PathShape": PathShape, "Load": Load}
    lines = path.read_text().splitlines()
    rows = [eval(line, scope) for line in lines if line.startswith("Row(")]
    return rows, [eval(line, scope) for line in lines if line.startswith("Load(")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--cases",
        default="100/30@20ms+50ms,100/30@60ms+50ms,60/20@120ms+80ms,60/20@240ms+80ms,100/30@60ms:0.5%+50ms,"
        "100/30@60ms+500ms",
        help="DOWN/UP[@RTTms][:LOSS%%][+BUFFERms], comma-separated (bench/lab.py's form)",
    )
    parser.add_argument("--visits", type=int, default=2, help="visits of each case")
    parser.add_argument(
        "--residents", default="10,40,80", help="residents at once, comma-separated (0: no capacity run)"
    )
    parser.add_argument("--seconds", type=float, default=10, help="each capacity run's length")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--from-log", type=Path, help="a run's printed output: its rows' table, not run again")
    args = parser.parse_args()
    if os.geteuid() != 0 or not all(shutil.which(x) for x in ("iperf3", "curl", "chromium", "chromedriver")):
        sys.exit("bench/residents_lab.py needs root, iperf3, curl, chromium and chromium-driver")
    began = time.monotonic()
    rows, loads = from_log(args.from_log) if args.from_log else ([], [])
    for text in [] if args.from_log else [case for case in args.cases.split(",") for _ in range(args.visits)]:
        with tempfile.TemporaryDirectory() as folder:
            rows.append(asyncio.run(accuracy(parse_case(text), Path(folder))))
            print(rows[-1], flush=True)
    counts = [int(x) for x in args.residents.split(",") if int(x) > 0 and not args.from_log]
    with tempfile.TemporaryDirectory() as folder:
        loads += capacity(counts, args.seconds, Path(folder)) if counts else []
    command = "sudo .venv/bin/python bench/residents_lab.py " + " ".join(sys.argv[1:])
    text = f"{run_line(command.strip(), time.monotonic() - began)}\n\n{tables(rows, loads)}"
    print(text)
    if not args.no_write:
        write_section(args.out, "residents-paths", text)


if __name__ == "__main__":
    main()

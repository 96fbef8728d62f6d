"""Agents' ingest with a flood of bogus residents' submissions beside it (issue 22).

Real Mosquitto and InfluxDB; the collector in this process with its residents' door open. The agents'
ingest rate (N results published at once, as bench/ingest.py does) is measured three times in one run:
alone; with a flood from one address (what the per-address limit meets: 429s after a handful); and
from a new address each request (as from a botnet: 127.x.y.z, all loopback here; each submission parsed,
its forged ticket checked and refused, and kept in the quarantine); then both again with nginx in front
as deploy/nginx has it (its limit_req zones refuse what is beyond the door's rate before the collector
sees it). The flood is a separate process of HTTP clients posting a well-formed submission with a forged
ticket as fast as the door answers.

    .venv/bin/python bench/residents_flood.py              # writes docs/benchmarks.md
    .venv/bin/python bench/residents_flood.py --pin        # the flood and nginx on one core, the rest on the
                                                           # other: as a flood from elsewhere meets the collector
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from bench.docs import run_line, show_and_record  # noqa: E402
from bench.ingest import dokiem_rate, payload_lines  # noqa: E402
from dokiem.collector.config import load  # noqa: E402
from dokiem.collector.service import Collector  # noqa: E402
from testkit.brokers import Broker  # noqa: E402
from testkit.influx import Influx  # noqa: E402
from testkit.processes import free_port  # noqa: E402
from testkit.residentkit import residents_section  # noqa: E402
from testkit.webservers import nginx_in_front  # noqa: E402

FLOOD = """
import http.client, json, sys, threading, time
host, port, seconds, clients = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
many = sys.argv[5] == "many"  # each request from an address of its own (127.x.y.z: all loopback)
body = json.dumps({"ticket": "eyJmb3JnZWQiOiB0cnVlfQ.AAAA", "summary": "eyJmb3JnZWQiOiB0cnVlfQ.AAAA",
                   "commune_code": "14797", "access": "fixed", "isp": "VNPT",
                   "page": {"download_mbps": 900.0, "upload_mbps": 900.0}}).encode()
answers = {}
lock = threading.Lock()
def connect(me, n):
    source = (f"127.{me + 1}.{n // 256 % 256}.{n % 256 or 1}", 0) if many else None
    return http.client.HTTPConnection(host, port, timeout=10, source_address=source)
def run(me):
    n = 0
    conn = connect(me, n)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            conn.request("POST", "/do/result", body, {"Content-Type": "application/json"})
            answer = conn.getresponse(); answer.read()
            with lock: answers[answer.status] = answers.get(answer.status, 0) + 1
            if many:
                n += 1; conn.close(); conn = connect(me, n)
        except Exception:
            n += 1; conn.close(); conn = connect(me, n)
threads = [threading.Thread(target=run, args=(me,)) for me in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"seconds": seconds, "answers": answers}))
"""


async def ingest_with_flood(
    args: argparse.Namespace,
    folder: Path,
    broker: Broker,
    influx: Influx,
    flood_from: str | None,
    front: bool = False,
) -> dict[str, object]:
    """The agents' ingest rate with a flood on the residents' door from ``one`` address or ``many``, or
    without (None); with ``front``, the flood goes through nginx as deploy/nginx puts it in front."""
    key = Ed25519PrivateKey.generate()
    residents = residents_section(folder, key, "http://127.0.0.1:9/")
    env = {
        "DOKIEM_BROKER_URL": broker.url,
        "DOKIEM_DATA_DIR": str(folder / "c"),
        "DOKIEM_INFLUX_URL": influx.url,
        "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
        "DOKIEM_LIMITS_UNSCHEDULED_RUNS_PER_HOUR": "100000",
    }
    config = load(None, environ=env)
    http = config.http.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    collector = Collector(config.model_copy(update={"residents": residents, "http": http}))
    started = asyncio.Event()
    task = asyncio.create_task(collector.run(started))
    flood = None
    nginx = contextlib.ExitStack()
    try:
        await started.wait()
        await asyncio.wait_for(collector.subscribed.wait(), 30)
        if flood_from is not None:
            door = collector.config.http.listen
            if front:
                # in a thread: nginx waits for the collector's /healthz, answered on this loop
                front = await asyncio.to_thread(in_front, nginx, door, args)
                door = front
            host, port = door.rsplit(":", 1)
            flood = await asyncio.create_subprocess_exec(
                sys.executable, "-c", FLOOD, "0.0.0.0" if host == "0.0.0.0" else host, port,
                str(args.flood_seconds), str(args.clients), flood_from, stdout=asyncio.subprocess.PIPE,
                preexec_fn=on_flood_cpu(args),
            )  # fmt: skip
            await asyncio.sleep(1.0)  # the flood at full pace before the agents' results go out
        lines = payload_lines(args.results, args.agents)
        try:
            rate: float | None = await asyncio.wait_for(dokiem_rate(collector, broker, lines), args.deadline)
        except TimeoutError:
            rate = None  # not all archived and written within the deadline; its publishers stopped
            subprocess.run(["pkill", "-f", f"mosquitto_pub -p {broker.port} "], check=False)
        answers: dict[str, int] = {}
        if flood is not None:
            out, _ = await flood.communicate()
            answers = json.loads(out.decode().strip().splitlines()[-1])["answers"]
        return {
            "rate": rate,
            "answers": answers,
            "written": collector.stats["influx_written"],
            "broker": collector.broker_connected,
            "error": collector._broker_error,
        }
    finally:
        if flood is not None and flood.returncode is None:
            flood.kill()
        nginx.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 10)


# (name, where the flood comes from, through nginx in front as deploy/nginx has it)
FLOOD_CPU, SERVER_CPU = 1, 0  # with --pin: the flood (and nginx) on one core, the collector's side on the other


def on_flood_cpu(args: argparse.Namespace) -> Callable[[], None] | None:
    """With --pin, a child's preexec: onto the flood's core (a flood from elsewhere, nginx on a core of its own)."""
    return (lambda: os.sched_setaffinity(0, {FLOOD_CPU})) if args.pin else None


def in_front(stack: contextlib.ExitStack, door: str, args: argparse.Namespace) -> str:
    """nginx in front of ``door``, started from this (worker) thread: with --pin, on the flood's core."""
    before = os.sched_getaffinity(0)
    if args.pin:
        os.sched_setaffinity(0, {FLOOD_CPU})  # this thread only: nginx inherits it
    try:
        return stack.enter_context(nginx_in_front(door)).split("//")[1].rstrip("/")
    finally:
        os.sched_setaffinity(0, before)


def restart(broker: Broker) -> None:
    if broker.proc is not None:
        broker.proc.kill()
        broker.proc.wait()
        broker.proc = None
    broker.start()


# (the run that saturates the machine last: the broker it leaves holds a backlog)
RUNS = (
    ("alone", None, False),
    ("one address", "one", False),
    ("one address, nginx in front", "one", True),
    ("a new address each time, nginx in front", "many", True),
    ("a new address each time", "many", False),
)


async def measure(args: argparse.Namespace, folder: Path) -> dict[str, dict[str, object]]:
    broker = Broker(folder, extra=("max_queued_messages 0", "max_inflight_messages 0"))
    broker.start()
    influx = Influx(folder / "influx")
    influx.folder.mkdir()
    influx.start()
    runs: dict[str, dict[str, object]] = {}
    try:
        for name, flood_from, front in RUNS:
            restart(broker)  # each run on a broker of its own: no backlog of the run before
            run_folder = folder / name.replace(" ", "-").replace(",", "")
            run_folder.mkdir()
            influx.query('DROP DATABASE "dokiem"')
            print(f"flood: {name} …", file=sys.stderr, flush=True)
            runs[name] = await ingest_with_flood(args, run_folder, broker, influx, flood_from, front)
            print(f"flood: {name}: {runs[name]['rate']} results/s", file=sys.stderr, flush=True)
    finally:
        influx.stop()
        with contextlib.suppress(subprocess.TimeoutExpired):  # a broker holding a flood's backlog is slow to go
            broker.stop()
    return runs


def report(args: argparse.Namespace, runs: dict[str, dict[str, object]], seconds: float) -> list[str]:
    command = (f".venv/bin/python bench/residents_flood.py --results {args.results} --agents {args.agents} "
               f"--clients {args.clients} --flood-seconds {args.flood_seconds:g}")  # fmt: skip
    command += " --pin" if args.pin else ""
    alone = float(runs["alone"]["rate"] or 0)  # type: ignore[arg-type]
    lines = [run_line(command, seconds), "",
             f"{args.results:,} agents' results from {args.agents} agents, published at once; beside them "
             f"{args.clients} keep-alive clients post a well-formed residents' submission with a forged ticket "
             "as fast as the door answers.", "",
             "| flood on /do/result | agents' ingest (results/s) | ratio to alone | door's answers (status: count) |",
             "|---|---|---|---|"]  # fmt: skip
    for name, run in runs.items():
        answers = ", ".join(f"{status}: {count:,}" for status, count in sorted(run["answers"].items()))  # type: ignore[attr-defined]
        if run["rate"] is None:
            lines.append(f"| {name} | not done in {args.deadline:g} s: {run['written']:,} of {args.results:,} written; "
                         f"broker {'connected' if run['broker'] else 'lost: ' + str(run['error'])} | — | "
                         f"{answers or '—'} |")  # fmt: skip
            continue
        rate = float(run["rate"])  # type: ignore[arg-type]
        lines.append(f"| {name} | {rate:,.0f} | {rate / alone:.2f} | {answers or '—'} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8, help="concurrent flooding HTTP clients")
    parser.add_argument("--flood-seconds", type=float, default=30)
    parser.add_argument("--deadline", type=float, default=120, help="seconds a run may take to ingest everything")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the flood and nginx on one core, the collector, broker and InfluxDB on the other",
    )
    args = parser.parse_args()
    if args.pin:
        os.sched_setaffinity(0, {SERVER_CPU})  # this process: the collector, and the broker and InfluxDB it starts
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dokiem-flood-") as tmp:
        runs = asyncio.run(measure(args, Path(tmp)))
    section = "residents-flood-pinned" if args.pin else "residents-flood"
    show_and_record(report(args, runs, time.monotonic() - began), args.out, section, not args.no_write)


if __name__ == "__main__":
    main()

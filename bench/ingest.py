"""Collector ingest: sustained rate into archive + InfluxDB, and end-to-end latency (issue 4).

Real Mosquitto and real InfluxDB (Debian's) on free loopback ports; the collector runs in this
process (the real code path, timed from outside). Three measurements, all in one run:

1. ceilings on this machine: ``mosquitto_pub``/``mosquitto_sub`` message rate (QoS 1, the same
   payloads) and InfluxDB's own batched write rate (5,000 lines a request);
2. dokiem: N results published as fast as ``mosquitto_pub`` goes; the rate is N over the time
   until all are archived and written to InfluxDB;
3. latency: results published at 100 a second for ``--latency-seconds``; for each, the time
   from its publish to the moment InfluxDB acknowledged the batch holding it (p50, p99).

The results come from a fleet (``--agents``, each at most one result an hour of measuring, as a
schedule makes them) with figures that agree with their bytes and samples, so every check of issue 26
runs on every result. ``--before REV`` runs the same measurement with the collector as it was at REV
(a git worktree, its code first on the path) in the same run, for the ratio of the two.

    .venv/bin/python bench/ingest.py                          # writes docs/benchmarks.md
    .venv/bin/python bench/ingest.py --before 888cb74         # and the collector before the new checks

4. replay (issue 37): a fleet sends what it kept at once, as after a restored server asked it to send a
   month again: ``--replay-agents`` agents each with ``--replay-days`` days of hourly results, all
   published at once through the broker; the time until every one is archived and in InfluxDB, and the
   collector's memory (this process's peak resident set beyond what it held before the collector began,
   the payloads to publish included in neither).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CODE = Path(os.environ.get("DOKIEM_BENCH_CODE", REPO))  # whose collector is measured (--before sets it)
sys.path[:0] = [str(CODE), str(REPO)]

from bench.docs import write_section  # noqa: E402
from dokiem.collector.config import load  # noqa: E402
from dokiem.collector.service import Collector  # noqa: E402
from dokiem.contract import Method, Result, Site  # noqa: E402
from dokiem.regions import Regions  # noqa: E402
from testkit.brokers import Broker  # noqa: E402
from testkit.influx import Influx  # noqa: E402
from testkit.processes import free_port  # noqa: E402

DISTRICTS = sorted(Regions.load().provinces["38"].districts)
PACED = """
import json, sys, time, uuid
import paho.mqtt.client as mqtt
port, rate, seconds, template, out = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
client.connect("127.0.0.1", port)
client.loop_start()
sent = []
start = time.time()
n = 0
while time.time() - start < seconds:
    target = start + n / rate
    time.sleep(max(0, target - time.time()))
    rid, agent = str(uuid.uuid4()), f"paced-{n:05d}"  # an agent each: the rate rule is not what is measured
    payload = template.replace("RESULT_ID", rid).replace("AGENT_ID", agent)
    sent.append((rid, time.time()))
    client.publish(f"dokiem/v1/{agent}/result", payload, qos=1)
    n += 1
time.sleep(1)
client.loop_stop()
json.dump(sent, open(out, "w"))
"""


MEASURED_S = 8.0


def sample_result(i: int, at: datetime, agents: int = 1, fleet: str = "bench") -> Result:
    site = Site(province_code="38", district_code=DISTRICTS[i % len(DISTRICTS)], isp=("VNPT", "Viettel", "FPT")[i % 3],
                access="fixed")  # type: ignore[arg-type]  # fmt: skip
    down, up = 300.0 + i % 100, 280.5
    return Result(
        agent_id=f"{fleet}-{i % agents:04d}", started_at=at, finished_at=at + timedelta(seconds=25), site=site,
        download_mbps=down, upload_mbps=up, latency_ms=3.2, jitter_ms=0.4, loss_pct=0.0,
        loaded_latency_ms=12.0, bytes_down=round(down * 1e6 / 8 * MEASURED_S),
        bytes_up=round(up * 1e6 / 8 * MEASURED_S),
        samples_down_mbps=[down] * 16, samples_up_mbps=[up] * 16,
        method=Method(name="dokiem-http", version="1", streams_down=6, streams_up=6, measured_down_s=MEASURED_S,
                      measured_up_s=MEASURED_S),
    )  # fmt: skip


def payload_lines(n: int, agents: int, fleet: str = "bench") -> list[str]:
    """``n`` results of ``agents`` agents, one an hour each (the latest an hour ago), on their topics."""
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return [sample_result(i, base - timedelta(hours=i // agents, seconds=i % agents % 3000), agents, fleet).to_json()
            for i in range(n)]  # fmt: skip


def mosquitto_ceiling(broker: Broker, lines: list[str]) -> float:
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port), "-t", "ceiling/#", "-q", "1", "-C",
                            str(len(lines))], stdout=subprocess.DEVNULL)  # fmt: skip
    time.sleep(0.5)
    t0 = time.perf_counter()
    subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-t", "ceiling/x", "-q", "1", "-l"],
                   input="\n".join(lines).encode(), check=True)  # fmt: skip
    try:
        sub.wait(120)
    except subprocess.TimeoutExpired:
        sub.kill()
        raise SystemExit("mosquitto_sub did not receive every message: check the broker's queue limits") from None
    return len(lines) / (time.perf_counter() - t0)


def influx_ceiling(influx: Influx, lines: list[str]) -> float:
    urllib.request.urlopen(urllib.request.Request(f"{influx.url}/query?q=CREATE+DATABASE+ceiling", method="POST"))
    from dokiem.collector.influx import result_line

    protocol = [result_line(Result.model_validate_json(line)) for line in lines]
    t0 = time.perf_counter()
    for i in range(0, len(protocol), 5000):
        body = "\n".join(protocol[i : i + 5000]).encode()
        urllib.request.urlopen(urllib.request.Request(f"{influx.url}/write?db=ceiling&precision=ms", data=body))
    return len(protocol) / (time.perf_counter() - t0)


def connections_to(port: int) -> int:
    """Established TCP connections to ``port`` on this host, counted at their clients' ends."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                _, _, remote, state, *_ = row.split()
                count += state == "01" and int(remote.rsplit(":", 1)[1], 16) == port
    return count


async def dokiem_rate(collector: Collector, broker: Broker, lines: list[str], already: int = 0) -> float:
    """Each result on its own agent's topic: one mosquitto_pub per agent, all at once. The clock starts once
    every publisher is connected and waits on its input: starting a hundred processes is not the collector's
    time (it was counted before 2026-12-07, a fifth of a 20,000-result run)."""
    by_agent: dict[str, list[str]] = {}
    for line in lines:
        by_agent.setdefault(json.loads(line)["agent_id"], []).append(line)
    connected = connections_to(broker.port)
    publishers = [await asyncio.create_subprocess_exec(
        "mosquitto_pub", "-p", str(broker.port), "-t", f"dokiem/v1/{agent}/result", "-q", "1", "-l",
        stdin=asyncio.subprocess.PIPE,
    ) for agent in by_agent]  # fmt: skip
    deadline = time.monotonic() + 60
    while (now := connections_to(broker.port)) < connected + len(publishers):
        if time.monotonic() > deadline:
            sys.exit(f"bench/ingest.py: {now - connected} of {len(publishers)} mosquitto_pub connected to the broker "
                     f"on port {broker.port} in 60 s")  # fmt: skip
        await asyncio.sleep(0.05)
    t0 = time.perf_counter()
    await asyncio.gather(*(p.communicate("\n".join(rows).encode()) for p, rows in zip(publishers, by_agent.values(),
                                                                                        strict=True)))  # fmt: skip
    while collector.stats["influx_written"] < already + len(lines):
        collector.flushed.clear()
        await asyncio.wait_for(collector.flushed.wait(), 120)
    return len(lines) / (time.perf_counter() - t0)


async def latency(collector: Collector, broker: Broker, seconds: float, folder: Path) -> tuple[float, float, int]:
    written: dict[str, float] = {}
    flush = collector.flush_influx

    async def timed_flush() -> bool:
        pending = [row.result_id for row in collector.archive.results.pending(collector.config.influx.batch_size)]
        more = await flush()
        now = time.time()
        written.update((rid, now) for rid in pending)
        return more

    collector.flush_influx = timed_flush  # type: ignore[method-assign]
    template = sample_result(0, datetime.now(UTC)).model_copy(update={"result_id": "RESULT_ID",  # type: ignore[arg-type]
                                                                     "agent_id": "AGENT_ID"})  # fmt: skip
    raw = template.model_dump_json(by_alias=True, exclude_none=True, warnings=False)
    out = folder / "sent.json"
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", PACED, str(broker.port), "100", str(seconds),
                                                raw, str(out))  # fmt: skip
    await proc.wait()
    sent = json.loads(out.read_text())
    deadline = time.time() + 30
    while any(rid not in written for rid, _ in sent) and time.time() < deadline:
        collector.flushed.clear()
        await asyncio.wait_for(collector.flushed.wait(), 30)
    delays = sorted(written[rid] - t for rid, t in sent if rid in written)
    return statistics.median(delays), delays[int(0.99 * (len(delays) - 1))], len(sent) - len(delays)


def resident_mib() -> float:
    """This process's resident set now, MiB (Linux's /proc)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def replay(collector: Collector, broker: Broker, lines: list[str], before_mib: float) -> dict[str, float]:
    """A fleet's month at once: seconds until all are archived and in InfluxDB, and the memory it took."""
    peak = before_mib

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, resident_mib())
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch())
    written = collector.stats["influx_written"]
    try:
        rate = await dokiem_rate(collector, broker, lines, already=written)
    finally:
        watcher.cancel()
    return {"replay_rate": rate, "replay_s": len(lines) / rate, "replay_mib": peak - before_mib}


async def measure(args: argparse.Namespace, folder: Path) -> dict[str, float]:
    # a collector that falls behind must not lose messages: lift Mosquitto's 1,000-message queue cap
    broker = Broker(folder, extra=("max_queued_messages 0", "max_inflight_messages 0"))
    broker.start()
    influx = Influx(folder / "influx")
    influx.folder.mkdir()
    influx.start()
    try:
        lines = payload_lines(args.results, args.agents)
        month = payload_lines(args.replay_agents * args.replay_days * 24, args.replay_agents, "replay")
        mq = mosquitto_ceiling(broker, lines)
        ifx = influx_ceiling(influx, lines)
        env = {"DOKIEM_BROKER_URL": broker.url, "DOKIEM_DATA_DIR": str(folder / "c"), "DOKIEM_INFLUX_URL": influx.url,
               "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{free_port()}"}  # fmt: skip
        before_mib = resident_mib()
        collector = Collector(load(None, environ=env))
        started = asyncio.Event()
        task = asyncio.create_task(collector.run(started))
        await started.wait()
        while not collector.broker_connected:
            await asyncio.sleep(0.05)
        rate = await dokiem_rate(collector, broker, lines)
        p50, p99, lost = await latency(collector, broker, args.latency_seconds, folder)
        replayed = await replay(collector, broker, month, before_mib) if month else {}
        refused = collector.stats["quarantined"]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    finally:
        influx.stop()
        broker.stop()
    return {"mosquitto": mq, "influx": ifx, "rate": rate, "p50": p50, "p99": p99, "lost": lost, "refused": refused,
            **replayed}  # fmt: skip


def measure_before(args: argparse.Namespace, revision: str, folder: Path) -> dict[str, float]:
    """The same measurement with the collector's code as it was at ``revision`` (a git worktree)."""
    tree = folder / "before"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), revision], check=True)
    # the collector as it was, the harness (broker, InfluxDB) as it is now: both runs on the same footing
    shutil.rmtree(tree / "testkit")
    shutil.copytree(REPO / "testkit", tree / "testkit")
    try:
        done = subprocess.run([sys.executable, __file__, "--json", "--results", str(args.results), "--agents",
                               str(args.agents), "--latency-seconds", str(args.latency_seconds), "--replay-agents",
                               str(args.replay_agents), "--replay-days", str(args.replay_days)],
                              env={**os.environ, "DOKIEM_BENCH_CODE": str(tree)}, capture_output=True, text=True,
                              check=True)  # fmt: skip
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)


def report(args: argparse.Namespace, now: dict[str, float], before: dict[str, float] | None) -> str:
    floor = min(now["mosquitto"], now["influx"])
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = (f"`.venv/bin/python bench/ingest.py --results {args.results} --agents {args.agents} --latency-seconds "
               f"{args.latency_seconds:g} --replay-agents {args.replay_agents} --replay-days {args.replay_days}"
               + (f" --before {args.before}`" if before else "`"))  # fmt: skip
    rows = [
        f"| ceiling: mosquitto_pub → mosquitto_sub, QoS 1 | {now['mosquitto']:,.0f} | — |",
        f"| ceiling: InfluxDB batched /write (5,000 lines) | {now['influx']:,.0f} | — |",
        f"| dokiem: MQTT → validate → archive → InfluxDB | {now['rate']:,.0f} | {now['rate'] / floor:.2f} |",
    ]
    if before is not None:
        rows.append(f"| dokiem at {args.before}, same run | {before['rate']:,.0f} | {before['rate'] / floor:.2f} |")
    text = (
        f"Run {when} on {platform.node()} ({os.cpu_count()} cores), command: {command}\n\n"
        f"{args.results:,} results from {args.agents} agents (one an hour each), every figure consistent: "
        f"{now['refused']:.0f} refused.\n\n"
        "| measurement | rate (results/s) | ratio to the lower ceiling |\n|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"End to end at 100 results/s for {args.latency_seconds:g} s, publish → InfluxDB acknowledged: "
        f"p50 {now['p50'] * 1000:.0f} ms, p99 {now['p99'] * 1000:.0f} ms ({now['lost']:.0f} not written within 30 s)"
        + (f"; at {args.before}: p50 {before['p50'] * 1000:.0f} ms, p99 {before['p99'] * 1000:.0f} ms" if before
           else "") + ".\n"
    )  # fmt: skip
    if "replay_s" in now:
        n = args.replay_agents * args.replay_days * 24
        text += (
            f"\nReplay: {args.replay_agents} agents each sending {args.replay_days} days of hourly results at once "
            f"({n:,}): all archived and in InfluxDB in {now['replay_s']:.0f} s ({now['replay_rate']:,.0f}/s), the "
            f"collector's memory {now['replay_mib']:,.0f} MiB above what it held before it began"
        )
        if before is not None and "replay_s" in before:
            text += f"; at {args.before}: {before['replay_s']:.0f} s, {before['replay_mib']:,.0f} MiB"
        text += ".\n"  # fmt: skip
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=int, default=50_000)
    parser.add_argument("--agents", type=int, default=100, help="the fleet the results come from")
    parser.add_argument("--before", help="also measure the collector as it was at this git revision")
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--replay-agents", type=int, default=166, help="the replay's fleet (0: no replay)")
    parser.add_argument("--replay-days", type=int, default=30, help="days of hourly results each agent replays")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only (for --before)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        now = asyncio.run(measure(args, Path(tmp)))
        if args.json:
            print(json.dumps(now))
            return
        before = measure_before(args, args.before, Path(tmp)) if args.before else None
    text = report(args, now, before)
    print(text)
    if not args.no_write:
        write_section(args.out, "ingest", text)


if __name__ == "__main__":
    main()

"""Collector ingest: sustained rate into archive + InfluxDB, and end-to-end latency (issue 4).

Real Mosquitto and real InfluxDB (Debian's) on free loopback ports; the collector runs in this
process (the real code path, timed from outside). Three measurements, all in one run:

1. ceilings on this machine: ``mosquitto_pub``/``mosquitto_sub`` message rate (QoS 1, the same
   payloads) and InfluxDB's own batched write rate (5,000 lines a request);
2. dokiem: N results published as fast as ``mosquitto_pub`` goes; the rate is N over the time
   until all are archived and written to InfluxDB;
3. latency: results published at 100 a second for ``--latency-seconds``; for each, the time
   from its publish to the moment InfluxDB acknowledged the batch holding it (p50, p99).

    .venv/bin/python bench/ingest.py                 # writes docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

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
    rid = str(uuid.uuid4())
    payload = template.replace("RESULT_ID", rid)
    sent.append((rid, time.time()))
    client.publish("dokiem/v1/bench-1/result", payload, qos=1)
    n += 1
time.sleep(1)
client.loop_stop()
json.dump(sent, open(out, "w"))
"""


def sample_result(i: int, at: datetime) -> Result:
    site = Site(province_code="38", district_code=DISTRICTS[i % len(DISTRICTS)], isp=("VNPT", "Viettel", "FPT")[i % 3],
                access="fixed")  # type: ignore[arg-type]  # fmt: skip
    return Result(
        agent_id="bench-1", started_at=at, finished_at=at + timedelta(seconds=25), site=site,
        download_mbps=300.0 + i % 100, upload_mbps=280.5, latency_ms=3.2, jitter_ms=0.4, loss_pct=0.0,
        loaded_latency_ms=12.0, bytes_down=10**9, bytes_up=9 * 10**8,
        samples_down_mbps=[300.0] * 18, samples_up_mbps=[280.0] * 18,
        method=Method(name="dokiem-http", version="1", streams_down=6, streams_up=6),
    )  # fmt: skip


def payload_lines(n: int) -> list[str]:
    base = datetime.now(UTC) - timedelta(days=1)
    return [sample_result(i, base + timedelta(seconds=i)).to_json() for i in range(n)]


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


async def dokiem_rate(collector: Collector, broker: Broker, lines: list[str]) -> float:
    t0 = time.perf_counter()
    pub = await asyncio.create_subprocess_exec(
        "mosquitto_pub", "-p", str(broker.port), "-t", "dokiem/v1/bench-1/result", "-q", "1", "-l",
        stdin=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await pub.communicate("\n".join(lines).encode())
    while collector.stats["influx_written"] < len(lines):
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
    template = sample_result(0, datetime.now(UTC)).model_copy(update={"result_id": "RESULT_ID"})  # type: ignore[arg-type]
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


async def main_async(args: argparse.Namespace, folder: Path) -> str:
    # a collector that falls behind must not lose messages: lift Mosquitto's 1,000-message queue cap
    broker = Broker(folder, extra=("max_queued_messages 0", "max_inflight_messages 0"))
    broker.start()
    influx = Influx(folder / "influx")
    influx.folder.mkdir()
    influx.start()
    try:
        lines = payload_lines(args.results)
        mq = mosquitto_ceiling(broker, lines)
        ifx = influx_ceiling(influx, lines)
        env = {"DOKIEM_BROKER_URL": broker.url, "DOKIEM_DATA_DIR": str(folder / "c"), "DOKIEM_INFLUX_URL": influx.url,
               "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{free_port()}"}  # fmt: skip
        collector = Collector(load(None, environ=env))
        started = asyncio.Event()
        task = asyncio.create_task(collector.run(started))
        await started.wait()
        while not collector.broker_connected:
            await asyncio.sleep(0.05)
        rate = await dokiem_rate(collector, broker, lines)
        p50, p99, lost = await latency(collector, broker, args.latency_seconds, folder)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    finally:
        influx.stop()
        broker.stop()
    floor = min(mq, ifx)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        f"Run {when} on {platform.node()} ({os.cpu_count()} cores), command: "
        f"`.venv/bin/python bench/ingest.py --results {args.results} --latency-seconds {args.latency_seconds:g}`\n\n"
        "| measurement | rate (results/s) | ratio to the lower ceiling |\n|---|---|---|\n"
        f"| ceiling: mosquitto_pub → mosquitto_sub, QoS 1 | {mq:,.0f} | — |\n"
        f"| ceiling: InfluxDB batched /write (5,000 lines) | {ifx:,.0f} | — |\n"
        f"| dokiem: MQTT → validate → archive → InfluxDB | {rate:,.0f} | {rate / floor:.2f} |\n\n"
        f"End to end at 100 results/s for {args.latency_seconds:g} s, publish → InfluxDB acknowledged: "
        f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms ({lost} not written within 30 s).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=int, default=50_000)
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        text = asyncio.run(main_async(args, Path(tmp)))
    print(text)
    if not args.no_write:
        write_section(args.out, "ingest", text)


if __name__ == "__main__":
    main()

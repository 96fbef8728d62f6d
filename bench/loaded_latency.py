"""dokiem's latency under load beside ping's under a bulk transfer, on the same shaped link (issue 35).

The path lab of testkit/pathlab.py (client, router, server namespaces; the router's ``tbf`` sets the rate
and how long its queue may grow, ``buffer_ms``). For each rate and queue limit, per direction:

- the reference: ``ping`` every 0.1 s from the client to the server while ``iperf3 -P 4`` fills that
  direction (the first two seconds left out), its median, and ping's median on the idle link;
- dokiem: ``dokiem measure`` against ``dokiem testserver`` on the same path, its loaded latency of that
  direction (``loaded_latency_down_ms`` / ``loaded_latency_up_ms``: the round trips of the probes sent
  while its own streams fill the line).

The ratio is dokiem's over ping's: 1.0 where dokiem's working conditions fill the queue as a bulk transfer
does. Rates ``--rates`` (Mbit/s, both ways), queue limits ``--buffers`` (ms).

    sudo .venv-test/bin/python bench/loaded_latency.py [--rates 10,50,100,300] [--buffers 20,100,500]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.docs import run_line, show_and_record  # noqa: E402
from testkit.pathlab import SERVER_IP, PathLab, PathShape, path_lab  # noqa: E402

TESTSERVER = f"http://{SERVER_IP}:8080/"
LOAD_S = 10  # iperf3's run; ping's samples from its third second to its ninth


def ping_ms(lab: PathLab, seconds: float, start_after: float = 0.0) -> float:
    """The median round trip of pings every 0.1 s for ``seconds``, begun after ``start_after``."""
    time.sleep(start_after)
    done = subprocess.run(lab.exec(lab.client, "ping", "-n", "-i", "0.1", "-w", f"{seconds:g}", SERVER_IP),
                          capture_output=True, text=True)  # fmt: skip
    rtts = [float(found) for found in re.findall(r"time=([\d.]+) ms", done.stdout)]
    if not rtts:
        raise RuntimeError(f"ping answered nothing: {done.stdout[-300:]} {done.stderr[-300:]}")
    return statistics.median(rtts)


def ping_under_bulk(lab: PathLab, download: bool) -> float:
    bulk = lab.spawn(lab.client, "iperf3", "-c", SERVER_IP, "-P", "4", "-t", str(LOAD_S), *(["-R"] if download else []),
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        return ping_ms(lab, LOAD_S - 3, start_after=2)
    finally:
        bulk.wait(LOAD_S + 10)


def dokiem_loaded(lab: PathLab) -> tuple[float | None, float | None, float | None, float | None]:
    """(loaded down, loaded up, download, upload) from one ``dokiem measure`` on the path."""
    done = subprocess.run(lab.exec(lab.client, sys.executable, "-m", "dokiem", "measure", "--server", TESTSERVER,
                                   "--json", "--ping-count", "0"), capture_output=True, text=True, cwd=REPO,
                          timeout=180)  # fmt: skip
    result = json.loads(done.stdout)
    return (result.get("loaded_latency_down_ms"), result.get("loaded_latency_up_ms"), result.get("download_mbps"),
            result.get("upload_mbps"))  # fmt: skip


def case(lab: PathLab, rate: float, buffer_ms: float) -> dict[str, float | None]:
    lab.reshape(PathShape(down_mbps=rate, up_mbps=rate, buffer_ms=buffer_ms))
    idle = ping_ms(lab, 3)
    down_ping, up_ping = ping_under_bulk(lab, True), ping_under_bulk(lab, False)
    down, up, down_mbps, up_mbps = dokiem_loaded(lab)
    return {"rate": rate, "buffer": buffer_ms, "idle": idle, "down_ping": down_ping, "up_ping": up_ping,
            "down": down, "up": up, "down_mbps": down_mbps, "up_mbps": up_mbps}  # fmt: skip


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    return "–" if ours is None or not theirs else f"{ours / theirs:.2f}"


def table(rows: list[dict[str, float | None]]) -> list[str]:
    lines = ["| rate (Mbit/s) | queue limit (ms) | idle ping | ping under iperf3 ↓ | dokiem ↓ | ratio ↓ |"
             " ping under iperf3 ↑ | dokiem ↑ | ratio ↑ |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['rate']:g} | {r['buffer']:g} | {_ms(r['idle'])} | {_ms(r['down_ping'])} | {_ms(r['down'])}"
                     f" | {_ratio(r['down'], r['down_ping'])} | {_ms(r['up_ping'])} | {_ms(r['up'])} |"
                     f" {_ratio(r['up'], r['up_ping'])} |")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="10,50,100,300")
    parser.add_argument("--buffers", default="20,100,500")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rates = [float(x) for x in args.rates.split(",")]
    buffers = [float(x) for x in args.buffers.split(",")]
    began = time.monotonic()
    rows = []
    with path_lab("dkl", PathShape(down_mbps=rates[0], up_mbps=rates[0])) as lab:
        lab.spawn(lab.server, sys.executable, "-m", "dokiem", "testserver", "--listen", f"{SERVER_IP}:8080",
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)  # fmt: skip
        lab.spawn(lab.server, "iperf3", "-s", "-B", SERVER_IP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lab.wait_reachable(f"{TESTSERVER}healthz")
        for rate in rates:
            for buffer_ms in buffers:
                rows.append(case(lab, rate, buffer_ms))
                print(table(rows[-1:])[-1], file=sys.stderr, flush=True)
    command = " ".join(["sudo .venv-test/bin/python bench/loaded_latency.py", f"--rates {args.rates}",
                        f"--buffers {args.buffers}"])  # fmt: skip
    show_and_record([run_line(command, time.monotonic() - began), "", *table(rows)], args.out, "loaded-latency",
                    not args.no_write)  # fmt: skip


if __name__ == "__main__":
    main()

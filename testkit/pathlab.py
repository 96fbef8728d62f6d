"""A real path on one machine: client, router and server namespaces, the router shaping each direction
(``tbf``: rate and bottleneck buffer) and holding every forwarded packet a fixed time, dropping a share
(``../shared/lab/delayline.c`` on NFQUEUE: this kernel has no netem).

    client (CLIENT_IP) --veth-- router --veth-- server (SERVER_IP)
    [staff (STAFF_IP) --veth--/]  |
                                  +--veth-- this host (UPLINK_IP: the broker, the collector's side)

With ``staff=True`` the client shares its LAN (a bridge on the router, the router's LAN side) with a
second host, as an agent in a commune office shares the line with the staff's computers.

The client's default route goes through the router, as an agent's does through its gateway; each
direction is delayed once, so the round trip is twice ``one_way_ms``. The uplink is this host's own
namespace: a broker listening on UPLINK_IP is reached by the agent over its line, delayed too. Needs root, ``gcc``,
``iptables`` and ``libnetfilter-queue-dev`` (the README's test command installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dokiem.tcpinfo import SEGMENT_OVERHEAD

REPO = Path(__file__).resolve().parent.parent
DELAYLINE_SOURCE = REPO.parent / "shared" / "lab" / "delayline.c"
# RFC 2544's benchmarking range: addresses of the lab's own hosts, inside its namespaces only.
CLIENT_NET, SERVER_NET = "198.18.1", "198.18.2"
CLIENT_IP, SERVER_IP = f"{CLIENT_NET}.2", f"{SERVER_NET}.2"
STAFF_IP, GATEWAY_IP = f"{CLIENT_NET}.3", f"{CLIENT_NET}.1"
UPLINK_NET = "198.18.3"
UPLINK_IP = f"{UPLINK_NET}.1"  # this host's end
ALLOWED = Path("/proc/sys/net/ipv4/tcp_allowed_congestion_control")


@dataclass(frozen=True)
class PathShape:
    """What the path does: rates each way, one-way delay, random loss (each direction), and how much the
    bottleneck queues (``tbf``'s latency: 20 ms a sane router, 500 ms a bloated one)."""

    down_mbps: float
    up_mbps: float
    one_way_ms: float = 0.0
    loss: float = 0.0
    buffer_ms: float = 20.0
    congestion: str = "cubic"  # the hosts' TCP congestion control: Linux's default, as most test servers run

    @property
    def rtt_ms(self) -> float:
        return 2 * self.one_way_ms

    def label(self) -> str:
        return (f"{self.down_mbps:g}/{self.up_mbps:g} Mbit/s, {self.rtt_ms:g} ms, loss {self.loss:.1%}, "
                f"buffer {self.buffer_ms:g} ms, {self.congestion}")  # fmt: skip


def _sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def delayline_binary(cache: Path | None = None) -> Path:
    """The delay line, compiled once per source (kept in the temp folder between runs)."""
    if shutil.which("gcc") is None or not Path("/usr/include/libnetfilter_queue").is_dir():
        raise RuntimeError(
            "the path lab needs gcc and libnetfilter-queue-dev (the README's test command installs them)"
        )
    if not DELAYLINE_SOURCE.is_file():
        raise RuntimeError(f"{DELAYLINE_SOURCE} is missing: the lab's delay line ships in ../shared/lab/")
    folder = cache or Path(tempfile.gettempdir()) / "dokiem-lab"
    folder.mkdir(exist_ok=True)
    binary = folder / f"delayline-{int(DELAYLINE_SOURCE.stat().st_mtime)}"
    if not binary.exists():
        built = folder / f".{binary.name}.{os.getpid()}"
        _sh("gcc", "-O2", "-o", str(built), str(DELAYLINE_SOURCE), "-lnetfilter_queue")
        built.rename(binary)
    return binary


class PathLab:
    """Three namespaces named from ``tag`` (short: interface names are at most 15 characters)."""

    def __init__(self, tag: str, shape: PathShape, staff: bool = False) -> None:
        self.client, self.router, self.server = f"{tag}-cli", f"{tag}-rtr", f"{tag}-srv"
        self.staff = f"{tag}-stf" if staff else None
        self._links = {"client": (f"{tag}c0", f"{tag}c1"), "server": (f"{tag}s0", f"{tag}s1")}
        self._staff_link = (f"{tag}f0", f"{tag}f1")
        self.bridge = f"{tag}br" if staff else None
        self._uplink = (f"{tag}u0", f"{tag}u1")
        self.shape = shape
        self._line: subprocess.Popen[bytes] | None = None
        self._processes: list[subprocess.Popen[bytes]] = []
        self._allowed_before: str | None = None
        # every iperf3 run's one-second receiver's readings, download then upload (bench/lossy_residents.py)
        self.iperf3_seconds: list[list[float]] = []

    def exec(self, namespace: str, *args: str) -> list[str]:
        return ["ip", "netns", "exec", namespace, *args]

    @property
    def namespaces(self) -> list[str]:
        return [self.client, self.router, self.server, *([self.staff] if self.staff else [])]

    @property
    def client_interface(self) -> str:
        """The agent's interface, in the client namespace: its default route."""
        return self._links["client"][0]

    @property
    def staff_interface(self) -> str:
        return self._staff_link[0]

    @property
    def lan(self) -> str:
        """The router's LAN side: what the download is shaped on, and where a LAN service listens."""
        return self.bridge or self._links["client"][1]

    @property
    def wan(self) -> str:
        """The router's WAN side (towards the server): what its byte counters count."""
        return self._links["server"][1]

    def start(self) -> None:
        self.close()
        for ns in self.namespaces:
            _sh("ip", "netns", "add", ns)
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
        if self.bridge:
            _sh("ip", "-n", self.router, "link", "add", self.bridge, "type", "bridge")
            _sh("ip", "-n", self.router, "link", "set", self.bridge, "up")
        hosts = [("client", self.client, CLIENT_NET, self._links["client"], CLIENT_IP),
                 ("server", self.server, SERVER_NET, self._links["server"], SERVER_IP)]  # fmt: skip
        if self.staff:
            hosts.append(("staff", self.staff, CLIENT_NET, self._staff_link, STAFF_IP))
        for side, ns, net, (inner, outer), address in hosts:
            _sh("ip", "link", "add", inner, "netns", ns, "type", "veth", "peer", "name", outer, "netns", self.router)
            _sh("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", inner)
            _sh("ip", "-n", ns, "link", "set", inner, "up")
            _sh("ip", "-n", ns, "route", "add", "default", "via", f"{net}.1")
            if self.bridge and side != "server":
                _sh("ip", "-n", self.router, "link", "set", outer, "master", self.bridge)
            else:
                _sh("ip", "-n", self.router, "addr", "add", f"{net}.1/24", "dev", outer)
            _sh("ip", "-n", self.router, "link", "set", outer, "up")
        if self.bridge:
            _sh("ip", "-n", self.router, "addr", "add", f"{GATEWAY_IP}/24", "dev", self.bridge)
        here, there = self._uplink
        _sh("ip", "link", "add", here, "type", "veth", "peer", "name", there, "netns", self.router)
        _sh("ip", "addr", "add", f"{UPLINK_IP}/24", "dev", here)
        _sh("ip", "-n", self.router, "addr", "add", f"{UPLINK_NET}.2/24", "dev", there)
        _sh("ip", "link", "set", here, "up")
        _sh("ip", "-n", self.router, "link", "set", there, "up")
        _sh("ip", "route", "replace", f"{CLIENT_NET}.0/24", "via", f"{UPLINK_NET}.2")
        _sh(*self.exec(self.router, "sysctl", "-qw", "net.ipv4.ip_forward=1"))
        self._allow(self.shape.congestion)
        for ns in (self.client, self.server):
            _sh(*self.exec(ns, "sysctl", "-qw", f"net.ipv4.tcp_congestion_control={self.shape.congestion}"))
        self.reshape(self.shape)

    def _allow(self, congestion: str) -> None:
        """A namespace may only choose a congestion control the host allows (some hosts allow only bbr):
        allowed for the lab's life, as it was after."""
        allowed = ALLOWED.read_text().split()
        if congestion not in allowed:
            self._allowed_before = " ".join(allowed)
            ALLOWED.write_text(" ".join([*allowed, congestion]))

    def reshape(self, shape: PathShape) -> None:
        """Rates and buffer on the router's two ways out, and the delay line restarted for delay and loss."""
        self.shape = shape
        for outer, rate in ((self.lan, shape.down_mbps), (self.wan, shape.up_mbps)):
            _sh(*self.exec(self.router, "tc", "qdisc", "del", "dev", outer, "root"), check=False)
            burst = max(16_000, int(rate * 1e6 / 8 / 250))  # a 4 ms bucket: above one tick at HZ=250
            _sh(*self.exec(self.router, "tc", "qdisc", "add", "dev", outer, "root", "tbf", "rate", f"{rate:g}mbit",
                           "burst", str(burst), "latency", f"{shape.buffer_ms:g}ms"))  # fmt: skip
        self._restart_line(shape)

    def _restart_line(self, shape: PathShape) -> None:
        self._stop_line()
        _sh(*self.exec(self.router, "iptables", "-F", "FORWARD"))
        if shape.one_way_ms <= 0 and shape.loss <= 0:
            return
        binary = delayline_binary()
        self._line = subprocess.Popen(
            self.exec(self.router, str(binary), "0", f"{shape.one_way_ms:g}", f"{shape.loss:g}"),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert self._line.stderr is not None
        said = self._line.stderr.readline().decode()  # it says its settings once bound to the queue
        if "delayline:" not in said:
            raise RuntimeError(f"the delay line did not start: {said.strip() or self._line.poll()}")
        # no --queue-bypass: should the line die, the path goes dark (a failed run), never silently undelayed
        _sh(*self.exec(self.router, "iptables", "-A", "FORWARD", "-j", "NFQUEUE", "--queue-num", "0"))

    def _stop_line(self) -> None:
        if self._line is not None and self._line.poll() is None:
            self._line.send_signal(signal.SIGTERM)
            try:
                self._line.wait(5)
            except subprocess.TimeoutExpired:
                self._line.kill()
                self._line.wait()
        self._line = None

    def spawn(self, namespace: str, *args: str, **kwargs: object) -> subprocess.Popen[bytes]:
        """A process in ``namespace``, ended with the lab."""
        process = subprocess.Popen(self.exec(namespace, *args), **kwargs)  # type: ignore[call-overload]
        self._processes.append(process)
        return process

    def wait_reachable(self, url: str, timeout_s: float = 30) -> None:
        """Until ``url`` answers from the client's side (a server just started in the server namespace)."""
        probe = "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if subprocess.run(self.exec(self.client, sys.executable, "-c", probe, url),
                              capture_output=True).returncode == 0:  # fmt: skip
                return
            time.sleep(0.2)
        raise RuntimeError(f"{url} did not answer from the client namespace in {timeout_s:.0f} s")

    def iperf3(self, seconds: int = 6, omit: int = 3) -> tuple[float, float]:
        """(download, upload) in Mbit/s as iperf3 reads the path from the client (an ``iperf3 -s`` on
        SERVER_IP): four streams, ``omit`` seconds omitted, then the median of the receiver's own one-second
        readings (the server's where it was started with ``-J``). Its end-of-test figure adds, on a long
        path, the bytes in flight when the sender stopped; and a second in which a loss's resend filled a
        hole counts the window that waited behind it: the median is the line's. (Where the rate falls for
        seconds after slow start, on a lossy path, the median of the falling seconds reads below their mean:
        docs/benchmarks.md, issue 39.)"""
        rates = []
        for reverse in (["-R"], []):
            for attempt in range(3):  # on a lossy path iperf3's own exchange of results now and then fails
                done = _sh(*self.exec(self.client, "iperf3", "-c", SERVER_IP, "-P", "4", "-O", str(omit), "-t",
                                      str(seconds), "-J", "--get-server-output", *reverse))  # fmt: skip
                run = json.loads(done.stdout)
                try:
                    rates.append(_received_mbps(run, receiver_is_client=bool(reverse)))
                    self.iperf3_seconds.append(receiver_seconds_mbps(run, receiver_is_client=bool(reverse)))
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
        return rates[0], rates[1]

    def close(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        self._processes.clear()
        self._stop_line()
        for ns in self.namespaces:
            _sh("ip", "netns", "del", ns, check=False)
        _sh("ip", "link", "del", self._uplink[0], check=False)  # gone with its peer's namespace, if not before
        if self._allowed_before is not None:
            ALLOWED.write_text(self._allowed_before)
            self._allowed_before = None


def receiver_seconds_mbps(run: dict[str, Any], receiver_is_client: bool) -> list[float]:
    """The receiver's one-second readings after the omitted seconds, in Mbit/s (none where the receiver is the
    server and it was started without ``-J``)."""
    intervals = run["intervals"] if receiver_is_client else run.get("server_output_json", {}).get("intervals")
    full = [i["sum"] for i in intervals or [] if not i["sum"].get("omitted") and i["sum"]["seconds"] > 0.9]
    return [i["bytes"] * 8 / i["seconds"] / 1e6 for i in full]


def _received_mbps(run: dict[str, Any], receiver_is_client: bool) -> float:
    if "error" in run:
        raise RuntimeError(f"iperf3 failed: {run['error']}")
    full = receiver_seconds_mbps(run, receiver_is_client)
    if not full:  # no server's readings where it was not started with -J: only its end-of-test figure
        received = run.get("end", {}).get("sum_received")
        if received is None:
            raise RuntimeError("iperf3 gave neither the receiver's readings nor its figure")
        return float(received["bits_per_second"]) / 1e6
    return statistics.median(full)


LAB_MSS = 1448  # the lab's veths' 1,500-byte MTU less IPv4 (20) and TCP with timestamps (32)


def payload_capacity_mbps(rate_mbps: float) -> float:
    """What a tbf of ``rate_mbps`` carries of TCP payload at most: a segment's payload of each frame (1,448 of
    1,514 bytes)."""
    return rate_mbps * LAB_MSS / (LAB_MSS + SEGMENT_OVERHEAD[socket.AF_INET])


@contextmanager
def path_lab(tag: str, shape: PathShape, staff: bool = False) -> Iterator[PathLab]:
    lab = PathLab(tag, shape, staff)
    try:
        lab.start()
        yield lab
    finally:
        lab.close()

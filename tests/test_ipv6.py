"""IPv4 and IPv6, in network namespaces the test makes: a client namespace and a server namespace
joined by a veth pair, the server on fd00:d0c::2 (a unique local address) and 10.231.0.2, names
given in the client's own /etc/hosts (``ip netns exec`` mounts /etc/netns/NAME/hosts). A server
reachable only over IPv6 is measured and tagged ``ip_version`` 6; a dual-stack one with
``--ip-version both`` gives a Result over each family; the tag reaches InfluxDB's line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dokiem.collector.influx import result_line
from dokiem.contract import Result
from testkit.processes import REPO

SERVER_V6, SERVER_V4 = "fd00:d0c::2", "10.231.0.2"
PORT = 8080


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture(scope="module")
def namespaces() -> Iterator[str]:
    """The client namespace's name; the server namespace runs two dokiem test servers (v6 and v4)."""
    assert os.geteuid() == 0 and shutil.which("ip"), "network namespaces need root and iproute2"
    tag = uuid.uuid4().hex[:6]
    cli, srv = f"dkc{tag}", f"dks{tag}"
    hosts = Path("/etc/netns") / cli
    servers: list[subprocess.Popen[bytes]] = []
    try:
        sh("ip", "netns", "add", cli)
        sh("ip", "netns", "add", srv)
        sh("ip", "link", "add", f"c{tag}", "netns", cli, "type", "veth", "peer", "name", f"s{tag}", "netns", srv)
        for ns, dev, v6, v4 in ((cli, f"c{tag}", "fd00:d0c::1", "10.231.0.1"), (srv, f"s{tag}", SERVER_V6, SERVER_V4)):
            sh("ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            sh("ip", "-n", ns, "addr", "add", f"{v4}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        hosts.mkdir(parents=True, exist_ok=True)
        (hosts / "hosts").write_text(
            f"127.0.0.1 localhost\n{SERVER_V6} v6only.dokiem.test dual.dokiem.test\n{SERVER_V4} dual.dokiem.test\n"
        )
        for listen in (f"[{SERVER_V6}]:{PORT}", f"{SERVER_V4}:{PORT}"):
            servers.append(subprocess.Popen(["ip", "netns", "exec", srv, sys.executable, "-m", "dokiem",
                                             "testserver", "--listen", listen], cwd=REPO,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        for address in (f"[{SERVER_V6}]", SERVER_V4):
            probe = f"import urllib.request as u; u.urlopen('http://{address}:{PORT}/backend/empty.php', timeout=1)"
            _wait(["ip", "netns", "exec", cli, sys.executable, "-c", probe])
        yield cli
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        shutil.rmtree(hosts, ignore_errors=True)
        for ns in (cli, srv):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _wait(command: list[str]) -> None:
    for _ in range(200):
        if subprocess.run(command, capture_output=True).returncode == 0:
            return
    raise AssertionError(f"never answered: {' '.join(command)}")


def _measure(namespace: str, url: str, *extra: str) -> list[Result]:
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-m", "dokiem", "--lang", "en", "measure", "--server",
         url, "--ping-count", "0", "--max-seconds", "3", "--json", "-q", *extra],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return [Result.from_json(line) for line in done.stdout.splitlines() if line.strip()]


def test_a_server_reachable_only_over_ipv6_is_measured_and_tagged(namespaces: str) -> None:
    (result,) = _measure(namespaces, f"http://v6only.dokiem.test:{PORT}/")
    assert result.error is None and result.download_mbps and result.upload_mbps
    assert result.ip_version == 6
    line = result_line(result)
    assert line is not None and ",ip_version=6" in line  # the tag the dashboards filter by


def test_a_dual_stack_server_with_both_gives_a_result_per_family(namespaces: str) -> None:
    results = _measure(namespaces, f"http://dual.dokiem.test:{PORT}/", "--ip-version", "both")
    assert [r.ip_version for r in results] == [6, 4]
    assert all(r.error is None and r.download_mbps for r in results)
    assert len({r.result_id for r in results}) == 2
    (forced,) = _measure(namespaces, f"http://dual.dokiem.test:{PORT}/", "--ip-version", "4")
    assert forced.ip_version == 4 and forced.error is None
    (auto,) = _measure(namespaces, f"http://dual.dokiem.test:{PORT}/")
    assert auto.ip_version == 6  # happy eyeballs prefers IPv6 when it answers
    assert json.loads(auto.to_json())["ip_version"] == 6

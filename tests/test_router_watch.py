"""The agent knows its line (issue 23): an office LAN (the agent and a staff computer on a bridge behind
the router namespace), the router running Debian's miniupnpd (UPnP IGD) and snmpd (IF-MIB), the agent in
its own namespace whose default route carries the test. A quiet line is measured at once and never
flagged; the staff's traffic is seen at the router, the run deferred, then measured flagged; the cross
traffic it records is what the staff namespace moved."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dokiem.agent.outbox import Outbox
from dokiem.contract import Flag, Result
from testkit.agentkit import write_config
from testkit.officelab import COMMUNITY, HOSTILE_SSDP, TESTSERVER, router_section, serve_office
from testkit.pathlab import GATEWAY_IP, SERVER_IP, STAFF_IP, PathLab, PathShape, path_lab
from testkit.processes import REPO

LINE = PathShape(down_mbps=50, up_mbps=20, one_way_ms=5, buffer_ms=50)
STAFF_MBPS = 12  # a staff computer's download, constant (UDP): a quarter of the line


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PathLab]:
    folder = tmp_path_factory.mktemp("router")
    with path_lab("dkr", LINE, staff=True) as lab:
        serve_office(lab, folder)
        yield lab


def _agent_once(lab: PathLab, folder: Path, router: dict[str, object], *extra: str) -> tuple[Result, str]:
    """``dokiem agent once`` in the agent's namespace (no broker: the Result stays in its outbox)."""
    config = write_config(folder, "mqtt://127.0.0.1:1", measure={"servers": [TESTSERVER], "ping_count": 0},
                          site={"plan_down_mbps": LINE.down_mbps, "plan_up_mbps": LINE.up_mbps},
                          router={"max_defers": 1, "defer_minutes": 0.02, **router})  # fmt: skip
    done = subprocess.run(lab.exec(lab.client, sys.executable, "-m", "dokiem", "agent", "once", "--send-timeout", "1",
                                   "--config", str(config), *extra), capture_output=True, text=True, timeout=240,
                          cwd=REPO)  # fmt: skip
    outbox = Outbox(folder / "data" / "outbox.db")
    (queued,) = outbox.oldest()
    outbox.close()
    return Result.from_json(queued.payload), done.stdout + done.stderr


def _staff_rx(lab: PathLab) -> int:
    assert lab.staff is not None
    return int(subprocess.run(lab.exec(lab.staff, "cat", f"/sys/class/net/{lab.staff_interface}/statistics/rx_bytes"),
                              capture_output=True, text=True, check=True).stdout)  # fmt: skip


@pytest.mark.parametrize("router", ["upnp", "snmp", "snmpv3"])
def test_a_quiet_office_line_is_measured_at_once_and_not_flagged(office: PathLab, tmp_path: Path, router: str) -> None:
    result, said = _agent_once(office, tmp_path, router_section(office, router))
    assert result.error is None, said
    assert result.method.traffic_source == router.removesuffix("v3") and result.method.deferred == 0, said
    assert Flag.CROSS_TRAFFIC not in result.flags
    assert result.cross_traffic_down_mbps is not None and result.cross_traffic_down_mbps < 0.1 * LINE.down_mbps


@pytest.mark.parametrize("rate", [10, 50])
def test_a_quiet_line_watched_at_the_agents_own_port_is_not_flagged(office: PathLab, tmp_path: Path, rate: int) -> None:
    """No router source: the agent's default interface carries the test, through the gateway; every byte
    the test moved (warm-up, probes, headers, ACKs) is its own."""
    office.reshape(PathShape(down_mbps=rate, up_mbps=rate, one_way_ms=LINE.one_way_ms, buffer_ms=LINE.buffer_ms))
    try:
        result, said = _agent_once(office, tmp_path, router_section(office, "none"))
    finally:
        office.reshape(LINE)
    assert result.error is None, said
    assert result.method.traffic_source == "interface" and Flag.CROSS_TRAFFIC not in result.flags, said


@pytest.mark.parametrize("router", ["upnp", "snmp"])
def test_a_busy_line_is_deferred_then_measured_flagged_with_the_staffs_traffic(
    office: PathLab, tmp_path: Path, router: str
) -> None:
    assert office.staff is not None
    staff = office.spawn(office.staff, "iperf3", "-c", SERVER_IP, "-B", STAFF_IP, "-u", "-R", "-b", f"{STAFF_MBPS}M",
                         "-t", "120", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        t0, rx0 = time.monotonic(), _staff_rx(office)
        result, said = _agent_once(office, tmp_path, router_section(office, router))
        staff_mbps = (_staff_rx(office) - rx0) * 8 / (time.monotonic() - t0) / 1e6
    finally:
        staff.terminate()
        staff.wait(10)
    assert result.error is None, said
    assert result.method.deferred == 1 and Flag.CROSS_TRAFFIC in result.flags, said
    assert result.cross_traffic_down_mbps is not None
    assert abs(result.cross_traffic_down_mbps / staff_mbps - 1) <= 0.10, (result.cross_traffic_down_mbps, staff_mbps)


@pytest.mark.parametrize("router", ["upnp", "snmp"])
def test_own_and_others_add_up_to_no_more_than_the_line_beside_a_staff_download(
    office: PathLab, tmp_path: Path, router: str
) -> None:
    """A staff computer downloading over TCP the whole time (it yields to the test, then takes the line back):
    others' traffic is read over the very window each figure is, so the two add up to the line at most."""
    assert office.staff is not None
    staff = office.spawn(office.staff, "iperf3", "-c", SERVER_IP, "-B", STAFF_IP, "-R", "-t", "120",
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        result, said = _agent_once(office, tmp_path, router_section(office, router))
    finally:
        staff.terminate()
        staff.wait(10)
    assert result.error is None and Flag.ROUTER_UNUSABLE not in result.flags, said
    assert result.download_mbps is not None and result.cross_traffic_down_mbps is not None
    others = result.cross_traffic_down_mbps
    assert others > 0.1 * LINE.down_mbps and Flag.CROSS_TRAFFIC in result.flags, said  # the staff is seen
    assert result.download_mbps + others <= 1.05 * LINE.down_mbps, (result.download_mbps, others)


def test_a_router_counting_less_than_the_run_itself_is_said_unusable(office: PathLab, tmp_path: Path) -> None:
    """Counters of another interface than the line (the router's loopback): less than the run's own bytes."""
    section = router_section(office, "snmp") | {"snmp_interface": "lo"}
    result, said = _agent_once(office, tmp_path, section)
    assert result.error is None and result.download_mbps is not None and result.upload_mbps is not None, said
    assert Flag.ROUTER_UNUSABLE in result.flags and Flag.CROSS_TRAFFIC not in result.flags, said
    assert result.cross_traffic_down_mbps is None and result.cross_traffic_up_mbps is None
    assert result.method.traffic_source == "snmp"


def test_agent_check_says_which_source_it_found(office: PathLab, tmp_path: Path) -> None:
    for router, expected in (("upnp", "UPnP IGD"), ("snmp", "SNMP"), ("none", "cổng mạng của máy đo")):
        config = write_config(tmp_path / router, "mqtt://127.0.0.1:1", measure={"servers": [TESTSERVER]},
                              router=router_section(office, router))  # fmt: skip
        check = office.exec(office.client, sys.executable, "-m", "dokiem", "agent", "check", "--config", str(config))
        done = subprocess.run(check, capture_output=True, text=True, timeout=60, cwd=REPO)
        assert done.returncode == 0 and expected in done.stdout, done.stdout + done.stderr
        assert COMMUNITY not in done.stdout + done.stderr  # a secret is never said


def test_only_the_gateways_own_answer_is_followed_and_its_description_is_capped(
    office: PathLab, tmp_path: Path
) -> None:
    """Issue 38: any device on the LAN answers the SSDP search; the agent took the first answer and downloaded its
    LOCATION whole (100 MiB: 274 MB of memory). Now only the default route's gateway is followed."""
    assert office.staff is not None
    log = tmp_path / "asked.log"
    log.touch()
    hostile = office.spawn(office.staff, sys.executable, "-c", HOSTILE_SSDP, STAFF_IP, "8899", str(100 << 20), str(log),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        assert hostile.stdout is not None and hostile.stdout.readline().strip() == b"ready"
        config = write_config(tmp_path, "mqtt://127.0.0.1:1", measure={"servers": [TESTSERVER]},
                              router=router_section(office, "upnp"))  # fmt: skip
        check = office.exec(office.client, sys.executable, "-m", "dokiem", "agent", "check", "--config", str(config))
        done = subprocess.run(check, capture_output=True, text=True, timeout=60, cwd=REPO)
    finally:
        hostile.terminate()
        hostile.wait(10)
    assert done.returncode == 0 and f"UPnP IGD (http://{GATEWAY_IP}:" in done.stdout, done.stdout + done.stderr
    assert log.read_text() == ""  # the LAN device's description was never asked for

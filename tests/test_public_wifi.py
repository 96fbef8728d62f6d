"""Public Wi-Fi as a service (issue 23): the hotspot's radio from nl80211's answers, a sign-in page caught
before a test, and Wi-Fi not held against a hotspot's runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyroute2.netlink.nl80211 import nl80211cmd

from dokiem.agent.measure import MeasureRequest, _Collected, _flags
from dokiem.agent.outbox import Outbox
from dokiem.agent.probes.wifi import channel_of, wifi_radio
from dokiem.agent.servers import configured_server
from dokiem.contract import Access, ErrorCode, Flag, Result, Site, Technology
from dokiem.fleet import ServerEntry
from testkit.agentkit import write_config
from testkit.pathlab import SERVER_IP, PathLab, PathShape, path_lab
from testkit.portal import PORTAL_PAGE
from testkit.processes import DOKIEM, REPO

ANSWERS = Path(__file__).parent / "data" / "nl80211"
TESTSERVER = f"http://{SERVER_IP}:8080/"
PORTAL = f"http://{SERVER_IP}:8081/generate_204"
OPEN = f"http://{SERVER_IP}:8082/generate_204"
HOTSPOT_LINE = PathShape(down_mbps=30, up_mbps=10, one_way_ms=5, buffer_ms=50)


def _answer(name: str) -> list[nl80211cmd]:
    msg = nl80211cmd((ANSWERS / name).read_bytes())
    msg.decode()
    return [msg]


@pytest.mark.parametrize(("band", "ssid", "channel", "signal", "bitrate"), [
    ("5ghz", "ThanhHoa-Free-WiFi", 36, -61.0, 433.3), ("24ghz", "Benh vien Da khoa", 6, -74.0, 72.2)])  # fmt: skip
def test_the_hotspots_radio_is_read_from_nl80211s_answers(
    band: str, ssid: str, channel: int, signal: float, bitrate: float
) -> None:
    radio = wifi_radio(_answer(f"interface-{band}.bin"), _answer(f"station-{band}.bin"))
    assert radio.technology is Technology.WIFI and radio.missing is None
    assert (radio.ssid, radio.channel, radio.signal_dbm, radio.bitrate_mbps) == (ssid, channel, signal, bitrate)
    assert radio.band == {"5ghz": "5GHz", "24ghz": "2.4GHz"}[band]


def test_an_interface_not_associated_says_so() -> None:
    radio = wifi_radio([], [])
    assert (
        radio.technology is Technology.WIFI and radio.missing == "the interface is not associated with an access point"
    )


@pytest.mark.parametrize(("freq", "channel"), [(2412, 1), (2472, 13), (2484, 14), (5745, 149), (5955, 1), (900, None)])
def test_channels_follow_802_11s_numbering(freq: int, channel: int | None) -> None:
    assert channel_of(freq) == channel


def _request(access: Access) -> MeasureRequest:
    server = configured_server(ServerEntry(url=TESTSERVER))
    return MeasureRequest(server=server, site=Site(access=access, isp="VNPT"))


@pytest.mark.parametrize("access", [Access.PUBLIC_WIFI, Access.FIXED])
def test_wifi_is_the_service_at_a_hotspot_and_a_flaw_elsewhere(access: Access) -> None:
    flags = _flags(_request(access), _Collected(), [Flag.WIFI])
    assert (Flag.WIFI in flags) is (access is not Access.PUBLIC_WIFI)


@pytest.fixture
def hotspot() -> Iterator[PathLab]:
    with path_lab("dkw", HOTSPOT_LINE) as lab:
        lab.spawn(lab.server, sys.executable, "-m", "dokiem", "testserver", "--listen", f"{SERVER_IP}:8080",
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)  # fmt: skip
        for port, mode in ((8081, "portal"), (8082, "open")):
            lab.spawn(lab.server, sys.executable, "-m", "testkit.portal", "--listen", f"{SERVER_IP}:{port}", "--mode",
                      mode, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)  # fmt: skip
        lab.wait_reachable(f"{TESTSERVER}healthz")
        lab.wait_reachable(OPEN)
        lab.wait_reachable(PORTAL)
        yield lab


def _once(lab: PathLab, tmp_path: Path, check_url: str) -> Result:
    config = write_config(tmp_path / "agent", "mqtt://127.0.0.1:1",
                          measure={"servers": [TESTSERVER], "ping_count": 0, "portal_check_url": check_url},
                          site={"province_code": "38", "commune_code": "14755", "isp": "VNPT",
                                "access": "public_wifi"})  # fmt: skip
    done = subprocess.run(lab.exec(lab.client, *DOKIEM, "--lang", "en", "agent", "once", "--send-timeout", "1",
                                   "--config", str(config)), capture_output=True, text=True, timeout=120,
                          cwd=REPO)  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    outbox = Outbox(tmp_path / "agent" / "data" / "outbox.db")  # no broker: the Result stays in the outbox
    (queued,) = outbox.oldest()
    outbox.close()
    return Result.from_json(queued.payload)


def test_a_sign_in_page_fails_the_run_clearly_and_an_open_line_is_measured(hotspot: PathLab, tmp_path: Path) -> None:
    behind = _once(hotspot, tmp_path / "portal", PORTAL)
    assert behind.error is not None and behind.error.code == ErrorCode.CAPTIVE_PORTAL
    assert PORTAL_PAGE in behind.error.message and behind.download_mbps is None
    open_line = _once(hotspot, tmp_path / "open", OPEN)
    assert open_line.error is None and open_line.download_mbps is not None
    assert open_line.radio is not None and open_line.radio.missing  # the lab's veth is not a wireless interface

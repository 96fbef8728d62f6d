"""Public Wi-Fi as the service measured: the hotspot's radio, and its sign-in page caught before a test.

At a hotspot the plan provides (a tourist site, a hospital, a bus station) the Wi-Fi is not a flaw to
leave out but the thing measured, so the agent records what it joined: the SSID, the signal in dBm, the
bitrate and the channel, from the kernel's nl80211 (pyroute2, the ``wifi`` extra). Many hotspots first
show a sign-in page (a captive portal): every request is answered by it, so a speed test behind one
would measure the portal. The agent asks a ``generate_204`` address first, as phones do; any answer but
an empty 204 is a portal, and the run ends as a clear failure, not as a slow line.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from dokiem.agent.probes.system import default_interface, is_wireless
from dokiem.agent.probes.wire import HttpFailure, open_connection
from dokiem.agent.servers import Endpoint
from dokiem.contract import Radio, Technology

PORTAL_TIMEOUT_S = 5.0
_BANDS = ((2400, 2500, "2.4GHz"), (4900, 5900, "5GHz"), (5925, 7125, "6GHz"))


def channel_of(freq_mhz: int) -> int | None:
    """The channel number of a centre frequency (802.11: 2.4 GHz from 2407 MHz, 5 GHz from 5000, 6 GHz from 5950)."""
    if freq_mhz == 2484:
        return 14
    if 2412 <= freq_mhz <= 2472:
        return (freq_mhz - 2407) // 5
    if 5000 < freq_mhz <= 5900:
        return (freq_mhz - 5000) // 5
    if 5950 < freq_mhz <= 7115:
        return (freq_mhz - 5950) // 5
    return None


def band_of(freq_mhz: int) -> str | None:
    return next((name for low, high, name in _BANDS if low <= freq_mhz <= high), None)


def wifi_radio(interface: list[Any], stations: list[Any]) -> Radio:
    """A Radio from nl80211's answers (pyroute2's messages): GET_INTERFACE gives the SSID and frequency,
    GET_STATION (the access point we are associated with) the signal and the transmit bitrate."""
    fields: dict[str, Any] = {"technology": Technology.WIFI}
    for msg in interface:
        ssid, freq = msg.get_attr("NL80211_ATTR_SSID"), msg.get_attr("NL80211_ATTR_WIPHY_FREQ")
        if ssid:
            fields["ssid"] = ssid
        if freq:
            fields["channel"], fields["band"] = channel_of(int(freq)), band_of(int(freq))
    for msg in stations[:1]:
        info = msg.get_attr("NL80211_ATTR_STA_INFO")
        if info is None:
            continue
        signal = info.get_attr("NL80211_STA_INFO_SIGNAL")
        if signal is not None and signal < 0:
            fields["signal_dbm"] = float(signal)
        rate = info.get_attr("NL80211_STA_INFO_TX_BITRATE")
        if rate is not None:
            units = rate.get_attr("NL80211_RATE_INFO_BITRATE32") or rate.get_attr("NL80211_RATE_INFO_BITRATE")
            if units:
                fields["bitrate_mbps"] = units / 10  # in 100 kbit/s
    if "ssid" not in fields:
        fields["missing"] = "the interface is not associated with an access point"
    return Radio.read_as(fields)


class WifiRadio:
    """The Wi-Fi the agent's default route leaves by (or ``interface``), read after the run."""

    def __init__(self, interface: str | None = None) -> None:
        self.interface = interface

    async def prepare(self) -> None:
        return None

    async def read(self) -> Radio:
        interface = self.interface or default_interface()
        if interface is None:
            return Radio(missing="no default route")
        if not is_wireless(interface):
            return Radio(missing=f"{interface} is not a wireless interface")
        try:
            return await asyncio.to_thread(_read_nl80211, interface)
        except ImportError:
            return Radio(missing="pyroute2 is not installed: pip install 'dokiem[wifi]'")
        except Exception as exc:  # the run goes on without its radio
            return Radio(missing=f"nl80211 could not be read on {interface}: {str(exc)[:200]}")


def _read_nl80211(interface: str) -> Radio:
    from pyroute2 import IW

    index = socket.if_nametoindex(interface)
    with IW() as iw:
        return wifi_radio(list(iw.get_interface_by_ifindex(index)), list(iw.get_stations(index)))


async def captive_portal(url: str, timeout: float = PORTAL_TIMEOUT_S) -> str | None:
    """Why the line is behind a sign-in page (None where ``url`` answers an empty 204, or cannot be reached:
    a line with no way out fails the test itself, with its own error)."""
    endpoint = Endpoint.parse(url)
    try:
        conn = await open_connection(endpoint, timeout)
    except HttpFailure:
        return None
    try:
        async with asyncio.timeout(timeout):
            answer = await conn.exchange("GET", endpoint.target)
    except (HttpFailure, TimeoutError):
        return None
    finally:
        conn.close()
    if answer.head.status == 204 and answer.body_bytes == 0:
        return None
    where = answer.head.header("location")
    sent_to = f", to {where[:200]}" if where else ""
    return f"{url} answered {answer.head.status}{sent_to} where an empty 204 was due: a sign-in page (captive portal)"

"""Writes tests/data/nl80211/: the kernel's nl80211 answers a hotspot agent reads (GET_INTERFACE, GET_STATION).

This machine has no Wi-Fi and its kernel no mac80211_hwsim, so the answers are built byte for byte as the
kernel lays them out (netlink header, genetlink header, nl80211 attributes, nested station info) by
pyroute2's encoder, with the values of a 5 GHz hotspot (802.11ac, a VHT bitrate in BITRATE32) and of a
2.4 GHz one (802.11n, the 16-bit BITRATE). The agent decodes them with the same pyroute2 decoder it uses
on a live socket. On an agent with Wi-Fi, ``--record IFNAME`` saves the live answers instead.

    .venv-test/bin/python scripts/nl80211_answers.py [--record wlan0]
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any

from pyroute2.netlink.nl80211 import NL80211_NAMES, nl80211cmd

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "nl80211"
FAMILY_ID = 0x1C  # the id the kernel gave nl80211 on the machine the answers stand for (it varies)


def encode(cmd: str, attrs: list[Any]) -> bytes:
    msg = nl80211cmd()
    msg["cmd"], msg["version"], msg["attrs"] = NL80211_NAMES[cmd], 1, attrs
    msg["header"]["type"], msg["header"]["flags"] = FAMILY_ID, 0
    msg.encode()
    return bytes(msg.data[: msg["header"]["length"]])


def hotspot(ssid: str, freq: int, signal: int, rate: tuple[str, int]) -> tuple[bytes, bytes]:
    interface = encode(
        "NL80211_CMD_NEW_INTERFACE",
        [
            ["NL80211_ATTR_IFINDEX", 3],
            ["NL80211_ATTR_IFNAME", "wlan0"],
            ["NL80211_ATTR_IFTYPE", 2],
            ["NL80211_ATTR_MAC", "dc:a6:32:01:02:03"],
            ["NL80211_ATTR_SSID", ssid],
            ["NL80211_ATTR_WIPHY_FREQ", freq],
        ],
    )
    station = encode("NL80211_CMD_NEW_STATION", [
        ["NL80211_ATTR_IFINDEX", 3], ["NL80211_ATTR_MAC", "60:32:b1:aa:bb:cc"],
        ["NL80211_ATTR_STA_INFO", {"attrs": [["NL80211_STA_INFO_SIGNAL", signal],
                                             ["NL80211_STA_INFO_TX_BITRATE", {"attrs": [list(rate)]}]]}]])  # fmt: skip
    return interface, station


def record(interface: str) -> tuple[bytes, bytes]:
    from pyroute2 import IW

    index = socket.if_nametoindex(interface)
    with IW() as iw:
        (iface,) = iw.get_interface_by_ifindex(index)
        station = next(iter(iw.get_stations(index)))
        return bytes(iface.data[: iface["header"]["length"]]), bytes(station.data[: station["header"]["length"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", metavar="IFNAME", help="save this interface's live answers as 'recorded'")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    answers = {"5ghz": hotspot("ThanhHoa-Free-WiFi", 5180, -61, ("NL80211_RATE_INFO_BITRATE32", 4333)),
               "24ghz": hotspot("Benh vien Da khoa", 2437, -74, ("NL80211_RATE_INFO_BITRATE", 722))}  # fmt: skip
    if args.record:
        answers["recorded"] = record(args.record)
    for name, (interface, station) in answers.items():
        (OUT / f"interface-{name}.bin").write_bytes(interface)
        (OUT / f"station-{name}.bin").write_bytes(station)
        print(f"wrote {OUT}/interface-{name}.bin, station-{name}.bin")


if __name__ == "__main__":
    main()

"""ModemManager as a mobile agent meets it, on a private bus: python-dbusmock's ``modemmanager`` template.

A D-Bus daemon of its own (``dbus-daemon``, Debian's) stands in for the system bus; the agent finds it
through ``DBUS_SYSTEM_BUS_ADDRESS``. The mock runs under Debian's Python, which has dbus-python and
PyGObject (the mock's own dependencies, not installable from PyPI without a compiler and GLib's headers),
with the PyPI release of python-dbusmock (Debian's has no ``modemmanager`` template) from the tests'
virtual env. A modem is added as the template adds it, then given the ``Signal`` and ``Modem3gpp``
properties and the ``GetCellInfo`` answer of the network the test names.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from testkit.processes import wait_until_ready

SYSTEM_PYTHON = "/usr/bin/python3"
MM = "org.freedesktop.ModemManager1"
MM_PATH = "/org/freedesktop/ModemManager1"
MODEM = f"{MM}.Modem"
MOCK = "org.freedesktop.DBus.Mock"
LTE, NR5G = 1 << 14, 1 << 15
GPS_RAW, GPS_NMEA = 1 << 1, 1 << 2  # MMModemLocationSource
HOME, SEARCHING = 1, 2  # MMModem3gppRegistrationState


@dataclass(frozen=True)
class Cell:
    """A network as the modem sees it."""

    access_technologies: int  # MMModemAccessTechnology bits (5G NSA: LTE | 5GNR)
    operator_code: str  # MCC MNC as ModemManager gives it: "45204"
    operator_name: str
    band: int  # MMModemBand: EUTRAN_3 = 33, NGRAN_78 = 378
    rsrp: float
    rsrq: float
    snr: float
    ci: str = "1A2B3C"
    tac: str = "04D2"


VIETTEL_4G = Cell(LTE, "45204", "Viettel", 33, rsrp=-97.0, rsrq=-11.0, snr=9.5)
VINAPHONE_5G = Cell(LTE | NR5G, "45202", "VinaPhone", 378, rsrp=-84.0, rsrq=-10.0, snr=18.0, ci="2F0C11", tac="1F4")


@dataclass
class ModemManagerMock:
    address: str  # the private bus, as DBUS_SYSTEM_BUS_ADDRESS

    def call(self, path: str, interface: str, method: str, signature: str = "", body: tuple[Any, ...] = ()) -> Any:
        with open_dbus_connection(self.address) as conn:
            target = DBusAddress(path, bus_name=MM, interface=interface)
            return unwrap_msg(conn.send_and_get_reply(new_method_call(target, method, signature, body), timeout=10))

    def add_modem(self, cell: Cell) -> str:
        """The template's simple modem, on ``cell``'s network with its signal sampled and its serving cell."""
        (path, _) = self.call(MM_PATH, MOCK, "AddSimpleModem")
        self.call(
            path, MOCK, "UpdateProperties", "sa{sv}", (MODEM, {"AccessTechnologies": ("u", cell.access_technologies)})
        )
        self.call(path, MOCK, "AddProperty", "ssv", (MODEM, "CurrentBands", ("au", [cell.band])))
        self.call(
            path,
            MOCK,
            "UpdateProperties",
            "sa{sv}",
            (
                f"{MODEM}.Modem3gpp",
                {"OperatorCode": ("s", cell.operator_code), "OperatorName": ("s", cell.operator_name)},
            ),
        )
        readings = {"rsrp": ("d", cell.rsrp), "rsrq": ("d", cell.rsrq), "snr": ("d", cell.snr)}
        self.call(
            path,
            MOCK,
            "AddProperties",
            "sa{sv}",
            (
                f"{MODEM}.Signal",
                {
                    "Rate": ("u", 0),
                    "Lte": ("a{sv}", readings if cell.access_technologies == LTE else {}),
                    "Nr5g": ("a{sv}", readings if cell.access_technologies & NR5G else {}),
                },
            ),
        )
        # Setup(rate) starts the sampling, as ModemManager's does
        self.call(
            path,
            MOCK,
            "AddMethod",
            "sssss",
            (f"{MODEM}.Signal", "Setup", "u", "", f"self.Set('{MODEM}.Signal', 'Rate', args[0])"),
        )
        cells = f"ret = [{{'serving': True, 'ci': '{cell.ci}', 'tac': '{cell.tac}'}}]"
        self.call(path, MOCK, "AddMethod", "sssss", (MODEM, "GetCellInfo", "", "aa{sv}", cells))  # fmt: skip
        return str(path)

    def add_gnss(self, path: str, sim_operator: str) -> None:
        """A modem with GNSS, as a surveying agent has one: ModemManager's ``Location`` interface (raw GPS and
        NMEA; ``GetLocation`` answers the fix the test last gave with ``move``), and the SIM's home network."""
        location = f"{MODEM}.Location"
        properties = {"Capabilities": ("u", GPS_RAW | GPS_NMEA), "Enabled": ("u", 0), "SignalsLocation": ("b", False)}
        self.call(path, MOCK, "AddProperties", "sa{sv}", (location, properties))
        self.call(path, MOCK, "AddMethod", "sssss", (location, "Setup", "ub", "",
                                                       f"self.Set('{location}', 'Enabled', args[0])"))  # fmt: skip
        answer = ("ret = {dbus.UInt32(2): dbus.Dictionary(self.fix_raw, signature='sv', variant_level=1),"
                  " dbus.UInt32(4): dbus.String(self.fix_nmea, variant_level=1)} if getattr(self, 'fix_raw', None)"
                  " else dbus.Dictionary({}, signature='uv')")  # fmt: skip
        self.call(path, MOCK, "AddMethod", "sssss", (location, "GetLocation", "", "a{uv}", answer))
        self.call(path, MOCK, "AddMethod", "sssss", (MOCK, "MoveTo", "ddsd", "",
                  "self.fix_raw = {'latitude': dbus.Double(args[0]), 'longitude': dbus.Double(args[1]),"
                  " 'utc-time': dbus.String(args[2])}; self.fix_nmea = '$GPGGA,%s,,,,,1,09,%.1f,12.0,M,,,,*00' %"
                  " (args[2], args[3])"))  # fmt: skip
        self.call(path, MOCK, "AddProperty", "ssv", (f"{MODEM}.Modem3gpp", "RegistrationState", ("u", HOME)))
        (sim,) = self.call(path, "org.freedesktop.DBus.Properties", "Get", "ss", (MODEM, "Sim"))
        self.call(str(sim[1]), MOCK, "AddProperty", "ssv", (f"{MM}.Sim", "OperatorIdentifier", ("s", sim_operator)))

    def move(self, path: str, lat: float, lon: float, utc_time: str, hdop: float = 0.9) -> None:
        """The GNSS's next fix: where, at what ``hhmmss.ss`` UTC, with what HDOP."""
        self.call(path, MOCK, "MoveTo", "ddsd", (lat, lon, utc_time, hdop))

    def network(self, path: str, cell: Cell | None, registration: int) -> None:
        """The modem on ``cell``'s network (None: no network) with the 3GPP registration state given."""
        technologies = cell.access_technologies if cell else 0
        self.call(path, MOCK, "UpdateProperties", "sa{sv}", (MODEM, {"AccessTechnologies": ("u", technologies)}))
        self.call(path, MOCK, "UpdateProperties", "sa{sv}", (f"{MODEM}.Modem3gpp", {
            "OperatorCode": ("s", cell.operator_code if cell else ""),
            "OperatorName": ("s", cell.operator_name if cell else ""),
            "RegistrationState": ("u", registration)}))  # fmt: skip
        readings = {"rsrp": ("d", cell.rsrp), "rsrq": ("d", cell.rsrq), "snr": ("d", cell.snr)} if cell else {}
        self.call(path, MOCK, "UpdateProperties", "sa{sv}", (f"{MODEM}.Signal", {
            "Lte": ("a{sv}", readings if cell and cell.access_technologies == LTE else {}),
            "Nr5g": ("a{sv}", readings if cell and cell.access_technologies & NR5G else {})}))  # fmt: skip

    def signal_rate(self, path: str) -> int:
        """The ``Signal`` interface's sampling rate (0 until someone called Setup)."""
        (value,) = self.call(path, "org.freedesktop.DBus.Properties", "Get", "ss", (f"{MODEM}.Signal", "Rate"))
        return int(value[1])


def _owned(address: str, name: str) -> bool:
    with contextlib.suppress(OSError), open_dbus_connection(address) as conn:
        (owned,) = unwrap_msg(conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=5))
        return bool(owned)
    return False


@contextlib.contextmanager
def private_bus(folder: Path) -> Iterator[str]:
    """A D-Bus daemon of its own; yields its address."""
    socket_path = folder / "system_bus_socket"
    address = f"unix:path={socket_path}"
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address={address}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_until_ready(lambda: _owned(address, "org.freedesktop.DBus"), daemon, "dbus-daemon", 20)
        yield address
    finally:
        daemon.terminate()
        daemon.wait(10)


@contextlib.contextmanager
def modemmanager(address: str) -> Iterator[ModemManagerMock]:
    """ModemManager with no modem yet, on the bus at ``address``."""
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    mock = subprocess.Popen([SYSTEM_PYTHON, "-m", "dbusmock", "--system", "--template", "modemmanager"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_until_ready(lambda: _owned(address, MM), mock, "the ModemManager mock", 30)
        yield ModemManagerMock(address)
    finally:
        mock.terminate()
        mock.wait(10)

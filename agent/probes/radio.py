"""The radio a run went over: a mobile modem's network, cell and signal, from ModemManager over D-Bus.

A figure from a 4G dongle cannot be read without its radio: a weak signal is not a slow network. The
agent asks ModemManager (``org.freedesktop.ModemManager1`` on the system bus; jeepney, pure Python) for
the first modem's operator, access technology, bands, cell and, once the ``Signal`` interface samples,
RSRP, RSRQ and SINR. Sampling is switched on before the run and read after it, so the signal is the
one the run saw. Without ModemManager the run goes on and its ``radio.missing`` says why.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from dokiem.contract import Radio, Technology
from dokiem.survey import Registration

log = logging.getLogger(__name__)

MM = "org.freedesktop.ModemManager1"
MM_PATH = "/org/freedesktop/ModemManager1"
MODEM = f"{MM}.Modem"
MODEM_3GPP = f"{MODEM}.Modem3gpp"
SIGNAL = f"{MODEM}.Signal"
SIM = f"{MM}.Sim"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
SIGNAL_RATE_S = 2  # ModemManager samples the signal this often once Setup is called
TIMEOUT_S = 5.0

# MMModemAccessTechnology bits, newest first: a 5G NSA modem reports LTE and 5GNR together, and is 5G
_TECHNOLOGY_BITS = (
    (1 << 15, Technology.G5),
    ((1 << 14) | (1 << 16) | (1 << 17), Technology.G4),
    (0b11_1110_0000, Technology.G3),  # UMTS, HSDPA, HSUPA, HSPA, HSPA+
    (0b1_1110, Technology.G2),  # GSM, GSM compact, GPRS, EDGE
)


class RadioReader(Protocol):
    """Where a run's radio comes from: ``prepare`` before the run, ``read`` after it."""

    async def prepare(self) -> None: ...

    async def read(self) -> Radio: ...


def technology(bits: int) -> Technology | None:
    """ModemManager's access-technology bit mask as the generation the report splits by."""
    return next((tech for mask, tech in _TECHNOLOGY_BITS if bits & mask), None)


def band_name(band: int) -> str | None:
    """MMModemBand as operators name it: EUTRAN_3 (33) is B3, NGRAN_78 (378) is n78."""
    if 31 <= band <= 115:
        return f"B{band - 30}"
    if 301 <= band <= 599:
        return f"n{band - 300}"
    return None


def operator_code(mccmnc: str) -> str | None:
    """``45204`` as ``452-04`` (Vietnam's MNCs have two digits; three where the MCC-MNC has six)."""
    if not mccmnc.isdigit() or len(mccmnc) not in (5, 6):
        return None
    return f"{mccmnc[:3]}-{mccmnc[3:]}"


def _value(props: dict[str, Any], name: str) -> Any:
    """A property's value (jeepney hands variants as (signature, value))."""
    got = props.get(name)
    return got[1] if isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], str) else got


def _signal(props: dict[str, Any], tech: Technology | None) -> dict[str, float]:
    """RSRP, RSRQ, SINR and RSSI of the technology the modem is on (ModemManager gives each its own dict)."""
    section = _value(props, "Nr5g" if tech is Technology.G5 else "Lte") or {}
    readings: dict[str, float] = {}
    for key, field in (("rsrp", "rsrp_dbm"), ("rsrq", "rsrq_db"), ("snr", "sinr_db"), ("rssi", "signal_dbm")):
        value = _value(section, key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            readings[field] = round(float(value), 1)
    return readings


def _serving_cell(cells: list[dict[str, Any]]) -> dict[str, str]:
    for cell in cells:
        if _value(cell, "serving"):
            found = {"cell_id": _value(cell, "ci"), "area_code": _value(cell, "tac") or _value(cell, "lac")}
            return {key: str(value) for key, value in found.items() if isinstance(value, str) and value}
    return {}


def modem_radio(objects: dict[str, dict[str, dict[str, Any]]], cells: list[dict[str, Any]]) -> Radio:
    """A Radio from ModemManager's objects (the first modem by path) and the serving cell's info."""
    modems = sorted(path for path, ifaces in objects.items() if MODEM in ifaces)
    if not modems:
        return Radio(missing="ModemManager sees no modem")
    ifaces = objects[modems[0]]
    modem, gpp, signal = ifaces[MODEM], ifaces.get(MODEM_3GPP, {}), ifaces.get(SIGNAL, {})
    tech = technology(int(_value(modem, "AccessTechnologies") or 0))
    bands = [name for band in _value(modem, "CurrentBands") or [] if (name := band_name(int(band)))]
    fields: dict[str, Any] = {
        "technology": tech,
        "operator_code": operator_code(str(_value(gpp, "OperatorCode") or "")),
        "operator_name": str(_value(gpp, "OperatorName") or "").strip() or None,
        "band": bands[0] if len(bands) == 1 else None,  # a modem allowed many bands names none in use
        **_signal(signal, tech),
        **_serving_cell(cells),
    }
    if tech is None:
        fields["missing"] = "the modem is not registered on a network"
    elif "rsrp_dbm" not in fields:
        fields["missing"] = "the modem gave no signal reading"
    return Radio.read_as(fields)


class ModemManagerRadio:
    """The first modem ModemManager manages, on the system bus (``DBUS_SYSTEM_BUS_ADDRESS`` where set)."""

    def __init__(self, bus: str = "SYSTEM") -> None:
        self.bus = bus

    async def prepare(self) -> None:
        try:
            async with asyncio.timeout(TIMEOUT_S):
                await self._setup_signal()
        except Exception as exc:  # the run goes on: read() says what is missing
            log.debug("signal sampling not set up: %s", exc)

    async def read(self) -> Radio:
        try:
            async with asyncio.timeout(TIMEOUT_S):
                return await self._read()
        except TimeoutError:
            return Radio(missing="ModemManager did not answer within 5 s")
        except ImportError:
            return Radio(missing="jeepney is not installed (the agent's D-Bus client)")
        except Exception as exc:
            return Radio(missing=f"ModemManager could not be read: {_short(exc)}")

    async def _read(self) -> Radio:
        from jeepney.io.asyncio import open_dbus_router

        try:
            async with open_dbus_router(bus=self.bus) as router:
                return await _ask(router)
        except (OSError, KeyError) as exc:  # no socket, or no address for the bus
            return Radio(missing=f"no system D-Bus: {_short(exc)}")

    async def _setup_signal(self) -> None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.asyncio import open_dbus_router
        from jeepney.wrappers import unwrap_msg

        async with open_dbus_router(bus=self.bus) as router:
            manager = DBusAddress(MM_PATH, bus_name=MM, interface=OBJECT_MANAGER)
            (objects,) = unwrap_msg(await router.send_and_get_reply(new_method_call(manager, "GetManagedObjects")))
            for path in sorted(path for path, ifaces in objects.items() if SIGNAL in ifaces)[:1]:
                if int(_value(objects[path][SIGNAL], "Rate") or 0) == 0:
                    signal = DBusAddress(path, bus_name=MM, interface=SIGNAL)
                    unwrap_msg(await router.send_and_get_reply(new_method_call(signal, "Setup", "u", (SIGNAL_RATE_S,))))


@dataclass(frozen=True)
class ModemState:
    """What a survey samples of the modem beside its place: registration, the SIM's home network, the radio."""

    registration: Registration
    sim_operator_code: str | None
    radio: Radio


_REGISTRATION = {0: Registration.IDLE, 1: Registration.HOME, 2: Registration.SEARCHING, 3: Registration.DENIED,
                 4: Registration.UNKNOWN, 5: Registration.ROAMING, 9: Registration.HOME,
                 10: Registration.ROAMING}  # fmt: skip


def registration(state: int | None) -> Registration:
    """MMModem3gppRegistrationState in words; SMS-only, emergency-only and the like carry no data: no service."""
    return Registration.UNKNOWN if state is None else _REGISTRATION.get(state, Registration.IDLE)


async def modem_state(bus: str = "SYSTEM") -> ModemState:
    """The first modem's registration, SIM and radio, asked at once (a modem that cannot be read says why)."""
    try:
        async with asyncio.timeout(TIMEOUT_S):
            from jeepney.io.asyncio import open_dbus_router

            async with open_dbus_router(bus=bus) as router:
                return await _ask_state(router)
    except Exception as exc:  # no bus, no ModemManager, a modem gone: the sample says the modem is unknown
        return ModemState(Registration.UNKNOWN, None, Radio(missing=f"ModemManager could not be read: {_short(exc)}"))


async def _ask_state(router: Any) -> ModemState:
    from jeepney import DBusAddress, new_method_call
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg

    seen = await _managed(router)  # the objects the radio is read from are the ones the state is: asked once
    if isinstance(seen, Radio):
        return ModemState(Registration.UNKNOWN, None, seen)
    objects, cells = seen
    radio = modem_radio(objects, cells)
    modems = sorted(path for path, ifaces in objects.items() if MODEM in ifaces)
    if not modems:
        return ModemState(Registration.UNKNOWN, None, radio)
    ifaces = objects[modems[0]]
    state = _value(ifaces.get(MODEM_3GPP, {}), "RegistrationState")
    sim_code = None
    sim_path = _value(ifaces[MODEM], "Sim")
    if sim_path and sim_path != "/":
        properties = DBusAddress(str(sim_path), bus_name=MM, interface="org.freedesktop.DBus.Properties")
        try:
            (value,) = unwrap_msg(await router.send_and_get_reply(
                new_method_call(properties, "Get", "ss", (SIM, "OperatorIdentifier"))))  # fmt: skip
            sim_code = operator_code(str(value[1] if isinstance(value, tuple) else value))
        except DBusErrorResponse:  # a SIM that does not say: its samples name no home network
            sim_code = None
    return ModemState(registration(None if state is None else int(state)), sim_code, radio)


async def _ask(router: Any) -> Radio:
    """ModemManager's view, asked over an open bus: is it there, its modems, the first one's serving cell."""
    seen = await _managed(router)
    return seen if isinstance(seen, Radio) else modem_radio(*seen)


async def _managed(router: Any) -> Radio | tuple[dict[str, dict[str, dict[str, Any]]], list[dict[str, Any]]]:
    """ModemManager's objects and the first modem's cells, asked once; a Radio saying why where it is not running."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.bus_messages import message_bus
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg

    (owned,) = unwrap_msg(await router.send_and_get_reply(message_bus.NameHasOwner(MM)))
    if not owned:
        return Radio(missing="ModemManager is not running")
    manager = DBusAddress(MM_PATH, bus_name=MM, interface=OBJECT_MANAGER)
    (objects,) = unwrap_msg(await router.send_and_get_reply(new_method_call(manager, "GetManagedObjects")))
    cells: list[dict[str, Any]] = []
    modems = sorted(path for path, ifaces in objects.items() if MODEM in ifaces)
    if modems:
        modem = DBusAddress(modems[0], bus_name=MM, interface=MODEM)
        try:
            (cells,) = unwrap_msg(await router.send_and_get_reply(new_method_call(modem, "GetCellInfo")))
        except DBusErrorResponse:  # before ModemManager 1.20, or a modem that does not tell
            cells = []
    return objects, cells


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]

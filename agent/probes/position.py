"""Where a surveying agent is (issue 30): the modem's GNSS through ModemManager, or a GPS through gpsd.

``ModemLocation`` asks ModemManager's ``Modem.Location`` interface (jeepney, as the radio probe does) for
its raw GPS fix and its NMEA sentences: the fix gives the place and the time of the fix, the NMEA its
accuracy (GST's error ellipse where the receiver sends it, else GGA's HDOP times ``UERE_M``). ``GpsdLocation``
reads gpsd's TPV reports (``gpsdclient``, gpsd's JSON protocol on port 2947) in a thread and keeps the last;
gpsd gives the fix's time and its error estimate (``eph``, or ``epx``/``epy``) itself.

Either says "no fix" as None; what a fix is worth (accuracy, age, a jump) is the survey's rule, not theirs.
The modem's registration and SIM, sampled with the place, are the radio probe's (``radio.modem_state``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from dokiem.agent.probes.radio import MM, MM_PATH, MODEM, OBJECT_MANAGER, TIMEOUT_S, _short, _value
from dokiem.survey import Position, PositionSource

log = logging.getLogger(__name__)

LOCATION = f"{MODEM}.Location"
GPS_RAW, GPS_NMEA = 1 << 1, 1 << 2  # MMModemLocationSource
# A receiver's error per unit of HDOP at 95% (a user-equivalent range error of about 5 m, doubled): what GGA's
# HDOP says of the accuracy where the receiver sends no GST sentence
UERE_M = 10.0


class PositionReader(Protocol):
    source: PositionSource

    async def prepare(self) -> str | None:
        """Set the source up; None when it is ready, else why it is not (``agent check`` says it)."""
        ...

    async def read(self) -> Position | None: ...

    def close(self) -> None: ...


def nmea_accuracy(nmea: str) -> float | None:
    """The horizontal error (metres, about 95%) the NMEA sentences give: GST's, else GGA's HDOP × UERE_M."""
    hdop = None
    for line in nmea.replace("\r", "\n").split("\n"):
        fields = line.strip().split("*")[0].split(",")
        kind = fields[0][-3:] if fields and fields[0].startswith("$") else ""
        with contextlib.suppress(ValueError, IndexError):
            if kind == "GST" and fields[6] and fields[7]:
                return 2 * math.hypot(float(fields[6]), float(fields[7]))  # 1-sigma lat, lon errors: ~95% doubled
            if kind == "GGA" and int(fields[6] or 0) > 0 and fields[8]:
                hdop = float(fields[8])
    return None if hdop is None else hdop * UERE_M


def fix_time(utc_time: str, now: datetime) -> datetime | None:
    """A fix's ``hhmmss.ss`` on the day it belongs to: today's, or yesterday's just after midnight."""
    try:
        hours, minutes, seconds = int(utc_time[0:2]), int(utc_time[2:4]), float(utc_time[4:])
    except ValueError:
        return None
    if hours > 23 or minutes > 59 or seconds >= 61:
        return None
    at = now.astimezone(UTC).replace(hour=hours, minute=minutes, second=0, microsecond=0)
    at += timedelta(seconds=seconds)
    return at - timedelta(days=1) if at > now + timedelta(minutes=1) else at


def modem_fix(location: dict[int, Any], now: datetime) -> Position | None:
    """A Position from ModemManager's ``GetLocation`` answer (None without a raw GPS fix or its accuracy)."""
    raw = location.get(GPS_RAW)
    if not raw:
        return None
    raw = raw[1] if isinstance(raw, tuple) else raw
    lat, lon, utc = (_value(raw, key) for key in ("latitude", "longitude", "utc-time"))
    nmea = location.get(GPS_NMEA)
    accuracy = nmea_accuracy(str(nmea[1] if isinstance(nmea, tuple) else nmea or ""))
    at = fix_time(str(utc or ""), now)
    if lat is None or lon is None or at is None or accuracy is None:
        return None
    return Position(lat=float(lat), lon=float(lon), accuracy_m=round(accuracy, 1), fix_at=at,
                    source=PositionSource.MODEM)  # fmt: skip


class ModemLocation:
    """The first modem's GNSS, through ModemManager's Location interface."""

    source = PositionSource.MODEM

    def __init__(self, bus: str = "SYSTEM", clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.bus = bus
        self.clock = clock  # the day a fix's hhmmss belongs to is the clock's
        self._path: str | None = None

    async def prepare(self) -> str | None:
        try:
            async with asyncio.timeout(TIMEOUT_S):
                return await self._setup()
        except TimeoutError:
            return "ModemManager did not answer within 5 s"
        except Exception as exc:
            return f"ModemManager could not be asked: {_short(exc)}"

    async def _setup(self) -> str | None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.asyncio import open_dbus_router
        from jeepney.wrappers import unwrap_msg

        async with open_dbus_router(bus=self.bus) as router:
            manager = DBusAddress(MM_PATH, bus_name=MM, interface=OBJECT_MANAGER)
            (objects,) = unwrap_msg(await router.send_and_get_reply(new_method_call(manager, "GetManagedObjects")))
            located = sorted(path for path, ifaces in objects.items() if LOCATION in ifaces)
            if not located:
                return "ModemManager sees no modem with a location (GNSS) interface"
            self._path = located[0]
            capabilities = int(_value(objects[self._path][LOCATION], "Capabilities") or 0)
            if not capabilities & GPS_RAW:
                return "the modem has no GNSS (its location capabilities lack raw GPS)"
            wanted = GPS_RAW | (capabilities & GPS_NMEA)
            location = DBusAddress(self._path, bus_name=MM, interface=LOCATION)
            unwrap_msg(await router.send_and_get_reply(new_method_call(location, "Setup", "ub", (wanted, False))))
        return None

    async def read(self) -> Position | None:
        if self._path is None:
            return None
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.asyncio import open_dbus_router
        from jeepney.wrappers import unwrap_msg

        try:
            async with asyncio.timeout(TIMEOUT_S), open_dbus_router(bus=self.bus) as router:
                location = DBusAddress(self._path, bus_name=MM, interface=LOCATION)
                (answer,) = unwrap_msg(await router.send_and_get_reply(new_method_call(location, "GetLocation")))
        except Exception as exc:  # a modem gone mid-survey: no fix, said once in the log
            log.debug("no location from ModemManager: %s", exc)
            return None
        return modem_fix(answer, self.clock())

    def close(self) -> None:
        pass


def gpsd_fix(report: dict[str, Any]) -> Position | None:
    """A Position from one of gpsd's TPV reports (None without a 2D fix, its time or its error estimate)."""
    if report.get("class") != "TPV" or int(report.get("mode") or 0) < 2:
        return None
    lat, lon, at = report.get("lat"), report.get("lon"), report.get("time")
    error = report.get("eph")
    if error is None and report.get("epx") is not None and report.get("epy") is not None:
        error = math.hypot(float(report["epx"]), float(report["epy"]))
    if lat is None or lon is None or error is None or not at:
        return None
    fixed = at if isinstance(at, datetime) else datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    return Position(lat=float(lat), lon=float(lon), accuracy_m=round(float(error), 1), fix_at=fixed,
                    source=PositionSource.GPSD)  # fmt: skip


class GpsdLocation:
    """A GPS through gpsd: a thread follows its TPV reports; ``read`` gives the last fix seen."""

    source = PositionSource.GPSD

    def __init__(self, host: str = "127.0.0.1", port: int = 2947) -> None:
        self.host, self.port = host, port
        self._last: Position | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: str | None = None
        self._connected = threading.Event()

    async def prepare(self) -> str | None:
        try:
            import gpsdclient  # noqa: F401
        except ImportError:
            return "gpsdclient is not installed: pip install 'dokiem[survey]'"
        self._thread = threading.Thread(target=self._follow, name="gpsd", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._connected.wait, TIMEOUT_S)
        return self._error if not self._connected.is_set() or self._error else None

    def _follow(self) -> None:
        from gpsdclient.client import GPSDClient

        while not self._stop.is_set():
            try:
                # GPSDClient connects only once its stream is read: whether gpsd is there is asked first, or a
                # missing gpsd would be called ready until the stream failed
                socket.create_connection((self.host, self.port), timeout=TIMEOUT_S).close()
                with GPSDClient(host=self.host, port=self.port, timeout=TIMEOUT_S) as client:
                    self._error = None
                    self._connected.set()
                    for report in client.dict_stream(filter=["TPV"]):
                        self._last = gpsd_fix(report) or self._last
                        if self._stop.is_set():
                            return
            except Exception as exc:  # gpsd gone or not there yet: try again, and say why if asked
                self._error = f"gpsd at {self.host}:{self.port}: {_short(exc)}"
                self._connected.set()
                self._stop.wait(1.0)

    async def read(self) -> Position | None:
        return self._last

    def close(self) -> None:
        self._stop.set()

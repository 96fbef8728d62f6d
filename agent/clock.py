"""Is the clock true? A Pi has no real-time clock: it boots with the time it shut down with
(fake-hwclock) until NTP syncs. The kernel knows (``adjtimex(2)``: ``TIME_ERROR`` or the
``STA_UNSYNC`` bit means not synchronised); the agent waits a bounded time for it before a speed
test, then measures anyway with the ``clock_unsynced`` flag. Each run also records its clock's
offset against the test server's ``Date`` header, so the collector can tell a wrong clock.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

TIME_ERROR = 5  # adjtimex's answer when the clock is not synchronised
STA_UNSYNC = 0x0040

ClockSource = Callable[[], bool | None]  # True: synchronised; False: not; None: cannot tell


class _Timex(ctypes.Structure):
    """The head of Linux's struct timex (up to ``status``), then room for the rest."""

    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("rest", ctypes.c_byte * 256)]  # fmt: skip


def kernel_synchronised() -> bool | None:
    """What the kernel says of its clock (read-only: ``modes`` 0); None where adjtimex is missing."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        timex = _Timex()
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR and not timex.status & STA_UNSYNC


async def wait_for_sync(source: ClockSource, max_wait_s: float, poll_s: float = 10.0) -> bool:
    """True once the clock is synchronised (or nobody can tell); False after ``max_wait_s``."""
    deadline = time.monotonic() + max_wait_s
    while True:
        state = source()
        if state is None or state:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))


# A Date further from our clock than this says nothing about our clock: a broken or hostile server.
MAX_OFFSET_S = 10 * 365 * 86_400


def offset_from_date(date_header: str, received_at: float) -> float | None:
    """The server's clock minus ours, from an HTTP ``Date`` (whole seconds: read half a second on);
    None where the header is missing, unreadable or a decade or more away."""
    try:
        server = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    offset = round(server + 0.5 - received_at, 1)
    return offset if abs(offset) < MAX_OFFSET_S else None

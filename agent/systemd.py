"""Telling systemd how the agent is: ``READY=1`` once it runs, ``WATCHDOG=1`` from the event loop
(so a hung loop stops the pings and systemd restarts the agent), and a ``STATUS=`` line that
``systemctl status dokiem-agent`` shows (the next run, the outbox depth).

The sd_notify protocol is one datagram to the Unix socket named by ``$NOTIFY_SOCKET`` (an
``@`` first means Linux's abstract namespace); without it (not under systemd) nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        # systemd restarts the unit when no ping comes within WatchdogSec: ping at half of it
        self.watchdog_s = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None

    def send(self, *fields: str) -> bool:
        """One datagram of ``KEY=value`` lines; False when there is nobody to tell or it failed."""
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(fields).encode(), self.address)
        except OSError as exc:  # a missing socket must never stop the agent
            log.debug("sd_notify to %s failed: %s", self.address, exc)
            return False
        return True

    async def keep_alive(self, status: Callable[[], str]) -> None:
        """Ready, then a watchdog ping and the status line every half WatchdogSec (or every minute)."""
        self.send("READY=1", f"STATUS={status()}")
        while True:
            await asyncio.sleep(self.watchdog_s or 60)
            fields = [f"STATUS={status()}"]
            if self.watchdog_s:
                fields.insert(0, "WATCHDOG=1")
            self.send(*fields)

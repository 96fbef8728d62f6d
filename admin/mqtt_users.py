"""Mosquitto's password file: who may connect to the broker.

Lines are ``user:$7$ITERATIONS$SALT$HASH`` (PBKDF2-HMAC-SHA512, base64), the format
``mosquitto_passwd`` writes in Mosquitto 2.x, so the broker reloads it on SIGHUP. Changes are
written to a temporary file and renamed over the old one under a lock: a broker reading it never
sees half a file, and two enrolments at once never lose each other.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dokiem.contract import AGENT_ID_PATTERN
from dokiem.files import write_atomically

ITERATIONS = 101  # mosquitto_passwd's own default for $7$
USERNAME = re.compile(AGENT_ID_PATTERN)  # an agent id is its MQTT username


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    salt = base64.b64decode(parts[3])
    return hmac.compare_digest(hash_password(password, salt, int(parts[2])), stored)


def new_password() -> str:
    return secrets.token_urlsafe(24)


class PasswordFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        out = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            user, sep, stored = line.partition(":")
            if sep and user and not line.startswith("#"):
                out[user] = stored
        return out

    def users(self) -> list[str]:
        return sorted(self.entries())

    def verify(self, user: str, password: str) -> bool:
        stored = self.entries().get(user)
        return stored is not None and check_password(password, stored)

    @contextmanager
    def _locked(self) -> Iterator[dict[str, str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        folder = os.open(self.path.parent, os.O_RDONLY)  # lock the folder: no lock file to own or leave behind
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            entries = self.entries()
            yield entries
            text = "".join(f"{user}:{stored}\n" for user, stored in sorted(entries.items()))
            write_atomically(self.path, text, mode=0o640)  # readable by the broker's group
        finally:
            os.close(folder)  # releases the lock

    def set(self, user: str, password: str) -> None:
        if not USERNAME.match(user):
            raise ValueError(f"{user!r} cannot be an MQTT username: letters, digits, '.', '_' and '-' only")
        with self._locked() as entries:
            entries[user] = hash_password(password)

    def remove(self, user: str) -> bool:
        with self._locked() as entries:
            return entries.pop(user, None) is not None

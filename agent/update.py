"""Updates from the province: fetch a signed release, install it beside the running one, switch, confirm or roll back.

Two processes share the work so that no update can leave an agent without a working version:

- the agent (unprivileged) reads the fleet config's ``update`` and writes what is wanted into its data
  folder (``update-wanted.json``); after each heartbeat the broker acknowledged it notes its version
  there (``update-healthy.json``). It never installs anything itself.
- the updater (``dokiem agent update``, root, started by ``dokiem-update.path`` when the wish changes and
  by ``dokiem-update.timer``) runs from the last *confirmed* version (``<root>/good``), never from the
  candidate. Each step it first settles a pending switch (the candidate's heartbeat confirms it; past
  the deadline without one, ``current`` goes back to the previous version), then installs what is
  wanted: ``release.json`` and its signature fetched, the Ed25519 signature checked against the key
  installed with the agent, the release refused if it has expired or would take the agent to an older
  version without being signed as a rollback, every wheel checked against its SHA-256, a new virtualenv made in
  ``<root>/versions/<version>`` with ``pip --no-index`` from those wheels alone, ``dokiem --version``
  run in it, and only then ``<root>/current`` replaced by a symlink swap (``rename`` is atomic).

What the updater did is written to ``update-outcome.json`` in the data folder; the agent reports it in
its status heartbeat. Every fetch is held to the release origin (https, or http from the release host
only; no loopback or link-local address, by name or as resolved; no redirect to another host) and to a
deadline for the whole download, not only for each read.
"""

from __future__ import annotations

import hashlib
import importlib.util
import ipaddress
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPMessage
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import urlsplit

from packaging.version import InvalidVersion
from packaging.version import Version as Pep440
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dokiem import __version__
from dokiem.files import write_atomically
from dokiem.fleet import Update, check_release_url, is_local_address
from dokiem.release import (
    AGENT_EXTRAS,
    MAX_MANIFEST_BYTES,
    SIGNED_RELEASE_NAME,
    SIGNED_RELEASE_SIGNATURE,
    SignedRelease,
    parse_signed_release,
    release_url,
    verify_signature,
)
from dokiem.status import UpdateOutcome, UpdateReport

log = logging.getLogger(__name__)
READ_TIMEOUT_S = 15  # one read; the whole download has its deadline besides
FETCH_BASE_S = 60.0  # a document's deadline, and a wheel's before its size is counted
SLOWEST_RATE = 32 << 10  # bytes/s: a wheel's deadline allows a line this slow (a weak 3G signal)
PIP_TIMEOUT_S = 900
RETRY_FAILED_S = 86_400.0  # a rolled-back version is tried again after a day: no heartbeat may mean no network
WANTED_FILE = "update-wanted.json"
HEALTHY_FILE = "update-healthy.json"
OUTCOME_FILE = "update-outcome.json"


class UpdateRefused(Exception):
    """The release was not installed; the message says why (nothing was changed)."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Healthy(_Record):
    version: str
    at: float


class SwitchState(_Record):
    """The updater's own record, beside the versions (root's, not the agent's)."""

    good: str | None = None  # the last version confirmed by a heartbeat: the updater runs from it
    previous: str | None = None  # what ``current`` pointed to before the pending switch
    pending: str | None = None
    switched_at: float | None = None
    deadline: float | None = None
    failed: dict[str, float] = Field(default_factory=dict)  # version -> when it was rolled back


_Model = TypeVar("_Model", bound=BaseModel)


def _read(model: type[_Model], path: Path) -> _Model | None:
    try:
        return model.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


# --- the agent's side ------------------------------------------------------------------


def note_wanted(data_dir: Path, update: Update | None) -> None:
    """What the fleet config asks for, where the updater looks (nothing when it asks for this version)."""
    path = data_dir / WANTED_FILE
    if update is None or update.version == __version__:
        path.unlink(missing_ok=True)
        return
    if _read(Update, path) != update:  # a rewrite would start the updater again for nothing
        write_atomically(path, update.model_dump_json(), mode=0o644)


def note_healthy(data_dir: Path) -> None:
    """This version's heartbeat reached the broker: what confirms a switch to it."""
    write_atomically(data_dir / HEALTHY_FILE, Healthy(version=__version__, at=time.time()).model_dump_json(), 0o644)


def last_outcome(data_dir: Path) -> UpdateReport | None:
    return _read(UpdateReport, data_dir / OUTCOME_FILE)


# --- the updater's side ----------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def versions(self) -> Path:
        return self.root / "versions"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def good(self) -> Path:
        return self.root / "good"

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    @property
    def state(self) -> Path:
        return self.root / "update-state.json"

    def venv(self, version: str) -> Path:
        return self.versions / version

    def pointed(self, link: Path) -> str | None:
        """The version a symlink names, or None."""
        try:
            return Path(os.readlink(link)).name
        except OSError:
            return None

    def point(self, link: Path, version: str) -> None:
        """Make ``link`` name ``versions/<version>`` in one rename: a reader sees the old one or the new one."""
        tmp = link.with_name(f".{link.name}.new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("versions") / version)
        os.replace(tmp, link)


@dataclass(frozen=True)
class Origin:
    """Where releases may come from: https from any host, http from the release host only, never a
    loopback or link-local address (as written or as resolved) unless the agent's own file allows it."""

    release_host: str | None
    allow_local: bool = False

    def check(self, url: str) -> None:
        try:
            check_release_url(url, self.release_host, self.allow_local)
        except ValueError as exc:
            raise UpdateRefused(str(exc)) from None
        if not self.allow_local:
            host = urlsplit(url).hostname or ""
            for address in _addresses(host):
                if is_local_address(address):
                    raise UpdateRefused(f"{url!r}: {host} resolves to {address}, a loopback or link-local address")


def _addresses(host: str) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UpdateRefused(f"cannot resolve {host}: {exc}") from None
    return {ipaddress.ip_address(str(entry[4][0]).split("%")[0]) for entry in found}


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only within the host asked, and only where the origin allows."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).hostname != urlsplit(req.full_url).hostname:
            raise UpdateRefused(f"{req.full_url}: redirected to another host ({newurl[:200]})")
        self.origin.check(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, limit: int, origin: Origin, deadline_s: float = FETCH_BASE_S) -> bytes:
    """The body at ``url``, at most ``limit`` bytes, all of it within ``deadline_s``; UpdateRefused says
    what failed (a server dripping a byte at a time is cut off at the deadline, not at each read)."""
    origin.check(url)
    deadline = time.monotonic() + deadline_s
    body = bytearray()
    try:
        with urllib.request.build_opener(_SameHostRedirects(origin)).open(url, timeout=READ_TIMEOUT_S) as response:
            while chunk := response.read1(64 << 10):
                body += chunk
                if len(body) > limit:
                    raise UpdateRefused(f"{url}: larger than {limit} bytes")
                if time.monotonic() > deadline:
                    raise UpdateRefused(f"{url}: not fetched within {deadline_s:.0f} s")
    except urllib.error.HTTPError as exc:
        raise UpdateRefused(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UpdateRefused(f"{url}: cannot fetch ({reason})") from None
    return bytes(body)


def _older(version: str, than: str) -> bool:
    try:
        return Pep440(version) < Pep440(than)
    except InvalidVersion:
        raise UpdateRefused(f"{version!r} or {than!r} is not a version that can be compared") from None


class Updater:
    """One step of the updater; every side effect a test needs to see goes through an argument."""

    def __init__(
        self,
        layout: Layout,
        data_dir: Path,
        public_key: Path,
        health_s: float,
        restart: Callable[[], None],
        now: Callable[[], float] = time.time,
        python: Path | None = None,
        origin: Origin | None = None,
    ) -> None:
        self.origin = origin or Origin(release_host=None)
        self.layout = layout
        self.data_dir = data_dir
        self.public_key = public_key
        self.health_s = health_s
        self.restart = restart
        self.now = now
        self.python = python or Path(getattr(sys, "_base_executable", sys.executable))

    def step(self) -> UpdateReport | None:
        """Settle a pending switch, else install what is wanted; what was done (None: nothing to do)."""
        state = self._state()
        if state.pending is not None:
            return self._settle(state)
        wanted = _read(Update, self.data_dir / WANTED_FILE)
        running = self.layout.pointed(self.layout.current)
        if wanted is None or wanted.version == running:
            return None
        if self.now() < state.failed.get(wanted.version, -RETRY_FAILED_S) + RETRY_FAILED_S:
            return None  # rolled back lately: tried again a day later (the line may only have been down)
        if running is None:
            return self._report(wanted.version, UpdateOutcome.REFUSED,
                                f"no {self.layout.current}: nothing to fall back on; run install.sh again")  # fmt: skip
        try:
            self.install(wanted)
        except UpdateRefused as exc:
            return self._report(wanted.version, UpdateOutcome.REFUSED, str(exc))
        return self._switch(state, wanted.version)

    def _state(self) -> SwitchState:
        state = _read(SwitchState, self.layout.state) or SwitchState()
        if state.good is None:  # the first step after the installer: what runs now is what is known to work
            state.good = self.layout.pointed(self.layout.current)
        return state

    def _save(self, state: SwitchState) -> None:
        write_atomically(self.layout.state, state.model_dump_json(indent=1), mode=0o644)

    # --- installing ---------------------------------------------------------------------

    def install(self, wanted: Update) -> SignedRelease:
        """Fetch, verify and install ``wanted`` into its own virtualenv; ``current`` is not touched."""
        version = wanted.version
        release = self._signed_release(wanted)
        wheels = self.layout.downloads / version
        shutil.rmtree(wheels, ignore_errors=True)
        wheels.mkdir(parents=True)
        try:
            for item in release.files:
                body = fetch(release_url(wanted.url, version, item.name), item.size, self.origin,
                             FETCH_BASE_S + item.size / SLOWEST_RATE)  # fmt: skip
                if len(body) != item.size or hashlib.sha256(body).hexdigest() != item.sha256:
                    raise UpdateRefused(f"{item.name} does not match the signed manifest")
                (wheels / item.name).write_bytes(body)
            self._make_venv(version, wheels)
        finally:
            shutil.rmtree(wheels, ignore_errors=True)
        return release

    def _signed_release(self, wanted: Update) -> SignedRelease:
        """``release.json`` of ``wanted``, signed by the province, not expired, and not older than what
        runs unless it is signed as a rollback."""
        version = wanted.version
        body = fetch(release_url(wanted.url, version, SIGNED_RELEASE_NAME), MAX_MANIFEST_BYTES, self.origin)
        signature = fetch(release_url(wanted.url, version, SIGNED_RELEASE_SIGNATURE), 1024, self.origin)
        try:
            verify_signature(body, signature, self.public_key)
            release = parse_signed_release(body)
        except ValueError as exc:
            raise UpdateRefused(str(exc)) from None
        if release.version != version:
            raise UpdateRefused(f"the release at {wanted.url} is for {release.version}, not {version}")
        now = datetime.fromtimestamp(self.now(), UTC)
        if release.expires_at <= now:
            raise UpdateRefused(f"the signed release of {version} expired on {release.expires_at:%Y-%m-%d}:"
                                " sign it again (dokiem release renew) or publish a new version")  # fmt: skip
        running = self.layout.pointed(self.layout.current)
        if running is not None and _older(version, running) and not release.rollback:
            raise UpdateRefused(f"{version} is older than {running}, and its release is not signed as a rollback"
                                " (dokiem release renew --rollback)")  # fmt: skip
        return release

    def _make_venv(self, version: str, wheels: Path) -> None:
        venv = self.layout.venv(version)
        if version in (self.layout.pointed(self.layout.current), self.layout.pointed(self.layout.good)):
            raise UpdateRefused(f"{venv} is in use")
        shutil.rmtree(venv, ignore_errors=True)  # a half-made one from an interrupted step
        steps = [
            [str(self.python), "-m", "venv", str(venv)],
            [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
             "--find-links", str(wheels), f"{_requirement()}=={version}"],
        ]  # fmt: skip
        try:
            for command in steps:
                _run(command)
            shown = _run([str(venv / "bin/dokiem"), "--version"])
            if version not in shown.split():
                raise UpdateRefused(f"the new version says {shown.strip()!r}, not {version}")
        except UpdateRefused:
            shutil.rmtree(venv, ignore_errors=True)
            raise

    # --- switching, confirming, rolling back --------------------------------------------

    def _switch(self, state: SwitchState, version: str) -> UpdateReport:
        now = self.now()
        state.previous = self.layout.pointed(self.layout.current)
        state.pending, state.switched_at, state.deadline = version, now, now + self.health_s
        self._save(state)  # first: a crash between the two leaves a pending switch the next step settles
        self.layout.point(self.layout.current, version)
        self.restart()
        minutes = self.health_s / 60
        return self._report(version, UpdateOutcome.INSTALLED, f"switched from {state.previous}; a heartbeat is due"
                            f" within {minutes:.0f} min or {state.previous} comes back")  # fmt: skip

    def _settle(self, state: SwitchState) -> UpdateReport | None:
        assert state.pending is not None and state.switched_at is not None and state.deadline is not None
        healthy = _read(Healthy, self.data_dir / HEALTHY_FILE)
        version = state.pending
        if healthy is not None and healthy.version == version and healthy.at >= state.switched_at:
            state.good, state.pending = version, None
            self.layout.point(self.layout.good, version)
            self._save(state)
            self._prune(state)
            return self._report(version, UpdateOutcome.CONFIRMED, "its heartbeat reached the broker")
        if self.now() < state.deadline:
            return None
        back = state.previous or state.good
        assert back is not None
        self.layout.point(self.layout.current, back)
        state.failed = {**dict(list(state.failed.items())[-9:]), version: self.now()}
        state.pending = None
        self._save(state)
        self.restart()
        return self._report(version, UpdateOutcome.ROLLED_BACK,
                            f"no heartbeat within {self.health_s / 60:.0f} min: {back} runs again")  # fmt: skip

    def _prune(self, state: SwitchState) -> None:
        """Keep the confirmed version and the one before it; older ones only fill the SD card."""
        keep = {state.good, state.previous}
        for venv in self.layout.versions.iterdir():
            if venv.name not in keep and not venv.name.startswith("."):
                shutil.rmtree(venv, ignore_errors=True)

    def _report(self, version: str, outcome: UpdateOutcome, message: str) -> UpdateReport:
        report = UpdateReport(version=version, outcome=outcome, message=message[:1000],
                              at=datetime.now(UTC).replace(microsecond=0))  # fmt: skip
        write_atomically(self.data_dir / OUTCOME_FILE, report.model_dump_json(), mode=0o644)
        log.warning("update %s: %s (%s)", version, outcome.value, message)
        return report


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UpdateRefused(f"{Path(command[0]).name}: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise UpdateRefused(f"{' '.join(Path(c).name for c in command[:3])} failed: {' / '.join(last)[:400]}")
    return done.stdout


def restart_service(unit: str) -> Callable[[], None]:
    """Restart ``unit`` when systemd runs (not in a chroot or an image being prepared)."""

    def restart() -> None:
        if Path("/run/systemd/system").is_dir():  # reset-failed: a candidate that crashed hit the start limit
            subprocess.run(["systemctl", "reset-failed", unit], check=False, timeout=60)
            subprocess.run(["systemctl", "restart", "--no-block", unit], check=False, timeout=60)

    return restart


def _requirement() -> str:
    """dokiem, with the agent's extras this install has (the release carries their wheels)."""
    extras = [name for name, module in AGENT_EXTRAS.items() if importlib.util.find_spec(module) is not None]
    return f"dokiem[{','.join(extras)}]" if extras else "dokiem"

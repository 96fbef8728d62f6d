"""Updates from the province, with real wheels and virtualenvs: two dokiem versions are built and signed
in the test (``admin.release.build``), published (``admin.release.publish``) and served over HTTP; the
updater installs from them exactly as it would on a Pi. A bad signature or a tampered wheel is
refused with nothing changed; a version that sends no heartbeat in time is rolled back; one whose
real agent sends its heartbeat through a real Mosquitto stays."""

from __future__ import annotations

import functools
import http.server
import json
import platform
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dokiem.admin.release import ReleaseError, build, check_set, generate_key, publish, renew
from dokiem.agent.update import (
    HEALTHY_FILE,
    RETRY_FAILED_S,
    WANTED_FILE,
    Healthy,
    Layout,
    Origin,
    SwitchState,
    Updater,
    UpdateRefused,
    fetch,
    last_outcome,
    note_wanted,
)
from dokiem.fleet import Update
from dokiem.release import (
    MAX_MANIFEST_BYTES,
    SIGNED_RELEASE_NAME,
    SIGNED_RELEASE_SIGNATURE,
    parse_manifest,
    parse_signed_release,
)
from dokiem.status import UpdateOutcome
from testkit.agentkit import write_config
from testkit.brokers import running_broker
from testkit.processes import REPO

OLD, NEW = "0.9.0", "0.9.1"
HEALTH_S = 600.0
LAB = Origin("127.0.0.1", allow_local=True)  # the tests' release server: http on loopback, as a lab allows


def _source_at(version: str, folder: Path) -> Path:
    source = folder / f"source-{version}"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "bench",
                                                                 "tests", "docs", "releases"))  # fmt: skip
    init = source / "dokiem/__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', f'__version__ = "{version}"  # was "', 1))
    return source


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """(base URL, public folder, the release key's public half): OLD and NEW published and served."""
    home = tmp_path_factory.mktemp("releases")
    generate_key(home / "release.key", home / "release.pub")
    platforms = (platform.machine(),)
    public = home / "public"
    for version in (OLD, NEW):
        made = build(_source_at(version, home), home / "built", home / "release.key", platforms)
        publish(made, public, home / "release.pub")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(public))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/releases/", public, home / "release.pub"
    server.shutdown()


class Restarts:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, releases: tuple[str, Path, Path]) -> Path:
    """An updater root as install.sh leaves it: OLD in versions/, current and good pointing at it."""
    url, _, public_key = releases
    root = tmp_path_factory.mktemp("opt-dokiem")
    Updater(Layout(root), root / "unused", public_key, HEALTH_S, Restarts(), origin=LAB).install(
        Update(version=OLD, url=url)
    )
    Layout(root).point(Layout(root).current, OLD)
    Layout(root).point(Layout(root).good, OLD)
    return root


@pytest.fixture
def root(installed: Path) -> Path:
    """The installed root, back to OLD alone (each test starts as a freshly installed agent)."""
    layout = Layout(installed)
    for venv in layout.versions.iterdir():
        if venv.name != OLD:
            shutil.rmtree(venv)
    layout.point(layout.current, OLD)
    layout.point(layout.good, OLD)
    layout.state.unlink(missing_ok=True)
    return installed


def _version(dokiem: Path) -> str:
    return subprocess.run([str(dokiem), "--version"], capture_output=True, text=True, check=True).stdout


def _updater(root: Path, data: Path, public_key: Path, restarts: Restarts, now: float | None = None) -> Updater:
    clock = (lambda: now) if now is not None else time.time
    return Updater(Layout(root), data, public_key, HEALTH_S, restarts, now=clock, origin=LAB)


def test_a_set_signed_with_another_key_is_refused_and_nothing_changes(
    root: Path, releases: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url, public, public_key = releases
    forged = public / "forged"
    shutil.rmtree(forged, ignore_errors=True)
    shutil.copytree(public / "releases", forged)
    generate_key(tmp_path / "other.key", tmp_path / "other.pub")
    from dokiem.admin.release import load_private_key

    signed = (forged / NEW / SIGNED_RELEASE_NAME).read_bytes()
    (forged / NEW / SIGNED_RELEASE_SIGNATURE).write_bytes(load_private_key(tmp_path / "other.key").sign(signed))
    with pytest.raises(ReleaseError, match="not signed"):
        check_set(forged / NEW, public_key)  # publish would have caught it too
    data = tmp_path / "data"
    note_wanted(data, Update(version=NEW, url=url.replace("/releases/", "/forged/")))
    restarts = Restarts()
    report = _updater(root, data, public_key, restarts).step()
    assert report is not None and report.outcome is UpdateOutcome.REFUSED
    assert "not signed by the key" in (report.message or "")
    assert sorted(p.name for p in Layout(root).versions.iterdir()) == [OLD]
    assert Layout(root).pointed(Layout(root).current) == OLD and restarts.count == 0
    assert last_outcome(data) == report  # what the agent reports in its next heartbeat


def test_a_wheel_that_does_not_match_the_signed_manifest_is_refused(
    root: Path, releases: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url, public, public_key = releases
    tampered = public / "tampered"
    shutil.rmtree(tampered, ignore_errors=True)
    shutil.copytree(public / "releases", tampered)
    wheel = next((tampered / NEW).glob(f"dokiem-{NEW}-*.whl"))
    body = bytearray(wheel.read_bytes())
    body[len(body) // 2] ^= 0xFF
    wheel.write_bytes(bytes(body))
    data = tmp_path / "data"
    note_wanted(data, Update(version=NEW, url=url.replace("/releases/", "/tampered/")))
    report = _updater(root, data, public_key, Restarts()).step()
    assert report is not None and report.outcome is UpdateOutcome.REFUSED
    assert f"dokiem-{NEW}" in (report.message or "") and "does not match" in (report.message or "")
    assert Layout(root).pointed(Layout(root).current) == OLD


def test_a_version_that_sends_no_heartbeat_in_time_is_rolled_back_and_not_tried_again(
    root: Path, releases: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url, _, public_key = releases
    data = tmp_path / "data"
    data.mkdir()
    (data / HEALTHY_FILE).write_text(Healthy(version=OLD, at=1e12).model_dump_json())  # the old one's: no proof
    note_wanted(data, Update(version=NEW, url=url))
    restarts = Restarts()
    layout = Layout(root)
    installed = _updater(root, data, public_key, restarts).step()
    assert installed is not None and installed.outcome is UpdateOutcome.INSTALLED, installed
    assert layout.pointed(layout.current) == NEW and layout.pointed(layout.good) == OLD and restarts.count == 1
    assert NEW in _version(layout.current / "bin/dokiem")

    switched_at = time.time()
    assert _updater(root, data, public_key, restarts, now=switched_at + HEALTH_S / 2).step() is None  # waiting
    rolled = _updater(root, data, public_key, restarts, now=switched_at + HEALTH_S + 1).step()
    assert rolled is not None and rolled.outcome is UpdateOutcome.ROLLED_BACK
    assert layout.pointed(layout.current) == OLD and restarts.count == 2
    assert OLD in _version(layout.current / "bin/dokiem")  # the old version still works
    rolled_at = switched_at + HEALTH_S + 1
    assert _updater(root, data, public_key, restarts, now=rolled_at + 60).step() is None  # the wish stands: not yet
    assert layout.pointed(layout.current) == OLD and restarts.count == 2
    again = _updater(root, data, public_key, restarts, now=rolled_at + RETRY_FAILED_S + 1).step()  # a day later
    assert again is not None and again.outcome is UpdateOutcome.INSTALLED and layout.pointed(layout.current) == NEW


@pytest.mark.slow
def test_a_version_whose_agent_sends_its_heartbeat_stays(
    root: Path, releases: tuple[str, Path, Path], tmp_path: Path, testserver_url: str
) -> None:
    url, _, public_key = releases
    layout = Layout(root)
    with running_broker(tmp_path) as broker:
        config = write_config(tmp_path / "agent", broker.url, measure={"servers": [testserver_url]})
        data = tmp_path / "agent/data"
        note_wanted(data, Update(version=NEW, url=url))
        restarts = Restarts()
        installed = _updater(root, data, public_key, restarts).step()
        assert installed is not None and installed.outcome is UpdateOutcome.INSTALLED
        # what systemd's restart does: the new version's own agent runs, measures and sends its heartbeat
        once = subprocess.run([str(layout.current / "bin/dokiem"), "--lang", "en", "agent", "once", "--config",
                               str(config)], capture_output=True, text=True, timeout=300)  # fmt: skip
        assert once.returncode == 0, once.stderr
        assert "reached the broker" in once.stderr
        assert Healthy.model_validate_json((data / HEALTHY_FILE).read_bytes()).version == NEW
    confirmed = _updater(root, data, public_key, restarts).step()
    assert confirmed is not None and confirmed.outcome is UpdateOutcome.CONFIRMED
    assert layout.pointed(layout.current) == NEW and layout.pointed(layout.good) == NEW
    assert sorted(p.name for p in layout.versions.iterdir()) == [OLD, NEW]  # OLD kept to fall back on
    later = _updater(root, data, public_key, restarts, now=time.time() + 10 * HEALTH_S).step()
    assert later is None and layout.pointed(layout.current) == NEW and restarts.count == 1


def test_the_agent_notes_the_wanted_version_from_the_fleet_config(tmp_path: Path) -> None:
    from dokiem.agent.service import Agent
    from testkit.agentkit import config_for

    agent = Agent(config_for(tmp_path, "mqtt://127.0.0.1:1"))
    wanted = b'{"schema": "dokiem.config/1", "update": {"version": "9.9.9", "url": "https://tinh.example.vn/public/releases/"}}'
    assert agent.on_fleet_config(wanted) is None
    noted = Update.model_validate_json((tmp_path / "data" / WANTED_FILE).read_bytes())
    assert noted == Update(version="9.9.9", url="https://tinh.example.vn/public/releases/")
    assert agent.on_fleet_config(b'{"schema": "dokiem.config/1"}') is None  # the wish withdrawn
    assert not (tmp_path / "data" / WANTED_FILE).exists()
    bad = b'{"schema": "dokiem.config/1", "update": {"version": "9.9.9", "url": "ftp://x/"}}'
    assert "http" in (agent.on_fleet_config(bad) or "")


def test_the_cli_says_what_the_updater_did(tmp_path: Path, run_dokiem: object) -> None:
    paths = {"root": str(tmp_path / "opt"), "public_key": str(tmp_path / "none.pub")}
    config = write_config(tmp_path, "mqtt://127.0.0.1:1", update=paths)
    done = run_dokiem("--lang", "en", "agent", "update", "--config", str(config))  # type: ignore[operator]
    assert done.returncode == 0 and "Nothing to update" in done.stdout
    note_wanted(tmp_path / "data", Update(version="9.9.9", url="http://127.0.0.1:1/releases/"))
    (tmp_path / "opt" / "versions" / OLD).mkdir(parents=True)
    Layout(tmp_path / "opt").point(Layout(tmp_path / "opt").current, OLD)  # a version to fall back on
    done = run_dokiem("--lang", "en", "agent", "update", "--config", str(config))  # type: ignore[operator]
    assert done.returncode == 1 and "Update to 9.9.9 refused" in done.stderr and "loopback" in done.stderr
    lab = write_config(tmp_path, "mqtt://127.0.0.1:1", update=paths, agent={"allow_local_servers": True})
    done = run_dokiem("--lang", "en", "agent", "update", "--config", str(lab))  # type: ignore[operator]
    assert done.returncode == 1 and "Update to 9.9.9 refused" in done.stderr and "cannot fetch" in done.stderr
    assert "Traceback" not in done.stderr
    missing = run_dokiem("--lang", "en", "release", "build", "--key", str(tmp_path / "no.key"),  # type: ignore[operator]
                         "--out", str(tmp_path / "out"))  # fmt: skip
    assert missing.returncode == 1 and "cannot read the release key" in missing.stderr


def test_without_a_current_version_nothing_is_installed(tmp_path: Path) -> None:
    note_wanted(tmp_path / "data", Update(version=NEW, url="http://127.0.0.1:1/releases/"))
    report = Updater(Layout(tmp_path / "opt"), tmp_path / "data", tmp_path / "none.pub", HEALTH_S, Restarts()).step()
    assert report is not None and report.outcome is UpdateOutcome.REFUSED
    assert "nothing to fall back on" in (report.message or "") and not (tmp_path / "opt" / "versions").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["files"][0].update(name="../../etc/cron.d/x.whl"), "not a wheel file name"),
        (lambda m: m["files"][0].update(name="evil.sh"), "not a wheel file name"),
        (lambda m: m["files"].append(dict(m["files"][0])), "listed twice"),
        (lambda m: m["files"][0].update(size=10**12), "less than or equal"),
        (lambda m: m.update(version="9.9.9"), "no dokiem-9.9.9 wheel"),
        (lambda m: m.update(files=[]), "at least 1"),
        (lambda m: m.update(created_at="2026-11-30T00:00:00"), "timezone"),
        (lambda m: m.update(extra=1), "extra"),
    ],
)
def test_a_manifest_that_would_reach_past_its_folder_or_lie_is_refused(change: Any, message: str) -> None:
    manifest = {"schema": "dokiem.release/1", "version": NEW, "created_at": "2026-11-30T00:00:00Z",
                "files": [{"name": f"dokiem-{NEW}-py3-none-any.whl", "sha256": "0" * 64, "size": 10}]}  # fmt: skip
    assert parse_manifest(json.dumps(manifest).encode()).version == NEW
    change(manifest)
    with pytest.raises(ValueError, match=message):
        parse_manifest(json.dumps(manifest).encode())
    with pytest.raises(ValueError, match="over the"):
        parse_manifest(b" " * (MAX_MANIFEST_BYTES + 1))


@pytest.mark.parametrize("broken", ["wanted", "healthy", "state"])
def test_a_broken_file_between_the_agent_and_the_updater_changes_nothing(tmp_path: Path, broken: str) -> None:
    """The agent's files are written by an unprivileged process the root updater must not trust."""
    layout = Layout(tmp_path / "opt")
    (layout.versions / OLD).mkdir(parents=True)
    layout.point(layout.current, OLD)
    data = tmp_path / "data"
    data.mkdir()
    files = {"wanted": data / WANTED_FILE, "healthy": data / HEALTHY_FILE, "state": layout.state}
    state = SwitchState(good=OLD, previous=OLD, pending=NEW, switched_at=1.0, deadline=1e12)
    layout.state.write_text(state.model_dump_json())
    (data / HEALTHY_FILE).write_text(Healthy(version=OLD, at=2.0).model_dump_json())
    files[broken].write_bytes(b'{"version": "' + b"\xff" * 10 + b'", "url": [1]')
    restarts = Restarts()
    report = Updater(layout, data, tmp_path / "none.pub", HEALTH_S, restarts, now=lambda: 5.0).step()
    assert report is None and restarts.count == 0 and layout.pointed(layout.current) == OLD


# The last commit of the old layout (rooms installed as top-level packages: agent, collector, …).
OLD_LAYOUT_COMMIT = "ae71426f193a17532694cbbf6ae6725d731241e0"
OLD_LAYOUT = "0.8.0"


def _source_of_commit(commit: str, version: str, folder: Path) -> Path:
    """dokiem's source as it was at ``commit`` (from this repository's history), as ``version``."""
    source = folder / f"source-{version}"
    source.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit], capture_output=True)
    assert archive.returncode == 0, f"this test needs the repository's history (commit {commit}): {archive.stderr!r}"
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    init = source / "dokiem/__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', f'__version__ = "{version}"  # was "', 1))
    return source


@pytest.mark.slow
def test_an_agent_of_the_old_layout_updates_itself_to_the_one_namespace(
    releases: tuple[str, Path, Path], tmp_path: Path
) -> None:
    """An agent installed before dokiem became one namespace runs its own (old) updater: it installs
    the new layout without a hand step, and the new version answers."""
    url, public, public_key = releases
    key = public_key.with_name("release.key")
    made = build(_source_of_commit(OLD_LAYOUT_COMMIT, OLD_LAYOUT, tmp_path), tmp_path / "built", key,
                 (platform.machine(),))  # fmt: skip
    publish(made, public, public_key)
    root = tmp_path / "opt"
    Updater(Layout(root), tmp_path / "unused", public_key, HEALTH_S, Restarts(), origin=LAB).install(
        Update(version=OLD_LAYOUT, url=url)
    )
    layout = Layout(root)
    layout.point(layout.current, OLD_LAYOUT)
    layout.point(layout.good, OLD_LAYOUT)
    old_python = layout.good / "bin/python"
    # (run outside the source tree, whose folders python would import from the working directory)
    assert subprocess.run([str(old_python), "-c", "import agent.update"], cwd="/").returncode == 0  # old
    config = write_config(tmp_path / "agent", "mqtt://127.0.0.1:1",
                          update={"root": str(root), "public_key": str(public_key)})  # fmt: skip
    note_wanted(tmp_path / "agent/data", Update(version=NEW, url=url))
    # what dokiem-update.service runs: the last confirmed (old) version's own updater
    step = subprocess.run([str(layout.good / "bin/dokiem"), "--lang", "en", "agent", "update", "--config",
                           str(config)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert step.returncode == 0, step.stderr
    assert layout.pointed(layout.current) == NEW and layout.pointed(layout.good) == OLD_LAYOUT
    assert NEW in _version(layout.current / "bin/dokiem")
    new_python = layout.current / "bin/python"
    assert subprocess.run([str(new_python), "-c", "import dokiem.agent.update"], cwd="/").returncode == 0
    assert subprocess.run([str(new_python), "-c", "import agent"], capture_output=True, cwd="/").returncode != 0
    check = subprocess.run([str(layout.current / "bin/dokiem"), "--lang", "en", "agent", "check", "--config",
                            str(config)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert check.returncode == 0 and "Configuration OK" in check.stdout, check.stderr


# --- issue 26: versions only go up, releases expire, fetches stay with their origin and deadline ------


def _published_copy(public: Path, name: str, version: str) -> Path:
    """A copy of a published set under <public>/<name>/<version>/, to change without touching the original."""
    shutil.rmtree(public / name, ignore_errors=True)
    shutil.copytree(public / "releases" / version, public / name / version)
    return public / name / version


def _at(root: Path, version: str) -> None:
    """The installed agent as if ``version`` (installed) ran and was confirmed."""
    layout = Layout(root)
    layout.point(layout.current, version)
    layout.point(layout.good, version)


def test_an_older_signed_version_is_refused_unless_signed_as_a_rollback(
    root: Path, releases: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url, public, public_key = releases
    data = tmp_path / "data"
    note_wanted(data, Update(version=NEW, url=url))
    assert _updater(root, data, public_key, Restarts()).step().outcome is UpdateOutcome.INSTALLED  # type: ignore[union-attr]
    layout = Layout(root)
    layout.state.unlink()
    _at(root, NEW)
    note_wanted(data, Update(version=OLD, url=url))  # an old signed set, replayed
    refused = _updater(root, data, public_key, Restarts()).step()
    assert refused is not None and refused.outcome is UpdateOutcome.REFUSED
    assert "older than" in (refused.message or "") and layout.pointed(layout.current) == NEW
    rollback = _published_copy(public, "rollback", OLD)
    made = renew(rollback, public_key.with_name("release.key"), valid_days=7, rollback=True)
    assert made.rollback and check_set(rollback, public_key).version == OLD
    note_wanted(data, Update(version=OLD, url=url.replace("/releases/", "/rollback/")))
    allowed = _updater(root, data, public_key, Restarts()).step()
    assert allowed is not None and allowed.outcome is UpdateOutcome.INSTALLED and layout.pointed(layout.current) == OLD


def test_an_expired_release_is_refused(root: Path, releases: tuple[str, Path, Path], tmp_path: Path) -> None:
    url, public, public_key = releases
    signed = parse_signed_release((public / "releases" / NEW / SIGNED_RELEASE_NAME).read_bytes())
    data = tmp_path / "data"
    note_wanted(data, Update(version=NEW, url=url))
    late = signed.expires_at.timestamp() + 1
    report = _updater(root, data, public_key, Restarts(), now=late).step()
    assert report is not None and report.outcome is UpdateOutcome.REFUSED
    assert "expired" in (report.message or "") and Layout(root).pointed(Layout(root).current) == OLD


@pytest.mark.parametrize(
    ("url", "origin", "why"),
    [
        ("http://127.0.0.1:9/releases/", Origin("127.0.0.1"), "loopback"),
        ("https://169.254.169.254/latest/", Origin("example.vn"), "link-local"),
        ("http://other.example.vn/releases/", Origin("tinh.example.vn"), "only from the release host"),
        ("ftp://tinh.example.vn/releases/", Origin("tinh.example.vn"), "http"),
        ("http://127.1/releases/", Origin("127.1"), "resolves to 127.0.0.1"),  # a name, as written
        ("http://2130706433/releases/", Origin("2130706433"), "resolves to 127.0.0.1"),
        ("http://[::ffff:169.254.169.254]/latest/", Origin("::ffff:169.254.169.254"), "link-local"),
    ],
)
def test_a_release_url_outside_the_origin_is_refused_before_any_fetch(url: str, origin: Origin, why: str) -> None:
    with pytest.raises(UpdateRefused, match=why):
        fetch(url + "x/release.json", 1024, origin)


class _Hostile(http.server.BaseHTTPRequestHandler):
    """A release server that redirects to another host, or drips its answer a byte at a time."""

    def do_GET(self) -> None:
        if "redirect" in self.path:
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{self.server.server_address[1]}/x")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.5)  # the hostile server's pace, not the test's synchronisation
        except BrokenPipeError:
            return  # the updater gave up, as it should

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def hostile() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_a_redirect_to_another_host_is_refused(hostile: str) -> None:
    with pytest.raises(UpdateRefused, match="redirected to another host"):
        fetch(hostile + "redirect/release.json", 1024, LAB)


def test_a_dripped_download_ends_at_its_deadline(hostile: str) -> None:
    # the whole answer takes 50 s, and each byte comes well within the read timeout
    with pytest.raises(UpdateRefused, match="not fetched within 2 s"):
        fetch(hostile + "drip/release.json", 1024, LAB, deadline_s=2)


def test_the_agent_refuses_a_fleet_config_whose_update_url_leaves_the_origin(tmp_path: Path) -> None:
    from dokiem.agent.service import Agent
    from testkit.agentkit import config_for

    agent = Agent(config_for(tmp_path, "mqtts://tinh.example.vn:8883"))
    for url, why in (("http://127.0.0.1:8/internal/admin?x=1", "only from the release host"),
                     ("https://169.254.169.254/latest/", "link-local"),
                     ("http://elsewhere.example.vn/releases/", "only from the release host")):  # fmt: skip
        payload = json.dumps({"schema": "dokiem.config/1", "update": {"version": "9.9.9", "url": url}}).encode()
        refusal = agent.on_fleet_config(payload) or ""
        assert refusal.startswith("update.url") and why in refusal, refusal
        assert not (tmp_path / "data" / WANTED_FILE).exists()
    good = {"schema": "dokiem.config/1", "update": {"version": "9.9.9", "url": "http://tinh.example.vn/public/r/"}}
    assert agent.on_fleet_config(json.dumps(good).encode()) is None  # http from the broker's own host

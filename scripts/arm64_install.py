"""Prove the agent's installer on an arm64 Debian userland (bookworm, the base of Raspberry Pi OS).

Builds the userland with ``debootstrap --arch=arm64`` and runs it under ``qemu-user-static``
(binfmt_misc), then does what a technician does: ``dokiem agent enroll`` on the "server" (this
host: a TLS Mosquitto with the enrolled password and ``dokiem testserver``), copies the bundle,
runs ``deploy/agent/install.sh --config agent.toml`` inside the chroot, then ``dokiem agent
check`` and ``dokiem agent once`` there against the host's test server and broker, and the
systemd checks a chroot can run (``systemd-analyze verify``, ``systemctl is-enabled``).
Then a signed update, as the province sends one: a release key made on the host (its public half
in the bundle, so install.sh installs it), the next version built for aarch64 and published over
HTTP, the wish noted as the agent notes it from a fleet config, ``dokiem agent update`` run in
the chroot as dokiem-update.service runs it (from ``good``), the new version's own ``agent once``
sending its heartbeat, and the next updater step confirming it.
Every step is timed; the summary goes to docs/deploy.md (``--no-docs`` to skip).

    sudo .venv/bin/python scripts/arm64_install.py [--root /var/tmp/dokiem-arm64] [--fresh]

Takes minutes (the userland is cached in ``--root``; ``--fresh`` builds it again).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.docs import write_section  # noqa: E402
from dokiem import __version__  # noqa: E402
from dokiem.admin.release import build, generate_key, publish  # noqa: E402
from testkit.brokers import make_ca, running_broker  # noqa: E402
from testkit.processes import free_port  # noqa: E402

MIRROR = "http://deb.debian.org/debian"
HOST_CA = "/etc/dokiem-host-ca.crt"
AGENT_ID = "pi-arm64-1"
steps: list[tuple[str, float, str]] = []


def run(*args: str, timeout: float = 3600, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


@contextmanager
def step(name: str) -> Iterator[list[str]]:
    print(f"== {name}", flush=True)
    said: list[str] = []
    started = time.monotonic()
    yield said
    steps.append((name, time.monotonic() - started, "; ".join(said)))


def binfmt() -> None:
    run("apt-get", "install", "-y", "-qq", "--no-install-recommends", "qemu-user-static", "binfmt-support",
        "debootstrap", "systemd")  # fmt: skip
    if not Path("/proc/sys/fs/binfmt_misc/status").exists():
        run("mount", "-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc")
    run("update-binfmts", "--enable", "qemu-aarch64")


def userland(root: Path, fresh: bool) -> bool:
    if fresh:
        shutil.rmtree(root, ignore_errors=True)
    if (root / "etc" / "os-release").exists():
        return False
    run("debootstrap", "--arch=arm64", "bookworm", str(root), MIRROR, timeout=3600)
    return True


@contextmanager
def mounted(root: Path) -> Iterator[None]:
    points = [("proc", root / "proc", ["-t", "proc", "proc"]), ("sys", root / "sys", ["-t", "sysfs", "sys"]),
              ("dev", root / "dev", ["--bind", "/dev"])]  # fmt: skip
    for _, target, how in points:
        run("mount", *how, str(target))
    try:
        yield
    finally:
        for _, target, _ in reversed(points):
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


def chroot(root: Path, *args: str, timeout: float = 3600) -> str:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
           **{k: v for k, v in os.environ.items() if k.startswith("PIP_")},
           "PIP_CERT": HOST_CA, "SSL_CERT_FILE": HOST_CA}  # fmt: skip
    return run("chroot", str(root), *args, timeout=timeout, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("/var/tmp/dokiem-arm64"))
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: debootstrap, binfmt_misc and chroot need it")
    root: Path = args.root
    with step("qemu-user-static and binfmt_misc") as said:
        binfmt()
        said.append(run("uname", "-m").strip() + " host")
    with step("debootstrap --arch=arm64 bookworm") as said:
        said.append("built" if userland(root, args.fresh) else "cached from an earlier run")
        said.append(
            chroot(root, "uname", "-m").strip() + " inside, " + chroot(root, "cat", "/etc/debian_version").strip()
        )
    for name in ("etc/pip.conf", "etc/resolv.conf"):
        if Path("/", name).exists():
            shutil.copyfile(Path("/", name), root / name)
    # the host's CA bundle (with whatever proxy CA it trusts) beside the chroot's own, which the
    # chroot's ca-certificates package rewrites when the installer runs apt-get
    shutil.copyfile("/etc/ssl/certs/ca-certificates.crt", root / HOST_CA.lstrip("/"))
    source = root / "opt" / "src"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    archive = run("git", "-C", str(REPO), "stash", "create").strip() or "HEAD"
    subprocess.run(f"git -C {REPO} archive {archive} | tar -x -C {source}", shell=True, check=True)
    with tempfile.TemporaryDirectory() as tmp, mounted(root):
        folder = Path(tmp)
        ca, cert, key = make_ca(folder)
        web = free_port()
        server = subprocess.Popen([sys.executable, "-m", "dokiem", "testserver", "--listen", f"127.0.0.1:{web}"],
                                  cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            bundle = root / "opt" / "bundle"
            shutil.rmtree(bundle, ignore_errors=True)
            port = free_port()
            generate_key(folder / "release.key", folder / "release.pub")
            with step("dokiem agent enroll (on the server)") as said:
                said.append(run(sys.executable, "-m", "dokiem", "--lang", "en", "agent", "enroll", "--id", AGENT_ID,
                                "--site", "38/14797", "--isp", "VNPT", "--access", "fixed", "--broker-url",
                                f"mqtts://localhost:{port}", "--server", f"http://127.0.0.1:{web}/", "--ca-file",
                                str(ca), "--passwd-file", str(folder / "passwd"), "--out", str(bundle),
                                env={**os.environ, "DOKIEM_ARCHIVE_URL": ""}).strip().splitlines()[0])  # fmt: skip
                shutil.copyfile(folder / "release.pub", bundle / "release.pub")  # install.sh takes it from here
            with running_broker(folder, port=port, password_file=folder / "passwd", tls=(ca, cert, key)):
                with step("deploy/agent/install.sh --config agent.toml (in the arm64 chroot)") as said:
                    out = chroot(root, "bash", "/opt/src/deploy/agent/install.sh", "--config",
                                 "/opt/bundle/agent.toml", "--source", "/opt/src")  # fmt: skip
                    said.append(out.strip().splitlines()[-2] if out.strip() else "")
                with step("dokiem agent check (arm64)") as said:
                    said.append(chroot(root, "/opt/dokiem/current/bin/dokiem", "--lang", "en", "agent", "check",
                                       "--config", "/etc/dokiem/agent.toml").strip().splitlines()[-1])  # fmt: skip
                with step("dokiem agent once (arm64, against the host's test server and broker)") as said:
                    chroot(root, "/opt/dokiem/current/bin/dokiem", "--lang", "en", "agent", "once", "--config",
                           "/etc/dokiem/agent.toml", timeout=900)  # fmt: skip
                    status = chroot(root, "/opt/dokiem/current/bin/dokiem", "--lang", "en", "agent", "status",
                                    "--config", "/etc/dokiem/agent.toml", "--json")  # fmt: skip
                    said.append(summarise(json.loads(status)))
                signed_update(root, folder)
            with step("systemd checks a chroot can run") as said:
                for unit in ("dokiem-agent.service", "dokiem-update.path", "dokiem-update.timer"):
                    said.append(f"{unit} is-enabled: " + chroot(root, "systemctl", "is-enabled", unit).strip())
                said.append(verify_unit(root))
        finally:
            server.terminate()
            server.wait(10)
    report(args)


def next_version(version: str) -> str:
    *head, last = version.split(".")
    return ".".join([*head, str(int(last) + 1)])


def signed_update(root: Path, folder: Path) -> None:
    """The next version, built and signed here for aarch64, installed by the chroot's updater."""
    dokiem = "/opt/dokiem/good/bin/dokiem"
    config = "/etc/dokiem/agent.toml"
    version = next_version(__version__)
    with step(f"dokiem release build {version} (aarch64 wheels) and publish (on the server)") as said:
        source = folder / "next"
        shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__",
                                                                     "tests", "docs", "bench"))  # fmt: skip
        init = source / "dokiem" / "__init__.py"
        init.write_text(init.read_text().replace(f'"{__version__}"', f'"{version}"', 1))
        made = build(source, folder / "built", folder / "release.key", ("aarch64",))
        published = publish(made, folder / "public", folder / "release.pub")
        said.append(f"{len(list(published.glob('*.whl')))} wheels, signed")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder / "public"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # over http from the broker's host (the release host by default), which in this lab is loopback
    url = f"http://localhost:{server.server_address[1]}/releases/"
    lab = ("env", "DOKIEM_AGENT_ALLOW_LOCAL_SERVERS=true")
    try:
        with step(f"dokiem agent update to {version} (arm64, as dokiem-update.service runs it)") as said:
            wish = (
                "from dokiem.agent.update import note_wanted; from dokiem.fleet import Update; "
                "from pathlib import Path; "
                f"note_wanted(Path('/var/lib/dokiem'), Update(version='{version}', url='{url}'))"
            )
            chroot(root, "/opt/dokiem/current/bin/python", "-c", wish)
            said.append(chroot(root, *lab, dokiem, "--lang", "en", "agent", "update", "--config", config).strip())
            said.append("current: " + chroot(root, "/opt/dokiem/current/bin/dokiem", "--version").strip())
        with step(f"dokiem agent once ({version}: its heartbeat), then the updater's next step") as said:
            chroot(root, "env", "DOKIEM_SCHEDULE_CLOCK_WAIT_MINUTES=0", "/opt/dokiem/current/bin/dokiem", "--lang",
                   "en", "agent", "once", "--config", config, timeout=900)  # fmt: skip
            said.append(chroot(root, *lab, dokiem, "--lang", "en", "agent", "update", "--config", config).strip())
            said.append("good: " + chroot(root, "readlink", "/opt/dokiem/good").strip())
    finally:
        server.shutdown()


def verify_unit(root: Path) -> str:
    unit = "/etc/systemd/system/dokiem-agent.service"
    verify = subprocess.run(["chroot", str(root), "systemd-analyze", "verify", unit], capture_output=True, text=True)
    said = verify.stderr.strip().splitlines()[-1] if verify.stderr.strip() else "no complaint"
    return f"systemd-analyze verify: exit {verify.returncode} ({said})"


def summarise(status: dict[str, Any]) -> str:
    """The agent's own account of the run: what it sent and the last result's figures."""
    results = status.get("last_results") or [{}]
    last = results[0] if isinstance(results, list) and results else {}
    keys = ("download_mbps", "upload_mbps", "latency_ms", "error")
    figures = ", ".join(f"{k} {last.get(k)}" for k in keys if k in last)
    outbox = status.get("outbox") or {}
    return f"sent {outbox.get('sent')}, queued {outbox.get('depth')}; last result: {figures or last}"


def report(args: argparse.Namespace) -> None:
    lines = [
        f"Command: `sudo .venv/bin/python scripts/arm64_install.py` on {os.cpu_count()} cores (x86_64 host, arm64 "
        f"userland under qemu-user-static), {time.strftime('%Y-%m-%d')}.",
        "",
        "| step | time | what it showed |",
        "|---|---|---|",
        *(f"| {name} | {seconds:.0f} s | {said} |" for name, seconds, said in steps),
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_docs:
        write_section(REPO / "docs" / "deploy.md", "arm64", text)


if __name__ == "__main__":
    main()

"""A real Mosquitto (Debian's) on a free loopback port, stoppable and restartable by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt

from testkit.processes import free_port, wait_until_ready

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


@dataclass
class Broker:
    folder: Path
    port: int = field(default_factory=free_port)
    password_file: Path | None = None
    tls: tuple[Path, Path, Path] | None = None  # ca, cert, key
    proc: subprocess.Popen[bytes] | None = None
    extra: tuple[str, ...] = ()
    host: str = "127.0.0.1"  # another local address where an agent in a lab namespace reaches it
    persistent: bool = False  # keep sessions and queued messages through a restart, as deploy/mosquitto does

    def config_text(self) -> str:
        # run as whoever runs the tests (as root, mosquitto would switch to a user who cannot read tmp files)
        lines = [
            f"listener {self.port} {self.host}",
            *(
                ["persistence true", f"persistence_location {self.folder}/"]
                if self.persistent
                else ["persistence false"]
            ),
            "log_dest stderr",
            f"user {getpass.getuser()}",
        ]
        if self.password_file is None:
            lines.append("allow_anonymous true")
        else:
            lines += ["allow_anonymous false", f"password_file {self.password_file}"]
        if self.tls is not None:
            ca, cert, key = self.tls
            lines += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
        return "\n".join([*lines, *self.extra]) + "\n"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        conf.write_text(self.config_text())
        # its log to a file: a pipe nobody reads fills after some thousands of connections, and the broker,
        # blocked writing to it, stops serving (a fleet's replay did: bench/ingest.py)
        log = self.folder / "mosquitto.log"
        with log.open("ab") as sink:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=sink)
        try:
            wait_until_ready(lambda: port_open(self.port, self.host), self.proc, "mosquitto", 10)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {log.read_text(errors='replace')[-2000:]}") from None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


@contextlib.contextmanager
def running_broker(folder: Path, **kwargs: object) -> Iterator[Broker]:
    broker = Broker(folder, **kwargs)  # type: ignore[arg-type]
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def add_password(password_file: Path, user: str, password: str) -> None:
    args = ["mosquitto_passwd", "-b", str(password_file), user, password]
    if not password_file.exists():
        args.insert(1, "-c")
    subprocess.run(args, check=True, capture_output=True)


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it: (ca, cert, key)."""
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=dokiem test CA",
        "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(csr))
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "2", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    return ca, cert, key


class Recorder:
    """A subscriber that records every result and status message (what a collector would see)."""

    def __init__(self, broker: Broker, **client_kwargs: object) -> None:
        """``client_kwargs`` are aiomqtt's: a persistent session (identifier, clean_session=False) on a
        persistent broker misses nothing published while it reconnects after a restart, as the collector."""
        self.broker = broker
        self.client_kwargs = client_kwargs
        self.results: list[dict[str, object]] = []
        self.status: list[dict[str, object]] = []
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def __aenter__(self) -> Recorder:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._subscribed.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client("127.0.0.1", self.broker.port, **self.client_kwargs) as client:  # type: ignore[arg-type]
                    for topic in ("dokiem/v1/+/result", "dokiem/v1/+/status"):  # what a collector reads
                        await client.subscribe(topic, qos=1)
                    self._subscribed.set()
                    async for message in client.messages:
                        payload = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                        bucket = self.results if str(message.topic).endswith("/result") else self.status
                        bucket.append(payload)
                        self.changed.set()
            except aiomqtt.MqttError:
                await asyncio.sleep(0.05)  # the broker is being restarted by the test: reconnect

    async def wait_for(self, predicate: object, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():  # type: ignore[operator]
                self.changed.clear()
                await self.changed.wait()

    def result_ids(self) -> list[str]:
        return [str(r["result_id"]) for r in self.results]

"""The broker as deployed: deploy/mosquitto/ with what `dokiem deploy init` and `dokiem agent enroll`
make, started for real (Debian's Mosquitto; only the container paths and the port are rewritten).

Enrolled agents publish; anonymous clients, wrong passwords, an agent writing on another's topic
or reading another's config, plain-text connections and revoked agents are all refused.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import re
import shutil
import signal
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from dokiem.agent.config import load as load_agent_config
from testkit.brokers import MOSQUITTO, port_open
from testkit.processes import DOKIEM, REPO, free_port, wait_until_ready

NOT_AUTHORIZED = 135
TIMEOUT = 10


@dataclass
class DeployedBroker:
    folder: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def passwd(self) -> Path:
        return self.folder / "secrets" / "mosquitto" / "passwd"

    @property
    def ca(self) -> Path:
        return self.folder / "secrets" / "certs" / "ca.crt"

    def secret(self, name: str) -> str:
        return (self.folder / "secrets" / name).read_text().strip()

    def reload(self) -> None:
        """What `docker compose kill -s HUP mosquitto` does."""
        self.proc.send_signal(signal.SIGHUP)


PATH_KEYS = ("password_file", "acl_file", "cafile", "certfile", "keyfile", "persistence_location")


def _deployed_config(deploy: Path, port: int) -> str:
    """deploy/mosquitto/mosquitto.conf with each container path mapped to the host path the compose
    file mounts there (the named data volume to a folder), and the port moved to a free one."""
    service = yaml.safe_load((deploy / "docker-compose.yml").read_text())["services"]["mosquitto"]
    mounts = {}
    for volume in service["volumes"]:
        source, target = volume.split(":")[:2]
        mounts[target] = deploy / source if source.startswith(".") else deploy / "data"
    lines = []
    for line in (deploy / "mosquitto" / "mosquitto.conf").read_text().splitlines():
        key, _, value = line.partition(" ")
        if key in PATH_KEYS:
            target = max((t for t in mounts if value == t or value.startswith(t.rstrip("/") + "/")), key=len)
            value = str(mounts[target]) + value[len(target) :]
            line = f"{key} {value}"
        lines.append(re.sub(r"^listener 8883$", f"listener {port} 127.0.0.1", line))
    # as root Mosquitto would switch to its own user, who cannot enter the test's folders
    return "\n".join([*lines, f"user {getpass.getuser()}", ""])


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployedBroker]:
    deploy = tmp_path_factory.mktemp("deploy")
    shutil.copytree(REPO / "deploy" / "mosquitto", deploy / "mosquitto")
    shutil.copy(REPO / "deploy" / "docker-compose.yml", deploy / "docker-compose.yml")
    (deploy / "data").mkdir()  # the mosquitto-data volume
    done = subprocess.run([*DOKIEM, "deploy", "init", "--dir", str(deploy), "--domain", "localhost"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    if os.geteuid() == 0:  # the files were handed to the containers' users; this Mosquitto runs as us
        for path in (deploy / "secrets").rglob("*"):
            os.chown(path, 0, 0)
    port = free_port()
    conf = deploy / "mosquitto.conf"
    conf.write_text(_deployed_config(deploy, port))
    log = (deploy / "mosquitto.log").open("wb")  # a file, not a pipe nobody reads: the broker never blocks on it
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    wait_until_ready(lambda: port_open(port), proc, "mosquitto", 10)
    yield DeployedBroker(deploy, port, proc)
    proc.terminate()
    proc.wait(10)
    log.close()


def enroll(broker: DeployedBroker, agent_id: str, site: str = "38/380") -> dict[str, Any]:
    out = broker.folder / "enrolled" / agent_id
    done = subprocess.run([*DOKIEM, "agent", "enroll", "--id", agent_id, "--site", site, "--isp", "VNPT",
                           "--access", "fixed", "--plan-down", "300", "--broker-url", "mqtts://localhost:8883",
                           "--server", "http://localhost:8080/", "--ca-file", str(broker.ca),
                           "--passwd-file", str(broker.passwd), "--out", str(out)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = load_agent_config(out / "agent.toml", environ={})  # the agent accepts what enroll wrote
    assert config.agent.id == agent_id and (out / "ca.crt").read_bytes() == broker.ca.read_bytes()
    broker.reload()
    return {"username": agent_id, "password": config.broker.password, "site": config.site}


class Session:
    """One MQTT 5 client; every step waits for the broker's answer (never a fixed sleep)."""

    def __init__(self, broker: DeployedBroker, username: str | None, password: str | None, tls: bool = True,
                 client_id: str = "", clean_start: bool = True) -> None:  # fmt: skip
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username is not None:
            self.client.username_pw_set(username, password)
        if tls:
            self.client.tls_set(ca_certs=str(broker.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.connected = threading.Event()
        self.reason: ReasonCode | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.message = threading.Condition()
        self.acks: dict[int, ReasonCode] = {}
        self.acked = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = lambda client, userdata: self.connected.set()
        self.client.on_disconnect = lambda *args: self.connected.set()
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.connect_async("localhost", broker.port, clean_start=clean_start)  # the certificate's name
        self.client.loop_start()
        assert self.connected.wait(TIMEOUT), "no answer from the broker"

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        self.reason = reason
        self.connected.set()

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self.message:
            self.messages.append((message.topic, message.payload))
            self.message.notify_all()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: ReasonCode, props: Any) -> None:
        with self.acked:
            self.acks[mid] = reason
            self.acked.notify_all()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: list[ReasonCode], props: Any) -> None:
        with self.acked:
            self.acks[mid] = reasons[0]
            self.acked.notify_all()

    @property
    def accepted(self) -> bool:
        return self.reason is not None and not self.reason.is_failure

    def _ack(self, mid: int) -> ReasonCode:
        with self.acked:
            assert self.acked.wait_for(lambda: mid in self.acks, TIMEOUT), "no acknowledgement"
            return self.acks[mid]

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> ReasonCode:
        return self._ack(self.client.publish(topic, payload, qos=1, retain=retain).mid)

    def subscribe(self, topic: str) -> ReasonCode:
        properties = Properties(PacketTypes.SUBSCRIBE)
        return self._ack(self.client.subscribe(topic, qos=1, properties=properties)[1])

    def wait_for(self, payload: bytes) -> list[bytes]:
        with self.message:
            assert self.message.wait_for(lambda: any(p == payload for _, p in self.messages), TIMEOUT), payload
            return [p for _, p in self.messages]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def collector(broker: DeployedBroker) -> Iterator[Session]:
    session = Session(broker, "dokiem-collector", broker.secret("mqtt_collector_password"))
    assert session.accepted, session.reason
    assert session.subscribe("dokiem/v1/+/result").value == 1
    yield session
    session.close()


def test_an_enrolled_agent_publishes_and_only_on_its_own_topics(broker: DeployedBroker, collector: Session) -> None:
    a = enroll(broker, "th-380-101")
    enroll(broker, "th-381-102", site="38/381")
    agent = Session(broker, a["username"], a["password"])
    try:
        assert agent.accepted, agent.reason
        assert agent.publish("dokiem/v1/th-380-101/result", b"own").value == 0
        impostor = agent.publish("dokiem/v1/th-381-102/result", b"forged")
        assert impostor.value == NOT_AUTHORIZED
        assert agent.publish("dokiem/v1/th-380-101/result", b"after").value == 0
        received = collector.wait_for(b"after")  # in order on one connection: "forged" would be here by now
        assert b"own" in received and b"forged" not in received
        # Mosquitto grants any subscription and applies the read ACL to each message delivered: the
        # collector's retained config for another agent never reaches this one, its own does
        topics = ("config", "resend")  # the fleet config, and a restored collector's request (issue 32)
        for topic in topics:
            for agent_id in ("th-381-102", "th-380-101"):
                payload = f"{agent_id} {topic}".encode()
                ack = collector.publish(f"dokiem/v1/{agent_id}/{topic}", payload, retain=True)
                assert not ack.is_failure  # accepted and retained ("no matching subscribers" yet)
        for topic in topics:
            agent.subscribe(f"dokiem/v1/th-381-102/{topic}")
            agent.subscribe(f"dokiem/v1/th-380-101/{topic}")
        assert agent.wait_for(b"th-380-101 resend") == [b"th-380-101 config", b"th-380-101 resend"]
        assert agent.publish("dokiem/v1/th-381-102/resend", b"{}", retain=True).value == NOT_AUTHORIZED
    finally:
        agent.close()


def test_anonymous_wrong_password_and_plain_text_are_refused(broker: DeployedBroker) -> None:
    a = enroll(broker, "th-382-103", site="38/382")
    anonymous = Session(broker, None, None)
    wrong = Session(broker, a["username"], a["password"] + "x")
    plain = Session(broker, a["username"], a["password"], tls=False)
    try:
        assert not anonymous.accepted and not wrong.accepted
        assert not plain.accepted and plain.reason is None  # no MQTT answer at all on the TLS port
    finally:
        for session in (anonymous, wrong, plain):
            session.close()


def test_a_revoked_agent_can_no_longer_connect(broker: DeployedBroker) -> None:
    a = enroll(broker, "th-384-104", site="38/384")
    before = Session(broker, a["username"], a["password"])
    assert before.accepted
    before.close()
    done = subprocess.run([*DOKIEM, "agent", "revoke", "--id", "th-384-104", "--passwd-file", str(broker.passwd)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    broker.reload()
    # the reload is asynchronous: wait until the broker refuses, bounded, instead of sleeping
    refused = wait_refused(broker, a["username"], a["password"])
    assert refused
    again = subprocess.run([*DOKIEM, "agent", "revoke", "--id", "th-384-104", "--passwd-file", str(broker.passwd)],
                           capture_output=True, text=True)  # fmt: skip
    assert again.returncode == 1 and "th-384-104" in again.stderr


def wait_refused(broker: DeployedBroker, username: str, password: str, attempts: int = 50) -> bool:
    for _ in range(attempts):
        session = Session(broker, username, password)
        session.close()
        if not session.accepted:
            return True
    return False


def test_enroll_refuses_unknown_sites_and_plain_brokers(broker: DeployedBroker) -> None:
    base = [*DOKIEM, "agent", "enroll", "--id", "th-999-001", "--ca-file", str(broker.ca), "--passwd-file",
            str(broker.passwd)]  # fmt: skip
    unknown = subprocess.run([*base, "--site", "38/999", "--broker-url", "mqtts://x:8883"], capture_output=True,
                             text=True)  # fmt: skip
    assert unknown.returncode == 2 and "district '999' is not in province 38" in unknown.stderr
    plain = subprocess.run([*base, "--site", "38/380", "--broker-url", "mqtt://x:1883"], capture_output=True,
                           text=True)  # fmt: skip
    assert plain.returncode == 2 and "mqtts://" in plain.stderr and "TLS" in plain.stderr
    assert "th-999-001" not in broker.passwd.read_text()


async def test_an_agent_taking_the_collectors_client_id_makes_it_lose_nothing(
    broker: DeployedBroker, tmp_path: Path
) -> None:
    """Issue 26: an enrolled agent reconnecting as "dokiem-collector" again and again, with a kept
    session, while an honest agent publishes: every honest result is archived (the broker gives each
    client the id of its login, so the rogue never touches the collector's session)."""
    from dokiem.collector.config import load
    from dokiem.collector.service import Collector
    from testkit.agentkit import make_result

    honest, rogue = enroll(broker, "th-380-201"), enroll(broker, "th-380-202")
    config = load(None, environ={
        "DOKIEM_BROKER_URL": f"mqtts://localhost:{broker.port}", "DOKIEM_MQTT_USERNAME": "dokiem-collector",
        "DOKIEM_MQTT_PASSWORD": broker.secret("mqtt_collector_password"), "DOKIEM_MQTT_CA_FILE": str(broker.ca),
        "DOKIEM_DATA_DIR": str(tmp_path / "collector"), "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
        "DOKIEM_LIMITS_UNSCHEDULED_RUNS_PER_HOUR": "1000",  # 149 results in a minute: this test is not about rates
    })  # fmt: skip
    collector = Collector(config)
    started = asyncio.Event()
    task = asyncio.create_task(collector.run(started))
    await asyncio.wait_for(collector.subscribed.wait(), 30)
    results = [make_result(i).model_copy(update={"agent_id": "th-380-201", "site": honest["site"]})
               for i in range(149)]  # fmt: skip
    sender = Session(broker, honest["username"], honest["password"])
    takeovers = 0
    try:
        for n, result in enumerate(results):
            assert sender.publish("dokiem/v1/th-380-201/result", result.to_json().encode()).value == 0
            if n % 5 == 0:  # the rogue connects with the collector's id and a kept session, then leaves
                impostor = Session(broker, rogue["username"], rogue["password"], client_id="dokiem-collector",
                                   clean_start=False)  # fmt: skip
                takeovers += impostor.accepted
                impostor.close()
        async with asyncio.timeout(60):
            while True:
                collector.stored.clear()
                if collector.archive.results.count() >= len(results):
                    break
                await collector.stored.wait()
    finally:
        sender.close()
        task.cancel()
    assert takeovers == 30  # the rogue was let in each time: under its own id, not the collector's
    assert collector.archive.results.count() == len(results)

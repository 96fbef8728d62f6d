"""The server watched (issue 32): the collector's own readings fire the alert rules they are meant to (a disk on a
small tmpfs filled past 85%, a certificate a day from its end), and ``dokiem pki renew`` replaces the broker's
certificate under a connected agent that is never enrolled again."""

from __future__ import annotations

import socket
import ssl
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from dokiem.admin.pki import init_pki
from dokiem.agent.service import Agent
from dokiem.collector.config import load
from dokiem.collector.influx import collector_line
from dokiem.collector.service import Collector
from dokiem.collector.watch import certificate_days_left
from dokiem.grafana.alerts import rules_file
from dokiem.i18n import Translator
from testkit.agentkit import config_for, make_result
from testkit.alertkit import firing
from testkit.brokers import running_broker
from testkit.influx import Influx
from testkit.processes import DOKIEM

RULES = {rule["uid"]: rule for rule in rules_file(Translator("en"))["groups"][0]["rules"]}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a disk a test can fill."""
    folder = tmp_path / "small"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture(scope="module")
def influxd() -> Iterator[Influx]:
    server = Influx(Path(tempfile.mkdtemp(prefix="dokiem-influx-")))
    server.start()
    yield server
    server.stop()


def test_the_collectors_own_readings_fire_the_disk_and_certificate_rules(
    tmp_path: Path, small_disk: Path, influxd: Influx
) -> None:
    pki = init_pki(tmp_path / "pki", ["127.0.0.1"], days=1)
    config = load(None, environ={"DOKIEM_DATA_DIR": str(small_disk / "collector")})
    config = config.model_copy(update={"collector": config.collector.model_copy(
        update={"watch_certificates": [pki.server_cert, pki.ca_cert]})})  # fmt: skip
    collector = Collector(config)
    try:
        calm = collector.server_state()
        (small_disk / "filler").write_bytes(b"\0" * (3_600 << 10))  # the disk fills
        full = collector.server_state()
    finally:
        collector.archive.close()
    assert calm.disk_used_pct < 85 < full.disk_used_pct and 0.9 < (full.cert_days_left or 0) < 1.01
    assert full.backup_age_h < 1 and full.archive_mb > 0  # never backed up: the hours since it was first watched
    influxd.query('CREATE DATABASE "real"')
    body = "\n".join(line for line in (collector_line("c-real", full),) if line).encode()
    request = urllib.request.Request(f"{influxd.url}/write?db=real&precision=ms", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 204
    fired = {frozenset({("collector", "c-real")})}
    assert firing(RULES["dokiem-disk"], influxd, "real") == fired
    assert firing(RULES["dokiem-certificate"], influxd, "real") == fired
    assert firing(RULES["dokiem-backup"], influxd, "real") == set()
    assert firing(RULES["dokiem-collector-stopped"], influxd, "real") == set()  # it wrote a minute ago


def _served_certificate(port: int, ca: Path) -> x509.Certificate:
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


async def test_pki_renew_replaces_the_brokers_certificate_under_a_connected_agent(tmp_path: Path) -> None:
    pki = init_pki(tmp_path / "pki", ["127.0.0.1", "localhost"], days=1)
    ca_before = pki.ca_cert.read_bytes()
    broker_folder = tmp_path / "broker"
    with running_broker(broker_folder, tls=(pki.ca_cert, pki.server_cert, pki.server_key)) as broker:
        agent = Agent(config_for(tmp_path / "agent", broker.url, broker={"ca_file": str(pki.ca_cert)}))
        agent.queue(make_result(1))
        assert await agent.publisher.drain_once(10)
        assert (certificate_days_left([pki.server_cert]) or 0) < 1.01
        renewed = subprocess.run([*DOKIEM, "--lang", "en", "pki", "renew", "--dir", str(pki.folder)],
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
        assert renewed.returncode == 0, renewed.stderr
        assert "no agent needs enrolling again" in renewed.stdout
        broker.stop()
        broker.start()  # Mosquitto restarted on the new certificate
        served = _served_certificate(broker.port, pki.ca_cert)
        assert served.not_valid_after_utc > datetime.now(UTC) + timedelta(days=800)
        assert {str(n.value) for n in served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value} == {
            "127.0.0.1",
            "localhost",
        }
        assert pki.ca_cert.read_bytes() == ca_before
        agent.queue(make_result(2))  # the same agent, its config untouched
        assert await agent.publisher.drain_once(10), agent.state.last_error
    missing = subprocess.run([*DOKIEM, "--lang", "en", "pki", "renew", "--dir", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert missing.returncode == 1 and "run dokiem pki init first" in missing.stderr

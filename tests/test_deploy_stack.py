"""The server stack's files: the compose file, the Dockerfile, the provisioning files.

Docker's engine cannot run here; what can be checked is: the files parse, they reference only
files that exist once `dokiem deploy init` ran, `docker-compose config` (Debian's) accepts the
stack and prints no secret, and nothing offers plain-text MQTT. The Mosquitto config itself is
started for real in test_broker_security.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dokiem.grafana.alerts import CHANNELS, contact_points_file
from testkit.processes import DOKIEM, REPO

SECRET_NAMES = ("mqtt_collector_password", "influx_admin_password", "influx_admin_token", "influx_collector_token",
                "influx_read_token", "grafana_admin_password", "api_token")  # fmt: skip
DEPARTMENT_SECRETS = ("alert_telegram_token", "smtp_password")  # left empty by init: the department's own accounts


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's deploy/ and grafana/ files, after `dokiem deploy init`."""
    root = tmp_path_factory.mktemp("stack")
    shutil.copytree(REPO / "deploy", root / "deploy", ignore=shutil.ignore_patterns("secrets", ".env"))
    shutil.copytree(REPO / "grafana", root / "grafana", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "Dockerfile", root / "Dockerfile")
    done = subprocess.run([*DOKIEM, "deploy", "init", "--dir", str(root / "deploy"), "--domain",
                           "dokiem.example.vn"], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return root / "deploy"


def _compose(stack: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((stack / "docker-compose.yml").read_text())
    return loaded


def test_deploy_init_writes_secrets_once_and_never_into_env(stack: Path) -> None:
    env = (stack / ".env").read_text()
    for name in SECRET_NAMES:
        value = (stack / "secrets" / name).read_text().strip()
        assert len(value) >= 24 and value not in env
    assert (stack / "secrets").stat().st_mode & 0o077 == 0  # only its owner may enter secrets/
    assert "dokiem-collector:$7$101$" in (stack / "secrets" / "mosquitto" / "passwd").read_text()
    again = subprocess.run([*DOKIEM, "deploy", "init", "--dir", str(stack), "--domain", "x.vn"], capture_output=True,
                           text=True)  # fmt: skip
    assert again.returncode == 1 and "--force" in again.stderr and "đã có bí mật" in again.stderr  # no lock-out


def test_each_secret_is_readable_by_the_container_that_reads_it_and_nobody_else(stack: Path) -> None:
    """Issue 26: no secret file is 0644 (the compose file mounts them with their host owner and mode)."""
    from dokiem.admin.cli import SECRET_READERS

    compose = _compose(stack)
    for name, (uid, gid, mode) in SECRET_READERS.items():
        info = (stack / "secrets" / name).stat()
        assert stat.S_IMODE(info.st_mode) == mode and mode & 0o007 == 0, name
        if os.geteuid() == 0:  # only root can hand a file to another user
            assert (info.st_uid, info.st_gid) == (uid, gid), name
        readers = {service for service, spec in compose["services"].items() if name in spec.get("secrets", [])}
        assert len(readers) == (2 if mode == 0o640 else 1), (name, readers)  # owner and group, or owner alone


def test_compose_references_only_files_that_exist(stack: Path) -> None:
    compose = _compose(stack)
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (stack / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in compose["volumes"], f"{name}: named volume {source} is not declared"
        for secret in service.get("secrets", []):
            assert (stack / compose["secrets"][secret]["file"]).is_file(), f"{name}: secret {secret}"
        build = service.get("build")
        if build:
            assert (stack / build["context"] / build["dockerfile"]).is_file()
        assert service.get("restart") == "unless-stopped" and "healthcheck" in service, name
    assert set(compose["secrets"]) == {*SECRET_NAMES, *DEPARTMENT_SECRETS}


def test_no_plain_text_mqtt_and_the_api_is_not_public_by_default(stack: Path) -> None:
    compose = _compose(stack)
    published = {name: [str(p) for p in s.get("ports", [])] for name, s in compose["services"].items()}
    assert published["mosquitto"] == ["8883:8883"]
    assert not any("1883" in port for ports in published.values() for port in ports)
    assert published["collector"] == ["${COLLECTOR_API_BIND:-127.0.0.1}:8081:8081"]
    assert "influxdb" not in [name for name, ports in published.items() if ports]  # InfluxDB stays inside
    conf = (stack / "mosquitto" / "mosquitto.conf").read_text()
    listeners = re.findall(r"^listener\s+(\d+)", conf, flags=re.M)
    assert listeners == ["8883"]
    for key in ("certfile", "keyfile", "cafile"):
        assert re.search(rf"^{key}\s+/mosquitto/certs/", conf, flags=re.M)
    assert re.search(r"^allow_anonymous false$", conf, flags=re.M)
    assert re.search(r"^max_queued_messages 0$", conf, flags=re.M)


def test_docker_compose_config_accepts_the_stack_and_prints_no_secret(stack: Path) -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail("docker-compose is missing: the README's test command installs Debian's docker-compose")
    done = subprocess.run([tool, "config"], cwd=stack, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in SECRET_NAMES:
        secret = (stack / "secrets" / name).read_text().strip()
        assert secret not in done.stdout + done.stderr, f"{name} appears in docker-compose config"
        assert secret.split(":")[-1] not in done.stdout
    assert "DOKIEM_API_TOKEN_FILE: /run/secrets/api_token" in done.stdout


def test_grafana_and_influxdb_provisioning_fit_the_compose_file(stack: Path) -> None:
    compose = _compose(stack)
    grafana = compose["services"]["grafana"]
    source = yaml.safe_load((stack.parent / "grafana/provisioning/datasources/dokiem.yaml").read_text())
    (datasource,) = source["datasources"]
    secret = re.fullmatch(r"Token \$__file\{/run/secrets/(\w+)\}", datasource["secureJsonData"]["httpHeaderValue1"])
    assert secret is not None and secret[1] in grafana["secrets"]
    assert datasource["url"] == "${DOKIEM_INFLUX_URL}" and "DOKIEM_INFLUX_URL" in grafana["environment"]
    provider = yaml.safe_load((stack.parent / "grafana/provisioning/dashboards/dokiem.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert path.startswith("/etc/grafana/provisioning/")
    mounted = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"] if v.startswith(".")}
    on_host = stack / mounted["/etc/grafana/provisioning"] / path.removeprefix("/etc/grafana/provisioning/")
    from dokiem.grafana.dashboards import BUILDERS

    assert sorted(p.name for p in on_host.glob("*.json")) == sorted(f"dokiem-{name}.json" for name in BUILDERS)
    # what the map fetches from Grafana's public/ folder is mounted there, from a file that exists
    board = json.loads((on_host / "dokiem-province.json").read_text())
    fetched = {layer["config"].get("src") or layer["location"]["gazetteer"] for panel in board["panels"]
               if panel["type"] == "geomap" for layer in panel["options"]["layers"]}  # fmt: skip
    for public in fetched:
        host = mounted["/usr/share/grafana/" + public]
        assert (stack / host).is_file(), public
    # the alert channels' references resolve inside Grafana's container
    points = contact_points_file(dict.fromkeys(CHANNELS, "x"))
    assert points is not None
    for variable in re.findall(r"\$\{(\w+)\}", json.dumps(points)):
        assert variable in grafana["environment"]
    for used in re.findall(r"/run/secrets/(\w+)", json.dumps(points)):
        assert used in grafana["secrets"]
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana_admin_password"
    script = stack / "influxdb" / "init-dokiem.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    influx = compose["services"]["influxdb"]
    for used in re.findall(r"/run/secrets/(\w+)", script.read_text()):
        assert used in influx["secrets"]


def test_dockerfile_is_multi_stage_non_root_and_copies_what_exists() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, flags=re.M)) >= 2
    users = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert users and users[-1] not in ("root", "0")
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.M):
        for item in source.split():
            assert (REPO / item).exists(), item
    assert 'ENTRYPOINT ["dokiem"]' in text


def test_the_collector_never_logs_its_secrets(tmp_path: Path) -> None:
    """Started as the compose file starts it (secrets as *_FILE), verbose, with the broker and
    InfluxDB unreachable so that it logs its retries: no secret shows in its output."""
    import os
    import urllib.error
    import urllib.request

    from testkit.processes import answers, free_port, wait_until_ready

    values = {"mqtt": "mqtt-secret-value-123", "influx": "collector:influx-secret-456", "api": "api-secret-789"}
    for name, value in values.items():
        (tmp_path / name).write_text(value + "\n")
    port = free_port()
    env = {
        **os.environ, "DOKIEM_BROKER_URL": f"mqtt://127.0.0.1:{free_port()}", "DOKIEM_MQTT_USERNAME": "collector",
        "DOKIEM_MQTT_PASSWORD_FILE": str(tmp_path / "mqtt"), "DOKIEM_INFLUX_URL": f"http://127.0.0.1:{free_port()}",
        "DOKIEM_INFLUX_TOKEN_FILE": str(tmp_path / "influx"), "DOKIEM_API_TOKEN_FILE": str(tmp_path / "api"),
        "DOKIEM_HTTP_LISTEN": f"127.0.0.1:{port}", "DOKIEM_DATA_DIR": str(tmp_path / "data"),
    }  # fmt: skip
    proc = subprocess.Popen([*DOKIEM, "-v", "collector", "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_until_ready(lambda: answers(f"http://127.0.0.1:{port}/healthz", 200), proc, "collector", 30)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/agents", headers={"Authorization": "Bearer no"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401
        good = urllib.request.Request(f"http://127.0.0.1:{port}/api/agents",
                                      headers={"Authorization": f"Bearer {values['api']}"})  # fmt: skip
        with urllib.request.urlopen(good, timeout=5) as answer:
            assert answer.status == 200
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert "WARNING dokiem.collector.service: broker mqtt://127.0.0.1" in output  # it logs, just not the secrets
    for value in values.values():
        assert value not in output and value.split(":")[-1] not in output


def test_influxdb_first_start_script_makes_the_mapping_and_two_users(stack: Path, tmp_path: Path) -> None:
    """InfluxDB 2 is not in Debian: a stand-in `influx` CLI records what the script asks of it."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    fake = bin_dir / "influx"
    fake.write_text(f'#!/bin/bash\nprintf "%s\\n" "$*" >> {log}\n'
                    'if [ "$1 $2" = "bucket list" ]; then printf "0a1b2c3d\\tdokiem\\t0s\\n"; fi\n')  # fmt: skip
    fake.chmod(0o755)
    script = (stack / "influxdb" / "init-dokiem.sh").read_text().replace("/run/secrets/", f"{stack}/secrets/")
    runnable = tmp_path / "init.sh"
    runnable.write_text(script)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "DOCKER_INFLUXDB_INIT_BUCKET": "dokiem", "DOKIEM_INFLUX_DB": "dokiem"}
    done = subprocess.run(["bash", str(runnable)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    collector_user, collector_password = (stack / "secrets" / "influx_collector_token").read_text().strip().split(":")
    reader_user, reader_password = (stack / "secrets" / "influx_read_token").read_text().strip().split(":")
    assert calls[1] == "v1 dbrp create --db dokiem --rp autogen --bucket-id 0a1b2c3d --default"
    assert calls[2] == (f"v1 auth create --username {collector_user} --password {collector_password} "
                        "--write-bucket 0a1b2c3d --description dokiem collector (write)")  # fmt: skip
    assert calls[3] == (f"v1 auth create --username {reader_user} --password {reader_password} "
                        "--read-bucket 0a1b2c3d --description Grafana (read only)")  # fmt: skip
    assert collector_password not in done.stdout + done.stderr and reader_password not in done.stdout

"""The agent's configuration: TOML, DOKIEM_ overrides, and errors that say where."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dokiem.agent.config import env_names, load
from dokiem.contract import Access
from dokiem.settings import ConfigError

GOOD = """\
[agent]
id = "th-380-001"
data_dir = "/tmp/x"

[site]
province_code = "38"
district_code = "380"
access = "fixed"
plan_down_mbps = 300

[broker]
url = "mqtts://broker.thanhhoa.vn:8883"
password = "s3cret"

[measure]
servers = ["http://speedtest.thanhhoa.vn:8080/"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_a_good_file(tmp_path: Path) -> None:
    config = load(write(tmp_path, GOOD), environ={})
    assert config.agent.id == "th-380-001" and config.site.access is Access.FIXED
    assert config.broker.tls and config.broker.port == 8883 and config.mqtt_username == "th-380-001"
    assert config.schedule.interval_minutes == 60  # the default


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {
        "DOKIEM_BROKER_URL": "mqtt://10.0.0.5:1883",
        "DOKIEM_SERVERS": "http://a.vn/, http://b.vn/",
        "DOKIEM_INTERVAL_MINUTES": "30",
        "DOKIEM_SITE_DISTRICT": "381",
        "DOKIEM_OUTBOX_MAX_RESULTS": "500",
    }
    config = load(write(tmp_path, GOOD), environ=env)
    assert config.broker.port == 1883 and not config.broker.tls
    assert config.measure.servers == ["http://a.vn/", "http://b.vn/"]
    assert config.schedule.interval_minutes == 30 and config.site.district_code == "381"
    assert config.outbox.max_results == 500


def test_environment_alone_is_enough() -> None:
    config = load(None, environ={"DOKIEM_AGENT_ID": "pi-1", "DOKIEM_SERVERS": "http://a.vn/"})
    assert config.agent.id == "pi-1"


def test_every_key_has_a_variable() -> None:
    names = env_names()
    assert names["DOKIEM_SCHEDULE_MONTHLY_BUDGET_MB"] == ("schedule", "monthly_budget_mb")
    assert names["DOKIEM_MQTT_CA_FILE"] == ("broker", "ca_file")
    # every section of the config is one, read from the model: the router's and the survey's were once left out
    assert names["DOKIEM_ROUTER_SOURCE"] == ("router", "source")
    assert names["DOKIEM_SURVEY_GPSD"] == ("survey", "gpsd")


@pytest.mark.parametrize(
    ("replace", "by", "line", "key"),
    [
        ('url = "mqtts://broker.thanhhoa.vn:8883"', 'url = "http://broker"', 12, "broker.url"),
        ('access = "fixed"', 'access = "cable"', 8, "site.access"),
        ("plan_down_mbps = 300", "plan_down_mbps = -3", 9, "site.plan_down_mbps"),
        ('password = "s3cret"', 'pasword = "s3cret"', 13, "broker.pasword"),
        ('servers = ["http://speedtest.thanhhoa.vn:8080/"]', 'servers = ["ftp://x/"]', 16, "measure.servers"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, replace: str, by: str, line: int, key: str) -> None:
    path = write(tmp_path, GOOD.replace(replace, by))
    with pytest.raises(ConfigError) as info:
        load(path, environ={})
    assert info.value.where == f"{path}, line {line}, key {key}"


def test_the_survey_keys_come_from_the_environment_and_a_bad_one_is_named() -> None:
    env = {"DOKIEM_AGENT_ID": "xe-01", "DOKIEM_SERVERS": "http://a.vn/", "DOKIEM_SURVEY_GPSD": "[::1]:2948",
           "DOKIEM_SURVEY_TEST_EVERY_S": "120",
           "DOKIEM_SURVEY_POSITION": "gpsd"}  # fmt: skip
    survey = load(None, environ=env).survey
    assert (survey.gpsd, survey.test_every_s, survey.position) == ("[::1]:2948", 120, "gpsd")
    for key, bad in (("DOKIEM_SURVEY_GPSD", "localhost:99999"), ("DOKIEM_SURVEY_POSITION", "compass"),
                     ("DOKIEM_SURVEY_SAMPLE_SECONDS", "0")):  # fmt: skip
        with pytest.raises(ConfigError) as info:
            load(None, environ=env | {key: bad})
        assert key in info.value.where and "Traceback" not in str(info.value), key


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('id = "th-380-001"', "id = th-380-001"))
    with pytest.raises(ConfigError, match="line 2"):
        load(path, environ={})


def test_missing_agent_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, GOOD.replace('id = "th-380-001"\n', "")), environ={})
    assert "agent.id" in info.value.where and "required" in info.value.problem


def test_a_bad_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, GOOD), environ={"DOKIEM_INTERVAL_MINUTES": "soon"})
    assert "DOKIEM_INTERVAL_MINUTES" in info.value.where


def test_no_server_with_a_schedule_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"measure\.servers"):
        load(
            write(tmp_path, GOOD.replace('servers = ["http://speedtest.thanhhoa.vn:8080/"]', "servers = []")),
            environ={},
        )


def test_hour_windows(tmp_path: Path) -> None:
    config = load(write(tmp_path, GOOD + '\n[schedule]\nheavy_hours = ["0-6", "22-24"]\n'), environ={})
    assert config.schedule.heavy_allowed(3) and config.schedule.heavy_allowed(23)
    assert not config.schedule.heavy_allowed(12)
    with pytest.raises(ConfigError, match="hour window"):
        load(write(tmp_path, GOOD + '\n[schedule]\nheavy_hours = ["6-3"]\n'), environ={})


def test_agent_run_stops_before_starting_on_a_bad_config(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('access = "fixed"', 'access = "cable"'))
    proc = subprocess.run(
        [sys.executable, "-m", "dokiem", "agent", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert f"{path}, dòng 8, khóa site.access): phải là một trong: 'fixed'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_fleet_config_says_where_it_is_wrong() -> None:
    from dokiem.fleet import parse_fleet_config

    with pytest.raises(ValueError, match=r"^schedule\.interval_minutes"):
        parse_fleet_config(b'{"schedule": {"interval_minutes": -1}}')
    with pytest.raises(ValueError, match=r"^schedule: .*interval_minutes is 0 \(off\) or at least 5"):
        parse_fleet_config(b'{"schedule": {"interval_minutes": 0.001}}')
    with pytest.raises(ValueError, match=r"^measure\.servers: .*at most 10"):
        parse_fleet_config(json.dumps({"measure": {"servers": [f"http://s{i}.vn/" for i in range(11)]}}).encode())
    with pytest.raises(ValueError, match=r"^measure\.dns_names\.0"):
        parse_fleet_config(json.dumps({"measure": {"dns_names": ["a" * 64 + ".vn"]}}).encode())
    with pytest.raises(ValueError, match=r"^schedule\.monthly_budget_mb"):
        parse_fleet_config(b'{"schedule": {"monthly_budget_mb": true}}')  # strict: a boolean is not a number
    assert parse_fleet_config(b'{"schedule": {"interval_minutes": 0}}').measure.servers == []


def test_a_fleet_config_changes_only_what_it_names(tmp_path: Path) -> None:
    from dokiem.fleet import parse_fleet_config

    local = load(write(tmp_path, GOOD + "\n[schedule]\nmonthly_budget_mb = 5000\nlight_interval_minutes = 10\n"),
                 environ={})  # fmt: skip
    merged = local.with_fleet(parse_fleet_config(b'{"version": "q4", "schedule": {"interval_minutes": 30}}'))
    assert merged.schedule.interval_minutes == 30
    assert merged.schedule.monthly_budget_mb == 5000 and merged.schedule.light_interval_minutes == 10  # kept
    assert merged.measure.servers == local.measure.servers
    with pytest.raises(ValueError, match=r"measure\.servers has no domestic server"):
        local.with_fleet(parse_fleet_config(b'{"measure": {"servers": []}}'))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://[::1]/", "http://169.254.10.1/",
                                 "http://localhost/", "https://0.0.0.0/"])  # fmt: skip
def test_a_fleet_config_never_points_at_loopback_unless_allowed(tmp_path: Path, url: str) -> None:
    from dokiem.fleet import parse_fleet_config

    fleet = parse_fleet_config(json.dumps({"measure": {"servers": [url]}}).encode())
    with pytest.raises(ValueError, match="loopback or link-local"):
        load(write(tmp_path, GOOD), environ={}).with_fleet(fleet)
    lab = GOOD.replace('data_dir = "/tmp/x"', 'data_dir = "/tmp/x"\nallow_local_servers = true')
    allowed = load(write(tmp_path, lab), environ={})
    assert allowed.with_fleet(fleet).measure.servers == [url]


def test_a_config_error_never_shows_a_secret(tmp_path: Path) -> None:
    planted = "planted-Secret-9f3b"
    texts = [
        GOOD.replace('servers = ["http://speedtest.thanhhoa.vn:8080/"]', "servers = []").replace("s3cret", planted),
        GOOD.replace("s3cret", planted) + "\n[schedule]\ninterval_minutes = 'often'\n",
        GOOD.replace('password = "s3cret"', f"password = {{ value = '{planted}' }}"),
        GOOD.replace('password = "s3cret"', f"password = ['{planted}']"),
        GOOD.replace("s3cret", planted).replace("[broker]", "[broker]\nkeepalive_s = -1"),
    ]
    for text in texts:
        with pytest.raises(ConfigError) as info:
            load(write(tmp_path, text), environ={})
        assert planted not in str(info.value) and planted not in info.value.where
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, GOOD), environ={"DOKIEM_MQTT_PASSWORD": planted, "DOKIEM_BROKER_KEEPALIVE_S": planted})
    assert planted not in str(info.value)


def test_backoff_grows_jitters_and_stops_at_its_cap() -> None:
    import random

    from dokiem.settings import backoff_delay

    rng = random.Random(1)
    assert 0.5 <= backoff_delay(0, 60, rng) <= 1
    assert 4 <= backoff_delay(3, 60, rng) <= 8
    delays = {backoff_delay(20, 60, rng) for _ in range(20)}
    assert all(30 <= d <= 60 for d in delays) and len(delays) > 1


def test_a_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt_password"
    secret.write_text("from-a-docker-secret\n")
    config = load(write(tmp_path, GOOD), environ={"DOKIEM_MQTT_PASSWORD_FILE": str(secret)})
    assert config.broker.password == "from-a-docker-secret"
    direct = load(write(tmp_path, GOOD), environ={"DOKIEM_MQTT_PASSWORD": "direct", "DOKIEM_MQTT_PASSWORD_FILE": "x"})
    assert direct.broker.password == "direct"  # the variable itself wins over its _FILE twin
    with pytest.raises(ConfigError, match=r"DOKIEM_MQTT_PASSWORD_FILE.*cannot read /nonexistent"):
        load(write(tmp_path, GOOD), environ={"DOKIEM_MQTT_PASSWORD_FILE": "/nonexistent"})

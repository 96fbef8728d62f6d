"""The Pi installer and the systemd unit: the config they write loads, the unit says what it must."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import pytest

from dokiem.agent.config import load
from testkit.processes import REPO

INSTALL = REPO / "deploy" / "agent" / "install.sh"
ARGS = ["--id", "th-380-001", "--broker", "mqtts://broker.example.vn:8883", "--password", 'p"w\\d',
        "--server", "http://speedtest.example.vn:8080/", "--district", "380", "--commune", "14755",
        "--isp", "Viettel", "--access", "mobile", "--plan-down", "150", "--plan-up", "50",
        "--monthly-budget-mb", "30000"]  # fmt: skip


def test_installer_writes_a_config_the_agent_accepts(tmp_path: Path) -> None:
    out = subprocess.run(["bash", str(INSTALL), *ARGS, "--print-config"], capture_output=True, text=True, check=True)
    path = tmp_path / "agent.toml"
    path.write_text(out.stdout)
    config = load(path, environ={})
    assert config.agent.id == "th-380-001" and config.broker.password == 'p"w\\d'
    assert config.site.access.value == "mobile" and config.site.plan_down_mbps == 150  # type: ignore[union-attr]
    assert config.schedule.monthly_budget_mb == 30000
    assert config.measure.servers == ["http://speedtest.example.vn:8080/"]
    check = subprocess.run(
        [sys.executable, "-m", "dokiem", "agent", "check", "--config", str(path)], capture_output=True, text=True
    )
    assert check.returncode == 0 and "Cấu hình hợp lệ" in check.stdout and "th-380-001" in check.stdout


@pytest.mark.parametrize(("drop", "message"), [("--id", "--id is required"), ("--server", "--server is required")])
def test_installer_says_what_is_missing(drop: str, message: str) -> None:
    i = ARGS.index(drop)
    args = ARGS[:i] + ARGS[i + 2 :]
    proc = subprocess.run(["bash", str(INSTALL), *args, "--print-config"], capture_output=True, text=True)
    assert proc.returncode == 1 and message in proc.stderr


def test_unit_runs_unprivileged_with_only_the_icmp_capability() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "deploy" / "agent" / "dokiem-agent.service")
    service = unit["Service"]
    assert service["User"] == "dokiem" and service["Restart"] == "on-failure"
    assert service["AmbientCapabilities"] == "CAP_NET_RAW" == service["CapabilityBoundingSet"]
    assert "dokiem agent run --config /etc/dokiem/agent.toml" in service["ExecStart"]
    # systemd waits for READY and restarts an agent whose event loop stops pinging (agent/systemd.py)
    assert (service["Type"], service["NotifyAccess"], service["WatchdogSec"]) == ("notify", "main", "120")


def test_the_survey_unit_runs_unprivileged_and_gives_a_stopped_survey_time_to_keep_its_batch() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "deploy" / "agent" / "dokiem-survey.service")
    service = unit["Service"]
    assert service["User"] == "dokiem" and service["Restart"] == "on-failure"
    assert "dokiem agent survey --config /etc/dokiem/agent.toml" in service["ExecStart"]
    assert "AmbientCapabilities" not in service and int(service["TimeoutStopSec"]) >= 30
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_example_config_is_valid() -> None:
    config = load(REPO / "deploy" / "agent" / "agent.example.toml", environ={})
    assert config.site.commune_name == "Phường Hạc Thành" and config.schedule.heavy_allowed(12)


def test_installer_takes_the_bundle_enroll_made(tmp_path: Path) -> None:
    """What the department sends (agent.toml + ca.crt from `dokiem agent enroll`) installs as is."""
    from dokiem.admin.pki import init_pki

    pki = init_pki(tmp_path / "certs", ["dokiem.example.vn"])
    enrolled = subprocess.run(
        [sys.executable, "-m", "dokiem", "agent", "enroll", "--id", "th-390-007", "--site", "38/390", "--isp", "FPT",
         "--access", "fixed", "--broker-url", "mqtts://dokiem.example.vn:8883", "--server",
         "http://dokiem.example.vn:8080/", "--ca-file", str(pki.ca_cert), "--passwd-file", str(tmp_path / "passwd"),
         "--out", str(tmp_path / "bundle")], capture_output=True, text=True,
    )  # fmt: skip
    assert enrolled.returncode == 0, enrolled.stderr
    bundle = tmp_path / "bundle" / "agent.toml"
    assert bundle.stat().st_mode & 0o077 == 0  # it holds the agent's password
    out = subprocess.run(["bash", str(INSTALL), "--config", str(bundle), "--print-config"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert out.stdout == bundle.read_text()
    config = load(bundle, environ={})
    assert str(config.broker.ca_file) == "/etc/dokiem/ca.pem"  # where install.sh puts the bundle's ca.crt
    assert config.site.district_name == "Huyện Cẩm Thủy" and config.site.lat is not None


def test_the_updater_units_run_the_confirmed_version_and_watch_what_the_agent_writes() -> None:
    from dokiem.agent.config import UpdateSection
    from dokiem.agent.service_cli import agent_group
    from dokiem.agent.update import WANTED_FILE

    def unit(name: str) -> configparser.ConfigParser:
        parsed = configparser.ConfigParser(strict=False, interpolation=None)
        assert parsed.read(REPO / "deploy" / "agent" / name), name
        return parsed

    root = UpdateSection().root
    assert unit("dokiem-agent.service")["Service"]["ExecStart"].startswith(f"{root}/current/bin/dokiem ")
    updater = unit("dokiem-update.service")["Service"]
    command = updater["ExecStart"].split()
    assert command[0] == f"{root}/good/bin/dokiem" and command[1:3] == ["agent", "update"]
    assert "update" in agent_group.list_commands(None)  # type: ignore[arg-type]
    assert "User" not in updater  # root: it writes /opt/dokiem and restarts the agent
    assert unit("dokiem-update.path")["Path"]["PathChanged"] == f"/var/lib/dokiem/{WANTED_FILE}"
    assert unit("dokiem-update.timer")["Timer"]["Unit"] == "dokiem-update.service"
    installer = INSTALL.read_text()
    assert all(name in installer for name in ("dokiem-update.path", "dokiem-update.timer", "release.pub"))

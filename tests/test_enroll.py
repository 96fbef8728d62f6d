"""`dokiem agent enroll` refuses ids that are not an agent's: the collector's own login, malformed ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dokiem.admin.enroll import COLLECTOR_MQTT_USER, check_agent_id
from testkit.processes import DOKIEM


@pytest.mark.parametrize("agent_id", [COLLECTOR_MQTT_USER, "ingest-1", "a/b", "+", "#", "", "x" * 65, "-lead", "a b"])
def test_reserved_and_malformed_ids_are_refused(agent_id: str) -> None:
    with pytest.raises(ValueError, match=r"reserved|not an agent id"):
        check_agent_id(agent_id, frozenset({"ingest-1"}))


def test_a_normal_id_passes() -> None:
    check_agent_id("th-380-001", frozenset({"ingest-1"}))


def test_enroll_refuses_the_collectors_login_and_leaves_the_password_file_alone(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("")
    ca = tmp_path / "ca.crt"
    ca.write_text("not used")
    refused = subprocess.run(
        [*DOKIEM, "--lang", "en", "agent", "enroll", "--id", COLLECTOR_MQTT_USER, "--site", "38/380",
         "--broker-url", "mqtts://x:8883", "--server", "http://st.example.vn/", "--ca-file", str(ca),
         "--passwd-file", str(passwd), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert refused.returncode == 2 and "reserved" in refused.stderr and "Traceback" not in refused.stderr
    assert passwd.read_text() == "" and not (tmp_path / "out").exists()

"""Thanh Hóa since July 2025, end to end: an agent configured by its 2025 commune alone lands in
InfluxDB under that commune and its former district; a pre-reform code is mapped; a result is read
in the era of its time; results archived under old codes are refiled by ``collector reindex``;
``agent enroll`` takes ``38/14797``; ``dokiem regions`` looks codes up and checks a list."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dokiem.agent.config import load as load_agent_config
from dokiem.agent.service import Agent
from dokiem.collector.archive import Archive, sqlite_url
from dokiem.collector.influx import result_line
from dokiem.collector.service import Collector
from dokiem.contract import Result, Site
from testkit.agentkit import make_result, write_config
from testkit.brokers import Broker
from testkit.collectorkit import api_get, collector_config, wait_influx, wait_stored
from testkit.influx import Influx
from testkit.processes import DOKIEM

JUNE_2025 = datetime(2025, 6, 15, 3, 0, tzinfo=UTC)


def _tags(server: Influx, where: str) -> dict[str, str]:
    """The tags of the one series matching ``where`` (GROUP BY * lists absent tags as "")."""
    (series,) = server.query(f"SELECT count(download_mbps) FROM speedtest WHERE {where} GROUP BY *")
    return {key: value for key, value in series["tags"].items() if value}


def _agent_site(tmp_path: Path, broker_url: str, commune: str) -> Site:
    """The site of an agent configured only by DOKIEM_SITE_PROVINCE and DOKIEM_SITE_COMMUNE."""
    path = write_config(tmp_path / f"agent-{commune}", broker_url)
    config = load_agent_config(path, environ={"DOKIEM_SITE_PROVINCE": "38", "DOKIEM_SITE_COMMUNE": commune})
    assert config.site.district_code is None and config.site.commune_code == commune
    return config.site


async def _send(tmp_path: Path, broker: Broker, results: list[Result]) -> None:
    agent = Agent(load_agent_config(write_config(tmp_path / "sender", broker.url), environ={}))
    for result in results:
        agent.queue(result)
    assert await agent.publisher.drain_once(10)


async def test_an_agent_named_by_its_2025_commune_lands_under_it_and_its_former_district(
    tmp_path: Path, broker: Broker, influx: Influx, running: Collector
) -> None:
    new = make_result(1).model_copy(update={"site": _agent_site(tmp_path, broker.url, "14797")})
    old = make_result(2).model_copy(update={"site": _agent_site(tmp_path, broker.url, "14755")})
    await _send(tmp_path, broker, [new, old])
    await wait_stored(running, lambda: running.archive.results.count() == 2)
    await wait_influx(influx, "SELECT count(download_mbps) FROM speedtest", 2)
    placed = _tags(influx, "commune_name = 'Phường Hạc Thành'")
    assert {key: placed[key] for key in ("province", "commune", "commune_name", "district", "district_name")} == {
        "province": "38", "commune": "14797", "commune_name": "Phường Hạc Thành", "district": "380",
        "district_name": "Thành phố Thanh Hóa",
    }  # fmt: skip
    assert "commune_declared" not in placed  # a 2025 code is not a mapping
    mapped = _tags(influx, "commune_declared = '14755'")  # old Phường Hàm Rồng: now within the new Hàm Rồng
    assert (mapped["commune"], mapped["commune_name"], mapped["district"]) == ("14758", "Phường Hàm Rồng", "380")
    rows = {row["commune_code"]: row for row in _archived(running.archive)}
    assert set(rows) == {"14797", "14758"} and {row["district_code"] for row in rows.values()} == {"380"}
    listed = json.loads(await api_get(running, "/api/results?district=380"))  # the API files them the same way
    assert sorted(r["filed"]["commune_code"] for r in listed) == ["14758", "14797"]
    assert sorted(r["site"]["commune_code"] for r in listed) == ["14755", "14797"]  # and keeps what was sent
    table = list(csv.DictReader(io.StringIO((await api_get(running, "/api/results?format=csv")).decode())))
    assert sorted((row["district"], row["commune"]) for row in table) == [("380", "14758"), ("380", "14797")]


def _archived(archive: Archive) -> list[dict[str, Any]]:
    columns = ("result_id", "province_code", "district_code", "commune_code")
    rows = archive._db.execute(f"SELECT {', '.join(columns)} FROM results").fetchall()
    return [dict(zip(columns, row, strict=True)) for row in rows]


@pytest.fixture
async def from_2025(tmp_path: Path, broker: Broker, influx: Influx) -> AsyncIterator[Collector]:
    """A collector that still takes results of June 2025 (a re-admitted backlog from then, say)."""
    collector = Collector(collector_config(tmp_path, broker, influx, DOKIEM_LIMITS_MAX_AGE_DAYS="3650"))
    task = asyncio.create_task(collector.run())
    await asyncio.wait_for(collector.subscribed.wait(), 10)
    yield collector
    task.cancel()


async def test_a_code_is_read_in_the_era_of_the_result(
    tmp_path: Path, broker: Broker, influx: Influx, from_2025: Collector
) -> None:
    running = from_2025

    def june(n: int, commune: str) -> Result:
        return make_result(n).model_copy(update={"started_at": JUNE_2025 + timedelta(minutes=n),
                                                 "finished_at": JUNE_2025 + timedelta(minutes=n, seconds=20),
                                                 "site": Site(province_code="38", commune_code=commune)})  # fmt: skip

    # in June 2025, 14797 was Phường Đông Hải and 14758 Phường Đông Thọ, split between two new wards
    await _send(tmp_path, broker, [june(1, "14797"), june(2, "14758")])
    await wait_stored(running, lambda: running.archive.results.count() == 2)
    await wait_influx(influx, "SELECT count(download_mbps) FROM speedtest", 2)
    whole = _tags(influx, "commune_declared = '14797'")
    assert (whole["commune"], whole["district"]) == ("14797", "380")
    split = _tags(influx, "commune_declared = '14758'")
    assert "commune" not in split and split["district"] == "380"  # its former district known, its commune not


@pytest.fixture
def stored_by_an_older_collector(tmp_path: Path, influx: Influx) -> Iterator[list[Result]]:
    """Results archived and written under pre-reform codes, as before dokiem knew the 2025 communes."""
    results = [
        make_result(n).model_copy(update={"site": Site(province_code="38", district_code="380", commune_code=code)})
        for n, code in enumerate(["14755", "14755", "14761", "14797"])
    ]
    archive = Archive.from_url(sqlite_url(tmp_path / "collector" / "archive.db"))
    archive.results.add(results)  # the codes as sent
    archive.results.mark_written(str(r.result_id) for r in results)
    archive.close()
    influx.query('CREATE DATABASE "dokiem"')
    lines = "\n".join(line for r in results if (line := result_line(r)))
    request = urllib.request.Request(f"{influx.url}/write?db=dokiem&precision=ms", data=lines.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 204
    yield results


def test_reindex_refiles_results_archived_under_old_codes(
    tmp_path: Path, broker: Broker, influx: Influx, stored_by_an_older_collector: list[Result]
) -> None:
    assert influx.scalar("SELECT count(download_mbps) FROM speedtest WHERE commune = '14755'") == 2
    config = collector_config(tmp_path, broker, influx)
    env = {"DOKIEM_BROKER_URL": config.broker.url, "DOKIEM_DATA_DIR": str(config.collector.data_dir),
           "DOKIEM_INFLUX_URL": influx.url, "DOKIEM_API_TOKEN": "x"}  # fmt: skip
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    done = subprocess.run([*DOKIEM, "--lang", "en", "collector", "reindex", "--since", since], env=_env(env),
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Refiled 3 results" in done.stderr  # 14797 is a 2025 code already
    assert influx.scalar("SELECT count(download_mbps) FROM speedtest WHERE commune = '14755'") is None
    assert influx.scalar("SELECT count(download_mbps) FROM speedtest WHERE commune = '14758'") == 3
    assert influx.scalar("SELECT count(download_mbps) FROM speedtest") == 4  # moved, not copied
    archive = Archive.from_url(sqlite_url(tmp_path / "collector" / "archive.db"))
    assert sorted(row["commune_code"] for row in _archived(archive)) == ["14758", "14758", "14758", "14797"]


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


def _enroll(tmp_path: Path, site: str) -> subprocess.CompletedProcess[str]:
    ca = tmp_path / "ca.crt"
    ca.write_text("test CA\n")
    return subprocess.run(
        [*DOKIEM, "--lang", "en", "agent", "enroll", "--id", "th-test-1", "--site", site, "--broker-url",
         "mqtts://mqtt.example.vn:8883", "--server", "http://speed.example.vn/", "--ca-file", str(ca),
         "--passwd-file", str(tmp_path / "passwd"), "--out", str(tmp_path / "bundle")],
        capture_output=True, text=True, env=_env({"DOKIEM_ARCHIVE_URL": ""}),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("site", "commune", "name"),
    [("38/14797", "14797", "Phường Hạc Thành"), ("38/380/14755", "14758", "Phường Hàm Rồng")],
)
def test_enroll_names_the_site_by_its_2025_commune(tmp_path: Path, site: str, commune: str, name: str) -> None:
    done = _enroll(tmp_path, site)
    assert done.returncode == 0, done.stderr
    bundle = (tmp_path / "bundle" / "agent.toml").read_text()
    assert f'commune_code = "{commune}"' in bundle and f'commune_name = "{name}"' in bundle
    assert 'district_code = "380"' in bundle and "lat = 19." in bundle  # the commune's own point


def test_enroll_refuses_a_split_old_commune_and_names_the_new_ones(tmp_path: Path) -> None:
    done = _enroll(tmp_path, "38/380/16435")  # Phường An Hưng, split between Hạc Thành and Đông Quang
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "split between 14797 (Phường Hạc Thành), 16417 (Phường Đông Quang)" in done.stderr
    assert not (tmp_path / "bundle").exists()


def _regions(*args: str) -> subprocess.CompletedProcess[str]:
    """``dokiem regions`` as a department of province 38 runs it (its collector.province set)."""
    env = {**os.environ, "DOKIEM_COLLECTOR_PROVINCE": "38"}
    return subprocess.run([*DOKIEM, *args], capture_output=True, text=True, env=env)


def test_regions_show_reads_a_code_in_both_eras() -> None:
    done = _regions("regions", "show", "14758", "--at", "2025-06-01")
    assert done.returncode == 0, done.stderr
    assert "Từ 01/7/2025: 14758 Phường Hàm Rồng" in done.stdout
    assert "Trước 01/7/2025: 14758 Phường Đông Thọ" in done.stdout
    assert "không xác định được xã (đơn vị cũ bị chia cho 14758, 14797)" in done.stdout
    unknown = _regions("--lang", "en", "regions", "show", "99999")
    assert unknown.returncode == 2 and "99999 is in neither commune list" in unknown.stderr


def test_regions_list_gives_a_former_districts_communes() -> None:
    done = _regions("regions", "list", "--district", "381")
    assert done.returncode == 0 and "14812\tPhường Bỉm Sơn" in done.stdout
    assert all("Bỉm Sơn (381)" in line for line in done.stdout.splitlines())
    assert len(_regions("regions", "list").stdout.splitlines()) == 166


def _shipped_list(path: Path) -> list[str]:
    done = _regions("regions", "list")
    lines = ["Mã,Tên,Huyện cũ"] + [",".join(f'"{c}"' for c in line.split("\t")) for line in done.stdout.splitlines()]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return lines


def test_regions_check_agrees_with_its_own_list_and_names_each_difference(tmp_path: Path) -> None:
    ours = tmp_path / "ours.csv"
    lines = _shipped_list(ours)
    same = _regions("regions", "check", str(ours))
    assert same.returncode == 0 and "0 khác biệt" in same.stderr
    theirs = tmp_path / "theirs.csv"
    edited = [line for line in lines if not line.startswith('"14758"')]  # one missing
    edited = [line.replace("Phường Hạc Thành", "Phuong Hac Thanh") for line in edited]  # one misspelt
    edited += ['"99999","Xã Mới",""', edited[1]]  # one extra, one repeated
    theirs.write_text("\n".join(edited) + "\n", encoding="utf-8")
    done = _regions("--lang", "en", "regions", "check", str(theirs))
    assert done.returncode == 1
    assert "missing from the file: 14758 Phường Hàm Rồng" in done.stdout
    hac_thanh = next(n for n, line in enumerate(edited, start=1) if line.startswith('"14797"'))
    first = edited[1].split(",")[0].strip('"')
    assert f'line {hac_thanh}: 14797 reads "Phuong Hac Thanh", the shipped list "Phường Hạc Thành"' in done.stdout
    assert "line 167: 99999 Xã Mới is not in dokiem's list" in done.stdout
    assert f"line 168: {first} repeats line 2" in done.stdout
    assert "4 differences" in done.stderr


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"M\xe3,T\xean\n14797,Ph\xb0\xeang\n", "not UTF-8"), (b"code;name\n14797;X\n", "need a code column")],
)
def test_regions_check_refuses_an_unreadable_file(tmp_path: Path, content: bytes, problem: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    done = _regions("--lang", "en", "regions", "check", str(bad))
    assert done.returncode == 2 and problem in done.stderr and "Traceback" not in done.stderr

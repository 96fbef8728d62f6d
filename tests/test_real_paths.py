"""Figures on real paths (issue 21): a long round trip, a deep buffer, an international test point
250 ms away, each through a router namespace with ../shared/lab's delay line (testkit/pathlab.py), the
agent in its own namespace whose default route carries the test, iperf3 on the same path as the
reference."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dokiem.agent.cli import render_table
from dokiem.agent.messages import TEXTS as AGENT_TEXTS
from dokiem.collector.service import Collector
from dokiem.contract import Result
from dokiem.grafana.dashboards import build_all
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.thresholds import load_thresholds
from testkit.agentkit import write_config
from testkit.brokers import running_broker
from testkit.collectorkit import collector_config, influx_rows
from testkit.influx import Influx
from testkit.pathlab import SERVER_IP, UPLINK_IP, PathLab, PathShape, path_lab
from testkit.processes import REPO

TESTSERVER = f"http://{SERVER_IP}:8080/"
LONG = PathShape(down_mbps=20, up_mbps=20, one_way_ms=75, buffer_ms=50)  # 150 ms: a server across the country
BLOATED = PathShape(down_mbps=20, up_mbps=20, one_way_ms=5, buffer_ms=500)  # a home router holding half a second
SANE = PathShape(down_mbps=20, up_mbps=20, one_way_ms=5, buffer_ms=20)
ABROAD = PathShape(down_mbps=20, up_mbps=20, one_way_ms=125, buffer_ms=50)  # 250 ms: an international test point

SENT = AGENT_TEXTS["once_sent"][0]  # what `agent once` says when the broker took the result


def _serve(lab: PathLab) -> None:
    lab.spawn(lab.server, "iperf3", "-s", "-B", SERVER_IP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lab.spawn(lab.server, sys.executable, "-m", "dokiem", "testserver", "--listen", f"{SERVER_IP}:8080",
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)  # fmt: skip
    lab.wait_reachable(f"{TESTSERVER}healthz")


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[PathLab]:
    with path_lab("dkt", request.param) as made:
        _serve(made)
        yield made


def measure(lab: PathLab, *extra: str) -> tuple[Result, str]:
    """``dokiem measure`` from the client namespace: the Result, and the table a technician reads."""
    done = subprocess.run(lab.exec(lab.client, sys.executable, "-m", "dokiem", "measure", "--server", TESTSERVER,
                                   "--ping-count", "0", "--json", *extra),
                          capture_output=True, text=True, timeout=180, cwd=REPO)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = Result.from_json(done.stdout)
    return result, render_table(result, Translator("vi"))


@pytest.mark.parametrize("lab", [LONG], indirect=True, ids=["150 ms"])
def test_a_long_path_reads_as_iperf3_reads_it_and_records_the_path(lab: PathLab) -> None:
    """At 150 ms the dokiem before issue 21 read upload at 0.6 of iperf3 (each request's response waited a
    round trip; the warm-up ended before slow start did)."""
    reference = lab.iperf3()
    result, _ = measure(lab)
    assert result.error is None, result.error
    for got, want in zip((result.download_mbps, result.upload_mbps), reference, strict=True):
        assert got is not None and abs(got / want - 1) <= 0.05, (got, want)
    assert result.latency_ms is not None and LONG.rtt_ms <= result.latency_ms <= 1.05 * LONG.rtt_ms
    path = result.method.path_up
    assert path is not None and path.min_rtt_ms is not None and path.min_rtt_ms >= 0.99 * LONG.rtt_ms
    assert path.congestion_control == LONG.congestion and path.retransmitted_pct is not None
    assert result.method.path_down is not None and result.method.path_down.loaded_rtt_ms is not None
    # no round trip beats the path's own: responsiveness is at most a minute over the round trip
    assert result.responsiveness_rpm is not None and 0 < result.responsiveness_rpm <= 60_000 / LONG.rtt_ms


@pytest.mark.parametrize("lab", [SANE], indirect=True, ids=["20 ms buffer then 500 ms"])
def test_a_deep_buffer_shows_as_latency_under_load_and_low_responsiveness_in_words(lab: PathLab) -> None:
    rules = load_thresholds().responsiveness
    sane, sane_table = measure(lab)
    lab.reshape(BLOATED)
    bloated, bloated_table = measure(lab)
    for result in (sane, bloated):
        assert result.error is None and result.latency_ms is not None and result.loaded_latency_ms is not None
    assert bloated.loaded_latency_ms - bloated.latency_ms >= rules.bloat_added_ms  # type: ignore[operator]
    assert sane.loaded_latency_ms - sane.latency_ms < rules.bloat_added_ms  # type: ignore[operator]
    assert bloated.responsiveness_rpm is not None and sane.responsiveness_rpm is not None
    assert bloated.responsiveness_rpm < sane.responsiveness_rpm
    assert rules.rpm_class(bloated.responsiveness_rpm) != "high" == rules.rpm_class(sane.responsiveness_rpm)
    tr = Translator("vi")
    assert tr("bloated_words") in bloated_table and tr(f"rpm_{rules.rpm_class(bloated.responsiveness_rpm)}") in (
        bloated_table)  # fmt: skip
    assert tr("bloated_words") not in sane_table


def _international_fixed_query() -> str:
    """The province dashboard's international panel's query for fixed lines, as Grafana sends it."""
    tr = Translator("vi")
    board = build_all(tr, load_thresholds(), Regions.load())["province"]
    (panel,) = [p for p in board["panels"] if p["title"] == tr("gf_international_median")]
    (target,) = [t for t in panel["targets"] if t["refId"] == "F"]
    query = str(target["query"]).replace("$timeFilter", "time > now() - 1h")
    for name in ("isp", "access", "ip_version"):
        query = query.replace(f"${name}", ".*")
    return query


@pytest.mark.parametrize("lab", [ABROAD], indirect=True, ids=["250 ms"])
async def test_an_international_point_250_ms_away_reaches_the_international_panel_right(
    lab: PathLab, tmp_path: Path, influx: Influx
) -> None:
    """The agent in its namespace measures its international entry over the 250 ms path and sends the
    Result over the same line to the broker; the collector writes InfluxDB; the province dashboard's
    international panel, queried as Grafana queries it, gives the figure iperf3 gives the path."""
    reference = lab.iperf3()
    (tmp_path / "broker").mkdir()
    with running_broker(tmp_path / "broker", host=UPLINK_IP) as broker:
        collector = Collector(collector_config(tmp_path, broker, influx))
        started = asyncio.Event()
        task = asyncio.create_task(collector.run(started))
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.wait_for(collector.subscribed.wait(), 10)
        try:
            entry = {"url": TESTSERVER, "name": "Singapore (lab)", "location": "international"}
            config = write_config(tmp_path / "agent", broker.url, measure={"servers": [entry], "ping_count": 0},
                                  site={"province_code": "38", "commune_code": "14755", "isp": "VNPT",
                                        "access": "fixed"})  # fmt: skip
            done = await asyncio.to_thread(subprocess.run, lab.exec(
                lab.client, sys.executable, "-m", "dokiem", "agent", "once", "--international", "--config",
                str(config)), capture_output=True, text=True, timeout=240, cwd=REPO)  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            query = _international_fixed_query()
            assert SENT in done.stderr, done.stderr
            rows = await influx_rows(collector, influx, query)
        finally:
            task.cancel()
    values = dict(zip(rows[0]["columns"], rows[0]["values"][0], strict=True))
    for got, want in zip((values["fixed_down"], values["fixed_up"]), reference, strict=True):
        assert abs(got / want - 1) <= 0.05, (values, reference)

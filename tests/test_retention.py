"""InfluxDB's retention (issue 32) against a real influxd: raw points kept ``influx.raw_days``, hourly aggregates
kept for ever and computed again for every hour written (a late result too), rebuilt by ``collector reindex``;
the long-range panel reads them."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import aiohttp

from dokiem.collector.archive import Archive
from dokiem.collector.influx import InfluxWriter
from dokiem.collector.service import Collector
from dokiem.contract import Result
from dokiem.series import FOREVER, Measurement
from testkit.agentkit import make_result
from testkit.brokers import Broker
from testkit.collectorkit import collector_config
from testkit.influx import Influx
from testkit.processes import DOKIEM

HOURLY, SPEED = Measurement.HOURLY.quoted(), Measurement.SPEEDTEST.quoted()


def _at(result: Result, hours_ago: int, minute: int) -> Result:
    start = result.started_at.replace(minute=minute, second=0, microsecond=0) - timedelta(hours=hours_ago)
    return result.model_copy(update={"started_at": start, "finished_at": start + timedelta(seconds=20)})


def _policies(influx: Influx) -> dict[str, tuple[str, bool]]:
    (series,) = influx.query('SHOW RETENTION POLICIES ON "dokiem"')
    columns = series["columns"]
    return {row[0]: (row[columns.index("duration")], row[columns.index("default")]) for row in series["values"]}


def test_reindex_sets_the_retention_and_rebuilds_every_hours_aggregates(
    tmp_path: Path, broker: Broker, influx: Influx
) -> None:
    config = collector_config(tmp_path, broker, influx, DOKIEM_INFLUX_RAW_DAYS="400")
    archive = Archive.from_url(config.archive_url)
    results = [_at(make_result(n), hours_ago=2 + n % 2, minute=n) for n in range(10)]
    archive.results.add(results)
    archive.close()
    env = {"DOKIEM_DATA_DIR": str(config.collector.data_dir), "DOKIEM_INFLUX_URL": influx.url,
           "DOKIEM_INFLUX_RAW_DAYS": "400", "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run([*DOKIEM, "--lang", "en", "collector", "reindex", "--since", "2020-01-01"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _policies(influx)[FOREVER] == ("0s", False) and _policies(influx)["raw"] == ("9600h0m0s", True)
    hourly = influx.query(f'SELECT sum("tests") FROM {HOURLY} GROUP BY time(1h) fill(none)')
    assert [value for _, value in hourly[0]["values"]] == [5, 5]  # two hours, five tests each
    by_hour = influx.query(f'SELECT median("download_mbps") FROM {SPEED} GROUP BY time(1h), "agent" fill(none)')
    from_aggregates = influx.query(f'SELECT max("download_mbps") FROM {HOURLY} GROUP BY time(1h), "agent"'
                                   " fill(none)")  # fmt: skip
    assert by_hour[0]["values"] == from_aggregates[0]["values"]  # one agent: its hour's median is the hour's


async def test_a_late_result_updates_its_hours_aggregates(tmp_path: Path, broker: Broker, influx: Influx) -> None:
    collector = Collector(collector_config(tmp_path, broker, influx))
    try:
        async with aiohttp.ClientSession() as session:
            collector.influx = InfluxWriter(collector.config.influx, session)
            await collector.influx.ensure_database()
            collector.archive.results.add([_at(make_result(n), hours_ago=5, minute=n) for n in range(3)])
            await collector.flush_influx()
            await collector.aggregate_hours()
            assert influx.scalar(f'SELECT sum("tests") FROM {HOURLY}') == 3
            collector.archive.results.add([_at(make_result(50), hours_ago=5, minute=50)])  # an agent back online
            await collector.flush_influx()
            await collector.aggregate_hours()
            assert influx.scalar(f'SELECT sum("tests") FROM {HOURLY}') == 4
    finally:
        collector.archive.close()
    assert _policies(influx)["autogen"][1] is True  # raw_days 0: the raw points kept for ever, as before

"""``dokiem up``: dokiem on one machine with nothing else installed.

For now: the test server on loopback and a local agent measuring it on a schedule, with a live
table of results. The embedded broker, the collector and its archive join with the collector
issue, behind the same command.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import click

from agent.cli import ProgressLine, max_seconds_option
from agent.measure import MeasureRequest, measure
from agent.probes.http import SpeedSettings
from agent.servers import librespeed_server
from collector import testserver
from collector.cli import ListenAddress, run_server
from dokiem.contract import Result
from dokiem.i18n import Translator

COLUMNS = ("col_time", "download", "upload", "latency", "jitter", "loss", "col_status")


def table_header(tr: Translator) -> str:
    return " | ".join(tr(c) for c in COLUMNS)


def table_row(result: Result, tr: Translator) -> str:
    def fig(value: float | None, unit: str, digits: int = 1) -> str:
        return "—" if value is None else f"{tr.number(value, digits)} {unit}"

    status = tr("ok") if result.error is None else tr.error(result.error.code, result.error.message)
    cells = (
        result.started_at.astimezone().strftime("%H:%M:%S"),
        fig(result.download_mbps, "Mbit/s"),
        fig(result.upload_mbps, "Mbit/s"),
        fig(result.latency_ms, "ms", 2),
        fig(result.jitter_ms, "ms", 2),
        fig(result.loss_pct, "%"),
        status,
    )
    return " | ".join(cells)


async def run_up(
    tr: Translator, interval_min: float, runs: int | None, host: str, port: int, settings: SpeedSettings
) -> int:
    runner, bound = await testserver.start(host, port)
    url = f"http://{host}:{bound}/"
    failures = 0
    try:
        click.echo(tr("up_started", url=url, minutes=tr.number(interval_min, 0)), err=True)
        click.echo(table_header(tr))
        done = 0
        while runs is None or done < runs:
            progress = ProgressLine(tr)
            result = await measure(MeasureRequest(server=librespeed_server(url), settings=settings, progress=progress))
            progress.done()
            click.echo(table_row(result, tr))
            failures += result.error is not None
            done += 1
            if runs is not None and done >= runs:
                break
            next_at = datetime.now() + timedelta(minutes=interval_min)
            click.echo(tr("up_next", time=next_at.strftime("%H:%M")), err=True)
            await asyncio.sleep(interval_min * 60)
    finally:
        await runner.cleanup()
    return failures


@click.command("up")
@click.option(
    "--interval",
    "interval_min",
    type=click.FloatRange(0.1, 1440),
    default=5.0,
    show_default=True,
    help="Minutes between measurements.",
)
@click.option(
    "--runs", type=click.IntRange(1), default=None, help="Stop after this many runs (default: run until Ctrl+C)."
)
@click.option(
    "--listen",
    type=ListenAddress(),
    default="127.0.0.1:0",
    show_default=True,
    help="Where the embedded test server listens (port 0 = any free port).",
)
@max_seconds_option
@click.pass_obj
def up_command(
    tr: Translator, interval_min: float, runs: int | None, listen: tuple[str, int], max_seconds: float
) -> None:
    """Run dokiem all-in-one on this machine: a test server and an agent measuring it."""
    failures = run_server(
        run_up(tr, interval_min, runs, *listen, SpeedSettings.for_max_seconds(max_seconds)), listen, tr
    )
    if failures:
        raise SystemExit(1)

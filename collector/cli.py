"""``dokiem collector run|reindex|push-config``: the receiving pipeline as commands."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from dokiem.cli_config import parse_listen_or_exit, run_server
from dokiem.collector.config import collector_config_option, load_collector_config, newer_archive_text
from dokiem.i18n import Translator


@click.group("collector")
def collector_group() -> None:
    """The receiving side: MQTT ingest, validation, archive, InfluxDB, fleet registry, HTTP API."""


@collector_group.command("run")
@collector_config_option
@click.pass_obj
def collector_run(tr: Translator, config_path: Path | None) -> None:
    """Run the collector until stopped."""
    from dokiem.collector.service import Collector

    config = load_collector_config(config_path, tr)
    listen = parse_listen_or_exit(config.http.listen, "http.listen", tr)
    click.echo(tr("collector_started", broker=config.broker.url, archive=config.archive_url,
                  influx=config.influx.url or "—", api=config.http.listen), err=True)  # fmt: skip

    async def main() -> None:
        from dokiem.collector.archive import NewerArchive

        try:
            collector = Collector(config)
        except NewerArchive as newer:
            raise click.ClickException(newer_archive_text(newer, tr)) from None
        if collector.archive.meta.demo:  # a trial's archive: the field's results never go beside the demo's
            collector.archive.close()
            raise click.ClickException(tr("demo_archive_refused", archive=collector.archive.where))
        await collector.run()

    run_server(main(), listen, tr)


@collector_group.command("reindex")
@collector_config_option
@click.option(
    "--since", required=True, type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="From this date (UTC)."
)
@click.option("--until", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Up to this date (UTC).")
@click.pass_obj
def collector_reindex(tr: Translator, config_path: Path | None, since: datetime, until: datetime | None) -> None:
    """Rebuild InfluxDB from the archive (results and survey samples since DATE), each result filed again by
    the region files: a result archived under a pre-reform commune code moves to its 2025 commune."""
    from dokiem.collector.service import Collector

    config = load_collector_config(config_path, tr)
    if not config.influx.url:
        raise click.UsageError(tr("bad_option", reason=tr("influx_not_set")))
    since, until = since.replace(tzinfo=UTC), until.replace(tzinfo=UTC) if until else None

    async def main() -> int:
        import aiohttp

        from dokiem.collector.influx import InfluxWriter

        collector = Collector(config)
        moved = collector.archive.results.refile(collector.place, since, until)
        click.echo(tr("refiled", count=moved), err=True)
        queued = collector.archive.results.mark_for_reindex(since, until)
        collector.archive.surveys.mark_for_reindex(since, until)  # written in the same batches, after the results'
        async with aiohttp.ClientSession() as session:
            collector.influx = InfluxWriter(config.influx, session)
            await collector.influx.ensure_database()
            if moved:
                until_ms = int(until.timestamp() * 1000) if until else None
                await collector.influx.delete_results(int(since.timestamp() * 1000), until_ms)
            with click.progressbar(length=queued, label=tr("reindexing"), file=sys.stderr) as bar:
                while True:  # counted by what each batch wrote: counting the backlog each time costs its size
                    before = collector.stats["influx_written"]
                    more = await collector.flush_influx()
                    bar.update(collector.stats["influx_written"] - before)
                    if not more:
                        break
            await collector.aggregate_hours()  # the hourly aggregates of every hour written again
        return queued

    from dokiem.collector.influx import InfluxUnavailable

    try:
        count = asyncio.run(main())
    except InfluxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(tr("reindexed", count=count))


@collector_group.command("resend")
@collector_config_option
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="What the agents sent from this time (UTC) on.")  # fmt: skip
@click.pass_obj
def collector_resend(tr: Translator, config_path: Path | None, since: datetime) -> None:
    """Ask every agent to send again what it sent since a time and still keeps (after an archive was lost);
    the running collector asks, through its own connection, and the archive takes each result once."""
    from dokiem.collector.archive.meta import RESEND_SINCE
    from dokiem.collector.config import open_archive_or_exit
    from dokiem.collector.service import RESEND_CHECK_S

    config = load_collector_config(config_path, tr)
    archive = open_archive_or_exit(config.archive_url, tr)
    try:
        archive.meta.set(RESEND_SINCE, since.replace(tzinfo=UTC).isoformat())
        agents = len(archive.registry.agents())
    finally:
        archive.close()
    click.echo(tr("resend_noted", agents=tr.number(agents, 0), since=f"{since:%Y-%m-%d %H:%M} UTC",
                  seconds=tr.number(RESEND_CHECK_S, 0)))  # fmt: skip


@collector_group.command("push-config")
@collector_config_option
@click.option("--agent", "agent_id", required=True, help="The agent to steer.")
@click.option("--file", "config_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Fleet config JSON: version, schedule, measure (see README).")  # fmt: skip
@click.option("--clear", is_flag=True, help="Withdraw the fleet config instead (the agent's own file applies again).")
@click.pass_obj
def push_config(tr: Translator, config_path: Path | None, agent_id: str, config_file: Path, clear: bool) -> None:
    """Publish a fleet config, retained, on the agent's config topic (it applies from its next period)."""
    from dokiem.collector.fleet import FleetPublishError, publish_fleet_config

    config = load_collector_config(config_path, tr)
    try:
        payload = b"" if clear else config_file.read_bytes()
        asyncio.run(publish_fleet_config(config.broker, agent_id, payload))
    except FleetPublishError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(tr("config_pushed", agent=agent_id))


@collector_group.command("requeue")
@collector_config_option
@click.option("--reason", help="Only messages kept for this reason (see /api/quarantine or /metrics).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Only those kept since (UTC).")
@click.pass_obj
def collector_requeue(tr: Translator, config_path: Path | None, reason: str | None, since: datetime | None) -> None:
    """Re-admit quarantined messages after a fix: each is validated and archived again as if just received."""
    from dokiem.collector.service import Collector
    from dokiem.collector.validate import REASONS

    if reason is not None and reason not in REASONS:
        raise click.BadParameter(tr("bad_reason", reasons=", ".join(REASONS)), param_hint="--reason")
    config = load_collector_config(config_path, tr)
    outcome = Collector(config).requeue(reason, since.replace(tzinfo=UTC) if since else None)
    admitted = outcome.pop("admitted", 0)
    click.echo(tr("requeued", admitted=admitted, kept=sum(outcome.values())))
    for why, count in sorted(outcome.items()):
        click.echo(f"  {why}: {count}")

"""Collector-side commands: ``dokiem testserver`` (more arrive with the collector issue)."""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from collector import testserver
from dokiem.cli_config import ParsedParam, config_option, load_or_exit
from dokiem.i18n import Translator

T = TypeVar("T")

if TYPE_CHECKING:
    from collector.archive import Archive
    from collector.config import CollectorConfig


# ``HOST:PORT`` on the command line, as (host, port)
LISTEN_ADDRESS: ParsedParam[tuple[str, int]] = ParsedParam("HOST:PORT", testserver.parse_listen, tuple)


def run_server(main: Coroutine[Any, Any, T], listen: tuple[str, int], tr: Translator) -> T | None:
    """Run a serving coroutine; a port in use or Ctrl+C end it with a message, not a traceback."""
    try:
        return asyncio.run(main)
    except OSError as exc:
        where = f"{listen[0]}:{listen[1]}"
        raise click.ClickException(tr("listen_failed", listen=where, reason=exc.strerror or exc)) from exc
    except KeyboardInterrupt:
        click.echo(tr("stopped"), err=True)
        return None


async def _serve_forever(host: str, port: int, capacity: int, tls: ssl.SSLContext | None, tr: Translator) -> None:
    runner, bound = await testserver.start(host, port, capacity, tls)
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if tls else "http"
    click.echo(tr("testserver_running", url=f"{scheme}://{shown}:{bound}/", capacity=capacity), err=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


@click.command("testserver")
@click.option(
    "--listen",
    type=LISTEN_ADDRESS,
    default="0.0.0.0:8080",
    show_default=True,
    envvar="DOKIEM_TESTSERVER_LISTEN",
    help="HOST:PORT to serve on.",
)
@click.option(
    "--max-tests",
    type=click.IntRange(1, 10_000),
    default=20,
    show_default=True,
    envvar="DOKIEM_TESTSERVER_MAX_TESTS",
    help="Concurrent tests before answering 503.",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="DOKIEM_TESTSERVER_TLS_CERT",
    help="Serve HTTPS with this certificate (PEM, chain included).",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="DOKIEM_TESTSERVER_TLS_KEY",
    help="The certificate's private key (PEM).",
)
@click.pass_obj
def testserver_command(
    tr: Translator, listen: tuple[str, int], max_tests: int, tls_cert: Path | None, tls_key: Path | None
) -> None:
    """Serve the LibreSpeed/i-Speed test endpoints (and Speedtest Mini's) for agents to measure against."""
    tls = None
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError(tr("bad_option", reason="--tls-cert and --tls-key go together"))
    if tls_cert is not None and tls_key is not None:
        try:
            tls = testserver.tls_context(tls_cert, tls_key)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--tls-cert") from exc
    run_server(_serve_forever(*listen, max_tests, tls, tr), listen, tr)


DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]
collector_config_option = config_option("collector.toml")


def open_archive_or_exit(url: str, tr: Translator) -> Archive:
    """An existing archive for a one-off command (a report, an enrolment), or a one-line error."""
    from collector.archive import Archive

    try:
        return Archive.from_url(url, create=False)
    except Exception as exc:  # a bad URL, a missing SQLite file, PostgreSQL refusing us
        raise click.ClickException(tr("bad_option", reason=f"--archive {url}: {exc}")) from None


def load_collector_config(path: Path | None, tr: Translator) -> CollectorConfig:
    from collector.config import load

    return load_or_exit(load, path, tr)


@click.group("collector")
def collector_group() -> None:
    """The receiving side: MQTT ingest, validation, archive, InfluxDB, fleet registry, HTTP API."""


@collector_group.command("run")
@collector_config_option
@click.pass_obj
def collector_run(tr: Translator, config_path: Path | None) -> None:
    """Run the collector until stopped."""
    from collector.service import Collector

    config = load_collector_config(config_path, tr)
    listen = parse_listen_or_exit(config.http.listen, tr)
    click.echo(tr("collector_started", broker=config.broker.url, archive=config.archive_url,
                  influx=config.influx.url or "—", api=config.http.listen), err=True)  # fmt: skip

    async def main() -> None:
        await Collector(config).run()

    run_server(main(), listen, tr)


def parse_listen_or_exit(listen: str, tr: Translator) -> tuple[str, int]:
    try:
        return testserver.parse_listen(listen)
    except ValueError as exc:
        click.echo(tr("config_error", where="http.listen", problem=str(exc)), err=True)
        raise SystemExit(2) from None


@collector_group.command("reindex")
@collector_config_option
@click.option(
    "--since", required=True, type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="From this date (UTC)."
)
@click.option("--until", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="Up to this date (UTC).")
@click.pass_obj
def collector_reindex(tr: Translator, config_path: Path | None, since: datetime, until: datetime | None) -> None:
    """Rebuild InfluxDB from the archive (results started since DATE)."""
    from collector.service import Collector

    config = load_collector_config(config_path, tr)
    if not config.influx.url:
        raise click.UsageError(tr("bad_option", reason="influx.url (DOKIEM_INFLUX_URL) is not set"))
    since, until = since.replace(tzinfo=UTC), until.replace(tzinfo=UTC) if until else None

    async def main() -> int:
        import aiohttp

        from collector.influx import InfluxWriter

        collector = Collector(config)
        queued = collector.archive.mark_for_reindex(since, until)
        async with aiohttp.ClientSession() as session:
            target = config.influx.target()
            assert target is not None
            collector.influx = InfluxWriter(target, session)
            await collector.influx.ensure_database()
            with click.progressbar(length=queued, label=tr("reindexing"), file=sys.stderr) as bar:
                while True:
                    before = collector.archive.pending_count()
                    more = await collector.flush_influx()
                    bar.update(before - collector.archive.pending_count())
                    if not more:
                        break
        return queued

    from collector.influx import InfluxUnavailable

    try:
        count = asyncio.run(main())
    except InfluxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(tr("reindexed", count=count))


@collector_group.command("push-config")
@collector_config_option
@click.option("--agent", "agent_id", required=True, help="The agent to steer.")
@click.option("--file", "config_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Fleet config JSON: version, schedule, measure (see README).")  # fmt: skip
@click.option("--clear", is_flag=True, help="Withdraw the fleet config instead (the agent's own file applies again).")
@click.pass_obj
def push_config(tr: Translator, config_path: Path | None, agent_id: str, config_file: Path, clear: bool) -> None:
    """Publish a fleet config, retained, on the agent's config topic (it applies from its next period)."""
    from collector.fleet import FleetPublishError, publish_fleet_config

    config = load_collector_config(config_path, tr)
    try:
        payload = b"" if clear else config_file.read_bytes()
        asyncio.run(publish_fleet_config(config.broker, agent_id, payload))
    except FleetPublishError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(tr("config_pushed", agent=agent_id))

"""Collector-side commands: ``dokiem testserver`` (more arrive with the collector issue)."""

from __future__ import annotations

import asyncio

import click

from collector import testserver
from dokiem.i18n import Translator


async def _serve_forever(host: str, port: int, capacity: int, tr: Translator) -> None:
    runner, bound = await testserver.start(host, port, capacity)
    shown = f"[{host}]" if ":" in host else host
    click.echo(tr("testserver_running", url=f"http://{shown}:{bound}/", capacity=capacity), err=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


@click.command("testserver")
@click.option(
    "--listen",
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
@click.pass_obj
def testserver_command(tr: Translator, listen: str, max_tests: int) -> None:
    """Serve the LibreSpeed/i-Speed test endpoints (and Speedtest Mini's) for agents to measure against."""
    try:
        host, port = testserver.parse_listen(listen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--listen") from exc
    try:
        asyncio.run(_serve_forever(host, port, max_tests, tr))
    except OSError as exc:
        raise click.ClickException(tr("listen_failed", listen=listen, reason=exc.strerror or exc)) from exc
    except KeyboardInterrupt:
        click.echo(tr("stopped"), err=True)

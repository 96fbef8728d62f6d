"""Collector-side commands: ``dokiem testserver`` (more arrive with the collector issue)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from collector import testserver
from dokiem.i18n import Translator

T = TypeVar("T")


class ListenAddress(click.ParamType[tuple[str, int]]):
    """``HOST:PORT`` on the command line, as (host, port)."""

    name = "HOST:PORT"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, int]:
        if isinstance(value, tuple):
            return value
        try:
            return testserver.parse_listen(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


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
    type=ListenAddress(),
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
def testserver_command(tr: Translator, listen: tuple[str, int], max_tests: int) -> None:
    """Serve the LibreSpeed/i-Speed test endpoints (and Speedtest Mini's) for agents to measure against."""
    run_server(_serve_forever(*listen, max_tests, tr), listen, tr)

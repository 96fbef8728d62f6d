"""``dokiem testserver``: the test point, run beside the collector or alone in a data centre."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import click

from dokiem.cli_config import LISTEN_ADDRESS, run_server
from dokiem.i18n import Translator
from dokiem.testserver import server as testserver


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

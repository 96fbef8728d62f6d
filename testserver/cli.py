"""``dokiem testserver``: the test point, run beside the collector or alone in a data centre."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import ssl
from pathlib import Path

import click

from dokiem.cli_config import LISTEN_ADDRESS, ParsedParam, run_server
from dokiem.contract import TAG_PATTERN
from dokiem.i18n import Translator
from dokiem.testserver import server as testserver
from dokiem.vouch import read_private_key, read_public_key

TAG = re.compile(TAG_PATTERN)


def _network(text: str) -> testserver.Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an address or a network such as 10.38.0.0/16 or 2001:db8::/32") from None


NETWORK = ParsedParam("CIDR", _network, ipaddress.IPv4Network | ipaddress.IPv6Network)  # type: ignore[arg-type]


async def _serve_forever(
    host: str, port: int, capacity: int, tls: ssl.SSLContext | None, voucher: testserver.Voucher | None, tr: Translator,
    resident_capacity: int | None = None, agent_networks: tuple[testserver.Network, ...] = (),
) -> None:  # fmt: skip
    runner, bound = await testserver.start(host, port, capacity, tls, voucher, resident_capacity, agent_networks)
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
    "--max-resident-tests",
    type=click.IntRange(0, 10_000),
    default=None,
    envvar="DOKIEM_TESTSERVER_MAX_RESIDENT_TESTS",
    help="Of those, how many residents' tests at once (default: half): the rest stay free for the agents.",
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
@click.option(
    "--signing-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="DOKIEM_TESTSERVER_SIGNING_KEY",
    help="Sign residents' test summaries with this Ed25519 private key (PEM; the collector holds its public key).",
)
@click.option(
    "--server-id",
    envvar="DOKIEM_TESTSERVER_ID",
    help="This server's id in the collector's list of test servers (with --signing-key).",
)
@click.option(
    "--ticket-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="DOKIEM_TESTSERVER_TICKET_KEY",
    help="The collector's Ed25519 public key (PEM): only a ticket it signed opens a resident's test (with"
    " --signing-key).",
)
@click.option(
    "--agent-network",
    "agent_networks",
    type=NETWORK,
    multiple=True,
    envvar="DOKIEM_TESTSERVER_AGENT_NETWORKS",
    help="Where the agents test from (CIDR; repeat, or a space-separated list in the variable). With --ticket-key,"
    " a client naming no ticket from anywhere else counts against the residents' share.",
)
@click.pass_obj
def testserver_command(
    tr: Translator, listen: tuple[str, int], max_tests: int, max_resident_tests: int | None, tls_cert: Path | None,
    tls_key: Path | None, signing_key: Path | None, server_id: str | None, ticket_key: Path | None,
    agent_networks: tuple[testserver.Network, ...],
) -> None:  # fmt: skip
    """Serve the LibreSpeed/i-Speed test endpoints (and Speedtest Mini's) for agents to measure against."""
    voucher = _voucher(signing_key, server_id, ticket_key, tr)
    tls = None
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError(tr("bad_option", reason=tr("options_together", options="--tls-cert, --tls-key")))
    if tls_cert is not None and tls_key is not None:
        try:
            tls = testserver.tls_context(tls_cert, tls_key)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--tls-cert") from exc
    if max_resident_tests is not None and max_resident_tests > max_tests:
        reason = tr("option_above", option="--max-resident-tests", other="--max-tests")
        raise click.UsageError(tr("bad_option", reason=reason))
    run_server(_serve_forever(*listen, max_tests, tls, voucher, tr, max_resident_tests, agent_networks), listen, tr)


def _voucher(
    signing_key: Path | None, server_id: str | None, ticket_key: Path | None, tr: Translator
) -> testserver.Voucher | None:
    """The key and id residents' summaries are signed as (issue 22), and the collector's key its tickets are
    checked with (issue 38); none without --signing-key."""
    if not (signing_key is None) == (server_id is None) == (ticket_key is None):
        together = tr("options_together", options="--signing-key, --server-id, --ticket-key")
        raise click.UsageError(tr("bad_option", reason=together))
    if signing_key is None or server_id is None or ticket_key is None:
        return None
    try:
        collector_key = read_public_key(ticket_key)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(tr("bad_signing_key", path=str(ticket_key), reason=str(exc)[:200]),
                                 param_hint="--ticket-key") from None  # fmt: skip
    if not TAG.fullmatch(server_id):
        raise click.BadParameter(tr("bad_server_id"), param_hint="--server-id")
    try:
        key = read_private_key(signing_key)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(tr("bad_signing_key", path=str(signing_key), reason=str(exc)[:200]),
                                 param_hint="--signing-key") from None  # fmt: skip
    return testserver.Voucher(server_id, key, collector_key)

"""The ``dokiem`` command: one entry point for the agent's and the collector's commands."""

from __future__ import annotations

import json
import logging

import click

from agent.cli import measure_command
from dokiem import __version__
from dokiem.contract import json_schema
from dokiem.i18n import LANGS, Translator, default_lang


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default=default_lang,
    show_default="vi (or $DOKIEM_LANG)",
    help="Language of messages and tables.",
)
@click.option("--verbose", "-v", is_flag=True, help="Log what happens (for troubleshooting).")
@click.version_option(__version__, prog_name="dokiem")
@click.pass_context
def main(ctx: click.Context, lang: str, verbose: bool) -> None:
    """dokiem (đo kiểm): broadband quality measurement, i-Speed style."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    ctx.obj = Translator(lang)


@main.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the Result message (the wire contract)."""
    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


main.add_command(measure_command)

try:
    from collector.cli import testserver_command
    from dokiem.up import up_command
except ImportError as missing:  # the agent-only install has no aiohttp
    _reason = str(missing)

    @main.command("testserver", context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_obj
    def testserver_command(tr: Translator, args: tuple[str, ...]) -> None:
        """(needs dokiem[collector]) Serve the test endpoints."""
        raise click.ClickException(tr("need_collector_extra") + f" [{_reason}]")

    @main.command("up", context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_obj
    def up_command(tr: Translator, args: tuple[str, ...]) -> None:
        """(needs dokiem[collector]) Run dokiem all-in-one."""
        raise click.ClickException(tr("need_collector_extra") + f" [{_reason}]")

else:
    main.add_command(testserver_command)
    main.add_command(up_command)

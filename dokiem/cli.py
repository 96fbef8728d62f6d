"""The ``dokiem`` command: one entry point for the agent's and the collector's commands.

Subcommands are imported when used, so ``dokiem measure`` on a Pi does not pay for loading
the collector's libraries (or need them installed at all).
"""

from __future__ import annotations

import importlib
import json
import logging

import click

from dokiem import __version__
from dokiem.i18n import LANGS, Translator, default_lang

# name -> (module, attribute, needs the collector extra)
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "measure": ("agent.cli", "measure_command", False),
    "agent": ("agent.service_cli", "agent_group", False),
    "testserver": ("collector.cli", "testserver_command", True),
    "collector": ("collector.cli", "collector_group", True),
    "up": ("dokiem.up", "up_command", True),
    "report": ("collector.reports.cli", "report_group", True),
    "grafana": ("grafana.cli", "grafana_group", True),
    "pki": ("collector.deploy_cli", "pki_group", True),
    "deploy": ("collector.deploy_cli", "deploy_group", True),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, attribute, needs_collector = COMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as missing:
            if not needs_collector:
                raise
            return _needs_collector(cmd_name, str(missing))
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command


def _needs_collector(name: str, reason: str) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True}, add_help_option=False)
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_obj
    def stub(tr: Translator, args: tuple[str, ...]) -> None:
        raise click.ClickException(f"{tr('need_collector_extra')} [{reason}]")

    return stub


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default=default_lang,
    show_default="vi, or $DOKIEM_LANG",
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
    from dokiem.contract import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))

"""The ``dokiem`` command: every command attached here, from the package that owns it.

Commands are imported when used (see ``LazyGroup``): the agent's on a Pi, the server's on the server.
"""

from __future__ import annotations

import json
import logging
import sys

import click

from dokiem import __version__
from dokiem.cli_config import LazyCommand, LazyGroup
from dokiem.errortext import speak_click
from dokiem.helptext import HELP_LANG, HelpContext
from dokiem.i18n import LANGS, Translator, default_lang
from dokiem.wire import WIRE_MESSAGES, json_schema


def _asked_lang(argv: list[str]) -> str | None:
    """``--lang X`` (or ``--lang=X``) as typed: click reads it only after the command line parses."""
    for n, arg in enumerate(argv):
        if arg == "--lang" and n + 1 < len(argv):
            return argv[n + 1]
        if arg.startswith("--lang="):
            return arg.removeprefix("--lang=")
    return None


# until --lang is read, an error in the command line itself is worded in the language it asks for
speak_click(lang if (lang := _asked_lang(sys.argv)) in LANGS else default_lang())

COMMANDS: dict[str, LazyCommand] = {
    "measure": ("dokiem.agent.cli", "measure_command", False),
    "agent": ("dokiem.agent.service_cli", "agent_group", False),
    "testserver": ("dokiem.testserver.cli", "testserver_command", True),
    "collector": ("dokiem.collector.cli", "collector_group", True),
    "up": ("dokiem.up", "up_command", True),
    "report": ("dokiem.reports.cli", "report_group", True),
    "publish": ("dokiem.reports.cli", "publish_command", True),
    "grafana": ("dokiem.grafana.cli", "grafana_group", True),
    "pki": ("dokiem.admin.cli", "pki_group", True),
    "deploy": ("dokiem.admin.cli", "deploy_group", True),
    "release": ("dokiem.admin.release_cli", "release_group", True),
    "regions": ("dokiem.regions.cli", "regions_group", False),
    "backup": ("dokiem.collector.backup_cli", "backup_group", True),
    "restore": ("dokiem.collector.backup_cli", "restore_command", True),
}
# Commands under another package's group: enrolling an agent is the server's work, named after the agent.
ATTACHED: dict[str, dict[str, LazyCommand]] = {
    "agent": {
        "enroll": ("dokiem.admin.agents_cli", "enroll_command", True),
        "revoke": ("dokiem.admin.agents_cli", "revoke_command", True),
    },
}


def _help_lang(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """Eager, so that ``--lang en --help`` already knows the language of the help."""
    ctx.meta[HELP_LANG] = value
    speak_click(value)
    return value


class Main(LazyGroup):
    context_class = HelpContext

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if isinstance(command, LazyGroup):
            command.lazy.update(ATTACHED.get(cmd_name, {}))
        return command

    def invoke(self, ctx: click.Context) -> object:
        # A command may import a server library only once it runs (``collector run`` loads the
        # pipeline then): on an agent-only install, say which extra is missing, not a traceback.
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as missing:
            if (missing.name or "").split(".")[0] == "dokiem":
                raise
            tr = ctx.obj if isinstance(ctx.obj, Translator) else Translator(default_lang())
            raise click.ClickException(f"{tr('need_collector_extra')} [{missing}]") from None


@click.group(cls=Main, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default=default_lang,
    show_default="vi, or $DOKIEM_LANG",
    help="Language of messages and tables.",
    is_eager=True,
    callback=_help_lang,
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
@click.argument("message", type=click.Choice(WIRE_MESSAGES), default="result")
def schema_command(message: str) -> None:
    """Print the JSON Schema of a wire message: the Result (default), the Status, the FleetConfig, the
    ResendRequest or a survey's SurveyBatch."""

    click.echo(json.dumps(json_schema(message), indent=2, ensure_ascii=False))

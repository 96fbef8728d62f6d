"""What every command shares: ``--config`` and its errors, ``HOST:PORT``, ``--thresholds``, serving until stopped."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from dokiem.errortext import problem_text, where_text
from dokiem.helptext import HELP_LANG
from dokiem.i18n import Translator, default_lang
from dokiem.settings import ConfigError, parse_listen

T = TypeVar("T")


class ParsedParam(click.ParamType[T]):
    """An option value read by ``parse``, whose ValueError becomes click's usage error."""

    def __init__(self, name: str, parse: Callable[[str], T], kind: type[T]) -> None:
        self.name, self.parse, self.kind = name, parse, kind

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> T:
        if isinstance(value, self.kind):
            return value
        try:
            return self.parse(str(value))
        except ValueError as exc:
            lang = (ctx.meta.get(HELP_LANG) if ctx else None) or default_lang()
            self.fail(str(exc) if lang != "vi" else f"{str(value)!r} không đúng dạng {self.name}", param, ctx)


def config_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="DOKIEM_CONFIG",
        help=f"{what} (optional: the DOKIEM_* environment alone can configure it).",
    )


def load_or_exit(load: Callable[[Path | None], T], path: Path | None, tr: Translator) -> T:
    """The configuration, or a one-line error naming the file, line and key (exit 2)."""
    try:
        return load(path)
    except ConfigError as exc:
        click.echo(config_error_text(exc, tr), err=True)
        raise SystemExit(2) from None


def config_error_text(exc: ConfigError, tr: Translator) -> str:
    """A configuration error as the reader's language words it: where (file, line, key) and what is wrong."""
    problem = problem_text(exc.problem, tr.lang, exc.kind, exc.ctx)
    return tr("config_error", where=where_text(exc.where, tr.lang), problem=problem)


# ``HOST:PORT`` on the command line, as (host, port)
LISTEN_ADDRESS: ParsedParam[tuple[str, int]] = ParsedParam("HOST:PORT", parse_listen, tuple)

# ``--thresholds`` wherever the thresholds are counted against: the report and the dashboards
thresholds_option = click.option(
    "--thresholds", "thresholds_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Thresholds file the department edits (default: the national ones shipped with dokiem).",
)  # fmt: skip


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


def parse_listen_or_exit(listen: str, key: str, tr: Translator) -> tuple[str, int]:
    """A configured ``HOST:PORT`` (``key`` names where it came from), or a one-line error (exit 2)."""
    try:
        return parse_listen(listen)
    except ValueError as exc:
        click.echo(tr("config_error", where=key, problem=problem_text(str(exc), tr.lang)), err=True)
        raise SystemExit(2) from None


# a command loaded when used: (module, attribute, needs the collector extra)
LazyCommand = tuple[str, str, bool]


class LazyGroup(click.Group):
    """A group whose commands are imported when used, so ``dokiem measure`` on a Pi neither pays for
    the server's libraries nor needs them installed; a server-only command without its extra says in
    one line which extra to install."""

    def __init__(self, *args: Any, lazy: Mapping[str, LazyCommand] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, LazyCommand] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            command = super().get_command(ctx, cmd_name)
            return None if command is None else _speaking_as(command, self.context_class)
        module_name, attribute, needs_collector = self.lazy[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as missing:
            if not needs_collector:
                raise
            return _needs_collector(cmd_name, str(missing))
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return _speaking_as(command, self.context_class)


def _speaking_as(command: click.Command, context_class: type[click.Context]) -> click.Command:
    """``command`` and every command under it made with its group's context class: the root's decides
    the language of every help, however deep and however lazily loaded."""
    command.context_class = context_class
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _speaking_as(sub, context_class)
    return command


def _needs_collector(name: str, reason: str) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True}, add_help_option=False)
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_obj
    def stub(tr: Translator, args: tuple[str, ...]) -> None:
        raise click.ClickException(f"{tr('need_collector_extra')} [{reason}]")

    return stub

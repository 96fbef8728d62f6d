"""The ``--config`` option every long-running command shares, and its error handling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dokiem.i18n import Translator
from dokiem.settings import ConfigError

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
            self.fail(str(exc), param, ctx)


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
        click.echo(tr("config_error", where=exc.where, problem=exc.problem), err=True)
        raise SystemExit(2) from None

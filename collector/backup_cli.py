"""``dokiem backup`` and ``dokiem restore``: the server's record kept off the machine (issue 32)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dokiem.collector.config import collector_config_option, load_collector_config
from dokiem.i18n import Translator

if TYPE_CHECKING:
    from dokiem.collector.backup import Say

DIR = click.Path(file_okay=False, path_type=Path)


@click.group("backup", invoke_without_command=True)
@collector_config_option
@click.option("--to", "to", type=DIR, help="The folder backups go under (one dokiem-backup-<time> each).")
@click.option("--include", "include", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A file or folder to keep too (the PKI folder, letterheads, thresholds); repeat.")  # fmt: skip
@click.option("--keep", type=click.IntRange(1, 100_000), help="Keep only this many backups under --to, the newest.")
@click.pass_context
def backup_group(
    ctx: click.Context, config_path: Path | None, to: Path | None, include: tuple[Path, ...], keep: int | None
) -> None:
    """Back up the archive and the keys and files the collector's config names, while the collector runs."""
    if ctx.invoked_subcommand is not None:
        return
    tr: Translator = ctx.obj
    if to is None:
        raise click.UsageError(tr("bad_option", reason=tr("backup_needs_to")))
    from dokiem.collector import backup

    config = load_collector_config(config_path, tr)
    with _worded(tr):
        folder = backup.take(config, to, include, _say(tr), keep)
        manifest = backup.read_manifest(folder)
    archive = manifest.archive
    click.echo(tr("backup_done", folder=folder, results=tr.number(archive.results, 0),
                  agents=tr.number(archive.agents, 0), files=tr.number(len(manifest.files) - 1, 0)))  # fmt: skip


@backup_group.command("verify")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_obj
def backup_verify(tr: Translator, folder: Path) -> None:
    """Check a backup: every file's checksum, and its archive opened from a scratch copy (exit 1 if damaged)."""
    from dokiem.collector import backup

    with _worded(tr):
        checks = backup.verify(folder, _say(tr))
    if not all(check.ok for check in checks):
        click.echo(tr("backup_damaged", folder=folder), err=True)
        raise SystemExit(1)
    click.echo(tr("backup_sound", folder=folder))


@click.command("restore")
@collector_config_option
@click.option("--from", "source", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A backup folder (dokiem-backup-<time>).")  # fmt: skip
@click.pass_obj
def restore_command(tr: Translator, config_path: Path | None, source: Path) -> None:
    """Restore a backup onto an empty data directory: checked first, the archive where the config says, each
    file back where it was (never over a different one)."""
    from dokiem.collector import backup

    config = load_collector_config(config_path, tr)
    with _worded(tr):
        manifest = backup.restore(source, config, _say(tr))
    click.echo(tr("restored", created=f"{manifest.created_at:%Y-%m-%d %H:%M} UTC",
                  results=tr.number(manifest.archive.results, 0)))  # fmt: skip


@contextlib.contextmanager
def _worded(tr: Translator) -> Iterator[None]:
    """A backup's refusal as a one-line error in the reader's language (exit 1)."""
    from dokiem.collector.backup import BackupError

    try:
        yield
    except BackupError as error:
        raise click.ClickException(tr(f"backup_error_{error.key}", **error.fields)) from None


def _say(tr: Translator) -> Say:
    """Progress on stderr in the reader's language: a step, or one check of a backup."""
    from dokiem.collector.backup import Check

    def say(key: str, **fields: object) -> None:
        check = fields.get("check")
        if isinstance(check, Check):
            words = tr(f"backup_check_{check.said}", **{k: _shown(tr, v) for k, v in check.fields.items()})
            what = check.what or tr("backup_the_archive")
            click.echo(tr("backup_check_held" if check.ok else "backup_check_failed", what=what, words=words), err=True)
            return
        click.echo(tr(f"backup_say_{key}", **{k: _shown(tr, v) for k, v in fields.items()}), err=True)

    return say


def _shown(tr: Translator, value: object) -> object:
    """Numbers in the reader's format (60.000; 271,4)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return tr.number(value, 0 if isinstance(value, int) else 1)

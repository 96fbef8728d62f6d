"""``dokiem report quarterly``: the report the department sends up, from the archive."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dokiem.cli_config import LISTEN_ADDRESS, ParsedParam, load_or_exit, run_server, thresholds_option
from dokiem.collector.config import (
    TRIAL_DIR,
    CollectorConfig,
    archive_for_command,
    collector_config_option,
    configured_regions,
    load_collector_config,
    trial_archive,
)
from dokiem.contract import LOCAL_TIME
from dokiem.i18n import Translator
from dokiem.reports.quarterly import Quarter
from dokiem.thresholds import load_thresholds

if TYPE_CHECKING:
    from dokiem.collector.archive import Archive
    from dokiem.reports.quarterly import QuarterlyFigures


def _cutoff(value: str) -> datetime:
    """A moment in local time (Vietnam's), as the department writes it: 2026-10-05 or 2026-10-05T17:00."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TIME)


cutoff_option = click.option(
    "--cutoff", type=ParsedParam("YYYY-MM-DD[THH:MM]", _cutoff, datetime),
    help="Read only results received by then (local time; default: now). The documents state it: the same"
    " archive and cut-off give the same report.",
)  # fmt: skip


def _formats(value: str, tr: Translator) -> list[str]:
    from dokiem.reports.build import FORMATS

    chosen = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(tr("rpt_bad_format", given=", ".join(unknown) or "–", known=", ".join(FORMATS)),
                                 param_hint="--format")  # fmt: skip
    return list(dict.fromkeys(chosen))


def _quarter_read(
    archive: Archive, asked: Quarter | None, read: Callable[[Quarter], QuarterlyFigures], tr: Translator
) -> tuple[Quarter, QuarterlyFigures]:
    """The quarter asked for; by default the last complete one, or (a new archive, a trial) the current one so
    far when the last holds nothing. A quarter with no results is an error naming the archive."""
    quarter = asked or Quarter.containing(datetime.now(UTC)).previous()
    figures = read(quarter)
    if figures.tests == 0 and asked is None:
        current = quarter.next()
        click.echo(tr("rpt_current_quarter", previous=str(quarter), quarter=str(current)), err=True)
        quarter, figures = current, read(current)
    if figures.tests == 0:
        raise click.ClickException(tr("rpt_no_results", quarter=str(quarter), where=archive.where))
    return quarter, figures


QUARTER_HELP = (
    "The quarter, e.g. {example} (default: the last complete one, or the current one so far if that has none)."
)
archive_option = click.option(
    "--archive", "archive_url",
    help="Archive URL: sqlite:///relative/archive.db, sqlite:////absolute/archive.db (as SQLAlchemy reads them) or"
    " postgresql://user@host/db (default: the collector config's, else that of dokiem up in this folder).",
)  # fmt: skip


@click.group("report")
def report_group() -> None:
    """Reports from the archive."""


@report_group.command("quarterly")
@click.option(
    "--quarter",
    type=ParsedParam("YEARQn", Quarter.parse, Quarter),
    help=QUARTER_HELP.format(example="2026Q3"),
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write into (created if missing).")  # fmt: skip
@click.option(
    "--format",
    "formats",
    default="xlsx,pdf,csv",
    show_default=True,
    help="Comma-separated: xlsx, pdf, csv, docx (the Word document the department edits and signs).",
)
@click.option(
    "--letterhead",
    "letterhead_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML with the issuing body, number, signer and recipients for the DOCX (see "
    "deploy/report-letterhead.example.toml); blanks are left for the office otherwise.",
)
@thresholds_option
@archive_option
@cutoff_option
@collector_config_option
@click.pass_obj
def quarterly_command(
    tr: Translator, quarter: Quarter | None, out_dir: Path, formats: str, letterhead_path: Path | None,
    thresholds_path: Path | None, archive_url: str | None, cutoff: datetime | None, config_path: Path | None,
) -> None:  # fmt: skip
    """Write the quarterly report: per province, former district, commune, ISP, fixed and mobile apart."""
    from dokiem.reports.build import read_figures, write_report
    from dokiem.reports.letterhead import load_letterhead
    from dokiem.reports.pdf import FontMissing

    chosen = _formats(formats, tr)
    letterhead = load_or_exit(load_letterhead, letterhead_path, tr)
    rules = load_or_exit(load_thresholds, thresholds_path, tr)
    config = load_collector_config(config_path, tr)
    archive = archive_for_command(archive_url, config, tr)
    regions = configured_regions(config)
    click.echo(tr("rpt_reading", where=archive.where), err=True)

    def progress(n: int) -> None:
        click.echo(f"\r  {tr.number(n, 0)}", nl=False, err=True)

    try:
        quarter, figures = _quarter_read(
            archive, quarter, lambda q: read_figures(archive, q, rules, progress, cutoff), tr
        )
    finally:
        archive.close()
    click.echo("", err=True)
    click.echo(tr("rpt_read", count=tr.number(figures.tests, 0), quarter=str(quarter)), err=True)
    try:
        for path in write_report(figures, chosen, out_dir, tr, regions, letterhead):
            click.echo(tr("rpt_written", path=path))
    except FontMissing as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{out_dir}: {exc.strerror or exc}") from None
    sys.stdout.flush()


@click.command("publish")
@click.option("--quarter", type=ParsedParam("YEARQn", Quarter.parse, Quarter),
              help=QUARTER_HELP.format(example="2026Q4"))  # fmt: skip
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the site (replaced whole once the new one is written); in the folder where dokiem up"
              " ran, its dokiem-data/site by default.")  # fmt: skip
@click.option("--licence", default="CC BY 4.0", show_default=True, help="The open data's licence.")
@click.option("--licence-url", default="https://creativecommons.org/licenses/by/4.0/", show_default=True)
@click.option("--holder", default="", help="Whom reusers credit (default: the province's Sở Khoa học và Công nghệ).")
@thresholds_option
@archive_option
@cutoff_option
@click.option("--serve", "serve_at", is_flag=False, flag_value="127.0.0.1:8090", default=None, type=LISTEN_ADDRESS,
              help="Then show the site over HTTP until Ctrl+C (HOST:PORT; 127.0.0.1:8090 if given alone).")  # fmt: skip
@collector_config_option
@click.pass_obj
def publish_command(
    tr: Translator, quarter: Quarter | None, out_dir: Path | None, licence: str, licence_url: str, holder: str,
    thresholds_path: Path | None, archive_url: str | None, cutoff: datetime | None,
    serve_at: tuple[str, int] | None, config_path: Path | None,
) -> None:  # fmt: skip
    """Write the quarter's public results site and open data: pages per commune, an SVG map, CSV/JSON."""
    from dokiem.reports.build import read_figures
    from dokiem.reports.opendata import Licence
    from dokiem.reports.publish import publish_site

    rules = load_or_exit(load_thresholds, thresholds_path, tr)
    config = load_collector_config(config_path, tr)
    out_dir = _site_folder(out_dir, archive_url, config, tr).resolve()
    archive = archive_for_command(archive_url, config, tr)
    regions = configured_regions(config)
    try:
        quarter, figures = _quarter_read(archive, quarter, lambda q: read_figures(archive, q, rules, cutoff=cutoff), tr)
        done = publish_site(archive, figures, regions, out_dir, tr, Licence(licence, licence_url, holder))
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        archive.close()
    size = f"{tr.number(done.bytes / 2**20, 1)} MiB"
    click.echo(tr("pub_written", out=out_dir, files=len(done.files), size=size, records=tr.number(done.records, 0)))
    if serve_at is not None:
        from dokiem.reports.serve import serve_site

        run_server(serve_site(out_dir, serve_at, tr), serve_at, tr)


def _site_folder(out_dir: Path | None, archive_url: str | None, config: CollectorConfig, tr: Translator) -> Path:
    """``--out``, or beside the archive of a ``dokiem up`` in this folder (which its HTTP server shows)."""
    if out_dir is not None:
        return out_dir
    if archive_url is None and trial_archive(config) is not None:
        return TRIAL_DIR / "site"
    raise click.UsageError(tr("pub_out_needed"))

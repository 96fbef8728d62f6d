"""``dokiem report quarterly``: the report the department sends up, from the archive."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from dokiem.cli_config import ParsedParam, load_or_exit, thresholds_option
from dokiem.collector.config import collector_config_option, load_collector_config, open_archive_or_exit
from dokiem.contract import LOCAL_TIME, RESIDENT
from dokiem.i18n import Translator
from dokiem.reports.quarterly import Quarter
from dokiem.thresholds import load_thresholds


def _cutoff(value: str) -> datetime:
    """A moment in local time (Vietnam's), as the department writes it: 2026-10-05 or 2026-10-05T17:00."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TIME)


cutoff_option = click.option(
    "--cutoff", type=ParsedParam("YYYY-MM-DD[THH:MM]", _cutoff, datetime),
    help="Read only results received by then (local time; default: now). The documents state it: the same"
    " archive and cut-off give the same report.",
)  # fmt: skip


def _formats(value: str) -> list[str]:
    from dokiem.reports.build import FORMATS

    chosen = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(f"{', '.join(unknown) or '(none)'}: choose from {', '.join(FORMATS)}",
                                 param_hint="--format")  # fmt: skip
    return list(dict.fromkeys(chosen))


@click.group("report")
def report_group() -> None:
    """Reports from the archive."""


@report_group.command("quarterly")
@click.option(
    "--quarter",
    type=ParsedParam("YEARQn", Quarter.parse, Quarter),
    help="The quarter, e.g. 2026Q3 (default: the last complete one).",
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
@click.option("--archive", "archive_url", help="Archive URL (default: the collector config's archive_url).")
@cutoff_option
@collector_config_option
@click.pass_obj
def quarterly_command(
    tr: Translator, quarter: Quarter | None, out_dir: Path, formats: str, letterhead_path: Path | None,
    thresholds_path: Path | None, archive_url: str | None, cutoff: datetime | None, config_path: Path | None,
) -> None:  # fmt: skip
    """Write the quarterly report: per province, former district, commune, ISP, fixed and mobile apart."""
    from dokiem.regions import Regions
    from dokiem.reports.build import read_figures, write_report
    from dokiem.reports.letterhead import load_letterhead
    from dokiem.reports.pdf import FontMissing

    chosen = _formats(formats)
    letterhead = load_or_exit(load_letterhead, letterhead_path, tr)
    if quarter is None:
        quarter = Quarter.containing(datetime.now(UTC)).previous()
    rules = load_or_exit(load_thresholds, thresholds_path, tr)
    config = load_collector_config(config_path, tr)
    url = archive_url or config.archive_url
    archive = open_archive_or_exit(url, tr)
    regions = Regions.for_config(config.collector.regions_dir)
    click.echo(tr("rpt_reading", where=archive.where), err=True)

    def progress(n: int) -> None:
        click.echo(f"\r  {tr.number(n, 0)}", nl=False, err=True)

    try:
        figures = read_figures(archive, quarter, rules, progress, cutoff)
    finally:
        archive.close()
    click.echo("", err=True)
    if figures.tests == 0:
        raise click.ClickException(tr("rpt_no_results", quarter=str(quarter), where=archive.where))
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
              help="The quarter, e.g. 2026Q4 (default: the last complete one).")  # fmt: skip
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the site (replaced whole once the new one is written).")  # fmt: skip
@click.option("--licence", default="CC BY 4.0", show_default=True, help="The open data's licence.")
@click.option("--licence-url", default="https://creativecommons.org/licenses/by/4.0/", show_default=True)
@click.option("--holder", default="Sở Khoa học và Công nghệ tỉnh Thanh Hóa", show_default=True,
              help="Whom reusers credit.")  # fmt: skip
@thresholds_option
@click.option("--archive", "archive_url", help="Archive URL (default: the collector config's archive_url).")
@cutoff_option
@collector_config_option
@click.pass_obj
def publish_command(
    tr: Translator, quarter: Quarter | None, out_dir: Path, licence: str, licence_url: str, holder: str,
    thresholds_path: Path | None, archive_url: str | None, cutoff: datetime | None, config_path: Path | None,
) -> None:  # fmt: skip
    """Write the quarter's public results site and open data: pages per commune, an SVG map, CSV/JSON."""
    import shutil
    import tempfile

    from dokiem.regions import Regions
    from dokiem.reports.build import read_figures
    from dokiem.reports.opendata import Licence
    from dokiem.reports.publish import publish

    if quarter is None:
        quarter = Quarter.containing(datetime.now(UTC)).previous()
    rules = load_or_exit(load_thresholds, thresholds_path, tr)
    config = load_collector_config(config_path, tr)
    archive = open_archive_or_exit(archive_url or config.archive_url, tr)
    regions = Regions.for_config(config.collector.regions_dir)
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        figures = read_figures(archive, quarter, rules, cutoff=cutoff)
        if figures.tests == 0:
            raise click.ClickException(tr("rpt_no_results", quarter=str(quarter), where=archive.where))
        rows = archive.results.report_rows(quarter.start, quarter.end, received_by=figures.cutoff)
        theirs = archive.results.report_rows(quarter.start, quarter.end, received_by=figures.cutoff, source=RESIDENT)
        done = publish(figures, rows, regions, partial, tr, Licence(licence, licence_url, holder),
                       cut=figures.cutoff.astimezone(LOCAL_TIME), residents_rows=theirs)  # fmt: skip
        size = f"{tr.number(done.bytes / 2**20, 1)} MiB"
    except (ValueError, OSError) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise click.ClickException(str(exc)) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        archive.close()
    if out_dir.exists():  # the old site stays served until the new one is whole
        old = out_dir.with_name(f".{out_dir.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        out_dir.rename(old)
        partial.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        partial.rename(out_dir)
    click.echo(tr("pub_written", out=out_dir, files=len(done.files), size=size, records=tr.number(done.records, 0)))

"""``dokiem grafana build|push``."""

from __future__ import annotations

from pathlib import Path

import click

from dokiem.cli_config import load_or_exit, thresholds_option
from dokiem.collector.config import collector_config_option, configured_regions, load_collector_config
from dokiem.grafana.provision import HERE, write_provisioning
from dokiem.i18n import Translator
from dokiem.thresholds import load_thresholds

# In a source checkout, build into the repository's grafana/ folder (what the compose file mounts).
DEFAULT_OUT = HERE if (HERE.parent / "pyproject.toml").exists() else Path("grafana")


@click.group("grafana")
def grafana_group() -> None:
    """Dashboards as code: build the provisioning files, or push them to a running Grafana."""


@grafana_group.command("build")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Folder to write provisioning/ and gazetteer/ into.")  # fmt: skip
@thresholds_option
@collector_config_option
@click.pass_obj
def build_command(tr: Translator, out: Path, thresholds_path: Path | None, config_path: Path | None) -> None:
    """Write the dashboards' JSON, the datasource, the district gazetteer and the communes' map for the
    collector config's ``province`` (every province without it)."""
    thresholds = load_or_exit(load_thresholds, thresholds_path, tr)
    regions = configured_regions(load_collector_config(config_path, tr))
    try:
        written = write_provisioning(out, tr, thresholds, regions)
    except OSError as exc:
        raise click.ClickException(f"{out}: {exc.strerror or exc}") from None
    for path in written:
        click.echo(tr("rpt_written", path=path))


@grafana_group.command("push")
@click.option("--url", required=True, envvar="GRAFANA_URL", help="Grafana's address, e.g. https://grafana.example.vn")
@click.option("--token", required=True, envvar="GRAFANA_TOKEN", help="A service-account token with Editor rights.")
@click.option("--influx-url", envvar="DOKIEM_INFLUX_URL", default="http://influxdb:8086", show_default=True,
              help="InfluxDB as Grafana reaches it.")  # fmt: skip
@click.option("--influx-db", envvar="DOKIEM_INFLUX_DB", default="dokiem", show_default=True)
@click.option("--influx-token", envvar="DOKIEM_INFLUX_READ_TOKEN", help="Read-only InfluxDB token for Grafana.")
@thresholds_option
@collector_config_option
@click.pass_obj
def push_command(
    tr: Translator, url: str, token: str, influx_url: str, influx_db: str, influx_token: str | None,
    thresholds_path: Path | None, config_path: Path | None,
) -> None:  # fmt: skip
    """Upload the InfluxDB datasource and the dashboards (created, or updated in place)."""
    from dokiem.grafana.dashboards import build_all
    from dokiem.grafana.provision import datasource
    from dokiem.grafana.push import PushFailed, push

    thresholds = load_or_exit(load_thresholds, thresholds_path, tr)
    regions = configured_regions(load_collector_config(config_path, tr))
    boards = build_all(tr, thresholds, regions)
    try:
        push(url, token, datasource(influx_url, influx_db, influx_token), boards, click.echo)
    except PushFailed as exc:
        key = "grafana_refused" if exc.refused else "grafana_unreachable"
        raise click.ClickException(tr(key, url=exc.url, reason=exc.reason)) from None

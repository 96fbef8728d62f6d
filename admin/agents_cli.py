"""``dokiem agent enroll|revoke``: on the server, give an agent its credentials and config, or take them back.

Named after the agent, attached to ``dokiem agent`` by ``dokiem/cli.py``, but the server's work: it
writes Mosquitto's password file and the collector's fleet registry.
"""

from __future__ import annotations

from pathlib import Path

import click

from dokiem.admin import enroll
from dokiem.admin.mqtt_users import PasswordFile
from dokiem.collector.archive import Archive
from dokiem.collector.config import (
    collector_config_option,
    configured_regions,
    load_collector_config,
    open_archive_or_exit,
)
from dokiem.contract import ACCESS_TYPES, MIN_PLAN_MBPS, Access
from dokiem.i18n import Translator


def _archive_or_none(archive_url: str | None, tr: Translator) -> Archive | None:
    return open_archive_or_exit(archive_url, tr) if archive_url else None


passwd_option = click.option(
    "--passwd-file", type=click.Path(dir_okay=False, path_type=Path), envvar="DOKIEM_MQTT_PASSWD_FILE",
    default=Path("deploy/secrets/mosquitto/passwd"), show_default=True, help="Mosquitto's password file.",
)  # fmt: skip
archive_option = click.option(
    "--archive", "archive_url", envvar="DOKIEM_ARCHIVE_URL",
    help="The collector's archive, to register the site in its fleet registry (default: $DOKIEM_ARCHIVE_URL).",
)  # fmt: skip


@click.command("enroll")
@click.option("--id", "agent_id", required=True, help="The new agent's id (also its MQTT username), e.g. th-380-001.")
@click.option("--site", "site_codes", required=True,
              help="PROVINCE/COMMUNE codes (the 2025 commune), e.g. 38/14797; the older "
              "PROVINCE/DISTRICT/COMMUNE form (38/380/14755) is mapped to the 2025 commune.")  # fmt: skip
@click.option("--isp", help="The ISP of the line measured, e.g. VNPT.")
@click.option("--access", type=click.Choice(ACCESS_TYPES), help="Fixed or mobile line.")
@click.option("--plan-down", type=click.FloatRange(MIN_PLAN_MBPS), help="Subscribed download, Mbit/s.")
@click.option("--plan-up", type=click.FloatRange(MIN_PLAN_MBPS), help="Subscribed upload, Mbit/s.")
@click.option("--lat", type=click.FloatRange(-90, 90), help="Latitude (default: the commune's point).")
@click.option("--lon", type=click.FloatRange(-180, 180), help="Longitude (default: the commune's point).")
@click.option("--broker-url", required=True, envvar="DOKIEM_PUBLIC_BROKER_URL",
              help="The broker as the agent reaches it, e.g. mqtts://mqtt.thanhhoa.gov.vn:8883.")  # fmt: skip
@click.option("--server", "servers", multiple=True, envvar="DOKIEM_PUBLIC_TEST_SERVERS",
              help="A test server URL for the agent (repeatable).")  # fmt: skip
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=Path("deploy/secrets/certs/ca.crt"), show_default=True, envvar="DOKIEM_MQTT_CA_FILE",
              help="The CA the agent checks the broker with (copied into the bundle).")  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for agent.toml and ca.crt (default: enrolled/ID).")  # fmt: skip
@passwd_option
@archive_option
@collector_config_option
@click.pass_obj
def enroll_command(
    tr: Translator, agent_id: str, site_codes: str, isp: str | None, access: str | None, plan_down: float | None,
    plan_up: float | None, lat: float | None, lon: float | None, broker_url: str, servers: tuple[str, ...],
    ca_file: Path, out: Path | None, passwd_file: Path, archive_url: str | None,
    config_path: Path | None,
) -> None:  # fmt: skip
    """On the server: give an agent broker credentials, write its config, register its site."""
    collector = load_collector_config(config_path, tr)
    regions = configured_regions(collector)
    reserved = frozenset(name for name in (collector.broker.username, collector.mqtt_client_id) if name)
    if not broker_url.startswith("mqtts://"):
        raise click.BadParameter(tr("broker_needs_tls"), param_hint="--broker-url")
    try:
        codes = enroll.SiteCodes.parse(site_codes)
        line = enroll.Line(isp, Access(access) if access else None, plan_down, plan_up, lat, lon)
        archive = _archive_or_none(archive_url, tr)
        enrolment = enroll.enroll(
            agent_id, codes, line, regions=regions, passwd=PasswordFile(passwd_file), broker_url=broker_url,
            ca_path="/etc/dokiem/ca.pem", servers=list(servers), archive=archive, reserved=reserved,
        )  # fmt: skip
    except (ValueError, enroll.UnknownRegion) as exc:
        raise click.BadParameter(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or passwd_file}: {exc.strerror}") from None
    files = enroll.write_bundle(enrolment, out or Path("enrolled") / agent_id, ca_file)
    site = " / ".join(n for n in (enrolment.site.district_name, enrolment.site.commune_name) if n)
    click.echo(tr("enrolled", agent=agent_id, site=site, files=", ".join(str(f) for f in files)))
    click.echo(tr("reload_broker"), err=True)


@click.command("revoke")
@click.option("--id", "agent_id", required=True, help="The agent to revoke.")
@passwd_option
@archive_option
@click.pass_obj
def revoke_command(tr: Translator, agent_id: str, passwd_file: Path, archive_url: str | None) -> None:
    """On the server: remove an agent's broker credentials and registry entry (its results stay)."""
    if not enroll.revoke(agent_id, PasswordFile(passwd_file), _archive_or_none(archive_url, tr)):
        raise click.ClickException(tr("not_enrolled", agent=agent_id, passwd=passwd_file))
    click.echo(tr("revoked", agent=agent_id))
    click.echo(tr("reload_broker"), err=True)

"""``dokiem agent run|once|status``: the agent as a service, one run by hand, and what it is doing."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import click

from agent.config import AgentConfig, load
from agent.state import AgentState
from dokiem.cli_config import config_option as config_option_for
from dokiem.cli_config import load_or_exit as load_config_or_exit
from dokiem.i18n import Translator

config_option = config_option_for("agent.toml")


def load_or_exit(path: Path | None, tr: Translator) -> AgentConfig:
    return load_config_or_exit(load, path, tr)


@click.group("agent")
def agent_group() -> None:
    """The agent as a service: measure on a schedule, queue, publish over MQTT."""


@agent_group.command("run")
@config_option
@click.pass_obj
def run_command(tr: Translator, config_path: Path | None) -> None:
    """Run the agent until stopped (this is what the systemd unit starts)."""
    from agent.service import Agent

    config = load_or_exit(config_path, tr)

    async def main() -> None:
        await Agent(config).run()

    click.echo(tr("agent_started", agent=config.agent.id, broker=config.broker.url), err=True)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        click.echo(tr("stopped"), err=True)


@agent_group.command("once")
@config_option
@click.option(
    "--send-timeout", type=click.FloatRange(1, 600), default=30, show_default=True, help="Seconds to try the broker."
)
@click.pass_obj
def once_command(tr: Translator, config_path: Path | None, send_timeout: float) -> None:
    """Measure once now; the result is queued and sent like any other."""
    from agent.service import Agent

    config = load_or_exit(config_path, tr)
    if not config.measure.servers:
        raise click.UsageError(tr("bad_option", reason="measure.servers is empty (or set DOKIEM_SERVERS)"))

    async def main() -> tuple[Any, bool]:
        agent = Agent(config)
        result = await agent.run_heavy(config, period_end=time.time())
        sent = await agent.publisher.drain_once(send_timeout)
        return result, sent

    result, sent = asyncio.run(main())
    from agent.cli import render_table

    click.echo(render_table(result, tr))
    click.echo(tr("once_sent") if sent else tr("once_queued"), err=True)
    if result.error is not None:
        raise SystemExit(1)


@agent_group.command("check")
@config_option
@click.pass_obj
def check_command(tr: Translator, config_path: Path | None) -> None:
    """Check the configuration and say what the agent would do (changes nothing)."""
    config = load_or_exit(config_path, tr)
    click.echo(
        tr(
            "config_ok",
            agent=config.agent.id,
            broker=config.broker.url,
            servers=", ".join(config.measure.servers) or "—",
            minutes=tr.number(config.schedule.interval_minutes, 0),
        )
    )


@agent_group.command("status")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status_command(tr: Translator, config_path: Path | None, as_json: bool) -> None:
    """What is queued, the last results, the last error, the connection state."""
    from agent.service import open_outbox

    config = load_or_exit(config_path, tr)
    state = AgentState.load(config.agent.data_dir / "state.json")
    outbox = open_outbox(config)
    stats = outbox.stats()
    outbox.close()
    status = {
        "agent_id": config.agent.id,
        "broker": config.broker.url,
        "connected": state.connected if state else None,
        "last_error": state.last_error if state else None,
        "last_run_error": state.last_run_error if state else None,
        "config_error": state.config_error if state else None,
        "next_run_at": state.next_run_at if state else None,
        "skipped_runs": state.skipped_runs if state else 0,
        "outbox": {"depth": stats.depth, "sent": stats.sent, "dropped_age": stats.dropped_age,
                   "dropped_size": stats.dropped_size, "oldest_queued_at": stats.oldest_queued_at},
        "last_results": state.last_results if state else [],
    }  # fmt: skip
    if as_json:
        click.echo(json.dumps(status, ensure_ascii=False, indent=1))
        return
    click.echo(render_status(status, tr))


def _when(ts: float | None) -> str:
    return "—" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def render_status(status: dict[str, Any], tr: Translator) -> str:
    outbox = status["outbox"]
    connected = status["connected"]
    rows = [
        (tr("agent"), status["agent_id"]),
        (tr("broker"), status["broker"]),
        (tr("connection"), tr("never_ran") if connected is None else tr("online" if connected else "offline")),
        (tr("queued"), tr("queued_detail", depth=outbox["depth"], oldest=_when(outbox["oldest_queued_at"]))),
        (tr("sent"), str(outbox["sent"])),
        (tr("dropped"), tr("dropped_detail", age=outbox["dropped_age"], size=outbox["dropped_size"])),
        (tr("next_run"), _when(status["next_run_at"])),
    ]
    for key, label in (
        ("last_error", "last_error"),
        ("last_run_error", "last_run_error"),
        ("config_error", "fleet_refused"),
    ):
        if status[key]:
            rows.append((tr(label), status[key]))
    for result in status["last_results"]:
        down, up, latency = (result[k] or "—" for k in ("download_mbps", "upload_mbps", "latency_ms"))
        figures = f"↓ {down} · ↑ {up} Mbit/s · {latency} ms"
        rows.append((result["started_at"][:19].replace("T", " "), result["error"] or figures))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


def _server_side(tr: Translator) -> Any:
    """collector.enroll, or a clear message that enrolling runs on the server (with the collector extra)."""
    try:
        from collector import enroll
    except ImportError as missing:
        raise click.ClickException(f"{tr('need_collector_extra')} [{missing}]") from None
    return enroll


def _archive_or_none(archive_url: str | None, tr: Translator) -> Any:
    if not archive_url:
        return None
    from collector.cli import open_archive_or_exit

    return open_archive_or_exit(archive_url, tr)


passwd_option = click.option(
    "--passwd-file", type=click.Path(dir_okay=False, path_type=Path), envvar="DOKIEM_MQTT_PASSWD_FILE",
    default=Path("deploy/secrets/mosquitto/passwd"), show_default=True, help="Mosquitto's password file.",
)  # fmt: skip
archive_option = click.option(
    "--archive", "archive_url", envvar="DOKIEM_ARCHIVE_URL",
    help="The collector's archive, to register the site in its fleet registry (default: $DOKIEM_ARCHIVE_URL).",
)  # fmt: skip


@agent_group.command("enroll")
@click.option("--id", "agent_id", required=True, help="The new agent's id (also its MQTT username), e.g. th-380-001.")
@click.option("--site", "site_codes", required=True, help="PROVINCE/DISTRICT[/COMMUNE] codes, e.g. 38/380/14755.")
@click.option("--isp", help="The ISP of the line measured, e.g. VNPT.")
@click.option("--access", type=click.Choice(["fixed", "mobile"]), help="Fixed or mobile line.")
@click.option("--plan-down", type=click.FloatRange(0, min_open=True), help="Subscribed download, Mbit/s.")
@click.option("--plan-up", type=click.FloatRange(0, min_open=True), help="Subscribed upload, Mbit/s.")
@click.option("--lat", type=click.FloatRange(-90, 90), help="Latitude (default: the district's point).")
@click.option("--lon", type=click.FloatRange(-180, 180), help="Longitude (default: the district's point).")
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
@click.pass_obj
def enroll_command(
    tr: Translator, agent_id: str, site_codes: str, isp: str | None, access: str | None, plan_down: float | None,
    plan_up: float | None, lat: float | None, lon: float | None, broker_url: str, servers: tuple[str, ...],
    ca_file: Path, out: Path | None, passwd_file: Path, archive_url: str | None,
) -> None:  # fmt: skip
    """On the server: give an agent broker credentials, write its config, register its site."""
    from collector.mqtt_users import PasswordFile
    from collector.regions import Regions
    from dokiem.contract import Access

    enroll = _server_side(tr)
    if not broker_url.startswith("mqtts://"):
        raise click.BadParameter(tr("broker_needs_tls"), param_hint="--broker-url")
    try:
        codes = enroll.SiteCodes.parse(site_codes)
        line = enroll.Line(isp, Access(access) if access else None, plan_down, plan_up, lat, lon)
        archive = _archive_or_none(archive_url, tr)
        enrolment = enroll.enroll(
            agent_id, codes, line, regions=Regions.load(), passwd=PasswordFile(passwd_file), broker_url=broker_url,
            ca_path="/etc/dokiem/ca.pem", servers=list(servers), archive=archive,
        )  # fmt: skip
    except (ValueError, enroll.UnknownRegion) as exc:
        raise click.BadParameter(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or passwd_file}: {exc.strerror}") from None
    files = enroll.write_bundle(enrolment, out or Path("enrolled") / agent_id, ca_file)
    site = " / ".join(n for n in (enrolment.site.district_name, enrolment.site.commune_name) if n)
    click.echo(tr("enrolled", agent=agent_id, site=site, files=", ".join(str(f) for f in files)))
    click.echo(tr("reload_broker"), err=True)


@agent_group.command("revoke")
@click.option("--id", "agent_id", required=True, help="The agent to revoke.")
@passwd_option
@archive_option
@click.pass_obj
def revoke_command(tr: Translator, agent_id: str, passwd_file: Path, archive_url: str | None) -> None:
    """On the server: remove an agent's broker credentials and registry entry (its results stay)."""
    from collector.mqtt_users import PasswordFile

    enroll = _server_side(tr)
    if not enroll.revoke(agent_id, PasswordFile(passwd_file), _archive_or_none(archive_url, tr)):
        raise click.ClickException(tr("not_enrolled", agent=agent_id, passwd=passwd_file))
    click.echo(tr("revoked", agent=agent_id))
    click.echo(tr("reload_broker"), err=True)

"""``dokiem agent run|once|status``: the agent as a service, one run by hand, and what it is doing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from pathlib import Path
from typing import Any

import click

from dokiem.agent.config import AgentConfig, load
from dokiem.agent.state import AgentState
from dokiem.cli_config import LazyGroup
from dokiem.cli_config import config_option as config_option_for
from dokiem.cli_config import load_or_exit as load_config_or_exit
from dokiem.contract import Access
from dokiem.fleet import ServerEntry
from dokiem.i18n import Translator

config_option = config_option_for("agent.toml")


def load_or_exit(path: Path | None, tr: Translator) -> AgentConfig:
    return load_config_or_exit(load, path, tr)


@click.group("agent", cls=LazyGroup)
def agent_group() -> None:
    """The agent as a service: measure on a schedule, queue, publish over MQTT."""


@agent_group.command("run")
@config_option
@click.pass_obj
def run_command(tr: Translator, config_path: Path | None) -> None:
    """Run the agent until stopped (this is what the systemd unit starts)."""
    from dokiem.agent.service import Agent

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
@click.option("--no-clock-wait", is_flag=True,
              help="Measure at once even if the clock is not NTP-synchronised yet (the Result says so).")  # fmt: skip
@click.option("--international", is_flag=True,
              help="Measure the international test points (location = international) instead.")  # fmt: skip
@click.pass_obj
def once_command(
    tr: Translator, config_path: Path | None, send_timeout: float, no_clock_wait: bool, international: bool
) -> None:
    """Measure once now; the result is queued and sent like any other."""
    from dokiem.agent.clock import kernel_synchronised
    from dokiem.agent.service import HEAVY_RUN_S, Agent
    from dokiem.contract import ServerLocation

    config = load_or_exit(config_path, tr)
    location = ServerLocation.INTERNATIONAL if international else ServerLocation.DOMESTIC
    if not config.measure.entries(location):
        raise click.UsageError(tr("once_no_servers", location=tr(f"location_{location.value}")))
    wait = config.schedule.clock_wait_minutes
    if no_clock_wait:
        config = config.model_copy(update={"schedule": config.schedule.model_copy(update={"clock_wait_minutes": 0})})
    elif wait > 0 and kernel_synchronised() is False:  # say what it waits for, and how not to
        click.echo(tr("once_clock_wait", minutes=tr.number(wait, 0)), err=True)

    async def main() -> tuple[Any, bool]:
        agent = Agent(config)
        # a busy office line is waited for here too (up to router.max_defers), the technician told why
        waits = config.router.max_defers * config.router.defer_minutes * 60
        result = await agent.run_heavy(config, period_end=time.time(), location=location,
                                       defer_until=time.time() + waits + HEAVY_RUN_S + 60)  # fmt: skip
        sent = await agent.publisher.drain_once(send_timeout)
        return result, sent

    result, sent = asyncio.run(main())
    from dokiem.agent.cli import render_table

    click.echo(render_table(result, tr))
    click.echo(tr("once_sent") if sent else tr("once_queued"), err=True)
    if result.error is not None:
        raise SystemExit(1)


@agent_group.command("survey")
@config_option
@click.option("--duration", type=click.FloatRange(1, 7 * 86_400), default=None,
              help="Seconds to survey, then stop (default: until stopped, as a service does).")  # fmt: skip
@click.option(
    "--send-timeout", type=click.FloatRange(1, 600), default=30, show_default=True, help="Seconds to try the broker."
)
@click.pass_obj
def survey_command(tr: Translator, config_path: Path | None, duration: float | None, send_timeout: float) -> None:
    """Survey mobile coverage while driven or carried: a sample every few seconds, queued and sent."""
    from dokiem.agent.service import Agent
    from dokiem.agent.survey import Surveyor, found_position, position_reader, speed_tester
    from dokiem.thresholds import load_thresholds

    config = load_or_exit(config_path, tr)

    async def main() -> tuple[Any, bool]:
        position, why = await found_position(position_reader(config.survey))
        if position is None:
            raise click.ClickException(tr("survey_no_position", why="; ".join(why)))
        click.echo(tr("survey_position", source=tr(f"position_{position.source.value}")), err=True)
        agent = Agent(config)
        surveyor = Surveyor(config.agent.id, config.survey, load_thresholds().coverage, agent.outbox, position,
                            on_batch=agent.publisher.queued.set, tester=speed_tester(config))  # fmt: skip
        sending = asyncio.create_task(agent.publisher.run())

        def progress(tally: Any) -> None:
            if tally.samples == 1 or (tally.samples and tally.samples % 12 == 0):  # the first, then each minute
                click.echo(tr("survey_progress", samples=tr.number(tally.samples, 0),
                              without=tr.number(tally.without_service, 0),
                              dropped=tr.number(sum(tally.dropped.values()), 0)), err=True)  # fmt: skip

        surveying = asyncio.create_task(surveyor.run(duration if duration is not None else float("inf"), progress))
        for stop in (signal.SIGINT, signal.SIGTERM):  # Ctrl+C, or the car's power going (systemd): the batch is kept
            asyncio.get_running_loop().add_signal_handler(stop, surveying.cancel)
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await surveying
        finally:
            position.close()
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sending
        return surveyor.tally, await agent.publisher.drain_once(send_timeout)

    tally, sent = asyncio.run(main())
    dropped = ", ".join(f"{tr('survey_drop_' + reason.value)} {n}" for reason, n in sorted(tally.dropped.items()))
    click.echo(tr("survey_done", samples=tr.number(tally.samples, 0), batches=tr.number(tally.batches, 0),
                  without=tr.number(tally.without_service, 0), dropped=dropped or "0"))  # fmt: skip
    click.echo(tr("survey_sent") if sent else tr("once_queued"), err=True)


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
            servers=", ".join(_described(e, tr) for e in config.measure.entries()) or "—",
            minutes=tr.number(config.schedule.interval_minutes, 0),
        )
    )
    click.echo(_traffic_source(config, tr))
    if (said := _radio_source(config, tr)) is not None:
        click.echo(said)
    if config.site.access is Access.MOBILE or "survey" in config.model_fields_set:
        click.echo(_position_source(config, tr))


def _position_source(config: Any, tr: Translator) -> str:
    """Where ``agent survey`` would take its positions from, or why it has none (a mobile agent, or a survey set)."""
    from dokiem.agent.survey import found_position, position_reader

    async def found() -> tuple[Any, list[str]]:
        reader, why = await found_position(position_reader(config.survey))
        if reader is not None:
            reader.close()
        return reader, why

    reader, why = asyncio.run(found())
    if reader is None:
        return tr("survey_no_position", why="; ".join(why))
    return tr("survey_position", source=tr(f"position_{reader.source.value}"))


def _radio_source(config: Any, tr: Translator) -> str | None:
    """A mobile site's modem or a hotspot's Wi-Fi, as the next run will record it (None on a cable)."""
    from dokiem.agent.cli import radio_words
    from dokiem.agent.measure import radio_reader

    reader = radio_reader(config.site.access)
    if reader is None:
        return None
    return tr("radio_now", radio=radio_words(asyncio.run(reader.read()), tr))


def _traffic_source(config: Any, tr: Translator) -> str:
    """Where others' traffic on the line will be seen: the router found now, or the agent's own port."""
    from dokiem.agent.router import RouterUnavailable, find_router

    async def found() -> tuple[str, str] | None:
        counters = await find_router(config.router)
        if counters is None:
            return None
        await counters.close()
        return counters.name, counters.where

    try:
        source = asyncio.run(found())
    except RouterUnavailable as exc:
        return tr("traffic_router_failed", reason=str(exc))
    if source is None:
        return tr("traffic_interface")
    return tr(f"traffic_{source[0]}", where=source[1])


def _described(entry: ServerEntry, tr: Translator) -> str:
    """A server as ``check`` lists it: its URL, and what its entry says beyond a bare URL."""
    if entry == ServerEntry(url=entry.url):
        return entry.url
    said = [entry.name, tr(f"location_{entry.location.value}"), tr("priority", n=entry.priority)]
    return f"{entry.url} ({', '.join(x for x in said if x)})"


@agent_group.command("status")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status_command(tr: Translator, config_path: Path | None, as_json: bool) -> None:
    """What is queued, the last results, the last error, the connection state."""
    from dokiem.agent.service import open_outbox

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
        down, up, latency = (tr.number(result[k], 1) if result[k] is not None else "—"
                             for k in ("download_mbps", "upload_mbps", "latency_ms"))  # fmt: skip
        figures = f"↓ {down} · ↑ {up} Mbit/s · {latency} ms"
        rows.append((result["started_at"][:19].replace("T", " "), result["error"] or figures))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


@agent_group.command("update")
@config_option
@click.pass_obj
def update_command(tr: Translator, config_path: Path | None) -> None:
    """One step of the updater (root; dokiem-update.service runs it): confirm or roll back a switch, else
    install the version the fleet config wants, verified against the release key."""
    from dokiem.agent.update import Layout, Origin, Updater, restart_service
    from dokiem.status import UpdateOutcome

    config = load_or_exit(config_path, tr)
    section = config.update
    updater = Updater(
        Layout(section.root),
        config.agent.data_dir,
        section.public_key,
        section.health_minutes * 60,
        restart_service(section.service),
        origin=Origin(config.release_host, config.agent.allow_local_servers),
    )
    report = updater.step()
    if report is None:
        click.echo(tr("update_none"))
        return
    if report.outcome is UpdateOutcome.REFUSED:
        click.echo(tr("update_refused", version=report.version, reason=report.message), err=True)
        raise SystemExit(1)
    click.echo(tr(f"update_{report.outcome.value}", version=report.version,
                  minutes=tr.number(section.health_minutes, 0)))  # fmt: skip

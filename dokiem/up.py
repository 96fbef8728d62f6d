"""``dokiem up``: the whole flow on one machine with nothing else installed.

An embedded MQTT broker (amqtt), the collector with its SQLite archive (and InfluxDB with
``--influx``), the test server, and a local agent measuring it every few minutes. Each
result is printed once the collector has archived it, so the table shows the full path:
agent → outbox → MQTT → collector → archive.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dokiem import figures as registry
from dokiem.agent.cli import max_seconds_option
from dokiem.agent.config import AgentConfig
from dokiem.agent.service import Agent
from dokiem.cli_config import LISTEN_ADDRESS, run_server
from dokiem.collector.config import TRIAL_DIR, ResidentServer, ResidentsSection
from dokiem.collector.config import load as load_collector
from dokiem.collector.service import Collector
from dokiem.contract import Access, Result, Site
from dokiem.figures import Labels
from dokiem.i18n import Translator
from dokiem.regions import Province, Regions, UnknownProvince, find_communes, province_folders
from dokiem.regions.isps import shipped_isps
from dokiem.testserver import server as testserver
from dokiem.vouch import read_private_key

LOCAL_SERVER = "local"  # the all-in-one test server's id in the residents' list
# the trial's agent tests from this machine: no-ticket clients from elsewhere count against the residents' share
TRIAL_AGENTS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def table_header(tr: Translator) -> str:
    """The trial's table: the time, the headline figures (dokiem.figures), the outcome."""
    return " | ".join((tr("col_time"), *(tr(f.label) for f in registry.headline()), tr("col_status")))


def table_row(result: Result, tr: Translator) -> str:
    status = tr("ok") if result.error is None else tr.error(result.error.code, result.error.message)
    readings = (Labels(tr).reading(f, getattr(result, f.name)) for f in registry.headline())
    return " | ".join((result.started_at.astimezone().strftime("%H:%M:%S"), *readings, status))


@dataclass(frozen=True)
class Placing:
    """Where the trial's agent says it stands: what ``--commune``, ``--access`` and ``--isp`` asked for."""

    commune: str | None = None
    access: str = Access.FIXED.value
    isp: str | None = None


def chosen_province(code: str | None, tr: Translator) -> Regions:
    """The trial's province alone: the one asked for, else the first of the national list (by code)."""
    try:
        return Regions.load(only=code or min(province_folders()))
    except UnknownProvince:
        known = ", ".join(f"{c} {p.name}" for c, p in sorted(Regions.load().provinces.items()))
        raise click.BadParameter(tr("rg_unknown_province", code=code, known=known), param_hint="--province") from None


def placed_site(province: Province, placing: Placing, tr: Translator) -> Site:
    """The site of the trial's agent: the commune named (by code, or by name with or without diacritics) or
    the province's first unit, the access type, and the operator (the first listed for that access by default)."""
    if placing.commune is None:
        unit = next(iter(province.communes.values()))
    else:
        found = find_communes(province, placing.commune)
        if len(found) != 1:
            listed = "; ".join(f"{u.name} ({u.code})" for u in found[:8]) or tr("up_commune_none")
            raise click.BadParameter(tr("up_commune_unknown", text=placing.commune, province=province.name,
                                        found=listed), param_hint="--commune")  # fmt: skip
        unit = found[0]
    isps = shipped_isps()
    fitting = [isp.name for isp in isps.all if placing.access in isp.access]
    isp = isps.canonical(placing.isp) if placing.isp else fitting[0]
    if isp not in fitting:
        raise click.BadParameter(tr("up_isp_unknown", text=placing.isp, access=tr(f"access_{placing.access}").lower(),
                                    known=", ".join(fitting)), param_hint="--isp")  # fmt: skip
    district = province.districts.get(unit.districts[0]) if unit.districts else None
    return Site(province_code=province.code, province_name=province.name, commune_code=unit.code,
                commune_name=unit.name, district_code=district.code if district else None,
                district_name=district.name if district else None, lat=unit.lat, lon=unit.lon, isp=isp,
                access=Access(placing.access))  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_broker(port: int) -> Any:
    from amqtt.broker import Broker

    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    logging.getLogger("amqtt").setLevel(logging.ERROR)
    broker = Broker(config)
    await broker.start()
    return broker


def _key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 key kept in ``path`` (made the first time, readable by its owner only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption())  # fmt: skip
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(pem)
    try:
        return read_private_key(path)
    except ValueError as exc:
        raise click.ClickException(f"{exc}: remove it and dokiem up makes a new one") from None


def _residents(data_dir: Path, server_url: str, server_key: Ed25519PrivateKey) -> ResidentsSection:
    """The residents' door wired to the local test server: keys kept in data_dir/keys."""
    public = data_dir / "keys" / "testserver.pub"
    encoding, form = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    pem = server_key.public_key().public_bytes(encoding, form)
    public.write_bytes(pem)
    collector_key = data_dir / "keys" / "collector.key"
    _key(collector_key)
    return ResidentsSection(key_file=collector_key, servers=[ResidentServer(id=LOCAL_SERVER, url=server_url,
                                                                            public_key=public)])  # fmt: skip


def _reachable(host: str) -> str:
    """The host a browser on the LAN reaches (an address that listens on every interface is none)."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: it only picks the outgoing interface
        return str(probe.getsockname()[0])
    return "127.0.0.1"


def fill_demo_quarter(data_dir: Path, regions: Regions, site: Site, tr: Translator) -> None:
    """The trial's archive filled with the last complete quarter (and the one before, for the trends) of a
    generated fleet, and that quarter's public site written where the HTTP server shows it."""
    from dokiem.collector.archive import Archive, sqlite_url
    from dokiem.collector.demo import NotATrial, fill_demo
    from dokiem.reports.build import read_figures
    from dokiem.reports.opendata import Licence
    from dokiem.reports.publish import publish_site
    from dokiem.reports.quarterly import Quarter
    from dokiem.thresholds import load_thresholds

    quarter = Quarter.containing(datetime.now(UTC)).previous()
    archive = Archive.from_url(sqlite_url((data_dir / "collector" / "archive.db").resolve()))
    try:
        click.echo(tr("demo_filling", quarter=str(quarter), province=site.province_name), err=True)
        spans = [(q.start, q.end) for q in (quarter, quarter.previous())]
        added = fill_demo(archive, regions, str(site.province_code), spans,
                          lambda n: click.echo(f"\r  {tr.number(n, 0)}", nl=False, err=True))  # fmt: skip
        click.echo(tr("demo_filled", count=tr.number(added, 0)) if added else tr("demo_there"), err=True)
        figures = read_figures(archive, quarter, load_thresholds())
        publish_site(archive, figures, regions, data_dir / "site", tr, Licence("CC BY 4.0", "", tr("demo_holder")))
    except NotATrial as field:
        raise click.ClickException(tr("demo_not_trial", archive=archive.where, agents=str(field))) from None
    finally:
        archive.close()


async def run_up(
    tr: Translator, interval_min: float, runs: int | None, listen: tuple[str, int], data_dir: Path,
    influx: str | None, max_seconds: float, http: tuple[str, int] = ("127.0.0.1", 0), site: Site | None = None,
) -> int:  # fmt: skip
    mqtt_port = free_port()
    broker = await start_broker(mqtt_port)
    server_key = _key(data_dir / "keys" / "testserver.key")
    collector_key = _key(data_dir / "keys" / "collector.key")  # signs the tickets the test server checks
    voucher = testserver.Voucher(LOCAL_SERVER, server_key, collector_key.public_key())
    web, web_port = await testserver.start(*listen, voucher=voucher, agent_networks=TRIAL_AGENTS)
    server_url = f"http://{_reachable(listen[0])}:{web_port}/"
    token = secrets.token_urlsafe(16)
    api = f"{http[0]}:{http[1] or free_port()}"
    env = (
        {
            "DOKIEM_BROKER_URL": f"mqtt://127.0.0.1:{mqtt_port}",
            "DOKIEM_DATA_DIR": str(data_dir / "collector"),
            "DOKIEM_HTTP_LISTEN": api,
            "DOKIEM_API_TOKEN": token,
            "DOKIEM_LIMITS_MAX_MBPS": "100000",  # loopback runs at tens of Gbit/s: not a line, but not a forgery
        }
        | ({"DOKIEM_COLLECTOR_PROVINCE": site.province_code} if site and site.province_code else {})
        | ({"DOKIEM_INFLUX_URL": influx} if influx else {})
    )
    config = load_collector(None, environ=env)
    shown = config.http.model_copy(update={"public_dir": data_dir / "site"})
    collector = Collector(config.model_copy(update={"residents": _residents(data_dir, server_url, server_key),
                                                    "http": shown}))  # fmt: skip
    agent = Agent(_agent_config(data_dir, mqtt_port, f"http://{listen[0]}:{web_port}/", max_seconds, site or Site()))
    failures = 0
    async with asyncio.TaskGroup() as tasks:
        started = asyncio.Event()
        collector_task = tasks.create_task(collector.run(started))
        await started.wait()
        if influx:
            await _until_written(collector, tr)
        publisher = tasks.create_task(agent.publisher.run())
        every = (tr("up_runs", runs=tr.number(runs, 0)) if runs is not None
                 else tr("up_every", minutes=tr.number(interval_min, 0)))  # fmt: skip
        click.echo(tr("up_started", url=f"http://{listen[0]}:{web_port}/", every=every, api=f"http://{api}/api/results",
                      token=token, data=data_dir, page=f"http://{_reachable(http[0])}:{api.rsplit(':', 1)[1]}/do/"),
                   err=True)  # fmt: skip
        click.echo(tr("up_site", site=f"http://{_reachable(http[0])}:{api.rsplit(':', 1)[1]}/public/",
                      publish=_publish_hint(data_dir)), err=True)  # fmt: skip
        click.echo(table_header(tr))
        done = 0
        try:
            while runs is None or done < runs:
                result = await agent.run_heavy(agent.config, period_end=0)
                await _until_archived(collector, str(result.result_id))
                click.echo(table_row(result, tr))
                failures += result.error is not None
                done += 1
                if runs is not None and done >= runs:
                    break
                next_at = datetime.now() + timedelta(minutes=interval_min)
                click.echo(tr("up_next", time=next_at.strftime("%H:%M")), err=True)
                await asyncio.sleep(interval_min * 60)
        finally:
            for task in (collector_task, publisher):
                task.cancel()
            await web.cleanup()
            with contextlib.suppress(Exception):
                await broker.shutdown()
    return failures


def _publish_hint(data_dir: Path) -> str:
    """The command that publishes the trial's site where ``dokiem up`` shows it."""
    from dokiem.collector.archive import sqlite_url

    if data_dir.resolve() == TRIAL_DIR.resolve():
        return "dokiem publish"
    return f"dokiem publish --archive {sqlite_url(data_dir / 'collector' / 'archive.db')} --out {data_dir / 'site'}"


def _agent_config(data_dir: Path, mqtt_port: int, server: str, max_seconds: float, site: Site) -> AgentConfig:
    return AgentConfig.model_validate({
        "agent": {"id": "local", "data_dir": str(data_dir / "agent")},
        "site": site.model_dump(exclude_none=True),
        "broker": {"url": f"mqtt://127.0.0.1:{mqtt_port}"},
        # collector, agent and test server share this machine's clock: waiting for NTP gains nothing here
        # (a run on an unsynchronised clock is still flagged clock_unsynced)
        "schedule": {"interval_minutes": 0, "light_interval_minutes": 0, "clock_wait_minutes": 0},
        "measure": {"servers": [server], "max_seconds": max_seconds, "ping_count": 5},
    })  # fmt: skip


async def _until_archived(collector: Collector, result_id: str) -> None:
    """Wait (up to a minute) until the collector has archived this result."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            while not collector.archive.results.has(result_id):
                collector.stored.clear()
                await collector.stored.wait()


async def _until_written(collector: Collector, tr: Translator) -> None:
    """Wait while the collector writes the archive's backlog (the demo's quarter) into InfluxDB, saying how much is
    left; an InfluxDB that cannot be reached is said once, and the trial goes on (the archive keeps it all)."""
    results = collector.archive.results
    if results.pending_count() == 0:
        return
    click.echo(tr("up_influx_backlog", count=tr.number(results.pending_count(), 0)), err=True)
    while (left := results.pending_count()) > 0:
        if collector.influx_error is not None:
            click.echo(tr("up_influx_down", error=collector.influx_error), err=True)
            return
        click.echo(f"\r  {tr.number(left, 0)}  ", nl=False, err=True)
        collector.flushed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await collector.flushed.wait()
    click.echo("", err=True)


@click.command("up")
@click.option("--interval", "interval_min", type=click.FloatRange(0.1, 1440), default=5.0, show_default=True,
              help="Minutes between measurements.")  # fmt: skip
@click.option("--runs", type=click.IntRange(1), default=None, help="Stop after this many runs (default: until Ctrl+C).")
@click.option("--listen", type=LISTEN_ADDRESS, default="127.0.0.1:0", show_default=True,
              help="Where the test server listens (port 0 = any free port).")  # fmt: skip
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=TRIAL_DIR,
              show_default=True, help="Where the agent's outbox and the collector's archive live.")  # fmt: skip
@click.option("--influx", metavar="URL", help="Also write to this InfluxDB (e.g. http://127.0.0.1:8086).")
@click.option("--http", type=LISTEN_ADDRESS, default="127.0.0.1:0", show_default=True,
              help="Where the collector's API and the residents' page listen (port 0 = any free port).")  # fmt: skip
@click.option("--province", envvar="DOKIEM_COLLECTOR_PROVINCE", help="The province's two-digit code (default:"
              " the first of the national list; dokiem regions provinces lists them).")  # fmt: skip
@click.option("--commune", help="Where the agent stands: a commune's name (diacritics optional) or code"
              " (default: the province's first).")  # fmt: skip
@click.option("--access", type=click.Choice([Access.FIXED.value, Access.MOBILE.value]), default=Access.FIXED.value,
              show_default=True, help="The kind of line the agent measures.")  # fmt: skip
@click.option("--isp", help="The line's operator (default: the first listed for that kind of line).")
@click.option(
    "--demo",
    is_flag=True,
    help="First fill the archive with a generated quarter of the province (marked as"
    " demo data everywhere) and publish its site, so the report, the site and the dashboards show figures.",
)
@max_seconds_option
@click.pass_obj
def up_command(
    tr: Translator, interval_min: float, runs: int | None, listen: tuple[str, int], data_dir: Path,
    influx: str | None, http: tuple[str, int], province: str | None, commune: str | None, access: str,
    isp: str | None, demo: bool, max_seconds: float,
) -> None:  # fmt: skip
    """Run dokiem all-in-one: broker, collector, test server and an agent measuring it."""
    regions = chosen_province(province, tr)
    site = placed_site(next(iter(regions.provinces.values())), Placing(commune, access, isp), tr)
    click.echo(tr("up_placed", commune=site.commune_name, code=site.commune_code, province=site.province_name,
                  province_code=site.province_code, access=tr(f"access_{site.access}").lower(), isp=site.isp),
               err=True)  # fmt: skip
    if demo:
        fill_demo_quarter(data_dir, regions, site, tr)
    main = run_up(tr, interval_min, runs, listen, data_dir, influx, max_seconds, http, site)
    failures = run_server(main, listen, tr)
    if failures:
        raise SystemExit(1)

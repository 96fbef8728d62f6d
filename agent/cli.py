"""``dokiem measure``: one run against one server, printed as a table or as the Result's JSON."""

from __future__ import annotations

import asyncio
import math
import re
import sys
import time
from typing import TextIO

import click

from dokiem import figures as registry
from dokiem.agent.measure import MeasureRequest, failed_result, measure_ip_versions
from dokiem.agent.probes.http import SpeedSettings
from dokiem.agent.probes.ookla import best_ookla_server
from dokiem.agent.probes.wire import HttpFailure
from dokiem.agent.servers import BadServerURL, Server, librespeed_server
from dokiem.contract import AGENT_ID_PATTERN, Radio, Result
from dokiem.figures import Labels
from dokiem.i18n import Translator

max_seconds_option = click.option(
    "--max-seconds",
    type=click.FloatRange(3, 60),
    default=9.0,
    show_default=True,
    help="Longest measured time per direction.",
)


def check_agent_id(value: str) -> str:
    if not re.fullmatch(AGENT_ID_PATTERN, value):
        raise click.BadParameter(
            f"{value!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


class ProgressLine:
    """A one-line progress display on stderr: redrawn in place on a terminal, a line per stage otherwise."""

    def __init__(self, tr: Translator, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.tr = tr
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self._stage: str | None = None
        self._last_draw = 0.0

    def __call__(self, stage: str, value: float | None) -> None:
        if not self.enabled:
            return
        label = self.tr(f"stage_{stage}")
        if value is None or not self.tty:
            if stage != self._stage:
                self._write(label if self.tty else label + "\n")
            self._stage = stage
            return
        now = time.monotonic()
        if stage == self._stage and now - self._last_draw < 0.2:
            return
        self._stage, self._last_draw = stage, now
        bar = "█" * max(1, min(30, round(30 * math.log10(max(value, 1.0)) / 4)))  # log scale: 10 Gbit/s fills it
        self._write(f"{label}: {self.tr.number(value)} Mbit/s {bar}")

    def _write(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + text)
        else:
            self.stream.write(text)
        self.stream.flush()

    def done(self) -> None:
        if self.enabled and self.tty and self._stage is not None:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def render_table(result: Result, tr: Translator) -> str:
    """The Result as a two-column table a technician reads."""

    words = Labels(tr)

    def mbps(value: float | None) -> str:
        return words.reading(registry.figure("download_mbps"), value, tr("not_measured"))

    def ms(value: float | None) -> str:
        return words.reading(registry.figure("latency_ms"), value, tr("not_measured"))

    m = result.method
    rows: list[tuple[str, str]] = []
    if result.server is not None:
        rows.append((tr("server"), result.server.name or result.server.url))
    rows.append((tr("started"), result.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")))
    down = mbps(result.download_mbps)
    if result.download_mbps is not None and m.measured_down_s:
        down += "  (" + tr("streams_measured", streams=m.streams_down, seconds=tr.number(m.measured_down_s)) + ")"
    up = mbps(result.upload_mbps)
    if result.upload_mbps is not None and m.measured_up_s:
        up += "  (" + tr("streams_measured", streams=m.streams_up, seconds=tr.number(m.measured_up_s)) + ")"
    label = {f.name: words.name(f) for f in registry.REGISTRY}
    rows += [(label["download_mbps"], down), (label["upload_mbps"], up)]
    rows += [(label["latency_ms"], ms(result.latency_ms)), (label["jitter_ms"], ms(result.jitter_ms))]
    if result.loaded_latency_ms is not None:
        detail = tr("loaded_detail", down=ms(result.loaded_latency_down_ms), up=ms(result.loaded_latency_up_ms))
        rows.append((label["loaded_latency_ms"], f"{ms(result.loaded_latency_ms)}  ({detail})"))
    rows += _responsiveness_rows(result, tr)
    if result.ping is not None:
        p = result.ping
        detail = tr("loss_detail", method=p.method, received=p.received, sent=p.sent)
        rows.append((label["loss_pct"], f"{tr.number(p.loss_pct)} %  ({detail})"))
    else:
        rows.append((label["loss_pct"], tr("not_measured")))
    if result.dns_ms is not None:
        rows.append((label["dns_ms"], ms(result.dns_ms)))
    if result.radio is not None:
        rows.append((tr("radio"), radio_words(result.radio, tr)))
    if result.cross_traffic_down_mbps is not None:
        others = tr("cross_detail", down=mbps(result.cross_traffic_down_mbps), up=mbps(result.cross_traffic_up_mbps),
                    source=m.traffic_source or "")  # fmt: skip
        rows.append((tr("cross_traffic"), others))
    if result.agent_load is not None:
        load = result.agent_load
        rows.append(
            (
                tr("agent_cpu"),
                tr("cpu_detail", seconds=tr.number(load.cpu_seconds), pct=tr.number(load.cpu_pct_of_core, 0)),
            )
        )
    for flag in result.flags:
        rows.append((tr("flags"), tr(f"flag_{flag.value}")))
    if result.error is not None:
        rows.append((tr("error"), tr.error(result.error.code, result.error.message)))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


def radio_words(radio: Radio, tr: Translator) -> str:
    """The radio in one line: "4G Viettel (452-04) B3, RSRP -97 dBm, SINR 9,5 dB" or a hotspot's SSID."""
    if radio.technology is None:
        return tr("radio_missing", reason=radio.missing or "")
    parts = [tr(f"technology_{radio.technology.value}")]
    parts += [p for p in (radio.operator_name, f"({radio.operator_code})" if radio.operator_code else None,
                          radio.ssid, radio.band) if p]  # fmt: skip
    readings = [f"{name} {tr.number(value, 1)} {unit}" for name, value, unit in (
        ("RSRP", radio.rsrp_dbm, "dBm"), ("RSRQ", radio.rsrq_db, "dB"), ("SINR", radio.sinr_db, "dB"),
        ("RSSI", radio.signal_dbm, "dBm")) if value is not None]  # fmt: skip
    if radio.bitrate_mbps is not None:
        readings.append(f"{tr.number(radio.bitrate_mbps, 1)} Mbit/s")
    said = " ".join(parts) + (", " + ", ".join(readings) if readings else "")
    return said + (f" ({radio.missing})" if radio.missing else "")


def _responsiveness_rows(result: Result, tr: Translator) -> list[tuple[str, str]]:
    """Responsiveness with its level in words (the shipped thresholds' classes), and the path TCP saw."""
    from dokiem.thresholds import load_thresholds

    rows = []
    rules = load_thresholds().responsiveness
    if (rpm := result.responsiveness_rpm) is not None:
        said = f"{tr.number(rpm, 0)} RPM — {tr('rpm_' + str(rules.rpm_class(rpm)))}"
        added = (result.loaded_latency_ms or float("nan")) - (result.latency_ms or float("nan"))
        if rules.bloated(added, rpm):
            said += "; " + tr("bloated_words")
        rows.append((tr("responsiveness"), said))
    path = result.method.path_up or result.method.path_down
    if path is not None and path.min_rtt_ms is not None:
        said = tr("path_min_rtt", ms=tr.number(path.min_rtt_ms, 1))
        if path.retransmitted_pct is not None:
            said += "; " + tr(
                "path_resent", pct=tr.number(path.retransmitted_pct, 2), cc=path.congestion_control or "?"
            )
        rows.append((tr("path"), said))
    return rows


async def _measure(
    server_urls: tuple[str, ...], ookla: bool, request: MeasureRequest, progress: ProgressLine, ip_version: str
) -> list[Result]:
    server: Server
    if ookla:
        progress("ookla", None)
        try:
            server = await best_ookla_server()
        except HttpFailure as failure:
            return [failed_result(request.agent_id, failure.code, failure.message)]
        request.server = server
    else:
        request.server, *request.fallbacks = (librespeed_server(url) for url in server_urls)
    request.progress = progress
    return await measure_ip_versions(request, ip_version)


@click.command("measure")
@click.option(
    "--server",
    "server_urls",
    metavar="URL",
    multiple=True,
    help="Base URL of a LibreSpeed/i-Speed-style server, e.g. http://host:8080/ (repeatable: the fastest that "
    "answers is measured; a dead or busy one is skipped within the run).",
)
@click.option("--ookla", is_flag=True, help="Measure against the Ookla server speedtest.net would choose instead.")
@click.option(
    "--ip-version",
    type=click.Choice(["auto", "4", "6", "both"]),
    default="auto",
    show_default=True,
    help="auto: happy eyeballs picks IPv6 or IPv4; both: a Result for each family the server has.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the Result as JSON on stdout.")
@click.option(
    "--agent-id",
    callback=lambda ctx, param, value: check_agent_id(value),
    envvar="DOKIEM_AGENT_ID",
    default="local",
    show_default=True,
    help="Agent id written into the Result.",
)
@click.option("--no-download", is_flag=True, help="Skip the download test.")
@click.option("--no-upload", is_flag=True, help="Skip the upload test.")
@click.option(
    "--ping-count", type=click.IntRange(0, 100), default=10, show_default=True, help="ICMP/TCP pings (0 = none)."
)
@click.option("--dns-name", "dns_names", multiple=True, metavar="NAME", help="Time resolving NAME (repeatable).")
@click.option(
    "--resolver", "resolvers", multiple=True, metavar="IP[:PORT]", help="Also ask this DNS resolver (repeatable)."
)
@max_seconds_option
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.pass_obj
def measure_command(
    tr: Translator,
    server_urls: tuple[str, ...],
    ookla: bool,
    ip_version: str,
    as_json: bool,
    agent_id: str,
    no_download: bool,
    no_upload: bool,
    ping_count: int,
    dns_names: tuple[str, ...],
    resolvers: tuple[str, ...],
    max_seconds: float,
    quiet: bool,
) -> None:
    """Measure download, upload, latency, jitter and loss once against one server."""
    if ookla == bool(server_urls):
        raise click.UsageError(tr("bad_option", reason=tr("measure_which_server")))
    for url in server_urls:
        try:
            librespeed_server(url)
        except BadServerURL as exc:
            raise click.BadParameter(str(exc), param_hint="--server") from exc
    settings = SpeedSettings.for_max_seconds(max_seconds)
    placeholder = librespeed_server("http://placeholder.invalid/")
    request = MeasureRequest(
        server=placeholder,
        agent_id=agent_id,
        settings=settings,
        download=not no_download,
        upload=not no_upload,
        ping_count=ping_count,
        dns_names=list(dns_names),
        resolvers=list(resolvers),
    )
    progress = ProgressLine(tr, enabled=not quiet)
    try:
        results = asyncio.run(_measure(server_urls, ookla, request, progress, ip_version))
    except KeyboardInterrupt:
        progress.done()
        raise SystemExit(130) from None
    progress.done()
    for result in results:  # one per IP version with --ip-version both (JSON: one object a line)
        click.echo(result.to_json() if as_json else render_table(result, tr))
    failed = [r.error for r in results if r.error is not None]
    for error in failed:
        click.echo(tr("run_failed", reason=tr.error(error.code, error.message)), err=True)
    if failed:
        raise SystemExit(1)

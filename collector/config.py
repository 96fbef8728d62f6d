"""The collector's configuration: ``collector.toml`` and ``DOKIEM_`` variables (see dokiem.settings).

The report, enrolment and dashboard commands read the same file for the archive and the region
folders they share with the collector, so the ``--config`` option and the archive opener live here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, IPvAnyAddress, ValidationInfo, field_validator

from dokiem.cli_config import config_option, load_or_exit
from dokiem.collector.archive.db import sqlite_url
from dokiem.i18n import Translator
from dokiem.regions import Regions, UnknownProvince, province_folders
from dokiem.settings import BrokerSection, Settings
from dokiem.vouch import PageTest

if TYPE_CHECKING:
    from dokiem.collector.archive import Archive, NewerArchive


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CollectorSection(_Section):
    data_dir: Path = Path("/var/lib/dokiem")
    archive_url: str | None = Field(default=None, description="sqlite:///path (default: data_dir/archive.db)")
    shared_group: str | None = Field(default=None, description="MQTT 5 shared subscription group")
    client_id: str | None = Field(
        default=None,
        description="the MQTT client id of its kept session (default: its broker login; the deployed broker"
        " binds every client id to its login, so each collector of a shared group has a login of its own)",
    )
    batch_size: int = Field(default=2000, ge=1, le=100_000)
    linger_s: float = Field(default=0.02, ge=0, le=5, description="wait to fill a batch before committing")
    refusal_log_interval_s: float = Field(default=300, ge=1)
    regions_dir: Path | None = Field(default=None, description="more province folders, beside the shipped ones")
    province: str | None = Field(
        default=None, pattern=r"^\d{2}$",
        description="the province this server serves, by its two-digit code (dokiem regions provinces lists them);"
        " unset: every province (a national server)",
    )  # fmt: skip
    watch_certificates: list[Path] = Field(
        default_factory=list, max_length=20,
        description="certificates (PEM) whose days to expiry the collector reports each minute: the broker's, the CA",
    )  # fmt: skip

    @field_validator("province")
    @classmethod
    def _province_has_folder(cls, province: str | None, info: ValidationInfo) -> str | None:
        if province is not None:
            regions_dir = info.data.get("regions_dir")
            found = province_folders(*([regions_dir] if regions_dir else []))
            if province not in found:
                raise UnknownProvince(province, found)
        return province


class InfluxSection(_Section):
    """Where InfluxDB is: 1.x takes a user/password, 2.x/3.x a token (the DBRP mapping gives InfluxQL the bucket)."""

    url: str | None = None
    db: str = "dokiem"
    token: str | None = None
    username: str | None = None
    password: str | None = None
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    linger_s: float = Field(
        default=0.2, ge=0, le=10, description="the least time between two writes, unless a whole batch waits"
    )
    raw_days: int = Field(
        default=0, ge=0, le=36_500,
        description="InfluxDB 1.x keeps raw points this many days (0: for ever); the hourly aggregates are kept for"
        " ever either way, and the archive holds every result",
    )  # fmt: skip


class HttpSection(_Section):
    listen: str = "127.0.0.1:8081"
    header_timeout_s: float = Field(default=10, gt=0, le=300, description="a request's head must arrive in this")
    request_timeout_s: float = Field(default=60, gt=0, le=3600, description="its body read and answer, in this")
    api_token: str | None = None
    public_dir: Path | None = Field(default=None, description="a site from dokiem publish, served at /public/ openly")
    trusted_proxies: list[IPvAnyAddress] = Field(
        default_factory=list, max_length=20,
        description="proxies in front (deploy/nginx): from them, X-Real-IP names the client; nobody else's counts",
    )  # fmt: skip


class ResidentServer(_Section):
    """A test server residents may measure against, and the public key its summaries are signed with."""

    id: str = Field(pattern=r"^[\w .,&()+/:-]{1,64}$")
    url: str = Field(min_length=1, max_length=2000)
    public_key: Path = Field(description="the server's Ed25519 public key (PEM)")

    @field_validator("public_key")
    @classmethod
    def _public_key_exists(cls, value: Path) -> Path:
        return _readable(value)


class ResidentsSection(_Section):
    """Residents' own tests (issue 22): closed unless the collector has its key and at least one server."""

    key_file: Path | None = Field(default=None, description="the collector's Ed25519 private key (PEM): signs tickets")
    servers: list[ResidentServer] = Field(default_factory=list, max_length=50)
    per_address_per_hour: int = Field(default=6, ge=1, le=1000, description="tickets, and submissions, per address")
    tests_per_sender_day: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="a commune's tests counted a day from one sender (an IPv4 address, an IPv6 /64); more are refused"
        " until the next day, so one person cannot make a commune's figures in a burst (issue 38)",
    )
    max_per_second: float = Field(
        default=10,
        gt=0,
        le=1000,
        description=("requests a second on the residents' door from all addresses together: the agents' ingest first"),
    )
    max_body_bytes: int = Field(default=16 << 10, ge=1024, le=1 << 20)
    test_seconds: float = Field(
        default=8, ge=1, le=30, description="the page's download and upload, each, on a short path (a long one: more)"
    )
    mobile_test_mb: float = Field(
        default=100, ge=1, le=10_000, description="on mobile data a direction of the page's test stops at this many MB"
    )

    @property
    def page_test(self) -> PageTest:
        """How the page shapes each direction of its test (served to it in /do/config)."""
        return PageTest(self.test_seconds, mobile_bytes=int(self.mobile_test_mb * 1e6))

    @field_validator("key_file")
    @classmethod
    def _key_exists(cls, value: Path | None) -> Path | None:
        return None if value is None else _readable(value)


def _readable(path: Path) -> Path:
    if not path.is_file():
        raise ValueError(f"no file {path}: make keys with openssl genpkey -algorithm ed25519 (collector.example.toml)")
    return path


class Limits(_Section):
    """What the collector accepts: a message's size, how far its clock may be off, physical bounds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(default=64 << 10, ge=1024)
    max_survey_bytes: int = Field(default=512 << 10, ge=1024, description="a survey's batch: up to an hour of samples")
    max_future_s: float = Field(default=300, ge=0)
    max_clock_offset_s: float = Field(default=120, ge=1, description="beyond: filed at the test server's time")
    max_age_days: float = Field(
        default=31,
        gt=0,
        validation_alias=AliasChoices("max_age_days", "retention_days"),
        description="older results are refused: an agent's outbox drops them after 30 days, so no honest"
        " agent sends one, and a published quarter does not change afterwards",
    )
    # a 10 Gbit/s line with room to spare; more is a bug or a forgery
    max_mbps: float = Field(default=20_000, gt=0)
    max_ms: float = Field(default=60_000, gt=0)
    unscheduled_runs_per_hour: int = Field(
        default=12,
        ge=1,
        description="results an hour from an agent that has not told a schedule (or runs none):"
        " one every five minutes, the fleet's fastest; an agent's heartbeat gives its own",
    )
    quarantine_max_mb: float = Field(default=200, gt=0, description="kept payloads beyond it: the oldest dropped")
    quarantine_max_days: float = Field(default=90, gt=0, description="kept messages older than this are dropped")


class CollectorConfig(_Section):
    collector: CollectorSection = Field(default_factory=CollectorSection)
    broker: BrokerSection = Field(default_factory=BrokerSection)
    influx: InfluxSection = Field(default_factory=InfluxSection)
    http: HttpSection = Field(default_factory=HttpSection)
    limits: Limits = Field(default_factory=Limits)
    residents: ResidentsSection = Field(default_factory=ResidentsSection)

    @property
    def mqtt_client_id(self) -> str:
        return self.collector.client_id or self.broker.username or "dokiem-collector"

    @property
    def archive_url(self) -> str:
        # a relative data_dir is taken from the folder the program started in
        return self.collector.archive_url or sqlite_url((self.collector.data_dir / "archive.db").resolve())

    @property
    def archive_chosen(self) -> bool:
        """Whether the file or the environment said where the archive is (not the default)."""
        return bool({"archive_url", "data_dir"} & self.collector.model_fields_set)


ENV_ALIASES = {
    "DOKIEM_BROKER_URL": ("broker", "url"),
    "DOKIEM_MQTT_USERNAME": ("broker", "username"),
    "DOKIEM_MQTT_PASSWORD": ("broker", "password"),
    "DOKIEM_MQTT_CA_FILE": ("broker", "ca_file"),
    "DOKIEM_DATA_DIR": ("collector", "data_dir"),
    "DOKIEM_ARCHIVE_URL": ("collector", "archive_url"),
    "DOKIEM_INFLUX_URL": ("influx", "url"),
    "DOKIEM_INFLUX_DB": ("influx", "db"),
    "DOKIEM_INFLUX_TOKEN": ("influx", "token"),
    "DOKIEM_INFLUX_USERNAME": ("influx", "username"),
    "DOKIEM_INFLUX_PASSWORD": ("influx", "password"),
    "DOKIEM_HTTP_LISTEN": ("http", "listen"),
    "DOKIEM_API_TOKEN": ("http", "api_token"),
}
_SETTINGS = Settings(CollectorConfig, ENV_ALIASES)


def configured_regions(config: CollectorConfig) -> Regions:
    """The regions every command of this server reads: ``collector.province`` alone, or every province."""
    return Regions.for_config(config.collector.regions_dir, config.collector.province)


def load(path: Path | None, environ: Mapping[str, str] | None = None) -> CollectorConfig:
    return _SETTINGS.load(path, environ)


collector_config_option = config_option("collector.toml")


def load_collector_config(path: Path | None, tr: Translator) -> CollectorConfig:
    return load_or_exit(load, path, tr)


# where ``dokiem up`` keeps its data, in the folder it runs in; one-off commands run there find its archive
TRIAL_DIR = Path("dokiem-data")
TRIAL_ARCHIVE = TRIAL_DIR / "collector" / "archive.db"


def trial_archive(config: CollectorConfig) -> Path | None:
    """The archive of a ``dokiem up`` run in this folder, when nothing else says which archive to read."""
    return None if config.archive_chosen or not TRIAL_ARCHIVE.is_file() else TRIAL_ARCHIVE.resolve()


def archive_for_command(archive_url: str | None, config: CollectorConfig, tr: Translator) -> Archive:
    """The archive a one-off command reads: ``--archive``, else the configured one, else the one ``dokiem up``
    left in this folder (said on stderr), else the default under /var/lib/dokiem."""
    trial = None if archive_url else trial_archive(config)
    if trial is not None:
        click.echo(tr("trial_archive", path=trial), err=True)
        archive_url = sqlite_url(trial)
    return open_archive_or_exit(archive_url or config.archive_url, tr)


def newer_archive_text(newer: NewerArchive, tr: Translator) -> str:
    from dokiem import __version__

    return tr("newer_archive", archive=newer.where, written_by=newer.written_by or "?", version=__version__)


def open_archive_or_exit(url: str, tr: Translator) -> Archive:
    """An existing archive for a one-off command (a report, an enrolment), or a one-line error."""
    from dokiem.collector.archive import Archive, NewerArchive

    try:
        return Archive.from_url(url, create=False)
    except NewerArchive as newer:
        raise click.ClickException(newer_archive_text(newer, tr)) from None
    except FileNotFoundError as missing:
        raise click.ClickException(tr("no_archive", path=missing.filename or url)) from None
    except ValueError:
        raise click.ClickException(tr("bad_archive_url", url=url)) from None
    except Exception as exc:  # PostgreSQL refusing us, a file that is no database
        raise click.ClickException(tr("bad_option", reason=f"--archive {url}: {exc}")) from None

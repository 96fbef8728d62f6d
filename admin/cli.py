"""``dokiem pki init`` and ``dokiem deploy init``: what the server stack needs before its first start.

``deploy init`` writes, beside ``deploy/docker-compose.yml``: ``.env`` (settings, no secrets) and
``secrets/`` (one file per secret, mounted as Docker secrets, so that neither the logs nor
``docker compose config`` ever show one), the broker's password file with the collector's user,
and the TLS material (unless the province brings its own). Both are git-ignored.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

from dokiem.admin.enroll import COLLECTOR_MQTT_USER
from dokiem.admin.mqtt_users import PasswordFile, new_password
from dokiem.admin.pki import PkiExists, PkiMissing, init_pki, renew_server
from dokiem.files import write_atomically
from dokiem.i18n import Translator

MOSQUITTO_UID = 1883  # the eclipse-mosquitto image's user
DOKIEM_UID = 10001  # the dokiem image's user and group (Dockerfile)
INFLUX_UID = 1000  # the influxdb:2 image's user, who runs its setup and init scripts
GRAFANA_UID, GRAFANA_GID = 472, 0  # the grafana image's user, in the root group
# Who reads each secret (compose bind-mounts a file secret with its host owner and mode): (uid, gid, mode).
# Read by one container: its user's alone (0600); by two: the owner's, and the other's group (0640).
SECRET_READERS: dict[str, tuple[int, int, int]] = {
    "mqtt_collector_password": (DOKIEM_UID, DOKIEM_UID, 0o600),
    "api_token": (DOKIEM_UID, DOKIEM_UID, 0o600),
    "influx_admin_password": (INFLUX_UID, INFLUX_UID, 0o600),
    "influx_admin_token": (INFLUX_UID, INFLUX_UID, 0o600),
    "influx_collector_token": (INFLUX_UID, DOKIEM_UID, 0o640),  # influxdb's init script and the collector
    "influx_read_token": (INFLUX_UID, GRAFANA_GID, 0o640),  # influxdb's init script and Grafana
    "grafana_admin_password": (GRAFANA_UID, GRAFANA_GID, 0o600),
    "alert_telegram_token": (GRAFANA_UID, GRAFANA_GID, 0o600),
    "smtp_password": (GRAFANA_UID, GRAFANA_GID, 0o600),
}
# secret file -> how its value is made
SECRET_FILES = tuple(SECRET_READERS)


def _secret_values() -> dict[str, str]:
    return {
        "mqtt_collector_password": new_password(),
        "influx_admin_password": new_password(),
        "influx_admin_token": secrets.token_urlsafe(48),
        # InfluxDB 2.x takes "Token user:password" for its v1 (InfluxQL, /write) API; init-dokiem.sh
        # creates these two v1 users: one that writes (the collector), one that only reads (Grafana)
        "influx_collector_token": f"collector:{new_password()}",
        "influx_read_token": f"grafana:{new_password()}",
        "grafana_admin_password": new_password(),
        "api_token": secrets.token_urlsafe(32),
        # the department's own, for alerts: left empty until it has a Telegram bot or an SMTP account
        "alert_telegram_token": "",
        "smtp_password": "",
    }


def _env_text(domain: str) -> str:
    return "\n".join([
        "# dokiem stack settings, made by `dokiem deploy init` (no secrets here: they are in secrets/).",
        "COMPOSE_PROJECT_NAME=dokiem",
        f"DOKIEM_DOMAIN={domain}",
        f"DOKIEM_PUBLIC_BROKER_URL=mqtts://{domain}:8883",
        f"DOKIEM_PUBLIC_TEST_SERVERS=http://{domain}:8080/",
        "INFLUX_ORG=dokiem",
        "INFLUX_BUCKET=dokiem",
        "INFLUX_RETENTION=0",
        "GRAFANA_PORT=3000",
        "COLLECTOR_API_BIND=127.0.0.1",
        "# Alerts (Grafana): set a channel, then run `dokiem grafana build` with these in its environment;",
        "# the Telegram bot token goes in secrets/alert_telegram_token, the SMTP password in secrets/smtp_password.",
        "DOKIEM_ALERT_EMAIL=",
        "DOKIEM_ALERT_TELEGRAM_CHAT_ID=",
        "DOKIEM_ALERT_WEBHOOK_URL=",
        "DOKIEM_SMTP_ENABLED=false",
        "DOKIEM_SMTP_HOST=",
        "DOKIEM_SMTP_USER=",
        "DOKIEM_SMTP_FROM=",
        "",
    ])  # fmt: skip


def _hand_over(path: Path, uid: int, gid: int, mode: int) -> None:
    """Give a file to the container user that reads it (only possible, and only needed, as root)."""
    if os.geteuid() == 0:
        os.chown(path, uid, gid)
    path.chmod(mode)


@click.group("pki")
def pki_group() -> None:
    """TLS material for a lab or a province without its own certificates."""


@pki_group.command("init")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("deploy/secrets/certs"),
              show_default=True, help="Folder for ca.crt, ca.key, server.crt, server.key.")  # fmt: skip
@click.option("--name", "names", multiple=True, required=True,
              help="A name (or IP address) the broker is reached by; repeatable.")  # fmt: skip
@click.option("--organisation", default="dokiem", show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=825, show_default=True, help="Server certificate life.")
@click.option("--force", is_flag=True, help="Replace existing files.")
@click.pass_obj
def pki_init_command(tr: Translator, out: Path, names: tuple[str, ...], organisation: str, days: int,
                     force: bool) -> None:  # fmt: skip
    """Create a CA and a server certificate signed by it."""
    try:
        init_pki(out, list(names), organisation, days, force)
    except PkiExists as exc:
        raise click.ClickException(tr("pki_exists", path=exc.folder, files=", ".join(exc.files))) from None
    click.echo(tr("pki_written", names=", ".join(names), folder=out))


@pki_group.command("renew")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("deploy/secrets/certs"),
              show_default=True, help="The folder dokiem pki init wrote.")  # fmt: skip
@click.option("--days", type=click.IntRange(1, 3650), default=825, show_default=True, help="Server certificate life.")
@click.pass_obj
def pki_renew_command(tr: Translator, folder: Path, days: int) -> None:
    """Replace the server certificate (same names, same CA, a new key): no agent is enrolled again."""
    try:
        renewed = renew_server(folder, days)
    except PkiMissing as exc:
        raise click.ClickException(tr("pki_missing", path=exc.folder, files=", ".join(exc.files))) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(tr("pki_renewed", names=", ".join(renewed.names), until=f"{renewed.until:%Y-%m-%d}",
                  ca_until=f"{renewed.ca_until:%Y-%m-%d}"))  # fmt: skip


@click.group("deploy")
def deploy_group() -> None:
    """Prepare the server stack (deploy/docker-compose.yml)."""


@deploy_group.command("init")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("deploy"),
              show_default=True, help="The folder holding docker-compose.yml.")  # fmt: skip
@click.option("--domain", required=True, help="The server's public name, e.g. dokiem.thanhhoa.gov.vn.")
@click.option("--own-certs", is_flag=True, help="Do not make TLS material: the province puts its own in secrets/certs.")
@click.option("--force", is_flag=True, help="Replace existing secrets (every agent must then be enrolled again).")
@click.pass_obj
def deploy_init_command(tr: Translator, folder: Path, domain: str, own_certs: bool, force: bool) -> None:
    """Write .env, the secret files, the broker's password file and (unless --own-certs) TLS material."""
    compose = folder / "docker-compose.yml"
    if not compose.exists():
        raise click.ClickException(tr("no_compose", path=compose))
    secret_dir = folder / "secrets"
    if (secret_dir / "api_token").exists() and not force:
        raise click.ClickException(tr("secrets_exist", path=secret_dir))
    secret_dir.mkdir(exist_ok=True)
    secret_dir.chmod(0o700)
    values = _secret_values()
    for name in SECRET_FILES:
        # Compose bind-mounts file secrets with their host owner and mode, and each image runs as its own
        # user: each file goes to the container user that reads it, readable by nobody else (as root)
        write_atomically(secret_dir / name, values[name] + "\n", mode=0o600)
        _hand_over(secret_dir / name, *SECRET_READERS[name])
    mosquitto = secret_dir / "mosquitto"
    mosquitto.mkdir(exist_ok=True)
    passwd = PasswordFile(mosquitto / "passwd")
    passwd.set(COLLECTOR_MQTT_USER, values["mqtt_collector_password"])
    # enrolments (run in the collector container) write the file; Mosquitto reads it
    _hand_over(mosquitto, DOKIEM_UID, MOSQUITTO_UID, 0o2770)
    _hand_over(passwd.path, DOKIEM_UID, MOSQUITTO_UID, 0o640)
    certs = secret_dir / "certs"
    if not own_certs:
        try:
            init_pki(certs, [domain, "mosquitto", "localhost"], force=force)
        except PkiExists as exc:
            raise click.ClickException(tr("pki_exists", path=exc.folder, files=", ".join(exc.files))) from None
        _hand_over(certs / "server.key", MOSQUITTO_UID, MOSQUITTO_UID, 0o600)
    (folder / ".env").write_text(_env_text(domain), encoding="utf-8")
    click.echo(tr("deploy_ready", env=folder / ".env", secrets=secret_dir, folder=folder))

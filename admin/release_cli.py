"""``dokiem release keygen|build|publish``: make, sign and publish the agent versions the fleet config can name."""

from __future__ import annotations

from pathlib import Path

import click

from dokiem.i18n import Translator
from dokiem.release import DEFAULT_VALID_DAYS

_PATH = click.Path(path_type=Path)


@click.group("release")
def release_group() -> None:
    """Signed agent releases: the fleet config's update.version installs them on every agent."""


@release_group.command("keygen")
@click.option("--key", "private", type=_PATH, default=Path("deploy/secrets/release.key"), show_default=True,
              help="Where the private (signing) key goes; keep it on the server only.")  # fmt: skip
@click.option("--public", type=_PATH, default=Path("deploy/release.pub"), show_default=True,
              help="Where the public key goes; install.sh installs it as /etc/dokiem/release.pub.")  # fmt: skip
@click.pass_obj
def keygen_command(tr: Translator, private: Path, public: Path) -> None:
    """Make the Ed25519 key pair releases are signed with (once per province)."""
    from dokiem.admin.release import ReleaseError, generate_key

    try:
        generate_key(private, public)
    except ReleaseError as exc:
        raise click.ClickException(tr("release_failed", reason=exc)) from None
    click.echo(tr("release_key_made", private=private, public=public))


@release_group.command("build")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="dokiem's source folder (with pyproject.toml).")  # fmt: skip
@click.option("--key", type=_PATH, default=Path("deploy/secrets/release.key"), show_default=True,
              help="The signing key from `dokiem release keygen`.")  # fmt: skip
@click.option("--out", type=_PATH, default=Path("releases"), show_default=True, help="Sets go to OUT/<version>/.")
@click.option(
    "--arch",
    "arches",
    multiple=True,
    type=click.Choice(["aarch64", "x86_64"]),
    help="A machine type to include wheels for (repeatable; default: both, for Debian bookworm's glibc).",
)
@click.option("--valid-days", type=click.FloatRange(1, 3650), default=DEFAULT_VALID_DAYS, show_default=True,
              help="Agents install the set until then (renew it to extend).")  # fmt: skip
@click.option("--rollback", is_flag=True, help="The set may replace a newer version (a deliberate rollback).")
@click.pass_obj
def build_command(
    tr: Translator, source: Path, key: Path, out: Path, arches: tuple[str, ...], valid_days: float, rollback: bool
) -> None:
    """Build the dokiem wheel, gather every dependency's wheel, list them in a signed manifest."""
    from dokiem.admin.release import DEFAULT_ARCHES, ReleaseError, build

    try:
        made = build(source, out, key, arches or DEFAULT_ARCHES, valid_days=valid_days, rollback=rollback,
                     progress=lambda step: click.echo(f"… {step}", err=True))  # fmt: skip
    except ReleaseError as exc:
        raise click.ClickException(tr("release_failed", reason=exc)) from None
    click.echo(tr("release_built", path=made, files=len(list(made.glob("*.whl")))))


@release_group.command("publish")
@click.argument("release", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--to", "public_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The collector's http.public_dir; agents fetch <url>/public/releases/<version>/.")  # fmt: skip
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Check the signature against this key first (the one agents have).")  # fmt: skip
@click.pass_obj
def publish_command(tr: Translator, release: Path, public_dir: Path, public_key: Path | None) -> None:
    """Check a built set (files, and signature with --public-key) and copy it where agents fetch it."""
    from dokiem.admin.release import ReleaseError, publish

    try:
        target = publish(release, public_dir, public_key)
    except ReleaseError as exc:
        raise click.ClickException(tr("release_failed", reason=exc)) from None
    click.echo(tr("release_published", version=target.name, path=target))


@release_group.command("renew")
@click.argument("release", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--key", type=_PATH, default=Path("deploy/secrets/release.key"), show_default=True,
              help="The signing key from `dokiem release keygen`.")  # fmt: skip
@click.option("--valid-days", type=click.FloatRange(1, 3650), default=DEFAULT_VALID_DAYS, show_default=True,
              help="Agents install the set until then.")  # fmt: skip
@click.option("--rollback", is_flag=True, help="The set may replace a newer version (a deliberate rollback).")
@click.pass_obj
def renew_command(tr: Translator, release: Path, key: Path, valid_days: float, rollback: bool) -> None:
    """Sign a built or published set's release.json again: a new expiry, or a rollback to this version."""
    from dokiem.admin.release import ReleaseError, renew

    try:
        signed = renew(release, key, valid_days, rollback)
    except ReleaseError as exc:
        raise click.ClickException(tr("release_failed", reason=exc)) from None
    click.echo(tr("release_renewed", version=signed.version, expires=f"{signed.expires_at:%d/%m/%Y}"))

"""The server's side of agent updates: a release key, a signed wheel set, published where agents fetch it.

``build`` makes ``<out>/<version>/``: the dokiem wheel and every wheel the agent depends on, for each
platform the fleet runs (arm64 and armhf Pis, amd64 boxes), so that an agent installs with
``pip --no-index`` and never reaches an index; ``release.json`` lists each file with its SHA-256, says
until when the set may be installed and whether it is a rollback, and ``release.json.sig`` is its
Ed25519 signature (``manifest.json`` and its ``.sig`` list the same files for agents from before).
``publish`` copies a verified set under the collector's public folder
(``<public_dir>/releases/<version>/``), where agents fetch it without a token: the signature, not the
transport, is what an agent trusts. ``renew`` signs ``release.json`` again with a new expiry.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dokiem.files import write_atomically
from dokiem.release import (
    AGENT_EXTRAS,
    DEFAULT_VALID_DAYS,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    SIGNED_RELEASE_NAME,
    SIGNED_RELEASE_SIGNATURE,
    ReleaseFile,
    ReleaseManifest,
    SignedRelease,
    parse_manifest,
    parse_signed_release,
    verify_signature,
)

# Each signed document of a set: (its name, its signature's name, how it is read).
DOCUMENTS = ((MANIFEST_NAME, SIGNATURE_NAME, parse_manifest),
             (SIGNED_RELEASE_NAME, SIGNED_RELEASE_SIGNATURE, parse_signed_release))  # fmt: skip

# The machines a release serves: 64-bit Raspberry Pi OS bookworm and Debian amd64 boxes (glibc 2.36).
# armhf is left out: psutil has no armv7 wheel, so a 32-bit Pi could not install with --no-index.
DEFAULT_ARCHES = ("aarch64", "x86_64")
GLIBC_MINOR = 36
PIP_TIMEOUT_S = 1800


class ReleaseError(Exception):
    """The release cannot be made or published; the message says why and what to do."""


def generate_key(private: Path, public: Path) -> None:
    """A new Ed25519 key pair: the private half (0600) stays on the server, the public half goes to agents."""
    if private.exists():
        raise ReleaseError(f"{private} exists; a new key would strand every agent installed with the old one")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_atomically(private, pem, mode=0o600)
    write_atomically(public, public_pem(key.public_key()), mode=0o644)


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ReleaseError(f"cannot read the release key {path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        problem = "is not an unencrypted PEM private key: make one with `dokiem release keygen`"
        raise ReleaseError(f"{path} {problem}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError(f"{path} is not an Ed25519 key")
    return key


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
    if done.returncode != 0:
        tail = " / ".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-4:])
        raise ReleaseError(f"pip {args[0]} failed: {tail[:600]}")


def platform_tags(arch: str, glibc_minor: int = GLIBC_MINOR) -> list[str]:
    """Every manylinux tag a glibc 2.<minor> machine of ``arch`` installs: pip's ``--platform`` takes each one
    literally (``manylinux_2_36`` does not match a ``manylinux_2_28`` wheel), so the whole ladder is given."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor, 4, -1)]
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    return tags + [f"{name}_{arch}" for name, minor in legacy.items() if minor <= glibc_minor]


def build(
    source: Path,
    out: Path,
    key_path: Path,
    arches: tuple[str, ...] = DEFAULT_ARCHES,
    python_version: str = "3.11",
    progress: Callable[[str], None] = lambda _: None,
    valid_days: float = DEFAULT_VALID_DAYS,
    rollback: bool = False,
) -> Path:
    """Make and sign the wheel set for the dokiem at ``source``; returns ``<out>/<version>``. Agents install
    it for ``valid_days``; with ``rollback`` it may replace a newer version."""
    key = load_private_key(key_path)  # before minutes of pip: a wrong key fails at once
    if not (source / "pyproject.toml").is_file():
        raise ReleaseError(f"{source} has no pyproject.toml: give dokiem's source folder")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".build-") as tmp:
        work = Path(tmp)
        progress("dokiem wheel")
        _pip("wheel", "--no-deps", "--wheel-dir", str(work), str(source))
        wheel = next(work.glob("dokiem-*.whl"), None)
        if wheel is None:
            raise ReleaseError(f"pip built no dokiem wheel from {source}")
        version = wheel.name.split("-")[1]
        for arch in arches:
            progress(f"dependencies for {arch}")
            tags = [arg for tag in platform_tags(arch) for arg in ("--platform", tag)]
            # with the agent's extras' wheels: an agent installed with them keeps them through updates
            _pip("download", "--only-binary=:all:", *tags, "--python-version", python_version,
                 "--implementation", "cp", "--dest", str(work), f"{wheel}[{','.join(AGENT_EXTRAS)}]")  # fmt: skip
        manifest = ReleaseManifest(
            version=version,
            created_at=datetime.now(UTC).replace(microsecond=0),
            platforms=[f"manylinux_2_{GLIBC_MINOR}_{arch}" for arch in arches],
            files=[_described(path) for path in sorted(work.glob("*.whl"))],
        )
        _sign(work / MANIFEST_NAME, manifest.to_json(), key)
        _sign_release(work, manifest, key, valid_days, rollback)
        target = out / version
        if target.exists():
            raise ReleaseError(f"{target} exists: a published version is never rebuilt; raise the version number")
        os.chmod(work, 0o755)
        work.rename(target)
        work.mkdir()  # for TemporaryDirectory's clean-up
    return target


def _sign(path: Path, body: bytes, key: Ed25519PrivateKey) -> None:
    path.write_bytes(body)
    path.with_name(path.name + ".sig").write_bytes(key.sign(body))


def _sign_release(folder: Path, manifest: ReleaseManifest, key: Ed25519PrivateKey, valid_days: float,
                  rollback: bool) -> SignedRelease:  # fmt: skip
    """``release.json`` for the files ``manifest`` lists, valid ``valid_days`` from now, and its signature."""
    now = datetime.now(UTC).replace(microsecond=0)
    release = SignedRelease(version=manifest.version, created_at=now, expires_at=now + timedelta(days=valid_days),
                            platforms=manifest.platforms, files=manifest.files, rollback=rollback)  # fmt: skip
    _sign(folder / SIGNED_RELEASE_NAME, release.to_json(), key)
    return release


def renew(release: Path, key_path: Path, valid_days: float, rollback: bool) -> SignedRelease:
    """Sign ``release.json`` of a published set again: a new expiry, and whether it is a rollback (the
    files, already checked against the manifest, stay as they are)."""
    key = load_private_key(key_path)
    manifest = check_set(release, key.public_key())
    return _sign_release(release, manifest, key, valid_days, rollback)


def _described(path: Path) -> ReleaseFile:
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return ReleaseFile(name=path.name, sha256=digest, size=path.stat().st_size)


def check_set(release: Path, public_key: Path | Ed25519PublicKey | None) -> ReleaseManifest:
    """The set's manifest after checking its documents list the same files, the files themselves (and the
    signatures, given the public key)."""
    documents = []
    for name, signature_name, parse in DOCUMENTS:
        try:
            body, signature = (release / name).read_bytes(), (release / signature_name).read_bytes()
        except OSError as exc:
            raise ReleaseError(f"{release} is not a release set ({exc.filename}: {exc.strerror})") from None
        try:
            documents.append(parse(body))
            if public_key is not None:
                verify_signature(body, signature, public_key)
        except ValueError as exc:
            raise ReleaseError(f"{release}: {exc}; agents would refuse it") from None
    manifest, signed = documents
    if (signed.version, signed.files) != (manifest.version, manifest.files):
        raise ReleaseError(f"{release}: release.json and manifest.json list different files")
    for item in manifest.files:
        path = release / item.name
        if not path.is_file() or _described(path) != item:
            raise ReleaseError(f"{path} is missing or does not match the manifest")
    return manifest


def publish(release: Path, public_dir: Path, public_key: Path | None) -> Path:
    """Copy a checked set to ``<public_dir>/releases/<version>/`` (whole or not at all)."""
    manifest = check_set(release, public_key)
    releases = public_dir / "releases"
    target = releases / manifest.version
    if target.exists():
        raise ReleaseError(f"{target} exists: agents may have fetched it; publish a new version instead")
    releases.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=releases, prefix=f".{manifest.version}-"))
    try:
        documents = [name for pair in DOCUMENTS for name in pair[:2]]
        for name in (*documents, *(f.name for f in manifest.files)):
            shutil.copyfile(release / name, staging / name)
        os.chmod(staging, 0o755)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target

"""A release: the wheel set one agent version needs, listed and hashed in a manifest the province signs.

The server side (``dokiem release build|publish``, ``dokiem.admin.release``) makes the set; the agent's
updater (``dokiem.agent.update``) fetches ``<url>/<version>/release.json`` and its ``.sig``, verifies the
Ed25519 signature against the key installed with the agent, then every file against its SHA-256.

Two signed documents list the same files. ``release.json`` (``dokiem.release/2``) is what agents read
since issue 26: it expires (an old signed set cannot be replayed for ever) and says whether it may
replace a newer version (a deliberate rollback; otherwise versions only go up), as TUF asks.
``manifest.json`` (``dokiem.release/1``) is kept for agents installed before, whose updater reads only
it and refuses unknown keys: without it they could never update to a version that reads the new one.
Both sides read each document with its one model here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from dokiem.contract import Version, WireModel, parse_document

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

RELEASE_SCHEMA = "dokiem.release/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.json.sig"
# the agent's optional extras (pyproject.toml) and a module each brings: a release carries their wheels, and
# an agent installed with one keeps it through updates
AGENT_EXTRAS = {"upnp": "async_upnp_client", "wifi": "pyroute2"}
SIGNED_RELEASE_NAME = "release.json"
SIGNED_RELEASE_SIGNATURE = "release.json.sig"
DEFAULT_VALID_DAYS = 180
MAX_MANIFEST_BYTES = 256 << 10
MAX_RELEASE_FILES = 200
MAX_FILE_BYTES = 64 << 20  # the largest wheel an agent needs (cryptography, pydantic-core) is under 10 MB
MAX_RELEASE_BYTES = 256 << 20
# A file name as pip finds it in a --find-links folder: no folders, no dot files, nothing but a wheel.
_WHEEL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+!-]{0,200}\.whl$")

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ReleaseFile(WireModel):
    name: str = Field(max_length=220)
    sha256: Sha256
    size: int = Field(ge=1, le=MAX_FILE_BYTES)

    @field_validator("name")
    @classmethod
    def _a_wheel(cls, value: str) -> str:
        if not _WHEEL_NAME.match(value) or ".." in value:
            raise ValueError(f"{value[:80]!r} is not a wheel file name")
        return value


class ReleaseManifest(WireModel):
    schema_: Literal["dokiem.release/1"] = Field(default="dokiem.release/1", alias="schema")
    version: Version
    created_at: AwareDatetime
    platforms: list[str] = Field(default_factory=list, max_length=20, description="pip platform tags covered")
    files: list[ReleaseFile] = Field(min_length=1, max_length=MAX_RELEASE_FILES)

    @model_validator(mode="after")
    def _sound(self) -> ReleaseManifest:
        names = [f.name for f in self.files]
        if len(set(names)) != len(names):
            raise ValueError("a file is listed twice")
        if sum(f.size for f in self.files) > MAX_RELEASE_BYTES:
            raise ValueError(f"the files add up to more than {MAX_RELEASE_BYTES >> 20} MiB")
        if not any(name.startswith(f"dokiem-{self.version}-") for name in names):
            raise ValueError(f"no dokiem-{self.version} wheel in the set")
        return self

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, indent=1).encode()


class SignedRelease(ReleaseManifest):
    """``release.json``: the manifest with an expiry and the rollback word (``dokiem.release/2``)."""

    schema_: Literal["dokiem.release/2"] = Field(default="dokiem.release/2", alias="schema")  # type: ignore[assignment]
    expires_at: AwareDatetime
    rollback: bool = Field(default=False, description="may replace a newer version (a deliberate rollback)")

    @model_validator(mode="after")
    def _expires_after_it_was_made(self) -> SignedRelease:
        if self.expires_at <= self.created_at:
            raise ValueError("expires_at is not after created_at")
        return self


def parse_signed_release(payload: bytes) -> SignedRelease:
    """``release.json`` in ``payload``; ValueError saying what is wrong."""
    try:
        return parse_document(SignedRelease, payload, MAX_MANIFEST_BYTES, "release")
    except ValueError as exc:
        raise ValueError(f"release.json: {exc}") from None


def parse_manifest(payload: bytes) -> ReleaseManifest:
    """The manifest in ``payload``; ValueError saying what is wrong."""
    try:
        return parse_document(ReleaseManifest, payload, MAX_MANIFEST_BYTES, "manifest")
    except ValueError as exc:
        raise ValueError(f"the manifest: {exc}") from None


def verify_signature(document: bytes, signature: bytes, public_key: Path | Ed25519PublicKey) -> None:
    """ValueError unless ``signature`` is the Ed25519 signature of ``document`` by the key in ``public_key``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if isinstance(public_key, Ed25519PublicKey):
        _check(public_key, document, signature, "the given key")
        return
    try:
        key = load_pem_public_key(public_key.read_bytes())
    except OSError as exc:
        raise ValueError(
            f"no release key at {public_key} ({exc.strerror}): install the province's release.pub"
        ) from None
    except ValueError:
        raise ValueError(f"{public_key} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{public_key} is not an Ed25519 key")
    _check(key, document, signature, str(public_key))


def _check(key: Ed25519PublicKey, document: bytes, signature: bytes, where: str) -> None:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, document)
    except InvalidSignature:
        raise ValueError(f"the release is not signed by the key in {where}") from None


def release_url(base_url: str, version: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/{version}/{name}"

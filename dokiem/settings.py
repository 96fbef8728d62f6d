"""Configuration files for every dokiem program: TOML, overridden by ``DOKIEM_`` variables.

Every key of every section can be set as ``DOKIEM_<SECTION>_<KEY>``; each program adds the
names ARCHITECTURE.md fixes as aliases. A problem is reported with the file, the line and the
key (or the variable) so a technician can fix it, before anything starts.
"""

from __future__ import annotations

import os
import random
import re
import ssl
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dokiem.contract import first_error

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A configuration problem a technician can fix: where it is and what is wrong."""

    def __init__(self, where: str, problem: str, kind: str | None = None, ctx: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
        self.kind = kind  # pydantic's error type, when pydantic found it: the reader's language words it
        self.ctx = ctx


class BrokerSection(BaseModel):
    """Where the MQTT broker is and how to log in (agent and collector alike)."""

    model_config = ConfigDict(extra="forbid")

    url: str = "mqtt://localhost:1883"
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    keepalive_s: int = Field(default=60, ge=5, le=3600)
    heartbeat_s: int = Field(default=300, ge=10, le=86_400)

    @field_validator("url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("use mqtt://host:1883 or mqtts://host:8883")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "localhost"

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)


def backoff_delay(attempt: int, cap_s: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter (half to all of the ceiling): a fleet that lost its broker
    does not come back in step."""
    ceiling = min(cap_s, 2.0**attempt)
    return (rng or random).uniform(ceiling / 2, ceiling)


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6) into its parts; raises ValueError with the reason."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{listen!r} is not HOST:PORT (e.g. 0.0.0.0:8080)")
    return host.strip("[]") or "0.0.0.0", int(port)


def broker_tls_context(broker: BrokerSection) -> ssl.SSLContext | None:
    if not broker.tls:
        return None
    return ssl.create_default_context(cafile=str(broker.ca_file) if broker.ca_file else None)


class Settings(Generic[M]):
    """How one program's configuration is read: its model (each field a section), and environment aliases."""

    def __init__(
        self, model: type[M], aliases: Mapping[str, tuple[str, str]], required_sections: tuple[str, ...] = ()
    ) -> None:
        self.model = model
        # the model's sections, read from it: a section added to the model is a DOKIEM_<SECTION>_<KEY> at once
        self.sections: dict[str, type[BaseModel]] = {
            name: field.annotation for name, field in model.model_fields.items()
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
        }  # fmt: skip
        self.aliases = aliases
        self.required_sections = required_sections

    def env_names(self) -> dict[str, tuple[str, str]]:
        names = {
            f"DOKIEM_{section.upper()}_{key.upper()}": (section, key)
            for section, model in self.sections.items()
            for key in model.model_fields
        }
        names.update(self.aliases)
        return names

    def _env_value(self, section: str, key: str, raw: str) -> Any:
        annotation = self.sections[section].model_fields[key].annotation
        if typing.get_origin(annotation) is list:
            return [item.strip() for item in raw.split(",") if item.strip()]
        return raw

    def _apply_env(self, data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
        """Overlay environment variables; returns {dotted key: variable} for error messages."""
        origin: dict[str, str] = {}
        for name, (section, key) in self.env_names().items():
            if name in environ:
                data.setdefault(section, {})[key] = self._env_value(section, key, environ[name])
                origin[f"{section}.{key}"] = name
            elif f"{name}_FILE" in environ:  # a secret mounted as a file (Docker secrets, systemd credentials)
                data.setdefault(section, {})[key] = self._env_value(section, key, _read_secret(f"{name}_FILE", environ))
                origin[f"{section}.{key}"] = f"{name}_FILE"
        return origin

    def load(self, path: Path | None, environ: Mapping[str, str] | None = None) -> M:
        """Read ``path`` (optional) and the environment into a validated model."""
        environ = os.environ if environ is None else environ
        text = ""
        data: dict[str, Any] = {}
        if path is not None:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(str(path), f"cannot read the file: {exc.strerror}") from exc
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
        origin = self._apply_env(data, environ)
        for section in self.required_sections:
            data.setdefault(section, {})
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            raise redacted(explain(exc, path, text, origin), _secret_values(data)) from None


def _read_secret(variable: str, environ: Mapping[str, str]) -> str:
    path = environ[variable]
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"environment variable {variable}", f"cannot read {path}: {exc.strerror}") from exc


SECRET_WORDS = ("password", "token", "secret", "key")


def _showable(loc: list[str], value: object) -> bool:
    """Whether an offending value may be echoed: a short scalar under a key that holds no secret (a
    section, a list or a whole file may hold the broker password)."""
    if any(word in part.lower() for part in loc for word in SECRET_WORDS):
        return False
    return isinstance(value, str | int | float | bool) and len(str(value)) <= 200


def _secret_values(data: Mapping[str, Any]) -> set[str]:
    """Every string under a key that names a secret, at any depth (to keep them out of messages)."""
    found: set[str] = set()
    for key, value in data.items():
        if isinstance(value, Mapping):
            found |= _secret_values(value)
        elif any(word in str(key).lower() for word in SECRET_WORDS):
            found |= {str(v) for v in (value if isinstance(value, list) else [value]) if str(v)}
    return found


def redacted(error: ConfigError, secrets: set[str]) -> ConfigError:
    """The error with any secret's value blanked out (one typed into the wrong key is still a secret)."""
    where, problem = error.where, error.problem
    for secret in sorted(secrets, key=len, reverse=True):
        where, problem = where.replace(secret, "***"), problem.replace(secret, "***")
    return ConfigError(where, problem, error.kind, error.ctx)


def key_line(text: str, section: str, key: str) -> int | None:
    """The 1-based line of ``key`` inside ``[section]`` of a TOML text (None if absent)."""
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped.strip("[]").strip()
        elif current == section and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return None


def explain(exc: ValidationError, path: Path | None, text: str, origin: dict[str, str]) -> ConfigError:
    """The first validation error, located in the file (or the environment)."""
    error = first_error(exc)
    loc = [str(part) for part in error.loc]
    dotted = ".".join(loc[:2]) if loc else "(top level)"
    problem = error.message
    if error.kind == "missing":
        problem = "is required"
    elif error.kind == "extra_forbidden":
        problem = "is not a known key (check its spelling and section)"
    elif _showable(loc, error.input):
        problem += f" (got {error.input!r})"
    shown = dotted + _inner(loc[2:])
    if dotted in origin:
        return ConfigError(f"environment variable {origin[dotted]} (key {shown})", problem, error.kind, error.ctx)
    where = f"key {shown}"
    if path is not None:
        line = key_line(text, loc[0], loc[1]) if len(loc) >= 2 else None
        where = f"{path}, line {line}, key {shown}" if line else f"{path}, key {shown}"
    return ConfigError(where, problem, error.kind, error.ctx)


def _inner(parts: list[str]) -> str:
    """Where inside a key's value the error is (``[1].priority``), without pydantic's union tags."""
    shown = ""
    for part in parts:
        if part.isdigit():
            shown += f"[{part}]"
        elif part not in ("url", "entry") or not shown.endswith("]"):
            shown += f".{part}"
    return shown

"""Test servers as LibreSpeed's server lists name them: a base URL plus endpoint paths."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from dokiem.contract import ServerKind, ServerLocation, ServerRef
from dokiem.fleet import ServerEntry, check_server_url


class BadServerURL(ValueError):
    """The server URL cannot be used; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    """One absolute http(s) URL split the way a socket needs it."""

    scheme: str
    host: str
    port: int
    target: str  # path?query, as sent on the request line

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        try:
            parts = urlsplit(check_server_url(url))
        except ValueError as exc:
            raise BadServerURL(str(exc)) from None
        assert parts.hostname is not None  # checked above
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        return cls(parts.scheme, parts.hostname, port, target)

    def with_query(self, query: str) -> Endpoint:
        sep = "&" if "?" in self.target else "?"
        return Endpoint(self.scheme, self.host, self.port, f"{self.target}{sep}{query}")


@dataclass(frozen=True)
class Server:
    """A test server: where to download from, upload to, and ping."""

    base_url: str
    kind: ServerKind
    download: Endpoint
    upload: Endpoint
    ping: Endpoint
    name: str | None = None
    location: ServerLocation = ServerLocation.DOMESTIC
    priority: int = 1

    @property
    def id(self) -> str:
        return hashlib.sha1(self.base_url.encode()).hexdigest()[:12]

    @property
    def host(self) -> str:
        return self.download.host

    @property
    def port(self) -> int:
        return self.download.port

    def ref(self) -> ServerRef:
        return ServerRef(id=self.id, url=self.base_url, kind=self.kind, name=self.name, location=self.location)


def librespeed_server(
    base_url: str,
    *,
    dl_path: str = "backend/garbage.php",
    ul_path: str = "backend/empty.php",
    ping_path: str = "backend/empty.php",
    name: str | None = None,
) -> Server:
    """A LibreSpeed/i-Speed-style server from its base URL (``//host/`` means http)."""
    try:
        base_url = check_server_url(base_url)
    except ValueError as exc:
        raise BadServerURL(str(exc)) from None
    base = base_url if base_url.endswith("/") else base_url + "/"
    Endpoint.parse(base)
    return Server(
        base_url=base,
        kind=ServerKind.LIBRESPEED,
        download=Endpoint.parse(urljoin(base, dl_path)),
        upload=Endpoint.parse(urljoin(base, ul_path)),
        ping=Endpoint.parse(urljoin(base, ping_path)),
        name=name,
    )


def configured_server(entry: ServerEntry) -> Server:
    """The LibreSpeed-style server a ``measure.servers`` entry names."""
    server = librespeed_server(entry.url, name=entry.name)
    return replace(server, location=entry.location, priority=entry.priority)


def ookla_server(upload_url: str, *, name: str | None = None) -> Server:
    """An Ookla (Speedtest Mini / legacy HTTP) server from its ``.../upload.php`` URL."""
    folder = upload_url.rsplit("/", 1)[0] + "/"
    return Server(
        base_url=upload_url,
        kind=ServerKind.OOKLA,
        download=Endpoint.parse(urljoin(folder, "random4000x4000.jpg")),
        upload=Endpoint.parse(upload_url),
        ping=Endpoint.parse(urljoin(folder, "latency.txt")),
        name=name,
    )


def from_librespeed_list(entry: dict[str, object]) -> Server:
    """A server from an entry of a LibreSpeed server list (``server``, ``dlURL``, ``ulURL``, ``pingURL``)."""
    base = entry.get("server")
    if not isinstance(base, str) or not base:
        raise BadServerURL(f"server list entry {entry.get('name', '?')!r} has no 'server' URL")

    def path(key: str, default: str) -> str:
        value = entry.get(key, default)
        if not isinstance(value, str) or not value:
            raise BadServerURL(f"server list entry {entry.get('name', base)!r}: {key!r} must be a path")
        return value

    name = entry.get("name")
    return librespeed_server(
        base,
        dl_path=path("dlURL", "backend/garbage.php"),
        ul_path=path("ulURL", "backend/empty.php"),
        ping_path=path("pingURL", "backend/empty.php"),
        name=name if isinstance(name, str) else None,
    )

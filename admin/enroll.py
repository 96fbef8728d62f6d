"""Enrolling and revoking agents, on the server: broker credentials, the agent's config, the registry.

An agent's MQTT username is its id; the pattern ACL in ``deploy/mosquitto/acl`` then confines it
to its own topics, so enrolling needs no ACL edit. Mosquitto reads the password file again on
SIGHUP (``docker compose kill -s HUP mosquitto``), after which a new agent can connect and a
revoked one cannot.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from dokiem.admin.mqtt_users import PasswordFile, new_password
from dokiem.collector.archive import Archive
from dokiem.contract import AGENT_ID_PATTERN, Access, Site
from dokiem.files import write_atomically
from dokiem.regions import Province, Regions, UnknownRegion
from dokiem.regions.isps import shipped_isps


@dataclass(frozen=True)
class SiteCodes:
    province: str
    district: str | None
    commune: str | None

    @classmethod
    def parse(cls, text: str) -> SiteCodes:
        """``PROVINCE/COMMUNE`` (since the 2025 reform, e.g. ``38/14797``) or the older
        ``PROVINCE/DISTRICT[/COMMUNE]`` (e.g. ``38/380/14755``). GSO codes tell the levels apart:
        a district's has 3 digits, a commune's 5."""
        parts = [p.strip() for p in text.split("/")]
        if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"{text!r}: write the site as PROVINCE/COMMUNE codes, e.g. 38/14797")
        if len(parts) == 2 and len(parts[1]) == 5:
            return cls(parts[0], None, parts[1])
        return cls(parts[0], parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None)


@dataclass(frozen=True)
class Line:
    isp: str | None = None
    access: Access | None = None
    plan_down_mbps: float | None = None
    plan_up_mbps: float | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Enrolment:
    agent_id: str
    password: str
    site: Site
    config_text: str


def named_site(codes: SiteCodes, line: Line, regions: Regions) -> Site:
    """The site as the collector will file it today (the 2025 commune, a pre-reform code mapped, its
    former district) with the region files' names and, without a point of its own, the commune's
    (else the former district's)."""
    place = regions.place(codes.province, codes.district, codes.commune)
    province = regions.provinces[codes.province]
    if place.declared is not None and place.commune is None:
        raise UnknownRegion(_unmapped(province, place.declared, place.candidates))
    unit = province.communes.get(place.commune or "")
    district = province.districts.get(place.district or "")
    point = next(((p.lat, p.lon) for p in (unit, district) if p is not None and p.lat is not None), (None, None))
    isp = shipped_isps().canonical(line.isp)
    if line.isp is not None and isp is None:
        raise ValueError(f"--isp {line.isp!r} is not an operator on the reference list; one of: "
                         f"{', '.join(shipped_isps().names())} (dokiem/regions/isps.csv)")  # fmt: skip
    return Site(
        province_code=place.province, province_name=place.province_name, district_code=place.district,
        district_name=place.district_name, commune_code=place.commune, commune_name=place.commune_name,
        lat=line.lat if line.lat is not None else point[0], lon=line.lon if line.lon is not None else point[1],
        isp=isp, access=line.access, plan_down_mbps=line.plan_down_mbps, plan_up_mbps=line.plan_up_mbps,
    )  # fmt: skip


def _unmapped(province: Province, code: str, candidates: tuple[str, ...]) -> str:
    old = province.old_communes[code]
    if not candidates:
        return f"commune {code} ({old.name}) is not in the 2025 list and the conversion table names no successor"
    units = ", ".join(f"{c} ({province.communes[c].name})" for c in candidates)
    return (f"commune {code} ({old.name}) was split between {units} in 2025: enrol with the 2025 code of the"
            f" place the agent stands, e.g. --site {province.code}/{candidates[0]}")  # fmt: skip


def _toml(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def agent_config(agent_id: str, password: str, site: Site, broker_url: str, ca_path: str, servers: list[str]) -> str:
    """The agent's agent.toml (the rest of its keys keep their defaults; see agent.example.toml)."""
    site_keys = site.model_dump(mode="json", exclude_none=True)
    lines = [
        f"# dokiem agent {agent_id}, enrolled by `dokiem agent enroll`. Keep this file private (it holds",
        "# the agent's broker password). Check it with: dokiem agent check --config agent.toml",
        "", "[agent]", f"id = {_toml(agent_id)}", 'data_dir = "/var/lib/dokiem"',
        "", "[site]", *(f"{key} = {_toml(value)}" for key, value in site_keys.items()),
        "", "[broker]", f"url = {_toml(broker_url)}", f"password = {_toml(password)}", f"ca_file = {_toml(ca_path)}",
        "", "[measure]", f"servers = {_toml(servers)}", "",
    ]  # fmt: skip
    return "\n".join(lines)


# The collector logs in with this username unless its config names another: never an agent's id.
COLLECTOR_MQTT_USER = "dokiem-collector"


def check_agent_id(agent_id: str, reserved: frozenset[str]) -> None:
    """ValueError unless ``agent_id`` can be an agent's (also its MQTT username and a topic level)."""
    if not re.fullmatch(AGENT_ID_PATTERN, agent_id):
        raise ValueError(f"{agent_id[:80]!r} is not an agent id: letters, digits, '.', '_', '-', at most 64")
    if agent_id in reserved | {COLLECTOR_MQTT_USER}:
        raise ValueError(f"{agent_id!r} is reserved for the collector's own broker login")


def enroll(
    agent_id: str, codes: SiteCodes, line: Line, *, regions: Regions, passwd: PasswordFile, broker_url: str,
    ca_path: str, servers: list[str], archive: Archive | None, reserved: frozenset[str] = frozenset(),
) -> Enrolment:  # fmt: skip
    """Check the id and the site, give the agent a fresh password (replacing any old one), register its site."""
    check_agent_id(agent_id, reserved)
    site = named_site(codes, line, regions)
    if not servers:
        raise ValueError("give at least one --server: the agent has nothing to measure against otherwise")
    password = new_password()
    passwd.set(agent_id, password)
    if archive is not None:
        archive.registry.register(agent_id, site.model_dump_json(exclude_none=True))
    return Enrolment(agent_id, password, site, agent_config(agent_id, password, site, broker_url, ca_path, servers))


def write_bundle(enrolment: Enrolment, out: Path, ca_file: Path) -> list[Path]:
    """``out/agent.toml`` (readable by its owner only) and ``out/ca.crt``, to copy onto the Pi."""
    out.mkdir(parents=True, exist_ok=True)
    config = out / "agent.toml"
    write_atomically(config, enrolment.config_text, mode=0o600)
    ca = out / "ca.crt"
    shutil.copyfile(ca_file, ca)
    return [config, ca]


def revoke(agent_id: str, passwd: PasswordFile, archive: Archive | None) -> bool:
    """Remove the agent's credentials (and its registry entry; its results stay). False if unknown."""
    removed = passwd.remove(agent_id)
    if archive is not None:
        removed = archive.registry.unregister(agent_id) or removed
    return removed


__all__ = ["Enrolment", "Line", "SiteCodes", "UnknownRegion", "enroll", "revoke", "write_bundle"]

"""A generated quarter of results for a province with former districts: every district, several ISPs, fixed and
mobile, and public Wi-Fi hotspots in every fourth district (the first among them); mobile and hotspot results
carry their radio. ``commune_agents`` places a fleet in every commune of any province.
The tests, the benchmarks and ``dokiem up --demo`` (``collector/demo.py``) share it.

Deterministic for a seed. Tests compute what they expect from these Results themselves; the
benchmark uses the same generator for a million.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from dokiem.contract import MOBILE_OPERATORS, Access, ErrorInfo, Method, Radio, Result, Site, Technology
from dokiem.regions import Regions

FIXED_ISPS = ("VNPT", "Viettel", "FPT")
MOBILE_ISPS = ("Viettel", "VinaPhone", "MobiFone")
FIXED_PLANS = (100.0, 200.0, 300.0, 500.0, 1000.0)
METHOD = Method(name="dokiem-http", version="1", streams_down=4, streams_up=4)


@dataclass(frozen=True)
class SyntheticAgent:
    agent_id: str
    site: Site
    quality: float  # how much of the plan (fixed) or of 80 Mbit/s (mobile) this line gets, typically


def synthetic_agents(
    regions: Regions, province_code: str, per_district: int = 3, seed: int = 1
) -> list[SyntheticAgent]:
    rng = random.Random(seed)
    province = regions.provinces[province_code]
    communes: dict[str, list[tuple[str, str]]] = {}
    for code, commune in province.communes.items():  # 2025 communes, under their (majority) former district
        communes.setdefault(commune.districts[0], []).append((code, commune.name))
    agents = []
    for d_index, district in enumerate(sorted(province.districts.values(), key=lambda d: d.code)):
        district_quality = 0.55 + 0.4 * d_index / len(province.districts)  # districts differ, in code order
        first = rng.choice(communes.get(district.code) or [("", "")])
        for n in range(per_district):
            # the mobile agent shares the first one's commune office: a commune with both kinds of line
            others = communes.get(district.code) or [first]
            commune_code, commune_name = first if n % 3 in (0, 2) else rng.choice(others)
            access = Access.MOBILE if n % 3 == 2 else Access.FIXED
            isp = (MOBILE_ISPS if access is Access.MOBILE else FIXED_ISPS)[(d_index + n) % 3]
            site = Site(
                province_code=province.code, province_name=province.name, district_code=district.code,
                district_name=district.name, commune_code=commune_code or None, commune_name=commune_name or None,
                lat=district.lat, lon=district.lon, isp=isp, access=access,
                plan_down_mbps=rng.choice(FIXED_PLANS) if access is Access.FIXED else None,
                plan_up_mbps=None,
            )  # fmt: skip
            agents.append(SyntheticAgent(f"th-{district.code}-{n:03d}", site, district_quality))
        if d_index % 4 == 0:  # a hotspot at the commune office: Wi-Fi is the service measured
            hotspot = Site(province_code=province.code, province_name=province.name, district_code=district.code,
                           district_name=district.name, commune_code=first[0] or None, commune_name=first[1] or None,
                           lat=district.lat, lon=district.lon, isp=FIXED_ISPS[d_index % 3],
                           access=Access.PUBLIC_WIFI)  # fmt: skip
            agents.append(SyntheticAgent(f"th-{district.code}-{per_district:03d}", hotspot, district_quality))
    return agents


def commune_agents(regions: Regions, province_code: str, prefix: str, mobile_every: int = 2) -> list[SyntheticAgent]:
    """An office agent on a fixed line in every commune of the province, and a mobile one in every
    ``mobile_every``-th, at the commune's point: a fleet placed as a province places it."""
    province = regions.provinces[province_code]
    units = list(province.communes.values())
    ranks = {code: n / max(1, len(province.districts)) for n, code in enumerate(sorted(province.districts))}
    agents = []
    for n, unit in enumerate(units):
        district = province.districts.get(unit.districts[0]) if unit.districts else None
        # former districts differ (in code order, as in synthetic_agents), and communes a little within each
        quality = 0.55 + 0.35 * ranks.get(district.code if district else "", 0.5) + 0.1 * ((n * 37) % 10) / 10
        for access in (Access.FIXED, Access.MOBILE) if n % mobile_every == 0 else (Access.FIXED,):
            isps = FIXED_ISPS if access is Access.FIXED else MOBILE_ISPS
            site = Site(
                province_code=province.code, province_name=province.name,
                district_code=district.code if district else None, district_name=district.name if district else None,
                commune_code=unit.code, commune_name=unit.name, lat=unit.lat, lon=unit.lon, isp=isps[n % 3],
                access=access, plan_down_mbps=FIXED_PLANS[n % len(FIXED_PLANS)] if access is Access.FIXED else None,
            )  # fmt: skip
            agents.append(SyntheticAgent(f"{prefix}{unit.code}-{access.value}", site, quality))
    return agents


def synthetic_results(
    agents: list[SyntheticAgent], start: datetime, end: datetime, count: int, seed: int = 2, failed_share: float = 0.02
) -> Iterator[Result]:
    """``count`` results spread over [start, end), round-robin over the agents."""
    rng = random.Random(seed)
    under_load = random.Random(seed + 1000)  # its own draws: the other figures stay as they were before it
    radios = random.Random(seed + 2000)
    span = (end - start).total_seconds()
    template = Result(agent_id=agents[0].agent_id, started_at=start, finished_at=start, method=METHOD)
    for i in range(count):
        agent = agents[i % len(agents)]
        started = start + timedelta(seconds=span * (i + rng.random()) / count)
        base = dict(
            result_id=uuid.UUID(int=rng.getrandbits(128), version=4), agent_id=agent.agent_id, started_at=started,
            finished_at=started + timedelta(seconds=25), site=agent.site, method=METHOD,
        )  # fmt: skip
        if rng.random() < failed_share:
            yield template.model_copy(update=base | {"error": ErrorInfo(code="server_busy", message="503")})
            continue
        if agent.site.access is Access.FIXED:
            plan = agent.site.plan_down_mbps or 100.0
            download = plan * min(1.05, max(0.05, rng.gauss(agent.quality + 0.1, 0.15)))
            upload = download * rng.uniform(0.3, 0.9)
        else:
            download = max(1.0, rng.lognormvariate(0, 0.5) * 80 * agent.quality)
            upload = download * rng.uniform(0.1, 0.4)
        latency = round(rng.uniform(4, 40) if agent.site.access is Access.FIXED else rng.uniform(20, 80), 2)
        yield template.model_copy(
            update=base
            | {
                "download_mbps": round(download, 2),
                "upload_mbps": round(upload, 2),
                "latency_ms": latency,
                "jitter_ms": round(rng.uniform(0.2, 6), 2),
                "loss_pct": round(max(0.0, rng.gauss(0.2, 0.3)), 2),
                **_under_load(latency, agent, under_load),
                "radio": _radio(agent, radios),
            }
        )


def _under_load(latency: float, agent: SyntheticAgent, rng: random.Random) -> dict[str, float]:
    """Latency under load and responsiveness: most lines add tens of milliseconds, the poorer ones (a third
    of the agents, by quality) hold hundreds in a bloated buffer."""
    added = rng.uniform(150, 450) if agent.quality < 0.75 else rng.uniform(5, 60)
    loaded = latency + added
    rpm = 60_000 / ((latency + loaded) / 2 + added / 2)
    return {"loaded_latency_ms": round(loaded, 2), "responsiveness_rpm": round(rpm)}


OPERATOR_CODES = {names[0]: code for code, names in MOBILE_OPERATORS.items()}


def _radio(agent: SyntheticAgent, rng: random.Random) -> Radio | None:
    """A mobile agent's modem (5G in the better districts' first lines, else 4G; RSRP from the cell's centre
    to its edge) or a hotspot's Wi-Fi; none on a cable."""
    if agent.site.access is Access.MOBILE:
        technology = Technology.G5 if agent.quality >= 0.8 else Technology.G4
        return Radio(technology=technology, operator_code=OPERATOR_CODES.get(agent.site.isp or ""),
                     rsrp_dbm=round(rng.uniform(-118, -75), 1), sinr_db=round(rng.uniform(-3, 25), 1))  # fmt: skip
    if agent.site.access is Access.PUBLIC_WIFI:
        return Radio(technology=Technology.WIFI, ssid="Wi-Fi công cộng", signal_dbm=round(rng.uniform(-80, -45)),
                     channel=6, band="2.4GHz")  # fmt: skip
    return None

"""``dokiem up --demo``: a trial's archive filled with a generated quarter of the province, so the report,
the site and the dashboards show what they are for before a single agent is installed.

The shapes are the tests' (``dokiem.synthetic``): an office agent on a fixed line in every commune, a mobile
one in every other, residents' tests in some communes. Everything is marked: the agents' ids begin with
``demo-``, the archive says it holds demo data (every report and site read from it says so on its first
lines) and a deployed collector refuses to run on it. It never goes into an archive that holds results from
the field.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from dokiem.collector.archive import Archive
from dokiem.collector.archive.meta import DEMO
from dokiem.contract import RESIDENT, Access, Flag, Result
from dokiem.regions import Regions
from dokiem.synthetic import commune_agents, synthetic_results

PREFIX = "demo-"
TRIAL_AGENTS = ("local", "resident")  # what dokiem up itself sends: its own agent and a resident on its page
PER_FIXED_AGENT = 320  # above the shipped min_samples (300): each commune's fixed figure is published
PER_MOBILE_AGENT = 160  # a commune's mobile group stays thin; its former district's is published
RESIDENT_COMMUNES = 12  # communes where residents test their own lines (enough tests to be published)
PER_RESIDENT_COMMUNE = 310
BATCH = 20_000


class NotATrial(Exception):
    """The archive holds results from the field: demo data would be mixed into a real record."""

    def __init__(self, agents: list[str]) -> None:
        super().__init__(", ".join(agents[:5]))
        self.agents = agents


def field_agents(archive: Archive) -> list[str]:
    """Agents of the archive that are neither the demo's nor the trial's own."""
    return sorted(a for a in archive.results.agent_ids() if not a.startswith(PREFIX) and a not in TRIAL_AGENTS)


def fill_demo(
    archive: Archive, regions: Regions, province_code: str, quarters: list[tuple[datetime, datetime]],
    progress: Callable[[int], None] = lambda n: None,
) -> int:  # fmt: skip
    """Fill ``archive`` with the demo's results over ``quarters`` (the main one first; the others a quarter of its
    volume, for the trends); returns how many were added, 0 when it holds them already."""
    if archive.meta.demo:
        return 0
    others = field_agents(archive)
    if others:
        raise NotATrial(others)
    agents = commune_agents(regions, province_code, PREFIX)
    fixed = [a for a in agents if a.site.access is Access.FIXED]
    mobile = [a for a in agents if a.site.access is Access.MOBILE]
    added = 0
    for n, (start, end) in enumerate(quarters):
        share = 1 if n == 0 else 4
        results = itertools.chain(
            synthetic_results(fixed, start, end, len(fixed) * PER_FIXED_AGENT // share, seed=10 + n),
            synthetic_results(mobile, start, end, len(mobile) * PER_MOBILE_AGENT // share, seed=20 + n),
            _residents(fixed[:RESIDENT_COMMUNES], start, end, seed=30 + n),
        )
        for batch in _batches(results):
            archive.results.add(batch, place=lambda r: regions.place_site(r.site, r.started_at))
            _note_senders(archive, batch)
            added += len(batch)
            progress(added)
    archive.meta.set(DEMO, datetime.now(UTC).isoformat(timespec="seconds"))
    return added


def _residents(offices: list[Any], start: datetime, end: datetime, seed: int) -> Iterator[Result]:
    """Residents' own tests around some commune offices: more spread, some over Wi-Fi (counted in, as theirs are)."""
    for n, result in enumerate(synthetic_results(offices, start, end, len(offices) * PER_RESIDENT_COMMUNE, seed)):
        if result.error is None:
            spread = 0.6 + (n * 7919 % 100) / 125
            yield result.model_copy(update={
                "result_id": uuid.UUID(int=uuid.uuid5(uuid.NAMESPACE_OID, f"demo-resident-{seed}-{n}").int),
                "agent_id": "resident", "source": RESIDENT,
                "download_mbps": round((result.download_mbps or 1) * spread, 2),
                "upload_mbps": round((result.upload_mbps or 1) * spread, 2),
                "flags": [Flag.WIFI] if n % 3 == 0 else [],
            })  # fmt: skip


def _note_senders(archive: Archive, batch: list[Result]) -> None:
    """Residents' tests come from many addresses: each in one of the keyed buckets, as the door notes them."""
    archive.senders.note_many([
        (r.started_at, r.site.commune_code, r.site.access.value, n % 16)
        for n, r in enumerate(batch) if r.source == RESIDENT and r.site.commune_code and r.site.access
    ])  # fmt: skip


def _batches(results: Iterator[Result]) -> Iterator[list[Result]]:
    while batch := list(itertools.islice(results, BATCH)):
        yield batch

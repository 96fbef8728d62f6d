"""Write a small archive with the dokiem on sys.path: the fixture an upgrade test opens with the next release.

Run from a checkout of the release the fixture stands for (issue 32: "each tested on a fixture the previous
release wrote"), e.g. for the release before this one:

    git worktree add /tmp/previous <commit> && cd /tmp/previous
    PYTHONPATH=. /work/main/.venv-test/bin/python /work/main/scripts/upgrade_fixture.py \
        /work/main/tests/data/upgrade/archive-<commit>.db

It holds what a deployed archive holds: agents' results (a few days of three enrolled agents), residents'
results with their sender buckets, a refused message in the quarantine, and the fleet registry.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from dokiem.collector.archive import Archive, bucket_of, sqlite_url
from dokiem.contract import RESIDENT
from dokiem.regions import Regions
from dokiem.synthetic import synthetic_agents, synthetic_results

START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 8, tzinfo=UTC)


def main(out: Path) -> None:
    regions = Regions.load()
    agents = synthetic_agents(regions, "38", per_district=1)[:3]
    results = list(synthetic_results(agents, START, END, 120))
    residents = [r.model_copy(update={"agent_id": "resident", "source": RESIDENT, "result_id": uuid.UUID(int=n)})
                 for n, r in enumerate(results[:20], start=1)]  # fmt: skip
    out.unlink(missing_ok=True)
    archive = Archive.from_url(sqlite_url(out.resolve()))
    for agent in agents:
        archive.registry.register(agent.agent_id, agent.site.model_dump_json(), now=START.timestamp())
    archive.results.add(results + residents, place=lambda r: regions.place_site(r.site, r.started_at))
    for n, r in enumerate(residents):
        commune = str(r.site.commune_code)
        access = r.site.access.value if r.site.access else ""
        archive.senders.note(r.started_at, commune, access, bucket_of(b"fixture", f"203.0.113.{n % 5}"))
    archive.quarantine.keep("dokiem/v1/th-380-001/result", "th-380-001", "schema", "download_mbps: not a number",
                           json.dumps({"download_mbps": "fast"}).encode(), 64 << 10)  # fmt: skip
    archive.close()
    print(f"{out}: {len(results)} agents' results, {len(residents)} residents', {len(agents)} agents")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

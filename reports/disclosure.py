"""What may be shown to the public, decided once for the site, the open data and the map.

A group (a commune, a former district, an ISP network, each by access type) is published only
with at least ``min_samples`` successful sound tests (the thresholds file's ``[report]``). An agent in a
public office measures the commune's line, not a family's: one is enough (issue 22: most communes have one
or two). A group with an agent enrolled as a household (``site.premises``) also needs ``min_agents``
agents, so that no family's own line is shown alone. Otherwise it reads "not enough data", is never ranked or
shaded, and its figures appear nowhere under the site (its per-test records are held back too).
Runs flagged unsound (``reports.quarterly.INVALIDATING``) are left out of every figure and counted.
Residents' own tests are their own groups, published with ``min_samples`` tests from at least
``min_resident_addresses`` addresses, on ``min_resident_days`` days, from ``min_resident_sender_days`` (day,
address) pairs (``residents_publishable``; each address's tests of a commune are also capped per day at the
door, so one person must come back over days whatever addresses they hold: docs/security.md).
"""

from __future__ import annotations

from dokiem.collector.archive import SenderSpread
from dokiem.reports.quarterly import GroupStats, QuarterlyFigures
from dokiem.thresholds import ReportRules, Threshold


def publishable(group: GroupStats | None, rules: ReportRules) -> bool:
    """Enough successful sound tests to show a figure, and, where a household's agent is among them, enough
    agents that its line is not shown alone (privacy and honesty)."""
    if group is None or group.few_samples:
        return False
    return group.household_agents == 0 or group.agents >= rules.min_agents


def residents_publishable(group: GroupStats | None, spread: SenderSpread, rules: ReportRules) -> bool:
    """Residents' tests of a commune: enough successful tests, from enough addresses (issue 22), on enough days
    and (day, address) pairs that no burst from many addresses makes them (issue 38). A resident is no agent:
    the agents' count says nothing here; the addresses are counted, never kept."""
    return (
        group is not None
        and not group.few_samples
        and spread.buckets >= rules.min_resident_addresses
        and spread.days >= rules.min_resident_days
        and spread.sender_days >= rules.min_resident_sender_days
    )


def threshold_counts(figures: QuarterlyFigures, threshold: Threshold) -> tuple[int, int]:
    """(communes whose medians meet every bound, communes published) for the threshold's access type."""
    rules = figures.rules.report
    access = threshold.access.value if threshold.access else None
    shown = [g for g in figures.groups.get("commune", []) if g.access == access and publishable(g, rules)]
    return sum(_meets(g, threshold) for g in shown), len(shown)


def _meets(group: GroupStats, threshold: Threshold) -> bool:
    """The group's medians meet every bound the threshold sets."""
    down, up, latency = group.download.median, group.upload.median, group.latency_median
    return (
        (threshold.download_mbps is None or (down is not None and down >= threshold.download_mbps))
        and (threshold.upload_mbps is None or (up is not None and up >= threshold.upload_mbps))
        and (threshold.latency_ms is None or (latency is not None and latency <= threshold.latency_ms))
    )

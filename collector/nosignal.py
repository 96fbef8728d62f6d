"""Residents' "no signal" reports at the door (issue 31): ``POST /do/report``, open without a token.

A report names an H3 cell, never a point (the page made the cell). It is taken when it holds: a mobile
operator of the province's list, a cell of the coverage's resolution whose centre lies in one of the
province's communes, a position accurate to ``[coverage] report_max_accuracy_m``, made within
``report_max_age_days`` (it may have waited offline) and not in the future, and not taken before. Anything
else is refused with its reason, counted and kept in the quarantine, as a resident's test is. The door's
limits are the residents' test's: its per-address hourly allowance, its province-wide rate. The sender is
kept only as its keyed bucket (archive/senders.py), which is what makes "three people" countable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import h3
from aiohttp import web

from dokiem.collation import collation_key
from dokiem.collector.archive import FiledReport
from dokiem.collector.validate import Reason, Refusal, parse_strict
from dokiem.nosignal import NoSignalReport
from dokiem.thresholds import CoverageRules

if TYPE_CHECKING:
    from dokiem.collector.residents import ResidentDoor

TOPIC = "do/report"  # how the quarantine names this door
FUTURE_SLACK = timedelta(minutes=5)  # a phone's clock a little ahead is still today's report


class NoSignalDoor:
    def __init__(self, door: ResidentDoor, rules: CoverageRules) -> None:
        self.door, self.rules = door, rules
        self.collector = door.collector
        self.operators = door.collector.isps.mobile()
        self._forgot_at = float("-inf")

    def page_config(self) -> dict[str, object]:
        """What the page's report form needs: the operators, and the bounds it checks before it sends."""
        rules = self.rules
        return {"operators": sorted(self.operators, key=collation_key), "cell_resolution": rules.cell_resolution,
                "cell_km2": round(h3.average_hexagon_area(rules.cell_resolution, unit="km^2"), 2),
                "max_accuracy_m": rules.report_max_accuracy_m, "max_age_days": rules.report_max_age_days,
                "keep_days": rules.report_keep_days, "min_senders": rules.report_min_senders,
                "min_days": rules.report_min_days}  # fmt: skip

    async def report(self, request: web.Request) -> web.Response:
        sender = self.door.sender(request)
        refused = self.door.admit(sender, self.door.reported, "too many reports from here this hour: try again later")
        if refused is not None:
            return refused
        limit = self.door.config.max_body_bytes
        raw = await request.content.read(limit + 1)
        try:
            if len(raw) > limit:
                raise Refusal(Reason.TOO_LARGE, f"over {limit} bytes")
            filed = self.filed(raw, sender)
            if not self.collector.archive.nosignal.add(filed):
                raise Refusal(Reason.DUPLICATE, f"report {filed.report.report_id} was taken already")
        except Refusal as refusal:
            self.collector.keep(TOPIC, None, refusal, raw)
            status = 409 if refusal.reason is Reason.DUPLICATE else 422
            return web.json_response({"error": refusal.reason.value, "detail": refusal.detail}, status=status,
                                     headers={"Cache-Control": "no-store"})  # fmt: skip
        self.collector.stats["resident_reports"] += 1
        self._forget_old()
        return web.json_response({"report_id": str(filed.report.report_id), "commune_code": filed.commune_code},
                                 headers={"Cache-Control": "no-store"})  # fmt: skip

    def _forget_old(self) -> None:
        """Reports past ``report_keep_days`` deleted, at most once an hour (the page promises it)."""
        now = self.collector.clock()
        if now - self._forgot_at < 3600:
            return
        self._forgot_at = now
        kept_since = datetime.fromtimestamp(now, UTC) - timedelta(days=self.rules.report_keep_days)
        self.collector.stats["resident_reports_deleted"] += self.collector.archive.nosignal.forget_made_before(
            kept_since
        )

    def filed(self, raw: bytes, sender: str) -> FiledReport:
        """The report filed in its commune, or the Refusal saying why not."""
        report = parse_strict(NoSignalReport, raw)
        operator = self.collector.isps.canonical(report.operator)
        if operator not in self.operators:
            raise Refusal(Reason.UNKNOWN_ISP, f"{report.operator!r} is not a mobile operator on the province's list"
                          f" ({', '.join(self.operators)})")  # fmt: skip
        self._check_time(report)
        if report.accuracy_m > self.rules.report_max_accuracy_m:
            raise Refusal(Reason.INACCURATE, f"the position was accurate to {report.accuracy_m:.0f} m; reports"
                          f" need {self.rules.report_max_accuracy_m:.0f} m or better")  # fmt: skip
        if not h3.is_valid_cell(report.cell) or h3.get_resolution(report.cell) != self.rules.cell_resolution:
            raise Refusal(Reason.NOT_A_CELL, f"cell must be an H3 cell of resolution {self.rules.cell_resolution}")
        lat, lon = h3.cell_to_latlng(report.cell)
        found = self.door.locator.commune_at(lat, lon)
        if found is None:
            raise Refusal(Reason.OUTSIDE, f"cell {report.cell} lies in none of the province's communes")
        received = datetime.fromtimestamp(self.collector.clock(), UTC)
        bucket = self.door.bucket(sender)
        return FiledReport(report.model_copy(update={"operator": operator}), found.commune_code, bucket, received)

    def _check_time(self, report: NoSignalReport) -> None:
        now = datetime.fromtimestamp(self.collector.clock(), UTC)
        if report.made_at > now + FUTURE_SLACK:
            raise Refusal(Reason.IN_FUTURE, f"made_at {report.made_at.isoformat()} is after the collector's clock")
        oldest = now - timedelta(days=self.rules.report_max_age_days)
        if report.made_at < oldest:
            raise Refusal(Reason.TOO_OLD, f"made_at {report.made_at.isoformat()} is older than"
                          f" {self.rules.report_max_age_days:g} days")  # fmt: skip

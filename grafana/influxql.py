"""An InfluxQL target for the foundation SDK, which has builders for many data sources but not InfluxDB.

Every query is raw InfluxQL text (``rawQuery``), so a test can run it the way Grafana does: with
``$timeFilter``, ``$__interval`` and the dashboard variables substituted.
"""

from __future__ import annotations

from typing import Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_UID = "dokiem-influxdb"
DATASOURCE = DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID)
ResultFormat = Literal["time_series", "table"]


class InfluxQLQuery(cogvariants.Dataquery):
    def __init__(self, query: str, ref_id: str, result_format: ResultFormat, alias: str | None) -> None:
        self.query = query
        self.ref_id = ref_id
        self.result_format = result_format
        self.alias = alias

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "datasource": DATASOURCE.to_json(),
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias:
            payload["alias"] = self.alias
        return payload


class InfluxQL(cogbuilder.Builder[cogvariants.Dataquery]):
    """``InfluxQL("SELECT …").ref("A").table()`` in a panel's ``with_target``."""

    def __init__(self, query: str) -> None:
        self._query = " ".join(query.split())
        self._ref = "A"
        self._format: ResultFormat = "time_series"
        self._alias: str | None = None

    def ref(self, ref_id: str) -> Self:
        self._ref = ref_id
        return self

    def table(self) -> Self:
        self._format = "table"
        return self

    def alias(self, alias: str) -> Self:
        self._alias = alias
        return self

    def build(self) -> InfluxQLQuery:
        return InfluxQLQuery(self._query, self._ref, self._format, self._alias)

"""Dashboards as code: the province overview, the district view and fleet health, built with
Grafana's foundation SDK (InfluxQL targets through a small builder of ours, ``influxql``, because
the SDK ships none), written as the JSON Grafana provisions from ``grafana/provisioning/``.
"""

from dokiem.grafana import messages as _messages  # noqa: F401 (the room's texts join the catalogue)

"""What Grafana provisions from ``grafana/provisioning/``: the InfluxDB datasource, the dashboard
provider, the dashboards' JSON, the alert rules and contact points; beside them the gazetteer that
puts each former district on the map and the communes' boundaries (``maps/``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dokiem.grafana.alerts import as_yaml, contact_points_file, rules_file
from dokiem.grafana.dashboards import build_all
from dokiem.grafana.influxql import DATASOURCE_UID
from dokiem.i18n import Translator
from dokiem.regions import Regions
from dokiem.thresholds import Thresholds

HERE = Path(__file__).resolve().parent

# Grafana expands ${VAR} (its environment, set by the compose file) and $__file{PATH} (a mounted
# Docker secret) in provisioning files, so the read token never appears in the stack's config.
DATASOURCE_YAML = f"""# Provisioned by dokiem (`dokiem grafana build`).
# InfluxQL over InfluxDB 2.x (DBRP mapping made by deploy/influxdb/init-dokiem.sh); Grafana
# authenticates as the read-only v1 user ("Authorization: Token user:password").
apiVersion: 1
datasources:
  - name: dokiem InfluxDB
    uid: {DATASOURCE_UID}
    type: influxdb
    access: proxy
    url: ${{DOKIEM_INFLUX_URL}}
    isDefault: true
    editable: false
    jsonData:
      dbName: ${{DOKIEM_INFLUX_DB}}
      httpMode: GET
      httpHeaderName1: Authorization
    secureJsonData:
      httpHeaderValue1: Token $__file{{/run/secrets/influx_read_token}}
"""

PROVIDER_YAML = """# Provisioned by dokiem: the dashboards in ./json, read-only in Grafana (edit the code, not the UI).
apiVersion: 1
providers:
  - name: dokiem
    folder: dokiem
    type: file
    disableDeletion: true
    allowUiUpdates: false
    updateIntervalSeconds: 60
    options:
      path: /etc/grafana/provisioning/dashboards/json
"""


def datasource(url: str, db: str, token: str | None) -> dict[str, Any]:
    """The datasource as Grafana's HTTP API takes it (for ``dokiem grafana push``)."""
    body: dict[str, Any] = {
        "name": "dokiem InfluxDB", "uid": DATASOURCE_UID, "type": "influxdb", "access": "proxy", "url": url,
        "isDefault": True, "jsonData": {"dbName": db, "httpMode": "GET"},
    }  # fmt: skip
    if token:
        body["jsonData"]["httpHeaderName1"] = "Authorization"
        body["secureJsonData"] = {"httpHeaderValue1": f"Token {token}"}
    return body


def gazetteer(regions: Regions) -> list[dict[str, Any]]:
    """Grafana's gazetteer format (as its countries.json): one point per district code."""
    return [
        {"key": d.code, "name": d.name, "latitude": d.lat, "longitude": d.lon, "keywords": [p.code, p.name]}
        for p in regions.provinces.values()
        for d in p.districts.values()
        if d.lat is not None and d.lon is not None
    ]


def commune_shapes(regions: Regions) -> dict[str, Any]:
    """Every province's simplified 2025 commune boundaries in one FeatureCollection (feature id = the
    commune code, which the map's query returns as ``commune``)."""
    features = []
    for province in regions.provinces.values():
        if province.boundaries is not None:
            features += json.loads(province.boundaries.read_text(encoding="utf-8"))["features"]
    return {"type": "FeatureCollection", "features": features}


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def provisioning_files(
    tr: Translator, thresholds: Thresholds, regions: Regions, environment: Mapping[str, str] | None = None
) -> dict[Path, str]:
    """Path relative to ``grafana/`` -> content; ``environment`` says which alert channels are set
    (default: this process's)."""
    files = {
        Path("provisioning/alerting/dokiem-rules.yaml"): as_yaml(rules_file(tr)),
        Path("provisioning/datasources/dokiem.yaml"): DATASOURCE_YAML,
        Path("provisioning/dashboards/dokiem.yaml"): PROVIDER_YAML,
        Path("gazetteer/dokiem-districts.json"): _dump(gazetteer(regions)),
        # compact: it is fetched by every browser that opens the province dashboard
        Path("maps/dokiem-communes.geojson"): json.dumps(
            commune_shapes(regions), ensure_ascii=False, separators=(",", ":")
        ),
    }
    for name, board in build_all(tr, thresholds, regions).items():
        files[Path(f"provisioning/dashboards/json/dokiem-{name}.json")] = _dump(board)
    contact_points = contact_points_file(os.environ if environment is None else environment)
    if contact_points is not None:
        files[Path("provisioning/alerting/dokiem-contact-points.yaml")] = as_yaml(contact_points)
    return files


def write_provisioning(out: Path, tr: Translator, thresholds: Thresholds, regions: Regions) -> list[Path]:
    files = provisioning_files(tr, thresholds, regions)
    # what an earlier build wrote and this one does not (contact points when a channel was set, the former
    # districts' board for another province) would stay provisioned: removed
    earlier = [out / "provisioning/alerting/dokiem-contact-points.yaml",
               *(out / "provisioning/dashboards/json").glob("dokiem-*.json")]  # fmt: skip
    for stale in earlier:
        if stale.relative_to(out) not in files:
            stale.unlink(missing_ok=True)
    written = []
    for relative, content in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written

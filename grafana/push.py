"""``dokiem grafana push``: the datasource and dashboards into a running Grafana, with grafana-client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

FOLDER_UID = "dokiem"


class PushFailed(Exception):
    def __init__(self, url: str, reason: str, refused: bool) -> None:
        super().__init__(f"Grafana at {url} {'refused' if refused else 'is unreachable'}: {reason}")
        self.url, self.reason, self.refused = url, reason, refused


def _client(url: str, token: str, timeout_s: float = 15.0) -> GrafanaApi:
    return GrafanaApi.from_url(url, credential=token, timeout=timeout_s)


def _upsert_datasource(api: GrafanaApi, body: dict[str, Any]) -> str:
    try:
        api.datasource.get_datasource_by_uid(body["uid"])
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.datasource.create_datasource(body)
        return "created"
    api.datasource.update_datasource_by_uid(body["uid"], body)
    return "updated"


def _ensure_folder(api: GrafanaApi, title: str) -> None:
    try:
        api.folder.get_folder(FOLDER_UID)
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.folder.create_folder(title, uid=FOLDER_UID)


def push(
    url: str, token: str, datasource: dict[str, Any], dashboards: dict[str, dict[str, Any]],
    report: Callable[[str], None] = lambda line: None,
) -> None:  # fmt: skip
    """Create or update the datasource, the folder and every dashboard (overwriting older versions)."""
    api = _client(url, token)
    try:
        report(f"datasource {datasource['uid']}: {_upsert_datasource(api, datasource)}")
        _ensure_folder(api, "dokiem")
        for name, board in dashboards.items():
            answer = api.dashboard.update_dashboard(
                {
                    "dashboard": {**board, "id": None},
                    "folderUid": FOLDER_UID,
                    "overwrite": True,
                    "message": "dokiem grafana push",
                }
            )
            report(f"dashboard {name}: {answer.get('status', 'ok')} {answer.get('url', '')}".rstrip())
    except GrafanaException as exc:
        raise PushFailed(url, str(exc), refused=True) from exc
    except Exception as exc:  # network errors come from the HTTP library beneath grafana-client
        raise PushFailed(url, str(exc), refused=False) from exc

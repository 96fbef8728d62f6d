"""What the test server says."""

from __future__ import annotations

from dokiem.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
    "testserver_running": (
        "Máy chủ đo đang chạy tại {url} (tối đa {capacity} phép đo đồng thời). Nhấn Ctrl+C để dừng.",
        "Test server listening on {url} (at most {capacity} concurrent tests). Press Ctrl+C to stop.",
    ),
}
add_texts(TEXTS)

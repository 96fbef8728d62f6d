"""What the test server says."""

from __future__ import annotations

from dokiem.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
    "testserver_running": (
        "Máy chủ đo đang chạy tại {url} (tối đa {capacity} phép đo đồng thời). Nhấn Ctrl+C để dừng.",
        "Test server listening on {url} (at most {capacity} concurrent tests). Press Ctrl+C to stop.",
    ),
    "bad_server_id": (
        "mã máy chủ chỉ gồm chữ, số, dấu cách và . , & ( ) + / : - (tối đa 64 ký tự)",
        "a server id is letters, digits, spaces and . , & ( ) + / : - (64 characters at most)",
    ),
    "bad_signing_key": (
        "không đọc được khóa ký {path}: {reason}. Tạo khóa: openssl genpkey -algorithm ed25519 -out server.key",
        "cannot read the signing key {path}: {reason}. Make one: openssl genpkey -algorithm ed25519 -out server.key",
    ),
}
add_texts(TEXTS)

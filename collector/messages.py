"""What the collector's commands say."""

from __future__ import annotations

from dokiem.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
    "requeued": (
        "Đã nhận lại {admitted} tin nhắn; {kept} tin vẫn bị giữ lại (lý do bên dưới).",
        "Re-admitted {admitted} messages; {kept} are still kept (reasons below).",
    ),
    "bad_reason": ("lý do phải là một trong: {reasons}", "the reason must be one of: {reasons}"),
    # collector
    "collector_started": (
        "Bộ thu đang chạy: MQTT {broker}, lưu trữ {archive}, InfluxDB {influx}, API {api}.",
        "Collector running: MQTT {broker}, archive {archive}, InfluxDB {influx}, API {api}.",
    ),
    "config_pushed": (
        "Đã gửi cấu hình tới máy đo {agent}; áp dụng từ chu kỳ đo tiếp theo.",
        "Config published for agent {agent}; it applies from its next period.",
    ),
    "refiled": (
        "Đã xếp lại {count} kết quả theo xã mới / huyện cũ (theo danh mục hành chính).",
        "Refiled {count} results under their 2025 commune / former district (from the region files).",
    ),
    "reindexing": ("Đang ghi lại vào InfluxDB", "Rewriting InfluxDB"),
    "reindexed": ("Đã ghi lại {count} kết quả vào InfluxDB.", "Rewrote {count} results into InfluxDB."),
}
add_texts(TEXTS)

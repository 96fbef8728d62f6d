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
    "demo_archive_refused": (
        "Kho lưu trữ {archive} chứa dữ liệu mẫu của dokiem up --demo: bộ thu không ghi kết quả thật vào đó. Đặt"
        " collector.archive_url (DOKIEM_ARCHIVE_URL) tới một kho khác.",
        "The archive {archive} holds demo data from dokiem up --demo: the collector writes no real results into it."
        " Point collector.archive_url (DOKIEM_ARCHIVE_URL) at another archive.",
    ),
    "no_archive": (
        "Không có kho lưu trữ ở {path}: chạy lệnh trong thư mục đã chạy dokiem up, hoặc chỉ rõ --archive / --config.",
        "No archive at {path}: run the command in the folder where dokiem up ran, or give --archive / --config.",
    ),
    "bad_archive_url": (
        "{url} không phải địa chỉ kho lưu trữ: dùng sqlite:///data/archive.db (đường dẫn tương đối),"
        " sqlite:////var/lib/dokiem/archive.db (tuyệt đối) hoặc postgresql://user:password@host/db.",
        "{url} is no archive URL: use sqlite:///relative/archive.db, sqlite:////absolute/archive.db or"
        " postgresql://user:password@host/db.",
    ),
    "influx_not_set": ("chưa đặt influx.url (DOKIEM_INFLUX_URL)", "influx.url (DOKIEM_INFLUX_URL) is not set"),
    "trial_archive": (
        "Đọc kho lưu trữ của dokiem up trong thư mục này: {path} (--archive hoặc --config để đọc kho khác).",
        "Reading the archive dokiem up keeps in this folder: {path} (--archive or --config for another).",
    ),
    "reindexing": ("Đang ghi lại vào InfluxDB", "Rewriting InfluxDB"),
    "reindexed": ("Đã ghi lại {count} kết quả vào InfluxDB.", "Rewrote {count} results into InfluxDB."),
}
add_texts(TEXTS)

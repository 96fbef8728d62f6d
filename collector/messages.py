"""What the collector's commands say."""

from __future__ import annotations

from dokiem.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
    "requeued": (
        "Đã nhận lại {admitted} tin nhắn; {kept} tin vẫn bị giữ lại (lý do bên dưới).",
        "Re-admitted {admitted} messages; {kept} are still kept (reasons below).",
    ),
    # backup and restore (collector/backup.py)
    "resend_noted": (
        "Đã ghi đề nghị: bộ thu đang chạy sẽ đề nghị các thiết bị đo trong danh sách ({agents}) gửi lại những kết"
        " quả đã gửi từ {since} (trong vòng {seconds} giây, hoặc khi khởi động).",
        "Noted: the running collector asks each agent of its registry ({agents}) to send again what it sent since"
        " {since} (within {seconds} s, or when it starts).",
    ),
    "backup_needs_to": ("cho biết thư mục đặt bản sao lưu: --to THƯ_MỤC", "say where backups go: --to DIR"),
    "backup_say_archive": ("Sao lưu kho lưu trữ {where} ({mb} MB)…", "Backing up the archive {where} ({mb} MB)…"),
    "backup_say_dump": ("Sao lưu cơ sở dữ liệu {where} bằng pg_dump…", "Backing up the database {where} with pg_dump…"),
    "backup_say_file": ("Tệp {path}", "File {path}"),
    "backup_say_pruned": ("Xóa bản sao lưu cũ {path}", "Removed the old backup {path}"),
    "backup_say_restoring": ("Khôi phục kho lưu trữ vào {where}…", "Restoring the archive into {where}…"),
    "backup_the_archive": ("kho lưu trữ (mở từ một bản chép tạm)", "the archive (opened from a scratch copy)"),
    "backup_check_held": ("đúng: {what} — {words}", "ok: {what} — {words}"),
    "backup_check_failed": ("HỎNG: {what} — {words}", "DAMAGED: {what} — {words}"),
    "backup_check_ok": ("đủ byte, đúng mã kiểm tra", "size and checksum as written"),
    "backup_check_missing": ("không còn tệp này", "the file is missing"),
    "backup_check_changed": (
        "{bytes} byte, mã {sha}…; bản kê ghi {expected} byte, mã {expected_sha}…",
        "{bytes} bytes, checksum {sha}…; the manifest says {expected} bytes, {expected_sha}…",
    ),
    "backup_check_archive_ok": (
        "{results} kết quả, {agents} máy đo, {quarantined} tin bị giữ; toàn vẹn",
        "{results} results, {agents} agents, {quarantined} kept messages; integrity ok",
    ),
    "backup_check_integrity": ("SQLite báo: {integrity}", "SQLite says: {integrity}"),
    "backup_check_counts": (
        "{results} kết quả, {agents} máy đo, {quarantined} tin bị giữ: khác bản kê",
        "{results} results, {agents} agents, {quarantined} kept messages: not what the manifest says",
    ),
    "backup_check_dump_ok": ("pg_restore đọc được bản kết xuất", "pg_restore reads the dump"),
    "backup_check_dump": ("pg_restore không đọc được: {reason}", "pg_restore cannot read it: {reason}"),
    "backup_done": (
        "Đã sao lưu vào {folder}: {results} kết quả, {agents} máy đo, {files} tệp khác. Thư mục này chứa khóa"
        " bí mật: giữ nó như giữ khóa, và chép nó ra khỏi máy chủ (dokiem backup verify THƯ_MỤC để kiểm tra).",
        "Backed up into {folder}: {results} results, {agents} agents, {files} other files. The folder holds secret"
        " keys: keep it as you keep them, and copy it off this machine (dokiem backup verify DIR checks it).",
    ),
    "backup_sound": (
        "Bản sao lưu {folder} nguyên vẹn và khôi phục được.",
        "The backup {folder} is whole and restores.",
    ),
    "backup_damaged": (
        "Bản sao lưu {folder} bị hỏng (xem trên): đừng dựa vào nó, hãy sao lưu lại.",
        "The backup {folder} is damaged (see above): do not rely on it; take another.",
    ),
    "restored": (
        "Đã khôi phục bản sao lưu lúc {created}: {results} kết quả. Khi chạy, bộ thu sẽ đề nghị các thiết bị đo"
        " gửi lại những kết quả đã gửi từ một ngày trước thời điểm đó (thiết bị đo giữ chúng 14 ngày); kết quả"
        " người dân tự đo sau thời điểm đó không lấy lại được. Khởi động bộ thu, rồi chạy dokiem collector reindex"
        " để dựng lại InfluxDB.",
        "Restored the backup of {created}: {results} results. Once running, the collector asks the agents to send"
        " again what they sent from a day before it (they keep it 14 days); residents' tests after it cannot be"
        " had again. Start the collector, then dokiem collector reindex to rebuild InfluxDB.",
    ),
    "backup_error_bad_url": (
        "Địa chỉ kho lưu trữ không chỉ tới tệp SQLite hay cơ sở dữ liệu PostgreSQL nào: {where}.",
        "The archive URL names no SQLite file or PostgreSQL database: {where}.",
    ),
    "backup_error_no_archive": (
        "Không có kho lưu trữ ở {path}: cho biết cấu hình của bộ thu bằng --config.",
        "No archive at {path}: give the collector's config with --config.",
    ),
    "backup_error_no_file": (
        "{path}: không có tệp hay thư mục này để sao lưu.",
        "{path}: no such file or folder to back up.",
    ),
    "backup_error_unreadable": ("Không đọc được {path}: {reason}.", "Cannot read {path}: {reason}."),
    "backup_error_no_manifest": (
        "{path}: không có bản kê — không phải bản sao lưu của dokiem, hoặc bản sao lưu bị cắt ngang (….partial).",
        "{path}: no manifest — not a dokiem backup, or one cut short (….partial).",
    ),
    "backup_error_bad_manifest": ("{path}: bản kê bị hỏng ({reason}).", "{path}: the manifest is damaged ({reason})."),
    "backup_error_newer": (
        "{path} do dokiem {version} ghi theo định dạng mới hơn: khôi phục bằng bản phát hành đó hoặc mới hơn.",
        "{path} was written by dokiem {version} in a newer format: restore it with that release or a later one.",
    ),
    "backup_error_damaged": (
        "{path} bị hỏng ({what}): không khôi phục gì; hãy dùng bản sao lưu khác.",
        "{path} is damaged ({what}): nothing restored; use another backup.",
    ),
    "backup_error_clash": (
        "{paths}: đã có tệp với nội dung khác; chuyển chúng đi để khôi phục bản trong sao lưu. Chưa ghi gì.",
        "{paths}: already there with other contents; move them away to restore the backup's. Nothing written.",
    ),
    "backup_error_kind": (
        "Bản sao lưu chứa kho {held} nhưng cấu hình chỉ tới {named}: khôi phục vào một kho {held}.",
        "The backup holds a {held} archive and the config names {named}: restore into a {held} archive.",
    ),
    "backup_error_not_empty": (
        "{where} đã có kho lưu trữ: chỉ khôi phục vào chỗ trống (chuyển kho hiện có đi trước). Chưa ghi gì.",
        "{where} holds an archive: restore onto an empty place only (move it away first). Nothing written.",
    ),
    "backup_error_no_tool": (
        "Chưa cài {tool}: apt-get install postgresql-client.",
        "{tool} is not installed: apt-get install postgresql-client.",
    ),
    "backup_error_tool_failed": ("{tool} báo lỗi: {reason}", "{tool} failed: {reason}"),
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
    "newer_archive": (
        "Kho lưu trữ {archive} do dokiem {written_by} ghi theo định dạng mới hơn bản này ({version}) đọc được:"
        " nâng cấp dokiem lên {written_by} hoặc mới hơn. Không có gì bị thay đổi.",
        "The archive {archive} was written by dokiem {written_by} in a format this release ({version}) does not"
        " read: upgrade dokiem to {written_by} or later. Nothing was changed.",
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

"""What the agent says: dokiem measure's table and progress, the agent's commands, its error codes
and flags, its updates."""

from __future__ import annotations

from dokiem.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
    # measure: table labels
    "measure_which_server": (
        "cần --server URL (một hoặc nhiều) hoặc --ookla",
        "give --server URL (one or more) or --ookla",
    ),
    "server": ("Máy chủ đo", "Test server"),
    "rpm_low": ("thấp: cuộc gọi video bị giật khi đường truyền bận", "low: video calls stutter while the line is busy"),
    "rpm_medium": ("trung bình", "medium"),
    "rpm_high": ("cao", "high"),
    "bloated_words": ("bộ đệm phình (bufferbloat)", "bloated buffer (bufferbloat)"),
    "path": ("Đường truyền (TCP)", "Path (TCP)"),
    "path_min_rtt": ("khứ hồi tối thiểu {ms} ms", "least round trip {ms} ms"),
    "path_resent": ("tải lên truyền lại {pct}% ({cc})", "upload resent {pct}% ({cc})"),
    "radio": ("Sóng (vô tuyến)", "Radio"),
    "radio_missing": ("không rõ: {reason}", "unknown: {reason}"),
    "radio_now": ("Sóng lúc này: {radio}", "Radio now: {radio}"),
    "cross_traffic": ("Lưu lượng khác", "Others' traffic"),
    "cross_detail": ("↓ {down} · ↑ {up} (đo tại router, {source})", "↓ {down} · ↑ {up} (seen at the router, {source})"),
    "agent_cpu": ("CPU của máy đo", "Agent CPU"),
    "streams_measured": ("{streams} luồng, đo {seconds} s", "{streams} streams, measured {seconds} s"),
    "loaded_detail": ("khi tải xuống {down} · khi tải lên {up}", "while downloading {down} · while uploading {up}"),
    "loss_detail": ("{method}, {received}/{sent} gói trả lời", "{method}, {received}/{sent} replies"),
    "cpu_detail": ("{seconds} s CPU ({pct}% một lõi)", "{seconds} s CPU ({pct}% of one core)"),
    "not_measured": ("không đo", "not measured"),
    # progress
    "stage_dns": ("Đang đo thời gian phân giải DNS…", "Timing DNS lookups…"),
    "stage_latency": ("Đang đo độ trễ…", "Measuring latency…"),
    "stage_portal": ("Đang kiểm tra trang đăng nhập Wi-Fi…", "Checking for a Wi-Fi sign-in page…"),
    "stage_ping": ("Đang ping máy chủ…", "Pinging the server…"),
    "stage_download": ("Đang đo tải xuống", "Measuring download"),
    "stage_upload": ("Đang đo tải lên", "Measuring upload"),
    "stage_ookla": ("Đang chọn máy chủ Ookla gần nhất…", "Choosing the nearest Ookla server…"),
    # outcomes
    "run_failed": ("Phép đo thất bại: {reason}", "The measurement failed: {reason}"),
    "agent_started": (
        "Máy đo {agent} đang chạy, gửi kết quả tới {broker}.",
        "Agent {agent} running, sending to {broker}.",
    ),
    "location_domestic": ("trong nước", "domestic"),
    "location_international": ("quốc tế", "international"),
    "priority": ("ưu tiên {n}", "priority {n}"),
    "update_none": ("Không có gì để cập nhật.", "Nothing to update."),
    "update_installed": (
        "Đã cài phiên bản {version} và chuyển sang; nếu không có nhịp tim trong {minutes} phút sẽ quay lại bản cũ.",
        "Installed {version} and switched to it; without a heartbeat within {minutes} min the old one comes back.",
    ),
    "update_confirmed": (
        "Phiên bản {version} đã gửi nhịp tim: giữ lại.",
        "Version {version} sent a heartbeat: it stays.",
    ),
    "update_rolled_back": (
        "Phiên bản {version} không gửi nhịp tim đúng hạn: đã quay lại bản trước.",
        "Version {version} sent no heartbeat in time: rolled back to the previous one.",
    ),
    "update_refused": ("Từ chối cập nhật {version}: {reason}", "Update to {version} refused: {reason}"),
    "once_clock_wait": (
        "Đồng hồ chưa đồng bộ NTP: chờ tối đa {minutes} phút trước khi đo (--no-clock-wait để đo ngay; kết quả"
        " sẽ được đánh dấu).",
        "The clock is not NTP-synchronised: waiting up to {minutes} min before measuring (--no-clock-wait to"
        " measure now; the Result will say so).",
    ),
    "traffic_interface": (
        "Lưu lượng khác trên đường truyền: chỉ thấy ở cổng mạng của máy đo (không tìm thấy bộ định tuyến qua"
        " UPnP, không cấu hình SNMP).",
        "Others' traffic on the line: seen only at the agent's own port (no router found by UPnP, no SNMP set).",
    ),
    "traffic_upnp": (
        "Lưu lượng khác trên đường truyền: đọc từ bộ định tuyến qua UPnP IGD ({where}).",
        "Others' traffic on the line: read from the router by UPnP IGD ({where}).",
    ),
    "traffic_snmp": (
        "Lưu lượng khác trên đường truyền: đọc từ bộ định tuyến qua SNMP ({where}).",
        "Others' traffic on the line: read from the router by SNMP ({where}).",
    ),
    "traffic_router_failed": ("Không đọc được bộ định tuyến: {reason}", "The router could not be read: {reason}"),
    "once_no_servers": (
        "Cấu hình không có máy chủ đo {location} nào (measure.servers, hoặc DOKIEM_SERVERS).",
        "The configuration names no {location} test server (measure.servers, or DOKIEM_SERVERS).",
    ),
    "survey_position": ("Vị trí lấy từ {source}.", "Positions come from {source}."),
    "position_modem": ("GNSS của modem (ModemManager)", "the modem's GNSS (ModemManager)"),
    "position_gpsd": ("GPS qua gpsd", "a GPS through gpsd"),
    "survey_no_position": (
        "Không có nguồn vị trí: {why}. Cắm modem có GNSS hoặc GPS USB (gpsd), hoặc đặt [survey] position.",
        "No position source: {why}. Plug in a modem with GNSS or a USB GPS (gpsd), or set [survey] position.",
    ),
    "survey_progress": (
        "{samples} mẫu ({without} không có dịch vụ), {dropped} vị trí bị bỏ",
        "{samples} samples ({without} without service), {dropped} fixes left out",
    ),
    "survey_done": (
        "Khảo sát xong: {samples} mẫu trong {batches} gói, {without} mẫu không có dịch vụ; vị trí bị bỏ: {dropped}.",
        "Survey done: {samples} samples in {batches} batches, {without} without service; fixes left out: {dropped}.",
    ),
    "survey_sent": ("Đã gửi các mẫu khảo sát tới máy chủ trung tâm.", "The survey's samples reached the broker."),
    "survey_drop_no_fix": ("chưa có vị trí", "no fix"),
    "survey_drop_inaccurate": ("sai số quá lớn", "too inaccurate"),
    "survey_drop_stale": ("vị trí cũ", "stale fix"),
    "survey_drop_jump": ("nhảy vị trí bất thường", "impossible jump"),
    "survey_drop_outside": ("ngoài tỉnh", "outside the province"),
    "survey_drop_too_old": ("quá cũ", "too old"),
    "survey_drop_in_future": ("thời điểm ở tương lai", "in the future"),
    "once_sent": ("Đã gửi kết quả tới máy chủ trung tâm.", "The result reached the broker."),
    "once_queued": (
        "Chưa gửi được: kết quả nằm trong hàng đợi và sẽ được gửi khi có kết nối.",
        "Not sent yet: the result is queued and will be sent when the broker is reachable.",
    ),
    "config_ok": (
        "Cấu hình hợp lệ: máy đo {agent}, gửi tới {broker}, đo với {servers}, mỗi {minutes} phút.",
        "Configuration OK: agent {agent}, sending to {broker}, measuring against {servers} every {minutes} min.",
    ),
    "connection": ("Kết nối", "Connection"),
    "never_ran": ("chưa chạy lần nào", "has not run yet"),
    "queued": ("Hàng đợi", "Queued"),
    "queued_detail": ("{depth} kết quả (cũ nhất: {oldest})", "{depth} results (oldest: {oldest})"),
    "sent": ("Đã gửi", "Sent"),
    "dropped": ("Đã bỏ", "Dropped"),
    "dropped_detail": ("{age} do quá hạn, {size} do đầy hàng đợi", "{age} too old, {size} over the size limit"),
    "next_run": ("Lần đo tiếp theo", "Next run"),
    "last_error": ("Lỗi kết nối gần nhất", "Last connection error"),
    "last_run_error": ("Lỗi đo gần nhất", "Last run error"),
    "fleet_refused": ("Cấu hình từ trung tâm bị từ chối", "Fleet config refused"),
    # error codes (Result.error.code)
    "err_dns_failed": ("Không phân giải được tên máy chủ", "The server's name does not resolve"),
    "err_connect_failed": ("Không kết nối được tới máy chủ đo", "Cannot connect to the test server"),
    "err_connect_timeout": ("Máy chủ đo không trả lời kết nối", "The test server does not accept connections in time"),
    "err_tls_failed": ("Lỗi TLS với máy chủ đo", "TLS with the test server failed"),
    "err_server_busy": ("Máy chủ đo đang bận (503), hãy thử lại sau", "The test server is busy (503); try again later"),
    "err_redirect": (
        "Máy chủ chuyển hướng sang địa chỉ khác, hãy dùng địa chỉ đó",
        "The server redirects elsewhere; use that URL",
    ),
    "err_http_status": ("Máy chủ trả lời lỗi HTTP", "The server answered with an HTTP error"),
    "err_not_a_speedtest_server": (
        "Địa chỉ này không phải máy chủ đo tốc độ",
        "This address is not a speed-test server",
    ),
    "err_compressed": (
        "Máy chủ nén dữ liệu đo nên kết quả sẽ sai",
        "The server compresses test data; figures would be false",
    ),
    "err_closed_mid_stream": ("Máy chủ đóng kết nối giữa chừng", "The server closed the connection mid-stream"),
    "err_protocol_error": ("Máy chủ trả lời sai giao thức HTTP", "The server broke the HTTP protocol"),
    "err_timeout": ("Quá thời gian cho phép", "Out of time"),
    "err_no_data": ("Không nhận được dữ liệu đo", "No test data moved"),
    "err_ookla_unreachable": ("Không lấy được danh sách máy chủ Ookla", "Ookla's server list is unreachable"),
    "err_internal_error": (
        "Lỗi nội bộ của dokiem; hãy chạy lại với --verbose và báo lỗi",
        "dokiem internal error; run again with --verbose and report it",
    ),
    "err_budget_exhausted": (
        "Bỏ qua phép đo: sẽ vượt hạn mức dữ liệu tháng của đường truyền",
        "Run skipped: it would exceed the line's monthly data budget",
    ),
    "err_captive_portal": (
        "Wi-Fi đang chờ đăng nhập (trang đăng nhập của điểm phát): không đo",
        "The Wi-Fi asks for sign-in (a captive portal): not measured",
    ),
}
add_texts(TEXTS)

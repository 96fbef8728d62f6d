"""What users read, in Vietnamese by default and English with ``--lang en``.

Code, identifiers and logs stay English; every string a technician sees comes from here.
"""

from __future__ import annotations

import os

LANGS = ("vi", "en")

_MESSAGES: dict[str, tuple[str, str]] = {
    # measure: table labels
    "server": ("Máy chủ đo", "Test server"),
    "download": ("Tải xuống", "Download"),
    "upload": ("Tải lên", "Upload"),
    "latency": ("Độ trễ", "Latency"),
    "jitter": ("Độ biến thiên trễ", "Jitter"),
    "loaded_latency": ("Độ trễ khi có tải", "Latency under load"),
    "loss": ("Mất gói", "Packet loss"),
    "dns": ("Phân giải DNS", "DNS lookup"),
    "agent_cpu": ("CPU của máy đo", "Agent CPU"),
    "flags": ("Cảnh báo", "Warnings"),
    "error": ("Lỗi", "Error"),
    "started": ("Bắt đầu", "Started"),
    "streams_measured": ("{streams} luồng, đo {seconds} s", "{streams} streams, measured {seconds} s"),
    "loaded_detail": ("khi tải xuống {down} · khi tải lên {up}", "while downloading {down} · while uploading {up}"),
    "loss_detail": ("{method}, {received}/{sent} gói trả lời", "{method}, {received}/{sent} replies"),
    "cpu_detail": ("{seconds} s CPU ({pct}% một lõi)", "{seconds} s CPU ({pct}% of one core)"),
    "not_measured": ("không đo", "not measured"),
    # progress
    "stage_dns": ("Đang đo thời gian phân giải DNS…", "Timing DNS lookups…"),
    "stage_latency": ("Đang đo độ trễ…", "Measuring latency…"),
    "stage_ping": ("Đang ping máy chủ…", "Pinging the server…"),
    "stage_download": ("Đang đo tải xuống", "Measuring download"),
    "stage_upload": ("Đang đo tải lên", "Measuring upload"),
    "stage_ookla": ("Đang chọn máy chủ Ookla gần nhất…", "Choosing the nearest Ookla server…"),
    # outcomes
    "run_failed": ("Phép đo thất bại: {reason}", "The measurement failed: {reason}"),
    "bad_option": ("Tham số không hợp lệ: {reason}", "Invalid option: {reason}"),
    "requeued": (
        "Đã nhận lại {admitted} tin nhắn; {kept} tin vẫn bị giữ lại (lý do bên dưới).",
        "Re-admitted {admitted} messages; {kept} are still kept (reasons below).",
    ),
    "bad_reason": ("lý do phải là một trong: {reasons}", "the reason must be one of: {reasons}"),
    "need_collector_extra": (
        "Lệnh này cần gói phía máy chủ: pip install 'dokiem[collector]'",
        "This command needs the server-side extra: pip install 'dokiem[collector]'",
    ),
    "testserver_running": (
        "Máy chủ đo đang chạy tại {url} (tối đa {capacity} phép đo đồng thời). Nhấn Ctrl+C để dừng.",
        "Test server listening on {url} (at most {capacity} concurrent tests). Press Ctrl+C to stop.",
    ),
    "listen_failed": ("Không mở được cổng {listen}: {reason}", "Cannot listen on {listen}: {reason}"),
    "up_started": (
        "dokiem đang chạy: máy chủ đo {url}, đo mỗi {minutes} phút, dữ liệu trong {data}.\n"
        "API: {api} (Authorization: Bearer {token}). Nhấn Ctrl+C để dừng.",
        "dokiem is running: test server {url}, measuring every {minutes} min, data in {data}.\n"
        "API: {api} (Authorization: Bearer {token}). Press Ctrl+C to stop.",
    ),
    "up_next": ("Lần đo tiếp theo lúc {time}.", "Next measurement at {time}."),
    "stopped": ("Đã dừng.", "Stopped."),
    "col_time": ("Thời điểm", "Time"),
    "col_status": ("Trạng thái", "Status"),
    "ok": ("đạt", "ok"),
    # agent service
    "config_error": ("Lỗi cấu hình ({where}): {problem}", "Configuration error ({where}): {problem}"),
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
    "release_key_made": (
        "Đã tạo khóa ký {private} (giữ bí mật) và khóa công khai {public} (cài cùng máy đo).",
        "Made the signing key {private} (keep it secret) and the public key {public} (install it with agents).",
    ),
    "release_built": (
        "Đã tạo và ký bộ phát hành {path} ({files} tệp).",
        "Built and signed the release {path} ({files} files).",
    ),
    "release_published": (
        'Đã công bố {version} tại {path}; đặt update.version = "{version}" trong cấu hình đội máy.',
        'Published {version} at {path}; set update.version = "{version}" in the fleet config.',
    ),
    "release_failed": ("Không tạo/công bố được bản phát hành: {reason}", "The release failed: {reason}"),
    "once_sent": ("Đã gửi kết quả tới máy chủ trung tâm.", "The result reached the broker."),
    "once_queued": (
        "Chưa gửi được: kết quả nằm trong hàng đợi và sẽ được gửi khi có kết nối.",
        "Not sent yet: the result is queued and will be sent when the broker is reachable.",
    ),
    "config_ok": (
        "Cấu hình hợp lệ: máy đo {agent}, gửi tới {broker}, đo với {servers}, mỗi {minutes} phút.",
        "Configuration OK: agent {agent}, sending to {broker}, measuring against {servers} every {minutes} min.",
    ),
    "agent": ("Máy đo", "Agent"),
    "broker": ("Máy chủ MQTT", "MQTT broker"),
    "connection": ("Kết nối", "Connection"),
    "online": ("đang kết nối", "online"),
    "offline": ("mất kết nối", "offline"),
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
    # flags
    "flag_cpu_saturated": (
        "CPU máy đo quá tải: kết quả có thể thấp hơn thực tế",
        "agent CPU saturated: figures may read low",
    ),
    "flag_cpu_throttled": ("CPU máy đo bị giới hạn trong lúc đo", "agent CPU was throttled during the run"),
    "flag_wifi": ("đo qua Wi-Fi, không phải cáp mạng", "measured over Wi-Fi, not a cable"),
    "flag_server_busy": ("máy chủ đo đang bận", "the test server was busy"),
    "flag_cross_traffic": ("có lưu lượng khác trên đường truyền khi đo", "other traffic on the line during the run"),
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
    "err_bad_server_url": ("Địa chỉ máy chủ không hợp lệ", "Invalid server URL"),
    # quarterly report
    "rpt_title": ("Báo cáo chất lượng băng rộng {quarter}", "Broadband quality report, {quarter}"),
    "rpt_quarter": ("Quý {roman}/{year}", "Q{number} {year}"),
    "rpt_subtitle": (
        "{province} · {start} – {end} · lập lúc {generated}",
        "{province} · {start} – {end} · generated {generated}",
    ),
    "rpt_summary": (
        "{tests} lượt đo từ {agents} thiết bị đo ({failed} lượt lỗi); quý trước: {previous} lượt đo.",
        "{tests} tests from {agents} agents ({failed} failed); previous quarter: {previous} tests.",
    ),
    "rpt_method": (
        "Tốc độ tính trên các lượt đo thành công; trung vị, p10, p90 nội suy tuyến tính. "
        "Tốc độ 80/80: tốc độ mà 80% thiết bị đo đạt được ít nhất 80% thời gian. "
        "So với gói cước: tỷ lệ lượt đo đạt ≥ {good}%, {low}–{good}% và < {low}% tốc độ gói cước "
        "(QCVN 34:2022/BTTTT: tốc độ tải xuống trung bình ≥ 0,8 lần gói cước). "
        "Nhóm có ít hơn {minimum} lượt đo thành công được đánh dấu * và cần đọc thận trọng.",
        "Speeds over successful tests; median, p10, p90 interpolate linearly. "
        "80/80 speed: the speed 80% of agents get at least 80% of the time. "
        "Against the plan: shares of tests at ≥ {good}%, {low}–{good}% and < {low}% of the subscribed speed "
        "(QCVN 34:2022/BTTTT: average download at least 0.8 × the plan). "
        "Groups with fewer than {minimum} successful tests are marked * and should be read with care.",
    ),
    "rpt_table_province": ("Toàn tỉnh", "Whole province"),
    "rpt_table_districts": ("Theo huyện cũ", "By former district"),
    "rpt_table_communes": ("Theo xã (từ 01/7/2025)", "By commune (since 2025-07-01)"),
    "rpt_table_isps": ("Theo nhà mạng", "By ISP"),
    "rpt_table_access": ("Theo loại truy nhập", "By access type"),
    "rpt_table_thresholds": ("Ngưỡng chất lượng và nguồn", "Quality thresholds and sources"),
    "rpt_part_speed": ("tốc độ", "speeds"),
    "rpt_part_quality": ("so với gói cước, ngưỡng và quý trước", "against plan, thresholds and last quarter"),
    "rpt_chart_districts": (
        "Tốc độ tải xuống trung vị theo huyện cũ, cố định và di động (Mbit/s)",
        "Median download by former district, fixed and mobile (Mbit/s)",
    ),
    "rpt_map_title": (
        "Tốc độ tải xuống cố định trung vị theo xã (từ 01/7/2025)",
        "Median fixed download by commune (since 2025-07-01)",
    ),
    # dokiem publish: the public site
    "pub_site": ("Chất lượng Internet băng rộng · {province}", "Broadband quality · {province}"),
    "pub_title": ("Chất lượng Internet băng rộng {quarter} · {province}", "Broadband quality, {quarter} · {province}"),
    "pub_intro": (
        "Kết quả đo kiểm tốc độ Internet băng rộng tại các xã, phường của tỉnh {province}, {quarter}. Đường"
        " truyền cố định và di động được tính riêng.",
        "Broadband speeds measured in the communes of {province}, {quarter}. Fixed and mobile lines are counted apart.",
    ),
    "pub_province_median": (
        "{access}: tải xuống trung vị toàn tỉnh {median} Mbit/s",
        "{access}: province median download {median} Mbit/s",
    ),
    "pub_threshold": (
        "{name}: {met} trên {shown} xã đủ số liệu đạt",
        "{name}: {met} of {shown} communes with enough data meet it",
    ),
    "pub_map_title": ("Tốc độ tải xuống cố định trung vị theo xã", "Median fixed download by commune"),
    "pub_map_districts": ("Xem theo huyện cũ (trước 01/7/2025)", "By former district (before 2025-07-01)"),
    "pub_map_desc": (
        "Bản đồ các xã tô màu theo tốc độ tải xuống cố định trung vị; màu xám: chưa đủ số liệu. Số liệu từng"
        " xã có trong bảng bên dưới.",
        "Map of the communes shaded by median fixed download; grey: not enough data. Each commune's figures"
        " are in the table below.",
    ),
    "pub_map_alternative": ("Cùng số liệu dạng bảng:", "The same figures as a table:"),
    "pub_thin": ("chưa đủ số liệu", "not enough data"),
    "pub_thin_long": (
        "Chưa đủ số liệu để công bố ({tests} lượt đo trong quý).",
        "Not enough data to publish ({tests} tests this quarter).",
    ),
    "pub_no_tests": ("chưa có lượt đo", "no tests"),
    "pub_communes": ("Các xã, phường", "Communes"),
    "pub_not_ranked": (
        "Xếp theo tên, không xếp hạng. Xã chưa đủ số liệu không được công bố số liệu.",
        "In name order, not ranked. A commune without enough data has no figure published.",
    ),
    "pub_districts": ("Theo huyện cũ", "By former district"),
    "pub_isps": ("Theo nhà mạng", "By ISP"),
    "pub_fixed_median": ("Cố định: tải xuống trung vị (Mbit/s)", "Fixed: median download (Mbit/s)"),
    "pub_mobile_median": ("Di động: tải xuống trung vị (Mbit/s)", "Mobile: median download (Mbit/s)"),
    "pub_change": ("Cố định: thay đổi so với quý trước (Mbit/s)", "Fixed: change on the previous quarter (Mbit/s)"),
    "pub_down_median": ("Tải xuống trung vị (Mbit/s)", "Median download (Mbit/s)"),
    "pub_up_median": ("Tải lên trung vị (Mbit/s)", "Median upload (Mbit/s)"),
    "pub_download": ("Tải xuống (Mbit/s)", "Download (Mbit/s)"),
    "pub_upload": ("Tải lên (Mbit/s)", "Upload (Mbit/s)"),
    "pub_figure": ("Chỉ số", "Figure"),
    "pub_median": ("Trung vị", "Median"),
    "pub_counts": ("{tests} lượt đo từ {agents} thiết bị đo.", "{tests} tests from {agents} agents."),
    "pub_latency": ("Độ trễ (ms)", "Latency (ms)"),
    "pub_former_district": ("Huyện cũ: {districts}", "Former district: {districts}"),
    "pub_method_title": ("Cách đo", "How it is measured"),
    "pub_method": (
        "Thiết bị đo đặt tại trụ sở xã đo định kỳ như i-Speed (VNNIC): tải xuống và tải lên qua nhiều luồng"
        " HTTP song song tới máy chủ đo trong nước, độ trễ từ các yêu cầu lặp lại. Số liệu là trung vị các lượt"
        " đo thành công; p10 và p90 cho biết độ phân tán. Lượt đo khi thiết bị quá tải, qua Wi-Fi hoặc có lưu"
        " lượng khác trên đường truyền bị loại. Một nhóm chỉ được công bố khi có ít nhất {minimum} lượt đo thành"
        " công từ ít nhất {agents} thiết bị đo.",
        "Agents in the commune offices measure on a schedule as VNNIC's i-Speed does: download and upload over"
        " several parallel HTTP streams to a domestic test server, latency from repeated requests. Figures are"
        " medians of the successful tests; p10 and p90 show the spread. Tests taken on an overloaded agent, over"
        " Wi-Fi or with other traffic on the line are left out. A group is published only with at least"
        " {minimum} successful tests from at least {agents} agents.",
    ),
    "pub_footer": (
        "Số liệu chốt lúc {cut}; phương pháp dokiem {version}; dữ liệu theo giấy phép {licence}.",
        "Data cut at {cut}; method dokiem {version}; data licensed {licence}.",
    ),
    "pub_open_data": ("Dữ liệu mở", "Open data"),
    "pub_dictionary": (
        "Dữ liệu mở dokiem — cắt lúc {cut}, giấy phép {licence} (LICENSE.txt).\n\n"
        "communes.csv/.json, districts.csv/.json, isps.csv/.json: một dòng cho mỗi xã (từ 01/7/2025), huyện cũ"
        " hoặc mạng của nhà mạng, theo loại truy nhập (access: fixed = cố định, mobile = di động). published ="
        " false: chưa đủ số liệu (dưới {minimum} lượt đo thành công hoặc dưới {agents} thiết bị đo), các số"
        " liệu để trống. tests: số lượt đo; agents: số thiết bị đo; *_median/_p10/_p90_mbps: trung vị, phân vị"
        " 10 và 90 (Mbit/s); latency_median/_p10/_p90_ms: độ trễ (ms); download_median_change_mbps: thay đổi so"
        " với quý trước.\n\n"
        "tests.csv.gz: {records} lượt đo, mỗi dòng một lượt: hour (giờ địa phương, làm tròn xuống đến giờ),"
        " province, district (huyện cũ), commune (xã từ 01/7/2025), isp, access, failed, download_mbps,"
        " upload_mbps, latency_ms, jitter_ms, loss_pct. Không có mã thiết bị, địa chỉ IP hay tọa độ. Không"
        " công bố: {held} lượt của các nhóm chưa đủ số liệu và {excluded} lượt bị loại (thiết bị quá tải,"
        " Wi-Fi, lưu lượng khác).",
        "dokiem open data — cut at {cut}, licensed {licence} (LICENSE.txt).\n\n"
        "communes.csv/.json, districts.csv/.json, isps.csv/.json: one row per commune (since 2025-07-01),"
        " former district or ISP network, per access type (access: fixed or mobile). published = false: not"
        " enough data (fewer than {minimum} successful tests or fewer than {agents} agents), figures empty."
        " tests: tests counted; agents: agents counted; *_median/_p10/_p90_mbps: median, 10th and 90th"
        " percentile (Mbit/s); latency_median/_p10/_p90_ms: latency (ms); download_median_change_mbps: change"
        " from the previous quarter.\n\n"
        "tests.csv.gz: {records} tests, one per row: hour (local time, rounded down to the hour), province,"
        " district (former), commune (since 2025-07-01), isp, access, failed, download_mbps, upload_mbps,"
        " latency_ms, jitter_ms, loss_pct. No agent id, IP address or coordinates. Not published: {held} tests"
        " of groups without enough data and {excluded} tests left out (overloaded agent, Wi-Fi, cross traffic).",
    ),
    "pub_written": (
        "Đã ghi trang công bố vào {out}: {files} tệp, {size}; {records} lượt đo trong dữ liệu mở.",
        "Wrote the public site to {out}: {files} files, {size}; {records} tests in the open data.",
    ),
    "docx_title": ("BÁO CÁO", "REPORT"),
    "docx_subtitle": (
        "Kết quả đo kiểm chất lượng dịch vụ truy nhập Internet băng rộng {quarter} trên địa bàn tỉnh {province}",
        "Broadband Internet access quality measured in {province}, {quarter}",
    ),
    "docx_recipients": ("Nơi nhận:", "To:"),
    "docx_s_summary": ("I. TÓM TẮT KẾT QUẢ", "I. SUMMARY OF FINDINGS"),
    "docx_s_method": ("II. PHƯƠNG PHÁP ĐO", "II. METHOD"),
    "docx_s_districts": ("III. KẾT QUẢ THEO HUYỆN CŨ", "III. RESULTS BY FORMER DISTRICT"),
    "docx_s_communes": ("IV. KẾT QUẢ THEO XÃ (TỪ 01/7/2025)", "IV. RESULTS BY COMMUNE (SINCE 2025-07-01)"),
    "docx_s_isps": ("V. KẾT QUẢ THEO NHÀ MẠNG", "V. RESULTS BY ISP"),
    "docx_s_thresholds": (
        "VI. SO VỚI NGƯỠNG QUỐC GIA VÀ QCVN 34:2022/BTTTT",
        "VI. AGAINST THE NATIONAL THRESHOLDS AND QCVN 34:2022/BTTTT",
    ),
    "docx_s_change": ("VII. THAY ĐỔI SO VỚI QUÝ TRƯỚC", "VII. CHANGE FROM THE PREVIOUS QUARTER"),
    "docx_s_thin": ("VIII. CÁC NHÓM CHƯA ĐỦ SỐ LƯỢT ĐO", "VIII. GROUPS WITH TOO FEW TESTS"),
    "docx_s_annex": ("PHỤ LỤC: KẾT QUẢ THEO XÃ", "ANNEX: RESULTS BY COMMUNE"),
    "docx_p_method": (
        "Thiết bị đo đặt tại trụ sở UBND xã đo theo phương pháp của i-Speed (VNNIC): tải xuống, tải lên qua"
        " nhiều luồng HTTP song song, bỏ giai đoạn khởi động, độ trễ và độ biến thiên từ các yêu cầu HTTP lặp lại."
        " Đường truyền cố định và di động được tính riêng, không gộp thành một số liệu. Xã là đơn vị hành chính"
        " từ 01/7/2025; huyện cũ là huyện trước ngày đó, suy ra từ bảng chuyển đổi của cơ quan thống kê.",
        "Agents in the commune offices measure as VNNIC's i-Speed does: download and upload over several parallel"
        " HTTP streams with a warm-up left out, latency and jitter from repeated HTTP requests. Fixed and mobile"
        " lines are counted apart, never in one figure. A commune is a unit since 2025-07-01; a former district"
        " is the district before that day, derived from the statistics office's conversion table.",
    ),
    "docx_p_districts": (
        "Bảng dưới đây nêu số liệu từng huyện cũ, cố định và di động tách riêng, theo thứ tự mã hành chính;"
        " dấu * đánh dấu nhóm chưa đủ số lượt đo.",
        "The table gives each former district's figures, fixed and mobile apart, in code order; * marks a"
        " group with too few tests.",
    ),
    "docx_p_communes": (
        "Bản đồ tô màu các xã theo tốc độ tải xuống cố định trung vị; xã chưa đủ số lượt đo để màu xám, không"
        " xếp hạng. Số liệu từng xã ở Phụ lục.",
        "The map shades each commune by its median fixed download; a commune with too few tests is grey, not"
        " ranked. Each commune's figures are in the annex.",
    ),
    "docx_p_isps": (
        "Mạng cố định và mạng di động của cùng một nhà mạng là hai dịch vụ, được tính riêng.",
        "An ISP's fixed and mobile networks are two services, counted apart.",
    ),
    "docx_p_thresholds": (
        "Tỷ lệ lượt đo so với gói cước (QCVN 34:2022/BTTTT: tốc độ tải xuống trung bình ≥ 0,8 lần gói cước) và"
        " tỷ lệ lượt đo đạt từng ngưỡng quốc gia, mỗi ngưỡng chỉ tính trên loại truy nhập của nó.",
        "Shares of tests against the subscribed plan (QCVN 34:2022/BTTTT: mean download ≥ 0.8 × the plan) and"
        " of tests meeting each national threshold, each counted on its own access type only.",
    ),
    "docx_p_change": (
        "Thay đổi của trung vị và số lượt đo so với quý trước, từng huyện cũ và loại truy nhập.",
        "Change of the medians and of the tests from the previous quarter, by former district and access type.",
    ),
    "docx_thin": ("{level}: {count} nhóm — {groups}.", "{level}: {count} groups — {groups}."),
    "docx_thin_none": ("Mọi nhóm đều đủ số lượt đo.", "Every group has enough tests."),
    "rpt_table_summary": ("Số liệu chính", "Key figures"),
    "kf_indicator": ("Chỉ tiêu", "Indicator"),
    "kf_value": ("Giá trị", "Value"),
    "kf_median": ("Tải xuống trung vị toàn tỉnh (Mbit/s)", "Province median download (Mbit/s)"),
    "kf_target": ("Ngưỡng tải xuống quốc gia thấp nhất (Mbit/s)", "Lowest national download threshold (Mbit/s)"),
    "kf_ranked": ("Số huyện cũ đủ số lượt đo", "Former districts with enough tests"),
    "kf_meeting": ("Số huyện cũ có trung vị đạt ngưỡng", "Former districts whose median meets it"),
    "kf_lowest": ("Thấp nhất: {name} (Mbit/s)", "Lowest: {name} (Mbit/s)"),
    "kf_highest": ("Cao nhất: {name} (Mbit/s)", "Highest: {name} (Mbit/s)"),
    "kf_lowest_change": (
        "Huyện thấp nhất: thay đổi so với quý trước (%)",
        "Lowest district: change on the previous quarter (%)",
    ),
    "kf_thin_communes": ("Số xã chưa đủ số lượt đo để công bố", "Communes with too few tests to publish"),
    "kf_fastest_isp": ("Nhà mạng nhanh nhất: {isp} (Mbit/s)", "Fastest ISP: {isp} (Mbit/s)"),
    "kf_min_samples": ("Số lượt đo thành công tối thiểu của một nhóm", "Fewest successful tests a group needs"),
    "fd_no_tests": ("{access}: không có lượt đo nào trong quý.", "{access}: no tests this quarter."),
    "fd_median": (
        "{access}: tốc độ tải xuống trung vị toàn tỉnh đạt {median} Mbit/s.",
        "{access}: the province's median download is {median} Mbit/s.",
    ),
    "fd_meeting": (
        "{meeting} trên {ranked} huyện cũ đủ số lượt đo có trung vị tải xuống {access} đạt {target} Mbit/s.",
        "{meeting} of {ranked} former districts with enough tests reach {target} Mbit/s median {access} download.",
    ),
    "fd_lowest": ("{name} thấp nhất với {median} Mbit/s{change}.", "{name} is lowest at {median} Mbit/s{change}."),
    "fd_down": (", giảm {pct}% so với quý trước", ", down {pct}% from the previous quarter"),
    "fd_up": (", tăng {pct}% so với quý trước", ", up {pct}% from the previous quarter"),
    "fd_highest": ("{name} cao nhất với {median} Mbit/s.", "{name} is highest at {median} Mbit/s."),
    "fd_thin": (
        "{count} xã có quá ít lượt đo {access} để công bố (dưới {minimum} lượt thành công); các xã này được liệt kê,"
        " không xếp hạng.",
        "{count} communes have too few {access} tests to publish (under {minimum} successful tests); they are"
        " listed, not ranked.",
    ),
    "fd_international": (
        "{access}, tới máy chủ quốc tế ({tests} phép đo, không tính vào các số liệu trên): trung vị tải xuống"
        " {down} Mbit/s, tải lên {up} Mbit/s.",
        "{access}, to international servers ({tests} tests, not part of the figures above): median download"
        " {down} Mbit/s, upload {up} Mbit/s.",
    ),
    "fd_fastest_isp": (
        "Nhà mạng có trung vị tải xuống cao nhất: {isp}, {median} Mbit/s.",
        "The ISP with the highest median download: {isp}, {median} Mbit/s.",
    ),
    "rpt_map_thin": ("Chưa đủ số lượt đo", "Not enough tests"),
    "rpt_map_none": ("Chưa có lượt đo", "No tests"),
    "rpt_chart_isp_trend": (
        "Tốc độ tải xuống trung vị theo tuần, từng nhà mạng (Mbit/s)",
        "Weekly median download by ISP (Mbit/s)",
    ),
    "rpt_by_province": ("Tỉnh", "Province"),
    "rpt_by_district": ("Huyện cũ", "Former district"),
    "rpt_by_commune": ("Xã", "Commune"),
    "rpt_by_isp": ("Nhà mạng", "ISP"),
    "rpt_by_access": ("Loại truy nhập", "Access"),
    "rpt_code": ("Mã", "Code"),
    "rpt_agents": ("Thiết bị đo", "Agents"),
    "rpt_tests": ("Lượt đo", "Tests"),
    "rpt_failed": ("Lượt lỗi", "Failed"),
    "rpt_excluded": (
        "Lượt bị loại (Wi-Fi, CPU quá tải, lưu lượng khác)",
        "Left out (Wi-Fi, CPU starved, cross traffic)",
    ),
    "rpt_down_median": ("Tải xuống trung vị (Mbit/s)", "Download median (Mbit/s)"),
    "rpt_down_mean": ("Tải xuống trung bình (Mbit/s)", "Download mean (Mbit/s)"),
    "rpt_down_p10": ("Tải xuống p10 (Mbit/s)", "Download p10 (Mbit/s)"),
    "rpt_down_p90": ("Tải xuống p90 (Mbit/s)", "Download p90 (Mbit/s)"),
    "rpt_up_median": ("Tải lên trung vị (Mbit/s)", "Upload median (Mbit/s)"),
    "rpt_up_mean": ("Tải lên trung bình (Mbit/s)", "Upload mean (Mbit/s)"),
    "rpt_up_p10": ("Tải lên p10 (Mbit/s)", "Upload p10 (Mbit/s)"),
    "rpt_up_p90": ("Tải lên p90 (Mbit/s)", "Upload p90 (Mbit/s)"),
    "rpt_latency_median": ("Độ trễ trung vị (ms)", "Latency median (ms)"),
    "rpt_jitter_median": ("Jitter trung vị (ms)", "Jitter median (ms)"),
    "rpt_loss_mean": ("Mất gói TB (%)", "Loss mean (%)"),
    "rpt_plan_good": ("≥ 95% gói cước", "≥ 95% of plan"),
    "rpt_plan_mid": ("80–95% gói cước", "80–95% of plan"),
    "rpt_plan_low": ("< 80% gói cước", "< 80% of plan"),
    "rpt_plan_mean_ratio": ("TB tải xuống / gói cước", "Mean download / plan"),
    "rpt_speed_80_80": ("Tốc độ 80/80 (Mbit/s)", "80/80 speed (Mbit/s)"),
    "rpt_threshold_share": ("Đạt: {name}", "Meets: {name}"),
    "rpt_change_down_median": ("Δ tải xuống trung vị so với quý trước", "Δ download median vs last quarter"),
    "rpt_change_up_median": ("Δ tải lên trung vị so với quý trước", "Δ upload median vs last quarter"),
    "rpt_change_tests": ("Δ lượt đo so với quý trước", "Δ tests vs last quarter"),
    "rpt_few_samples": ("Ghi chú", "Note"),
    "rpt_flag_few": ("ít hơn {minimum} lượt đo", "fewer than {minimum} tests"),
    "rpt_threshold": ("Ngưỡng", "Threshold"),
    "rpt_any_access": ("mọi loại", "any"),
    "rpt_min_download": ("Tải xuống tối thiểu (Mbit/s)", "Minimum download (Mbit/s)"),
    "rpt_min_upload": ("Tải lên tối thiểu (Mbit/s)", "Minimum upload (Mbit/s)"),
    "rpt_max_latency": ("Độ trễ tối đa (ms)", "Maximum latency (ms)"),
    "rpt_source": ("Nguồn", "Source"),
    "rpt_page": ("Trang {page}", "Page {page}"),
    "rpt_no_results": (
        "Kho lưu trữ không có kết quả nào trong quý {quarter} ({where}). Kiểm tra --quarter và --archive.",
        "The archive holds no results in {quarter} ({where}). Check --quarter and --archive.",
    ),
    "rpt_written": ("Đã ghi {path}", "Wrote {path}"),
    "rpt_reading": ("Đang đọc kho lưu trữ {where}…", "Reading the archive {where}…"),
    "rpt_read": ("Đã đọc {count} kết quả của quý {quarter}.", "Read {count} results of {quarter}."),
    # enrolment, PKI, deployment
    "enrolled": (
        "Đã cấp quyền cho thiết bị đo {agent} ({site}). Chép {files} sang Pi (vào /etc/dokiem/).",
        "Enrolled agent {agent} ({site}). Copy {files} to the Pi (into /etc/dokiem/).",
    ),
    "reload_broker": (
        "Broker chỉ nhận thay đổi sau khi nạp lại: docker compose kill -s HUP mosquitto "
        "(hoặc systemctl reload mosquitto).",
        "The broker takes the change after a reload: docker compose kill -s HUP mosquitto "
        "(or systemctl reload mosquitto).",
    ),
    "no_compose": (
        "Không thấy {path}: hãy chạy lệnh từ thư mục gốc của dokiem, hoặc chỉ rõ --dir.",
        "{path} is missing: run this from the repository root, or pass --dir.",
    ),
    "secrets_exist": (
        "{path} đã có bí mật: giữ nguyên, hoặc thêm --force để tạo lại (khi đó mọi thiết bị đo phải đăng ký lại).",
        "{path} already holds secrets: keep them, or pass --force to replace them (every agent must then be "
        "enrolled again).",
    ),
    "pki_exists": (
        "{path} đã có {files}: giữ nguyên, hoặc thêm --force để thay.",
        "{path} already holds {files}: keep them, or pass --force to replace them.",
    ),
    "broker_needs_tls": (
        "thiết bị đo kết nối broker qua TLS: dùng mqtts://TÊN-MÁY:8883",
        "agents reach the broker over TLS: use mqtts://HOST:8883",
    ),
    "grafana_refused": ("Grafana tại {url} từ chối: {reason}", "Grafana at {url} refused: {reason}"),
    "grafana_unreachable": (
        "Không kết nối được Grafana tại {url}: {reason}",
        "Grafana at {url} is unreachable: {reason}",
    ),
    "revoked": ("Đã thu hồi thiết bị đo {agent}.", "Revoked agent {agent}."),
    "not_enrolled": (
        "Không có thiết bị đo {agent} trong {passwd}: không có gì để thu hồi.",
        "No agent {agent} in {passwd}: nothing to revoke.",
    ),
    "pki_written": (
        "Đã tạo CA và chứng thư máy chủ cho {names} trong {folder} (khóa chỉ chủ sở hữu đọc được).",
        "Created a CA and a server certificate for {names} in {folder} (keys readable by their owner only).",
    ),
    "deploy_ready": (
        "Đã tạo {env} và {secrets}. Khởi động: cd {folder} && docker compose up -d",
        "Wrote {env} and {secrets}. Start: cd {folder} && docker compose up -d",
    ),
    # Grafana dashboards
    "gf_title_province": ("dokiem · Toàn tỉnh", "dokiem · Province overview"),
    "gf_title_district": ("dokiem · Huyện cũ", "dokiem · Former district"),
    "gf_title_commune": ("dokiem · Xã", "dokiem · Commune"),
    "gf_title_fleet": ("dokiem · Thiết bị đo", "dokiem · Fleet health"),
    "gf_desc_province": (
        "Tốc độ băng rộng theo xã (từ 01/7/2025), huyện cũ, nhà mạng; cố định và di động tách riêng; tỷ lệ lượt"
        " đo đạt các ngưỡng quốc gia.",
        "Broadband speeds by commune (since 2025-07-01), former district and ISP; fixed and mobile apart; share"
        " of tests meeting the national thresholds.",
    ),
    "gf_desc_district": (
        "Huyện cũ (trước 01/7/2025) và các xã mới thuộc huyện: thiết bị đo, phân bố tốc độ, giờ cao điểm"
        " (19–23 h) so với các giờ khác.",
        "A former district (before 2025-07-01) and its 2025 communes: agents, speed distribution, peak hours"
        " (19–23 h) against the rest.",
    ),
    "gf_desc_commune": (
        "Một xã (từ 01/7/2025): thiết bị đo, nhà mạng, phân bố tốc độ, theo giờ trong ngày.",
        "One commune (since 2025-07-01): its agents, ISPs, speed distribution, hour of day.",
    ),
    "gf_desc_fleet": (
        "Thiết bị đo trực tuyến, lần cuối liên lạc, lượt đo bị lỡ, nhiệt độ CPU, hàng đợi gửi và lỗi.",
        "Agents online, last seen, missed runs, CPU temperature, outbox depth and errors.",
    ),
    "gf_map": ("Tốc độ tải xuống trung vị theo xã", "Median download by commune"),
    "gf_map_desc": (
        "Tô màu theo trung vị tải xuống của loại truy nhập đã chọn (mặc định: cố định); chấm tròn: huyện cũ.",
        "Shaded by the median download of the access type chosen (default: fixed); circles: former districts.",
    ),
    "gf_map_access": ("Bản đồ: loại truy nhập", "Map: access type"),
    "gf_communes": ("Xã (2025)", "Communes (2025)"),
    "gf_districts": ("Huyện cũ", "Former districts"),
    "gf_district": ("Huyện cũ", "Former district"),
    "gf_commune": ("Xã", "Commune"),
    "gf_medians_by_access": ("Trung vị theo loại truy nhập", "Medians by access type"),
    "gf_agents_in_commune": ("Thiết bị đo trong xã", "Agents in the commune"),
    "gf_isp": ("Nhà mạng", "ISP"),
    "gf_access": ("Loại truy nhập", "Access type"),
    "gf_ip_version": ("Phiên bản IP", "IP version"),
    "gf_international_median": (
        "Tốc độ tới máy chủ quốc tế (trung vị, tính riêng)",
        "Speed to international servers (median, kept apart)",
    ),
    "gf_agent": ("Thiết bị đo", "Agent"),
    "gf_agents": ("Thiết bị đo", "Agents"),
    "gf_province_median": ("Trung vị toàn tỉnh", "Province median"),
    "gf_fixed_down": ("Cố định · tải xuống", "Fixed · download"),
    "gf_fixed_up": ("Cố định · tải lên", "Fixed · upload"),
    "gf_mobile_down": ("Di động · tải xuống", "Mobile · download"),
    "gf_mobile_up": ("Di động · tải lên", "Mobile · upload"),
    "gf_download": ("Tải xuống (Mbit/s)", "Download (Mbit/s)"),
    "gf_upload": ("Tải lên (Mbit/s)", "Upload (Mbit/s)"),
    "gf_ranking": ("Xếp hạng theo {by}", "Ranking by {by}"),
    "gf_down_median": ("Tải xuống trung vị (Mbit/s)", "Download median (Mbit/s)"),
    "gf_down_p10": ("Tải xuống p10 (Mbit/s)", "Download p10 (Mbit/s)"),
    "gf_up_median": ("Tải lên trung vị (Mbit/s)", "Upload median (Mbit/s)"),
    "gf_up_p10": ("Tải lên p10 (Mbit/s)", "Upload p10 (Mbit/s)"),
    "gf_latency_median": ("Độ trễ trung vị (ms)", "Latency median (ms)"),
    "gf_loss_mean": ("Mất gói TB (%)", "Loss mean (%)"),
    "gf_tests": ("Lượt đo", "Tests"),
    "gf_failed": ("Lượt lỗi", "Failed"),
    "gf_last_download": ("Tải xuống lần cuối (Mbit/s)", "Last download (Mbit/s)"),
    "gf_trend_isp": ("Tải xuống trung vị theo nhà mạng", "Median download by ISP"),
    "gf_trend_access": ("Tải xuống trung vị theo loại truy nhập", "Median download by access type"),
    "gf_thresholds_row": ("Tỷ lệ lượt đo đạt ngưỡng", "Share of tests meeting the thresholds"),
    "gf_agents_in_district": ("Thiết bị đo trong huyện cũ", "Agents in the former district"),
    "gf_open_commune": ("Xem xã {name}", "Open commune {name}"),
    "gf_histogram": ("Phân bố tốc độ", "Speed distribution"),
    "gf_time_of_day": ("Tải xuống trung vị theo giờ trong ngày", "Median download by hour of day"),
    "gf_time_of_day_desc": ("Giờ địa phương (UTC+7); giờ cao điểm 19–23 h.", "Local time (UTC+7); peak 19–23 h."),
    "gf_hour": ("Giờ", "Hour"),
    "gf_peak": ("Giờ cao điểm (19–23 h)", "Peak hours (19–23 h)"),
    "gf_off_peak": ("Ngoài giờ cao điểm", "Off-peak"),
    "gf_agents_online": ("Thiết bị đo trực tuyến", "Agents online"),
    "gf_online": ("trực tuyến", "online"),
    "gf_offline": ("mất kết nối", "offline"),
    "gf_missed_runs": ("Lượt đo bị lỡ", "Missed runs"),
    "gf_missed": ("Bị lỡ", "Missed"),
    "gf_expected": ("Dự kiến", "Expected"),
    "gf_received": ("Đã nhận", "Received"),
    "gf_errors_by_reason": ("Lượt đo lỗi theo nguyên nhân", "Failed runs by reason"),
    "gf_quarantined_by_reason": ("Tin nhắn bị giữ lại theo lý do", "Quarantined messages by reason"),
    "gf_quarantined_desc": (
        "Tin nhắn bộ thu từ chối hoặc không xử lý được, được giữ lại để xem và nhận lại sau khi sửa"
        " (dokiem collector requeue).",
        "Messages the collector refused or failed to handle, kept to inspect and re-admit after a fix"
        " (dokiem collector requeue).",
    ),
    "gf_reason": ("Lý do", "Reason"),
    "gf_messages": ("Tin nhắn", "Messages"),
    "gf_error": ("Nguyên nhân", "Reason"),
    "gf_last_seen": ("Liên lạc lần cuối", "Last seen"),
    "gf_state": ("Trạng thái", "State"),
    "gf_temperature": ("Nhiệt độ CPU", "CPU temperature"),
    "gf_cpu": ("CPU", "CPU"),
    "gf_outbox": ("Hàng đợi gửi", "Outbox"),
    "gf_temperature_trend": ("Nhiệt độ CPU", "CPU temperature"),
    "gf_outbox_trend": ("Kết quả chờ gửi (hàng đợi)", "Results waiting to be sent (outbox)"),
    # Grafana alert rules: {agent}, {district}, {commune} are Grafana's templates of the series' tags;
    # every number comes from the rule itself
    "al_offline_title": ("Thiết bị đo mất kết nối quá {hours} giờ", "Agent offline for more than {hours} h"),
    "al_offline_summary": (
        "Thiết bị đo {agent} ({district}) mất kết nối hơn {hours} giờ: kiểm tra nguồn điện và đường truyền tại"
        " điểm đặt.",
        "Agent {agent} ({district}) has been offline for more than {hours} h: check its power and line on site.",
    ),
    "al_missed_title": (
        "Thiết bị đo bỏ lỡ trên {percent}% lượt đo trong {hours} giờ",
        "Agent missed over {percent}% of its runs in {hours} h",
    ),
    "al_missed_summary": (
        "Thiết bị đo {agent} bỏ lỡ trên {percent}% số lượt đo dự kiến trong {hours} giờ qua: xem bảng"
        ' "Thiết bị đo" (lỗi, hàng đợi gửi, nhiệt độ).',
        "Agent {agent} missed over {percent}% of its expected runs in the last {hours} h: see the fleet"
        " dashboard (errors, outbox, temperature).",
    ),
    "al_drop_title": (
        "Tốc độ cố định của xã giảm quá {percent}% so với {weeks} tuần",
        "Commune's fixed download down over {percent}% on its {weeks} weeks",
    ),
    "al_drop_summary": (
        "Trung vị tải xuống cố định {hours} giờ qua của {commune} thấp hơn {percent}% so với trung vị {weeks}"
        " tuần của chính xã.",
        "The last {hours} h median fixed download of {commune} is over {percent}% below its own {weeks}-week median.",
    ),
    "al_quarantine_title": ("Nhiều tin nhắn bị giữ lại", "Many messages quarantined"),
    "al_quarantine_summary": (
        'Hơn {count} tin nhắn bị từ chối hoặc lỗi xử lý trong một giờ: xem "Tin nhắn bị giữ lại theo lý do" và'
        " dokiem collector requeue sau khi sửa.",
        'Over {count} messages refused or failed in an hour: see "Quarantined messages by reason" and run'
        " dokiem collector requeue after the fix.",
    ),
    # dokiem regions
    "rg_which_province": ("chọn một tỉnh: {known}", "choose a province: {known}"),
    "rg_unknown_district": (
        "không có huyện cũ mã {code} trong {province}",
        "no former district {code} in {province}",
    ),
    "rg_unknown_code": (
        "mã {code} không có trong danh mục xã của {province} (trước hay sau 01/7/2025)",
        "code {code} is in neither commune list of {province} (before or since 2025-07-01)",
    ),
    "rg_listed": ("{count} đơn vị ({province}).", "{count} units ({province})."),
    "rg_since_reform": (
        "Từ 01/7/2025: {code} {name}, diện tích {area} km², gồm các đơn vị cũ:",
        "Since 2025-07-01: {code} {name}, {area} km², formed of the old units:",
    ),
    "rg_former_district": ("huyện cũ {district}: {units} đơn vị", "former district {district}: {units} units"),
    "rg_before_reform": (
        "Trước 01/7/2025: {code} {name}, thuộc {district}; nay thuộc: {into}",
        "Before 2025-07-01: {code} {name}, in {district}; now in: {into}",
    ),
    "rg_no_successor": (
        "không có trong bảng chuyển đổi (lỗi danh mục)",
        "none in the conversion table (a list error)",
    ),
    "rg_ambiguous": (
        "không xác định được xã (đơn vị cũ bị chia cho {among})",
        "no single commune (the old unit was split between {among})",
    ),
    "rg_filed": (
        "Kết quả đo ngày {day} dưới mã này được xếp vào: {commune}, huyện cũ {district}.",
        "A result of {day} under this code is filed under {commune}, former district {district}.",
    ),
    "rg_unreadable": ("Không đọc được danh sách: {problem}", "Cannot read the list: {problem}"),
    "rg_missing": ("thiếu trong tệp: {code} {name}", "missing from the file: {code} {name}"),
    "rg_extra": (
        "dòng {line}: {code} {name} không có trong danh mục của dokiem",
        "line {line}: {code} {name} is not in dokiem's list",
    ),
    "rg_renamed": (
        'dòng {line}: {code} ghi "{theirs}", danh mục ghi "{ours}"',
        'line {line}: {code} reads "{theirs}", the shipped list "{ours}"',
    ),
    "rg_duplicate": (
        "dòng {line}: mã {code} lặp lại (đã có ở dòng {first})",
        "line {line}: {code} repeats line {first}",
    ),
    "rg_checked": (
        "Đã so {rows} dòng với {shipped} đơn vị của danh mục: {differences} khác biệt.",
        "Compared {rows} rows with the {shipped} units shipped: {differences} differences.",
    ),
    "access_fixed": ("Cố định", "Fixed"),
    "access_mobile": ("Di động", "Mobile"),
    "access_unknown": ("Không rõ", "Not given"),
}


def default_lang() -> str:
    lang = os.environ.get("DOKIEM_LANG", "vi").lower()
    return lang if lang in LANGS else "vi"


class Translator:
    def __init__(self, lang: str = "vi") -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
        self.lang = lang
        self._index = LANGS.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = _MESSAGES[key][self._index] if key in _MESSAGES else key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in _MESSAGES

    def number(self, value: float, digits: int = 1) -> str:
        """A decimal number as readers of this language write it (Vietnamese: 941,2)."""
        text = f"{value:,.{digits}f}"
        if self.lang == "vi":
            text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
        return text

    def error(self, code: str, detail: str) -> str:
        key = f"err_{code}"
        if not self.has(key):
            return detail
        return f"{self(key)} ({detail})"

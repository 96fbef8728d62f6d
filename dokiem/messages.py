"""What the shared core says (the words every room uses, the regions, dokiem up), in Vietnamese and
English."""

from __future__ import annotations

from dokiem.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
    "download": ("Tải xuống", "Download"),
    "upload": ("Tải lên", "Upload"),
    "latency": ("Độ trễ", "Latency"),
    "jitter": ("Độ biến thiên trễ", "Jitter"),
    "loss": ("Mất gói", "Packet loss"),
    # the rest of the figures' labels (dokiem.figures), and how a column names a figure's statistic
    "loaded_latency": ("Độ trễ khi có tải", "Latency under load"),
    "loaded_latency_down": ("Độ trễ khi có tải, lúc tải xuống", "Latency under load, downloading"),
    "loaded_latency_up": ("Độ trễ khi có tải, lúc tải lên", "Latency under load, uploading"),
    "responsiveness": ("Độ phản hồi khi có tải", "Responsiveness under load"),
    "responsiveness_down": ("Độ phản hồi khi có tải, lúc tải xuống", "Responsiveness under load, downloading"),
    "responsiveness_up": ("Độ phản hồi khi có tải, lúc tải lên", "Responsiveness under load, uploading"),
    "dns": ("Phân giải DNS", "DNS lookup"),
    "cross_traffic_down": ("Lưu lượng khác, chiều xuống", "Others' traffic, down"),
    "cross_traffic_up": ("Lưu lượng khác, chiều lên", "Others' traffic, up"),
    "stat_median": ("trung vị", "median"),
    "stat_mean": ("trung bình", "mean"),
    "figure_stat": ("{figure} {stat} ({unit})", "{figure} {stat} ({unit})"),
    "figure_unit": ("{figure} ({unit})", "{figure} ({unit})"),
    "flags": ("Cảnh báo", "Warnings"),
    "error": ("Lỗi", "Error"),
    "started": ("Bắt đầu", "Started"),
    "bad_option": ("Tham số không hợp lệ: {reason}", "Invalid option: {reason}"),
    "options_together": ("{options} phải dùng cùng nhau", "{options} go together"),
    "option_above": ("{option} không được lớn hơn {other}", "{option} cannot exceed {other}"),
    "need_collector_extra": (
        "Lệnh này cần gói phía máy chủ: pip install 'dokiem[collector]'",
        "This command needs the server-side extra: pip install 'dokiem[collector]'",
    ),
    "listen_failed": ("Không mở được cổng {listen}: {reason}", "Cannot listen on {listen}: {reason}"),
    "up_started": (
        "dokiem đang chạy: máy chủ đo {url}, {every}, dữ liệu trong {data}.\n"
        "API: {api} (Authorization: Bearer {token}). Trang đo cho người dân: {page}. Nhấn Ctrl+C để dừng.",
        "dokiem is running: test server {url}, {every}, data in {data}.\n"
        "API: {api} (Authorization: Bearer {token}). Residents' test page: {page}. Press Ctrl+C to stop.",
    ),
    "up_placed": (
        "Thiết bị đo của dokiem up đặt tại {commune} (mã {code}), {province} (mã {province_code}); đường truyền"
        " {access}, nhà mạng {isp}. Đổi bằng --province, --commune, --access, --isp.",
        "dokiem up's agent stands in {commune} (code {code}), {province} (code {province_code}); a {access} line"
        " from {isp}. Change it with --province, --commune, --access, --isp.",
    ),
    "up_site": (
        "Trang công bố: {site} (cập nhật bằng lệnh {publish} trong thư mục này).",
        "The public site: {site} (updated by running {publish} in this folder).",
    ),
    "up_commune_none": ("không xã nào", "none"),
    "up_commune_unknown": (
        "“{text}” không chỉ đúng một xã của {province} (tìm thấy: {found}). Ghi tên đầy đủ hoặc mã xã"
        " (dokiem regions list).",
        "“{text}” names no single commune of {province} (found: {found}). Give the whole name or the code"
        " (dokiem regions list).",
    ),
    "up_isp_unknown": (
        "“{text}” không phải nhà mạng {access} trong danh mục; chọn một trong: {known}.",
        "“{text}” is not a listed {access} operator; choose one of: {known}.",
    ),
    "demo_filling": (
        "Đang tạo dữ liệu mẫu cho quý {quarter} của {province} (thiết bị đo ở mọi xã, cố định và di động,"
        " kết quả người dân tự đo)…",
        "Generating the demo quarter {quarter} of {province} (agents in every commune, fixed and mobile,"
        " residents' tests)…",
    ),
    "demo_filled": ("\nĐã ghi {count} kết quả mẫu vào kho lưu trữ.", "\nWrote {count} demo results into the archive."),
    "demo_there": ("Kho lưu trữ đã có dữ liệu mẫu.", "The archive holds the demo data already."),
    "demo_holder": ("dữ liệu mẫu của dokiem", "dokiem's demo data"),
    "demo_not_trial": (
        "Kho lưu trữ {archive} có kết quả của thiết bị đo thật ({agents}): dữ liệu mẫu không được trộn vào."
        " Chạy dokiem up --demo với --data-dir một thư mục mới.",
        "The archive {archive} holds results from real agents ({agents}): demo data is never mixed in. Run"
        " dokiem up --demo with --data-dir a new folder.",
    ),
    "up_influx_backlog": (
        "Đang ghi {count} kết quả của kho lưu trữ vào InfluxDB (còn lại):",
        "Writing {count} of the archive's results into InfluxDB (left):",
    ),
    "up_influx_down": (
        "\nInfluxDB chưa nhận ({error}); kho lưu trữ giữ đủ và ghi tiếp khi InfluxDB trả lời.",
        "\nInfluxDB does not answer ({error}); the archive keeps everything and writes it once InfluxDB answers.",
    ),
    "up_every": ("đo mỗi {minutes} phút", "measuring every {minutes} min"),
    "up_runs": ("đo {runs} lần rồi dừng", "measuring {runs} time(s), then stopping"),
    "up_next": ("Lần đo tiếp theo lúc {time}.", "Next measurement at {time}."),
    "stopped": ("Đã dừng.", "Stopped."),
    "col_time": ("Thời điểm", "Time"),
    "col_status": ("Trạng thái", "Status"),
    "ok": ("đạt", "ok"),
    # agent service
    "config_error": ("Lỗi cấu hình ({where}): {problem}", "Configuration error ({where}): {problem}"),
    "agent": ("Máy đo", "Agent"),
    "broker": ("Máy chủ MQTT", "MQTT broker"),
    "online": ("đang kết nối", "online"),
    "offline": ("mất kết nối", "offline"),
    # dokiem regions
    "rg_which_province": (
        "chọn một tỉnh bằng --province hoặc collector.province: {known}",
        "choose a province with --province or collector.province: {known}",
    ),
    "rg_unknown_province": (
        "không có tỉnh mã {code}; các mã: {known}",
        "no province has code {code}; the codes: {known}",
    ),
    "rg_with_districts": ("có {count} huyện cũ", "with {count} former districts"),
    "rg_provinces": ("{count} tỉnh, thành phố.", "{count} provinces."),
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
    # the flags of a Result (contract.Flag)
    "flag_cpu_saturated": (
        "CPU máy đo quá tải: kết quả có thể thấp hơn thực tế",
        "agent CPU saturated: figures may read low",
    ),
    "flag_cpu_throttled": ("CPU máy đo bị giới hạn trong lúc đo", "agent CPU was throttled during the run"),
    "flag_wifi": ("đo qua Wi-Fi, không phải cáp mạng", "measured over Wi-Fi, not a cable"),
    "flag_server_busy": ("máy chủ đo đang bận", "the test server was busy"),
    "flag_cross_traffic": ("có lưu lượng khác trên đường truyền khi đo", "other traffic on the line during the run"),
    "flag_clock_unsynced": (
        "đồng hồ máy đo chưa đồng bộ NTP khi đo (đã chờ rồi vẫn đo)",
        "the agent's clock was not NTP-synchronised (it waited, then measured)",
    ),
    "flag_clock_offset": (
        "đồng hồ máy đo lệch so với máy chủ đo: thời điểm đo đã được chỉnh theo máy chủ",
        "the agent's clock was off the test server's: the run is filed at the server's time",
    ),
    "flag_app_counted": (
        "số byte do phần mềm đếm, không phải nhân hệ điều hành (không có tcp_info)",
        "bytes counted by the program, not the kernel (no tcp_info)",
    ),
    "flag_site_mismatch": (
        "máy đo khai địa điểm khác nơi đăng ký: kết quả được xếp theo nơi đăng ký",
        "the agent named another site than it was enrolled at: filed at the enrolled one",
    ),
    "flag_above_plan": (
        "tốc độ vượt quá ba lần gói cước: gói cước ghi nhận có thể đã cũ",
        "a speed over three times the plan: the plan on file is likely out of date",
    ),
    "flag_operator_mismatch": (
        "modem đang dùng mạng khác nhà mạng khai báo của điểm đo",
        "the modem is on another network than the site's declared ISP",
    ),
    "flag_page_disagrees": (
        "trang đo của người dân đọc lệch hơn 10% so với số máy chủ đo đếm được (lưu số của máy chủ)",
        "the resident's page read over 10% off the test server's count (the server's is kept)",
    ),
    "flag_server_unsure": (
        "máy chủ đo không đếm chắc được một chiều của lượt đo (quá ngắn hoặc không đọc được kết nối): không có số cho"
        " chiều đó",
        "the test server could not vouch for a direction's count (too short, or a connection unreadable): no figure"
        " for it",
    ),
    "flag_router_unusable": (
        "bộ đếm của bộ định tuyến không khớp (thấp hơn lưu lượng của chính lượt đo, vượt dung lượng đường truyền,"
        " hoặc bị đặt lại): không tính lưu lượng khác",
        "the router's counters did not add up (below the run's own bytes, above the line, or reset): others'"
        " traffic is not given",
    ),
    "access_fixed": ("Cố định", "Fixed"),
    "access_mobile": ("Di động", "Mobile"),
    "access_public_wifi": ("Wi-Fi công cộng", "Public Wi-Fi"),
    # the radio's technology (contract.Technology): mobile generations and a hotspot's Wi-Fi
    "technology_2g": ("2G", "2G"),
    "technology_3g": ("3G", "3G"),
    "technology_4g": ("4G", "4G"),
    "technology_5g": ("5G", "5G"),
    "technology_wifi": ("Wi-Fi công cộng", "Public Wi-Fi"),
    "access_unknown": ("Không rõ", "Not given"),
    "rpt_written": ("Đã ghi {path}", "Wrote {path}"),  # the report's files, the dashboards' provisioning
}
add_texts(TEXTS)

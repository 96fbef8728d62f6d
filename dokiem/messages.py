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
    "flags": ("Cảnh báo", "Warnings"),
    "error": ("Lỗi", "Error"),
    "started": ("Bắt đầu", "Started"),
    "bad_option": ("Tham số không hợp lệ: {reason}", "Invalid option: {reason}"),
    "need_collector_extra": (
        "Lệnh này cần gói phía máy chủ: pip install 'dokiem[collector]'",
        "This command needs the server-side extra: pip install 'dokiem[collector]'",
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
    "agent": ("Máy đo", "Agent"),
    "broker": ("Máy chủ MQTT", "MQTT broker"),
    "online": ("đang kết nối", "online"),
    "offline": ("mất kết nối", "offline"),
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
add_texts(TEXTS)

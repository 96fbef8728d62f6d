"""What the dashboards and the alert rules say."""

from __future__ import annotations

from dokiem.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
    "grafana_refused": ("Grafana tại {url} từ chối: {reason}", "Grafana at {url} refused: {reason}"),
    "grafana_unreachable": (
        "Không kết nối được Grafana tại {url}: {reason}",
        "Grafana at {url} is unreachable: {reason}",
    ),
    # Grafana dashboards
    "gf_title_province": ("dokiem · Toàn tỉnh", "dokiem · Province overview"),
    "gf_title_district": ("dokiem · Huyện cũ", "dokiem · Former district"),
    "gf_title_commune": ("dokiem · Xã", "dokiem · Commune"),
    "gf_title_fleet": ("dokiem · Thiết bị đo", "dokiem · Fleet health"),
    "gf_years_trend": ("Tải xuống trung vị theo tháng, 5 năm", "Median download by month, five years"),
    "gf_years_trend_desc": (
        "Trung vị của các trung vị từng giờ, từ bản tổng hợp theo giờ InfluxDB giữ mãi mãi (số liệu thô có thể đã"
        " được xóa theo thời hạn lưu): gần đúng, còn báo cáo quý đọc từ kho lưu trữ từng lần đo.",
        "The median of the hours' medians, from the hourly aggregates InfluxDB keeps for ever (the raw points may be"
        " gone by their retention): close, while the quarterly report reads every test from the archive.",
    ),
    "gf_title_server": ("dokiem · Máy chủ", "dokiem · The server"),
    "gf_desc_server": (
        "Trạng thái của chính bộ thu, ghi mỗi phút: tin nhắn nhận và bị từ chối, hàng đợi InfluxDB, dung lượng kho"
        " lưu trữ, đĩa, số giờ từ lần sao lưu gần nhất, số ngày đến khi chứng thư hết hạn.",
        "The collector's own state, written each minute: messages taken and refused, InfluxDB's backlog, the"
        " archive's size, the disk, hours since the last backup, days to a certificate's expiry.",
    ),
    "gf_disk_used": ("Đĩa đã dùng", "Disk used"),
    "gf_backup_age": ("Giờ từ lần sao lưu gần nhất", "Hours since the last backup"),
    "gf_cert_days": ("Ngày đến khi chứng thư hết hạn", "Days to a certificate's expiry"),
    "gf_influx_backlog": ("Kết quả chờ ghi vào InfluxDB", "Results waiting for InfluxDB"),
    "gf_messages_trend": ("Tin nhắn nhận và bị từ chối mỗi phút", "Messages taken and refused a minute"),
    "gf_archive_trend": ("Dung lượng kho lưu trữ", "The archive's size"),
    "gf_title_residents": ("dokiem · Người dân tự đo", "dokiem · Residents' own tests"),
    "gf_desc_residents": (
        "Kết quả người dân tự đo trên trang đo của tỉnh (số đo do máy chủ đo xác nhận): số lượt theo xã, trung vị"
        " theo nhà mạng và loại truy nhập, tỷ lệ đạt các ngưỡng quốc gia. Mẫu tự chọn, không gộp với số liệu của"
        " các thiết bị đo; lượt đo qua Wi-Fi được giữ và đánh dấu.",
        "Residents' own tests on the province's test page (figures vouched for by the test server): tests per"
        " commune, medians by ISP and access type, share meeting the national thresholds. A self-selected"
        " sample, never pooled with the agents' figures; tests over Wi-Fi are kept and marked.",
    ),
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
    "gf_map_desc_communes": (
        "Tô màu theo trung vị tải xuống của loại truy nhập đã chọn (mặc định: cố định).",
        "Shaded by the median download of the access type chosen (default: fixed).",
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
    "gf_title_coverage": ("dokiem · Khảo sát vùng phủ sóng di động", "dokiem · Mobile coverage surveys"),
    "gf_desc_coverage": (
        "Mẫu khảo sát của xe đo (dokiem agent survey): số mẫu, tỷ lệ có dịch vụ và tín hiệu theo nhà mạng, xã và"
        " công nghệ. Khu vực lõm sóng theo quy tắc trong thresholds.toml nằm trong báo cáo quý và trang công bố.",
        "The survey cars' samples (dokiem agent survey): samples, the share with service and the signal by"
        " operator, commune and technology. The coverage holes (the rule in thresholds.toml) are in the quarterly"
        " report and on the public site.",
    ),
    "gf_cov_by": ("Vùng phủ theo {by}", "Coverage by {by}"),
    "gf_cov_samples": ("Số mẫu", "Samples"),
    "gf_cov_service": ("Có dịch vụ", "With service"),
    "gf_cov_rsrp": ("RSRP trung vị (dBm)", "Median RSRP (dBm)"),
    "gf_cov_progress": ("Mẫu khảo sát mỗi giờ", "Survey samples an hour"),
    "gf_agents": ("Thiết bị đo", "Agents"),
    "gf_province_median": ("Trung vị toàn tỉnh", "Province median"),
    "gf_fixed_down": ("Cố định · tải xuống", "Fixed · download"),
    "gf_fixed_up": ("Cố định · tải lên", "Fixed · upload"),
    "gf_mobile_down": ("Di động · tải xuống", "Mobile · download"),
    "gf_mobile_up": ("Di động · tải lên", "Mobile · upload"),
    "gf_ranking": ("Xếp hạng theo {by}", "Ranking by {by}"),
    "gf_latency_added": ("Độ trễ tăng khi tải (ms)", "Latency added under load (ms)"),
    "gf_rpm_level": ("Mức phản hồi", "Responsiveness level"),
    "gf_rpm_low": ("Thấp: gọi video bị giật khi đường truyền bận", "Low: video calls stutter while the line is busy"),
    "gf_rpm_medium": ("Trung bình", "Medium"),
    "gf_rpm_high": ("Cao", "High"),
    "gf_bloated": ("Bộ đệm phình", "Bloated buffer"),
    "gf_responsiveness": ("Độ trễ khi đường truyền bận", "Latency while the line is busy"),
    "gf_radio": ("Tốc độ theo nhà mạng, công nghệ và mức sóng", "Speed by operator, technology and signal"),
    "gf_radio_desc": (
        "Máy đo di động (modem 4G/5G) và Wi-Fi công cộng: tốc độ đặt cạnh sóng lúc đo, vì sóng yếu không phải"
        " mạng chậm. Sóng di động (RSRP) từ {good} dBm là tốt, dưới {poor} dBm là yếu; Wi-Fi từ {wifi_good} dBm"
        " là tốt, dưới {wifi_poor} dBm là yếu (thresholds.toml, mục [radio]).",
        "Mobile agents (4G/5G modems) and public Wi-Fi: each speed beside the signal it was measured at, since a"
        " weak signal is not a slow network. Mobile signal (RSRP) from {good} dBm is good, under {poor} dBm"
        " poor; Wi-Fi from {wifi_good} dBm good, under {wifi_poor} dBm poor (thresholds.toml, [radio]).",
    ),
    "gf_operator": ("Nhà mạng", "Operator"),
    "gf_hotspots": ("Wi-Fi công cộng theo điểm phát", "Public Wi-Fi by site"),
    "gf_hotspots_desc": (
        "Các điểm Wi-Fi công cộng của kế hoạch (khu du lịch, bệnh viện, bến xe): mỗi thiết bị đo một điểm, Wi-Fi"
        " là dịch vụ được đo, tính riêng, không gộp với cố định hay di động.",
        "The plan's public Wi-Fi hotspots (tourist sites, hospitals, bus stations): one agent each; the Wi-Fi is"
        " the service measured, kept apart from fixed and mobile.",
    ),
    "gf_rssi": ("Sóng Wi-Fi trung vị (dBm)", "Median Wi-Fi signal (dBm)"),
    "gf_technology": ("Công nghệ", "Technology"),
    "gf_signal": ("Mức sóng", "Signal"),
    "gf_signal_good": ("Tốt", "Good"),
    "gf_signal_fair": ("Trung bình", "Fair"),
    "gf_signal_poor": ("Yếu", "Poor"),
    "gf_rsrp": ("RSRP trung vị (dBm)", "Median RSRP (dBm)"),
    "gf_sinr": ("SINR trung vị (dB)", "Median SINR (dB)"),
    "gf_responsiveness_desc": (
        "Độ phản hồi: số lượt khứ hồi mỗi phút khi đường truyền đang tải đầy (RPM, theo dự thảo IETF"
        " draft-ietf-ippm-responsiveness). Dưới {low} RPM là thấp, từ {high} RPM là cao. Độ trễ tăng từ"
        " {added} ms trở lên khi tải: bộ đệm phình (bufferbloat), cuộc gọi video bị giật dù tốc độ cao.",
        "Responsiveness: round trips a minute while the line is fully loaded (RPM, IETF"
        " draft-ietf-ippm-responsiveness). Under {low} RPM is low, from {high} RPM high. Latency rising by"
        " {added} ms or more under load: a bloated buffer (bufferbloat); video calls stutter however fast the line.",
    ),
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
    # Grafana alert rules: {agent}, {commune} are Grafana's templates of the series' tags (the commune: every
    # province has them, the former districts only some);
    # every number comes from the rule itself
    "al_offline_title": ("Thiết bị đo mất kết nối quá {hours} giờ", "Agent offline for more than {hours} h"),
    "al_offline_summary": (
        "Thiết bị đo {agent} ({commune}) mất kết nối hơn {hours} giờ: kiểm tra nguồn điện và đường truyền tại"
        " điểm đặt.",
        "Agent {agent} ({commune}) has been offline for more than {hours} h: check its power and line on site.",
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
    "al_stopped_title": ("Bộ thu đã dừng", "The collector has stopped"),
    "al_stopped_summary": (
        "Không bộ thu nào ghi trạng thái trong {minutes} phút: bộ thu dừng hoặc không ghi được vào InfluxDB. Xem"
        " systemctl status dokiem-collector và journalctl -u dokiem-collector trên máy chủ.",
        "No collector has written its state for {minutes} minutes: it has stopped, or cannot write InfluxDB. See"
        " systemctl status dokiem-collector and journalctl -u dokiem-collector on the server.",
    ),
    "al_disk_title": ("Đĩa máy chủ sắp đầy ({collector})", "The server's disk is filling ({collector})"),
    "al_disk_summary": (
        "{collector}: đĩa chứa dữ liệu của bộ thu đã dùng hơn {percent}%: giải phóng chỗ hoặc thêm đĩa trước"
        " khi bộ thu không ghi được kết quả.",
        "{collector}: the disk under the collector's data is over {percent}% full: free space or add a disk"
        " before the collector cannot write results.",
    ),
    "al_backup_title": ("Chưa sao lưu ({collector})", "No recent backup ({collector})"),
    "al_backup_summary": (
        "{collector}: hơn {hours} giờ không có bản sao lưu nào: xem lịch dokiem backup (cron) và chạy dokiem"
        " backup verify với bản mới nhất.",
        "{collector}: no backup for over {hours} hours: check the dokiem backup schedule (cron) and run"
        " dokiem backup verify on the newest one.",
    ),
    "al_certificate_title": ("Chứng thư sắp hết hạn ({collector})", "A certificate is near its expiry ({collector})"),
    "al_certificate_summary": (
        "{collector}: một chứng thư bộ thu theo dõi còn dưới {days} ngày: chạy dokiem pki renew rồi khởi động"
        " lại Mosquitto (thiết bị đo không cần đăng ký lại).",
        "{collector}: a certificate the collector watches ends within {days} days: run dokiem pki renew, then"
        " restart Mosquitto (no agent needs enrolling again).",
    ),
    "al_quarantine_title": ("Nhiều tin nhắn bị giữ lại", "Many messages quarantined"),
    "al_quarantine_summary": (
        'Hơn {count} tin nhắn bị từ chối hoặc lỗi xử lý trong một giờ: xem "Tin nhắn bị giữ lại theo lý do" và'
        " dokiem collector requeue sau khi sửa.",
        'Over {count} messages refused or failed in an hour: see "Quarantined messages by reason" and run'
        " dokiem collector requeue after the fix.",
    ),
}
add_texts(TEXTS)

"""What the quarterly report, its key figures and findings, the Word document and the public site say."""

from __future__ import annotations

from dokiem.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
    # quarterly report
    "rpt_title": ("Báo cáo chất lượng băng rộng {quarter}", "Broadband quality report, {quarter}"),
    # a no-break space: "Quý" never ends a line apart from its number
    "rpt_quarter": ("Quý\u00a0{roman}/{year}", "Q{number}\u00a0{year}"),
    "rpt_subtitle": (
        "{province} · {start} – {end} · số liệu nhận đến {cutoff} · lập lúc {generated}",
        "{province} · {start} – {end} · data received by {cutoff} · generated {generated}",
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
    # coverage surveys (issue 30): the holes, the commune centres
    "docx_s_coverage": ("KHU VỰC LÕM SÓNG", "COVERAGE HOLES"),
    "rpt_table_coverage_holes": ("Khu vực lõm sóng theo nhà mạng", "Coverage holes by operator"),
    "rpt_table_coverage_centres": ("Trung tâm xã có sóng 5G", "Commune centres on 5G"),
    "rpt_cov_none": (
        "Trong quý chưa có khảo sát vùng phủ sóng (dokiem agent survey): chưa xác định được khu vực lõm sóng.",
        "No coverage survey ran this quarter (dokiem agent survey): no coverage hole can be named yet.",
    ),
    "rpt_cov_found": (
        "Khảo sát vùng phủ trong quý tìm thấy {holes} ô lõm sóng của {operators} nhà mạng; {on_5g} trong {centres}"
        " lượt trung tâm xã được khảo sát có sóng 5G dùng được.",
        "The quarter's coverage surveys found {holes} coverage-hole cells of {operators} operators; {on_5g} of the"
        " {centres} surveyed commune centres (by operator) have usable 5G.",
    ),
    "rpt_cov_rule": (
        "Mỗi ô là một lục giác H3 (khoảng {area} km²); một ô là lõm sóng của một nhà mạng khi dưới {share}% số"
        " mẫu có băng rộng di động dùng được (4G/5G, RSRP từ {rsrp} dBm, tốc độ từ {mbps} Mbit/s khi đo), qua ít"
        " nhất {days} ngày và {samples} mẫu (thresholds.toml, mục [coverage]). Chỉ những nơi đã khảo sát mới được"
        " xét.",
        "Each cell is an H3 hexagon (about {area} km²); a cell is a coverage hole of an operator when under {share}%"
        " of its samples give usable mobile broadband (4G/5G at an RSRP of {rsrp} dBm or better, {mbps} Mbit/s or"
        " more where tested), seen on at least {days} days with {samples} samples (thresholds.toml, [coverage])."
        " Only surveyed places are judged.",
    ),
    "rpt_cov_letter": (
        "Danh sách khu vực lõm sóng gửi {operator} (dokiem, khảo sát vùng phủ).",
        "Coverage holes to send to {operator} (dokiem, coverage survey).",
    ),
    "rpt_cov_operator": ("Nhà mạng", "Operator"),
    "rpt_cov_commune_name": ("Xã, phường", "Commune"),
    "rpt_cov_commune_code": ("Mã xã", "Commune code"),
    "rpt_cov_cell": ("Ô (H3)", "Cell (H3)"),
    "rpt_cov_samples": ("Số mẫu", "Samples"),
    "rpt_cov_days": ("Số ngày", "Days"),
    "rpt_cov_first_seen": ("Lần đầu", "First seen"),
    "rpt_cov_last_seen": ("Lần cuối", "Last seen"),
    "rpt_cov_best_class": ("Tốt nhất đã thấy", "Best seen"),
    "rpt_cov_broadband_share": ("Có băng rộng (% mẫu)", "With broadband (% of samples)"),
    "rpt_cov_service_share": ("Có dịch vụ (% mẫu)", "With service (% of samples)"),
    "rpt_cov_best_rsrp_dbm": ("RSRP tốt nhất (dBm)", "Best RSRP (dBm)"),
    "rpt_cov_download_median_mbps": ("Tải xuống trung vị khi đo (Mbit/s)", "Median download where tested (Mbit/s)"),
    "rpt_cov_five_g": ("Có 5G dùng được", "Usable 5G"),
    "rpt_cov_last_five_g": ("Lần cuối thấy 5G", "5G last seen"),
    # residents' "no signal" reports (issue 31): "người dân báo" beside "đo kiểm"
    "rpt_table_coverage_reported": (
        "Nơi người dân báo mất sóng theo nhà mạng",
        "Where residents reported no signal, by operator",
    ),
    "rpt_cov_reported": (
        "Người dân báo mất sóng (trang đo của tỉnh, mục Báo mất sóng): {cells} ô với {reports} lượt báo đủ điều kiện"
        " công bố, tức có báo từ ít nhất {senders} người gửi khác nhau trong ít nhất {days} ngày. Đây là lời báo của"
        " người dân, liệt kê riêng, không gộp với số liệu khảo sát.",
        "Residents' reports of no signal (the province's test page, Report no signal): {cells} cells with {reports}"
        " reports qualify, i.e. reported by at least {senders} different senders on at least {days} days. These are"
        " residents' word, listed apart, never pooled with the surveys' figures.",
    ),
    "rpt_cov_reports": ("Số lượt báo", "Reports"),
    "rpt_cov_senders": ("Số người gửi (ít nhất)", "Senders (at least)"),
    "rpt_cov_first_reported": ("Báo lần đầu", "First reported"),
    "rpt_cov_last_reported": ("Báo lần cuối", "Last reported"),
    "rpt_cov_failure_no_signal": ("Không có sóng", "No signal"),
    "rpt_cov_failure_no_data": ("Có sóng, không vào mạng", "Signal, no data"),
    "rpt_cov_failure_too_slow": ("Mạng quá chậm", "Too slow to use"),
    "cov_class_none": ("Không có băng rộng", "No broadband"),
    "cov_class_2g3g": ("Chỉ 2G/3G", "2G/3G only"),
    "cov_class_4g": ("4G", "4G"),
    "cov_class_5g": ("5G", "5G"),
    "cov_yes": ("Có", "Yes"),
    "cov_by_survey": ("khảo sát", "survey"),
    "cov_by_agent": ("máy đo di động tại xã", "the commune's mobile agent"),
    "rpt_cov_evidence": ("Căn cứ", "Evidence"),
    "cov_no": ("Chưa", "Not yet"),
    "rpt_table_districts": ("Theo huyện cũ", "By former district"),
    "rpt_table_communes": ("Theo xã (từ 01/7/2025)", "By commune (since 2025-07-01)"),
    "rpt_table_isps": ("Theo nhà mạng", "By ISP"),
    "rpt_table_residents_communes": ("Người dân tự đo: theo xã", "Residents' own tests: by commune"),
    "rpt_table_residents_isps": ("Người dân tự đo: theo nhà mạng", "Residents' own tests: by ISP"),
    "rpt_s_residents": ("KẾT QUẢ ĐO CỦA NGƯỜI DÂN", "RESIDENTS' OWN TESTS"),
    "rpt_residents_counts": (
        "Trong quý, người dân tự đo {tests} lượt trên trang đo của tỉnh ({wifi} lượt qua Wi-Fi, được giữ và đánh"
        " dấu vì Wi-Fi là một phần chất lượng người dân nhận được). Số đo là số máy chủ đo của tỉnh đếm và ký"
        " xác nhận, không phải số trình duyệt tự báo.",
        "In the quarter residents ran {tests} tests of their own on the province's test page ({wifi} over Wi-Fi,"
        " kept and marked: their Wi-Fi is part of what they get). The figures are those the province's test"
        " server counted and signed, not the browser's own word.",
    ),
    "rpt_residents_sample": (
        "Đây là mẫu tự chọn: người dân đo khi muốn, thường khi đường truyền có vấn đề, trên điện thoại hoặc"
        " máy tính và mạng trong nhà của họ; còn thiết bị đo của xã đo theo lịch cố định trên một đường truyền"
        " đã biết. Vì vậy hai nguồn được trình bày riêng, không gộp và không dùng để xếp hạng lẫn nhau.",
        "This is a self-selected sample: residents test when they choose, often when the line troubles them,"
        " on their own phones, computers and home networks; the communes' agents measure on a fixed schedule"
        " on a known line. The two sources are therefore shown apart, never pooled or ranked against each other.",
    ),
    "rpt_residents_none": (
        "Trong quý chưa có lượt người dân tự đo nào.",
        "No resident tested their line this quarter.",
    ),
    "rpt_table_access": ("Theo loại truy nhập", "By access type"),
    "rpt_table_technologies": (
        "Theo công nghệ vô tuyến (di động 4G, 5G; Wi-Fi công cộng)",
        "By radio technology (mobile 4G, 5G; public Wi-Fi)",
    ),
    "rpt_table_thresholds": ("Ngưỡng chất lượng và nguồn", "Quality thresholds and sources"),
    "rpt_part_speed": ("tốc độ", "speeds"),
    "rpt_part_quality": ("so với gói cước, ngưỡng và quý trước", "against plan, thresholds and last quarter"),
    "rpt_chart_districts": (
        "Tốc độ tải xuống trung vị theo huyện cũ, cố định và di động (Mbit/s)",
        "Median download by former district, fixed and mobile (Mbit/s)",
    ),
    "rpt_chart_thin": ("* chưa đủ số lượt đo", "* too few tests"),
    "rpt_map_title": (
        "Tốc độ tải xuống cố định trung vị theo xã (từ 01/7/2025)",
        "Median fixed download by commune (since 2025-07-01)",
    ),
    # dokiem publish: the public site
    "pub_site": ("Chất lượng Internet băng rộng · {province}", "Broadband quality · {province}"),
    "pub_title": ("Chất lượng Internet băng rộng {quarter} · {province}", "Broadband quality, {quarter} · {province}"),
    "pub_intro": (
        "Kết quả đo kiểm tốc độ Internet băng rộng tại các xã, phường của {province_in_text}, {quarter}. Đường"
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
    "pub_no_tests_long": ("Chưa có lượt đo nào trong quý.", "No tests this quarter."),
    "pub_period": ("{quarter} ({start} – {end})", "{quarter} ({start} – {end})"),
    "pub_communes": ("Các xã, phường", "Communes"),
    "pub_not_ranked": (
        "Xếp theo tên, không xếp hạng. Xã chưa đủ số liệu không được công bố số liệu.",
        "In name order, not ranked. A commune without enough data has no figure published.",
    ),
    "pub_districts": ("Theo huyện cũ", "By former district"),
    "pub_isps": ("Theo nhà mạng", "By ISP"),
    "pub_residents": ("Người dân tự đo", "Residents' own tests"),
    "pub_residents_about": (
        "Kết quả người dân tự đo trên trang đo của tỉnh, do máy chủ đo xác nhận; là mẫu tự chọn (đo khi muốn,"
        " kể cả qua Wi-Fi trong nhà) nên được trình bày riêng, không gộp với số liệu của thiết bị đo ở trên.",
        "Residents' own tests on the province's test page, vouched for by the test server; a self-selected"
        " sample (tested when they chose, home Wi-Fi included), so shown apart from the agents' figures above.",
    ),
    "pub_residents_counts": ("{tests} lượt người dân tự đo.", "{tests} tests by residents."),
    "pub_residents_thin": (
        "Chưa đủ số liệu để công bố ({tests} lượt; cần {minimum} lượt từ ít nhất {addresses} địa chỉ khác nhau,"
        " trong ít nhất {days} ngày).",
        "Not enough data to publish ({tests} tests; {minimum} from at least {addresses} different addresses, on at"
        " least {days} days, needed).",
    ),
    "pub_residents_none": ("Chưa có lượt người dân tự đo nào trong quý.", "No resident tested here this quarter."),
    "pub_fixed_median": ("Cố định: tải xuống trung vị (Mbit/s)", "Fixed: median download (Mbit/s)"),
    "pub_mobile_median": ("Di động: tải xuống trung vị (Mbit/s)", "Mobile: median download (Mbit/s)"),
    "pub_change": ("Cố định: thay đổi so với quý trước (Mbit/s)", "Fixed: change on the previous quarter (Mbit/s)"),
    "pub_figure": ("Chỉ số", "Figure"),
    "pub_median": ("Trung vị", "Median"),
    "pub_counts": ("{tests} lượt đo từ {agents} thiết bị đo.", "{tests} tests from {agents} agents."),
    "pub_former_district": ("Huyện cũ: {districts}", "Former district: {districts}"),
    "pub_method_title": ("Cách đo", "How it is measured"),
    "pub_method": (
        "Thiết bị đo đặt tại trụ sở xã đo định kỳ như i-Speed (VNNIC): tải xuống và tải lên qua nhiều luồng"
        " HTTP song song tới máy chủ đo trong nước, độ trễ từ các yêu cầu lặp lại. Số liệu là trung vị các lượt"
        " đo thành công; p10 và p90 cho biết độ phân tán. Lượt đo khi thiết bị quá tải, qua Wi-Fi hoặc có lưu"
        " lượng khác trên đường truyền bị loại. Một nhóm chỉ được công bố khi có ít nhất {minimum} lượt đo thành"
        " công; nhóm có thiết bị đo đặt tại hộ gia đình cần thêm ít nhất {agents} thiết bị đo.",
        "Agents in the commune offices measure on a schedule as VNNIC's i-Speed does: download and upload over"
        " several parallel HTTP streams to a domestic test server, latency from repeated requests. Figures are"
        " medians of the successful tests; p10 and p90 show the spread. Tests taken on an overloaded agent, over"
        " Wi-Fi or with other traffic on the line are left out. A group is published only with at least"
        " {minimum} successful tests; a group with an agent in a household also needs at least {agents} agents.",
    ),
    "pub_footer": (
        "Số liệu chốt lúc {cut}; phương pháp dokiem {version}; dữ liệu theo giấy phép {licence}.",
        "Data cut at {cut}; method dokiem {version}; data licensed {licence}.",
    ),
    "pub_open_data": ("Dữ liệu mở", "Open data"),
    "pub_dictionary_coverage": (
        "coverage.csv: {cells} ô đã khảo sát theo nhà mạng ({columns}); cell là ô lục giác H3, nơi nhỏ nhất được"
        " công bố (không có tọa độ); best_class: none = không có băng rộng, 2g3g = chỉ 2G/3G, 4g, 5g; hole = khu"
        " vực lõm sóng theo thresholds.toml, mục [coverage]. Chỉ những nơi đã khảo sát.",
        "coverage.csv: {cells} surveyed cells by operator ({columns}); cell is an H3 hexagon, the finest place"
        " published (no coordinates); best_class: none = no broadband, 2g3g = 2G/3G only, 4g, 5g; hole = a coverage"
        " hole by thresholds.toml [coverage]. Surveyed places only.",
    ),
    "pub_dictionary_reported": (
        "coverage_reported.csv: {cells} ô người dân báo mất sóng theo nhà mạng ({columns}); chỉ những ô có báo từ ít"
        " nhất {senders} người gửi trong ít nhất {days} ngày (thresholds.toml, mục [coverage]); senders là số người"
        " gửi ít nhất (địa chỉ chỉ được đếm, không được lưu); failure_*: số lượt theo điều người dân báo. Lời báo của"
        " người dân, không phải số đo kiểm.",
        "coverage_reported.csv: {cells} cells where residents reported no signal, by operator ({columns}); only"
        " cells reported by at least {senders} senders on at least {days} days (thresholds.toml, [coverage]);"
        " senders is a lower bound (addresses are counted, never kept); failure_*: reports by what residents said"
        " failed. Residents' word, not a measurement.",
    ),
    "pub_cov_reported": (
        "{operator}: người dân báo mất sóng ở {count} ô",
        "{operator}: residents reported no signal in {count} cells",
    ),
    "pub_cov_reported_intro": (
        "Ô viền đỏ đứt: nơi người dân báo mất sóng trên trang đo của tỉnh (mục Báo mất sóng), chỉ những ô có báo từ"
        " ít nhất {senders} người gửi trong ít nhất {days} ngày. Đó là lời báo của người dân, liệt kê riêng, không"
        " phải số đo kiểm.",
        "Cells outlined in dashed red: where residents reported no signal on the province's test page (Report no"
        " signal), only cells reported by at least {senders} senders on at least {days} days. These are residents'"
        " word, listed apart, not measurements.",
    ),
    "pub_cov_reported_key": ("Người dân báo (viền đỏ đứt)", "Residents' reports (dashed red outline)"),
    "pub_cov_reported_cell": (
        "{commune}: người dân báo {reports} lần, từ {senders} người gửi",
        "{commune}: {reports} residents' reports from {senders} senders",
    ),
    "pub_cov_title": ("Vùng phủ sóng di động đã khảo sát", "Mobile coverage as surveyed"),
    "pub_cov_link": (
        "Vùng phủ sóng di động và khu vực lõm sóng đã khảo sát",
        "Mobile coverage and coverage holes as surveyed",
    ),
    "pub_cov_intro": (
        "{quarter} ({start} – {end}): xe khảo sát của Sở ghi lại sóng di động vài giây một lần. Mỗi ô lục giác"
        " tô theo mức tốt nhất đã thấy của từng nhà mạng.",
        "{quarter} ({start} – {end}): the department's survey cars record the mobile network every few seconds."
        " Each hexagonal cell is coloured by the best each operator was seen to give there.",
    ),
    "pub_cov_warning": (
        "Bản đồ chỉ có những nơi xe khảo sát đã đi qua; nơi không có ô là nơi chưa khảo sát, không phải nơi có"
        " sóng tốt.",
        "The map shows only the places the survey cars went through: a place without a cell is not surveyed, not"
        " covered.",
    ),
    "pub_cov_map": ("Vùng phủ của {operator}", "{operator}'s coverage"),
    "pub_cov_map_desc": (
        "Các ô đã khảo sát trên nền ranh giới xã, tô theo mức phủ sóng; bảng dưới liệt kê các ô lõm sóng.",
        "The surveyed cells on the communes' outlines, coloured by coverage; the table below lists the holes.",
    ),
    "pub_cov_cell": ("{commune}: {best}, {samples} mẫu", "{commune}: {best}, {samples} samples"),
    "pub_cov_holes": ("{operator}: {count} ô lõm sóng", "{operator}: {count} coverage-hole cells"),
    "pub_dictionary_residents": (
        "residents.csv/.json: kết quả người dân tự đo trên trang đo của tỉnh, một dòng cho mỗi xã và loại truy"
        " nhập, cùng các cột như communes.csv (agents để trống); published = false khi dưới {minimum} lượt đo"
        " thành công, từ dưới {addresses} địa chỉ khác nhau, trong dưới {days} ngày hoặc dưới {sender_days} cặp"
        " (ngày, địa chỉ) (địa chỉ chỉ được đếm, không được lưu)."
        " residents_tests.csv.gz: {records} lượt của các xã được công bố, cùng các cột như tests.csv.gz, giờ làm"
        " tròn xuống đến giờ; {held} lượt của các xã chưa đủ số liệu không có trong tệp. Là mẫu tự chọn, kể cả"
        " lượt đo qua Wi-Fi trong nhà: không gộp với số liệu của thiết bị đo.",
        "residents.csv/.json: residents' own tests on the province's test page, a row per commune and access"
        " type, with the columns of communes.csv (agents empty); published = false under {minimum} successful"
        " tests, from fewer than {addresses} different addresses, on fewer than {days} days or from fewer than"
        " {sender_days} (day, address) pairs (addresses are counted, never kept)."
        " residents_tests.csv.gz: {records} tests of the published communes, with the columns of tests.csv.gz,"
        " the time rounded down to the hour; {held} tests of communes not published are left out. A"
        " self-selected sample, home Wi-Fi included: never pooled with the agents' figures.",
    ),
    "pub_dictionary": (
        "Dữ liệu mở dokiem — cắt lúc {cut}, giấy phép {licence} (LICENSE.txt).\n\n"
        "communes.csv/.json, districts.csv/.json, isps.csv/.json: một dòng cho mỗi xã (từ 01/7/2025), huyện cũ"
        " hoặc mạng của nhà mạng, theo loại truy nhập (access: fixed = cố định, mobile = di động). published ="
        " false: chưa đủ số liệu (dưới {minimum} lượt đo thành công, hoặc dưới {agents} thiết bị đo khi có"
        " thiết bị đặt tại hộ gia đình), các số liệu để trống. {columns}.\n\n"
        "tests.csv.gz: {records} lượt đo, mỗi dòng một lượt: hour (giờ địa phương, làm tròn xuống đến giờ),"
        " province, district (huyện cũ), commune (xã từ 01/7/2025), isp, access, failed, {record_figures}."
        " Không có mã thiết bị, địa chỉ IP hay tọa độ. Không"
        " công bố: {held} lượt của các nhóm chưa đủ số liệu và {excluded} lượt bị loại (thiết bị quá tải,"
        " Wi-Fi, lưu lượng khác).",
        "dokiem open data — cut at {cut}, licensed {licence} (LICENSE.txt).\n\n"
        "communes.csv/.json, districts.csv/.json, isps.csv/.json: one row per commune (since 2025-07-01),"
        " former district or ISP network, per access type (access: fixed or mobile). published = false: not"
        " enough data (fewer than {minimum} successful tests, or fewer than {agents} agents where one is in a"
        " household), figures empty. {columns}.\n\n"
        "tests.csv.gz: {records} tests, one per row: hour (local time, rounded down to the hour), province,"
        " district (former), commune (since 2025-07-01), isp, access, failed, {record_figures}. No agent id,"
        " IP address or coordinates. Not published: {held} tests"
        " of groups without enough data and {excluded} tests left out (overloaded agent, Wi-Fi, cross traffic).",
    ),
    # the data dictionary's words for the columns that are no registry figure's statistic
    "pub_col_tests": ("số lượt đo", "tests counted"),
    "pub_col_agents": ("số thiết bị đo", "agents counted"),
    "pub_col_download_median_change_mbps": (
        "thay đổi của tải xuống trung vị so với quý trước (Mbit/s)",
        "change of the median download from the previous quarter (Mbit/s)",
    ),
    "pub_col_bloated_share": ("tỷ lệ lượt đo có bộ đệm phình", "the share of tests with a bloated buffer"),
    "pub_written": (
        "Đã ghi trang công bố vào {out}: {files} tệp, {size}; {records} lượt đo trong dữ liệu mở.",
        "Wrote the public site to {out}: {files} files, {size}; {records} tests in the open data.",
    ),
    "docx_title": ("BÁO CÁO", "REPORT"),
    "docx_subtitle": (
        "Kết quả đo kiểm chất lượng dịch vụ truy nhập Internet băng rộng {quarter} trên địa bàn {province_in_text}",
        "Broadband Internet access quality measured in {province}, {quarter}",
    ),
    "docx_recipients": ("Nơi nhận:", "To:"),
    "docx_s_summary": ("TÓM TẮT KẾT QUẢ", "SUMMARY OF FINDINGS"),
    "docx_s_method": ("PHƯƠNG PHÁP ĐO", "METHOD"),
    "docx_s_districts": ("KẾT QUẢ THEO HUYỆN CŨ", "RESULTS BY FORMER DISTRICT"),
    "docx_s_communes": ("KẾT QUẢ THEO XÃ (TỪ 01/7/2025)", "RESULTS BY COMMUNE (SINCE 2025-07-01)"),
    "docx_s_isps": ("KẾT QUẢ THEO NHÀ MẠNG", "RESULTS BY ISP"),
    "docx_s_thresholds": (
        "SO VỚI NGƯỠNG QUỐC GIA VÀ QCVN 34:2022/BTTTT",
        "AGAINST THE NATIONAL THRESHOLDS AND QCVN 34:2022/BTTTT",
    ),
    "docx_s_change": ("THAY ĐỔI SO VỚI QUÝ TRƯỚC", "CHANGE FROM THE PREVIOUS QUARTER"),
    "docx_s_thin": ("CÁC NHÓM CHƯA ĐỦ SỐ LƯỢT ĐO", "GROUPS WITH TOO FEW TESTS"),
    "docx_s_residents": ("KẾT QUẢ ĐO CỦA NGƯỜI DÂN", "RESIDENTS' OWN TESTS"),
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
    "kf_rpm": (
        "Độ phản hồi trung vị toàn tỉnh khi đường truyền bận (RPM)",
        "Province median responsiveness under load (RPM)",
    ),
    "kf_bloated": (
        "Số huyện cũ có bộ đệm phình ở hơn nửa số lượt đo",
        "Former districts with a bloated buffer in more than half the tests",
    ),
    "fd_rpm": (
        "{access}: khi đường truyền bận, độ phản hồi trung vị toàn tỉnh là {rpm} lượt khứ hồi mỗi phút (RPM),"
        " mức {level}.",
        "{access}: under load, the province's median responsiveness is {rpm} round trips a minute (RPM), {level}.",
    ),
    "fd_rpm_low": (
        "Ở mức này, cuộc gọi video bị giật khi có người khác đang tải nặng trên cùng đường truyền.",
        "At this level a video call stutters while someone else loads the same line.",
    ),
    "fd_bloated": (
        "{count} trên {ranked} huyện cũ đủ số lượt đo có bộ đệm phình (độ trễ tăng từ {added} ms trở lên khi tải,"
        " hoặc độ phản hồi thấp) ở hơn nửa số lượt đo: {names}.",
        "{count} of {ranked} former districts with enough tests have a bloated buffer (latency rising by {added} ms"
        " or more under load, or low responsiveness) in more than half their tests: {names}.",
    ),
    "kf_bloat_added": (
        "Độ trễ tăng khi tải được coi là bộ đệm phình (ms)",
        "Latency rise under load taken as a bloated buffer (ms)",
    ),
    "rpm_level_low": ("thấp", "low"),
    "rpm_level_medium": ("trung bình", "medium"),
    "rpm_level_high": ("cao", "high"),
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
    "rpt_by_technology": ("Công nghệ", "Technology"),
    "rpt_code": ("Mã", "Code"),
    "rpt_agents": ("Thiết bị đo", "Agents"),
    "rpt_tests": ("Lượt đo", "Tests"),
    "rpt_failed": ("Lượt lỗi", "Failed"),
    "rpt_excluded": (
        "Lượt bị loại (Wi-Fi, CPU quá tải, lưu lượng khác)",
        "Left out (Wi-Fi, CPU starved, cross traffic)",
    ),
    "rpt_bloated": ("Bộ đệm phình (% lượt đo)", "Bloated buffer (% of tests)"),
    "rpt_plan_good": ("≥ 95% gói cước", "≥ 95% of plan"),
    "rpt_plan_mid": ("80–95% gói cước", "80–95% of plan"),
    "rpt_plan_low": ("< 80% gói cước", "< 80% of plan"),
    "rpt_plan_mean_ratio": ("TB tải xuống / gói cước", "Mean download / plan"),
    "rpt_speed_80_80": ("Tốc độ 80/80 (Mbit/s)", "80/80 speed (Mbit/s)"),
    "rpt_threshold_share": ("Đạt: {name}", "Meets: {name}"),
    "rpt_change_down_median": ("Δ tải xuống trung vị so với quý trước (%)", "Δ download median vs last quarter (%)"),
    "rpt_change_up_median": ("Δ tải lên trung vị so với quý trước (%)", "Δ upload median vs last quarter (%)"),
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
    "demo_short": ("DỮ LIỆU MẪU", "DEMO DATA"),
    "demo_notice": (
        "DỮ LIỆU MẪU do dokiem up --demo tạo ra: không phải kết quả đo thật.",
        "DEMO DATA made by dokiem up --demo: not real measurements.",
    ),
    "rpt_bad_format": ("{given}: chọn trong {known}", "{given}: choose from {known}"),
    "rpt_current_quarter": (
        "Quý {previous} chưa có kết quả nào: đọc quý {quarter} đến nay (--quarter để chọn quý).",
        "{previous} holds no results: reading {quarter} so far (--quarter to choose).",
    ),
    "pub_out_needed": (
        "Cần --out: thư mục để ghi trang công bố (ví dụ --out site).",
        "--out is needed: the folder to write the site into (e.g. --out site).",
    ),
    "pub_no_province": (
        "Các kết quả của quý không thuộc tỉnh nào có trong danh mục hành chính: kiểm tra mã tỉnh của thiết bị đo"
        " (dokiem regions list) hoặc collector.regions_dir.",
        "The quarter's results name no province the region files know: check the agents' province code"
        " (dokiem regions list) or collector.regions_dir.",
    ),
    "pub_serving": (
        "Trang công bố: http://{listen}/ (Ctrl+C để dừng).",
        "The site: http://{listen}/ (Ctrl+C to stop).",
    ),
    "rpt_reading": ("Đang đọc kho lưu trữ {where}…", "Reading the archive {where}…"),
    "rpt_read": ("Đã đọc {count} kết quả của quý {quarter}.", "Read {count} results of {quarter}."),
    "pub_rpm": (
        "Khi đường truyền bận, độ trễ trung vị là {loaded} ms; độ phản hồi {rpm} lượt khứ hồi mỗi phút (RPM), mức"
        " {level}.",
        "While the line is busy, the median latency is {loaded} ms; responsiveness {rpm} round trips a minute"
        " (RPM), {level}.",
    ),
    "pub_bloated": (
        "Bộ đệm của đường truyền phình ra khi tải ({share}% lượt đo): cuộc gọi video có thể bị giật khi có người"
        " khác đang tải nặng, dù tốc độ cao.",
        "The line's buffer swells under load ({share}% of tests): a video call may stutter while someone else"
        " loads the line, however fast it is.",
    ),
}
add_texts(TEXTS)

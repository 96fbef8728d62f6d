"""The command line's help in Vietnamese: each command's and option's English help text (as the code
writes it, next to the option) and its Vietnamese. The root command shows the one the language asks
for (``dokiem.cli``); a test holds that every command and option of every room has its Vietnamese.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from dokiem.i18n import default_lang

# click's own words around the help
HEADINGS = {"Usage:": "Cách dùng:", "Options": "Tùy chọn", "Commands": "Lệnh", "Arguments": "Tham số",
            "Show this message and exit.": "Hiện trợ giúp này rồi thoát.",
            "Show the version and exit.": "Hiện phiên bản rồi thoát."}  # fmt: skip

# click's placeholders in a usage line
METAVARS = {"[OPTIONS]": "[TÙY CHỌN]", "COMMAND [ARGS]...": "LỆNH [THAM SỐ]..."}

VIETNAMESE: dict[str, str] = {
    # dokiem
    "dokiem (đo kiểm): broadband quality measurement, i-Speed style.":
        "dokiem (đo kiểm): đo chất lượng băng rộng theo cách của i-Speed.",
    "Language of messages and tables.": "Ngôn ngữ của thông báo và bảng.",
    "Log what happens (for troubleshooting).": "Ghi nhật ký chi tiết (để tìm lỗi).",
    "Print the JSON Schema of a wire message: the Result (default), the Status, the FleetConfig, the\n"
    "    ResendRequest or a survey's SurveyBatch.":
        "In JSON Schema của một loại tin nhắn: Result (mặc định), Status, FleetConfig, ResendRequest hoặc SurveyBatch.",
    # the agent
    "The agent as a service: measure on a schedule, queue, publish over MQTT.":
        "Thiết bị đo chạy như dịch vụ: đo theo lịch, xếp hàng đợi, gửi qua MQTT.",
    "Check the configuration and say what the agent would do (changes nothing).":
        "Kiểm tra cấu hình và cho biết thiết bị đo sẽ làm gì (không thay đổi gì).",
    "agent.toml (optional: the DOKIEM_* environment alone can configure it).":
        "Tệp agent.toml (không bắt buộc: chỉ biến môi trường DOKIEM_* cũng đủ cấu hình).",
    "Measure once now; the result is queued and sent like any other.":
        "Đo một lần ngay bây giờ; kết quả được xếp hàng đợi và gửi như mọi lần đo khác.",
    "Seconds to try the broker.": "Số giây thử kết nối máy chủ MQTT.",
    "Survey mobile coverage while driven or carried: a sample every few seconds, queued and sent.":
        "Khảo sát vùng phủ sóng di động khi đi xe hoặc mang theo: vài giây một mẫu, xếp hàng đợi rồi gửi.",
    "Seconds to survey, then stop (default: until stopped, as a service does).":
        "Số giây khảo sát rồi dừng (mặc định: chạy đến khi bị dừng, như một dịch vụ).",
    "Measure the international test points (location = international) instead.":
        "Đo các điểm đo quốc tế (location = international) thay cho trong nước.",
    "Measure at once even if the clock is not NTP-synchronised yet (the Result says so).":
        "Đo ngay cả khi đồng hồ chưa đồng bộ NTP (kết quả sẽ ghi rõ điều đó).",
    "Run the agent until stopped (this is what the systemd unit starts).":
        "Chạy thiết bị đo cho đến khi bị dừng (dịch vụ systemd khởi động lệnh này).",
    "What is queued, the last results, the last error, the connection state.":
        "Hàng đợi, các kết quả gần nhất, lỗi gần nhất, trạng thái kết nối.",
    "Print the status as JSON.": "In trạng thái dưới dạng JSON.",
    "One step of the updater (root; dokiem-update.service runs it): confirm or roll back a switch, else\n"
    "    install the version the fleet config wants, verified against the release key.":
        "Một bước của trình cập nhật (quyền root; dokiem-update.service chạy lệnh này): xác nhận hoặc quay lại"
        " lần chuyển phiên bản, nếu không thì cài phiên bản cấu hình đội máy yêu cầu, đã kiểm tra chữ ký.",
    "Measure download, upload, latency, jitter and loss once against one server.":
        "Đo tải xuống, tải lên, độ trễ, độ biến thiên trễ và mất gói một lần với một máy chủ.",
    "Base URL of a LibreSpeed/i-Speed-style server, e.g. http://host:8080/ (repeatable: the fastest that answers"
    " is measured; a dead or busy one is skipped within the run).":
        "Địa chỉ gốc của máy chủ kiểu LibreSpeed/i-Speed, ví dụ http://host:8080/ (lặp lại được: đo máy chủ trả"
        " lời nhanh nhất; máy chủ không trả lời hoặc đang bận được bỏ qua trong lượt đo).",
    "Measure against the Ookla server speedtest.net would choose instead.":
        "Đo với máy chủ Ookla mà speedtest.net sẽ chọn.",
    "auto: happy eyeballs picks IPv6 or IPv4; both: a Result for each family the server has.":
        "auto: tự chọn IPv6 hoặc IPv4 (happy eyeballs); both: một kết quả cho mỗi loại địa chỉ máy chủ có.",
    "Print the Result as JSON on stdout.": "In kết quả dưới dạng JSON ra stdout.",
    "Agent id written into the Result.": "Mã thiết bị đo ghi vào kết quả.",
    "Skip the download test.": "Bỏ qua phép đo tải xuống.",
    "Skip the upload test.": "Bỏ qua phép đo tải lên.",
    "ICMP/TCP pings (0 = none).": "Số lần ping ICMP/TCP (0 = không ping).",
    "Time resolving NAME (repeatable).": "Đo thời gian phân giải tên NAME (lặp lại được).",
    "Also ask this DNS resolver (repeatable).": "Hỏi thêm máy chủ DNS này (lặp lại được).",
    "Longest measured time per direction.": "Thời gian đo dài nhất cho mỗi chiều.",
    "No progress display.": "Không hiện tiến trình.",
    # enrolment (the server's, under dokiem agent)
    "On the server: give an agent broker credentials, write its config, register its site.":
        "Trên máy chủ: cấp tài khoản MQTT cho thiết bị đo, viết cấu hình, đăng ký địa điểm của nó.",
    "The new agent's id (also its MQTT username), e.g. th-380-001.":
        "Mã thiết bị đo mới (cũng là tên đăng nhập MQTT), ví dụ th-380-001.",
    "PROVINCE/COMMUNE codes (the 2025 commune), e.g. 38/14797; the older PROVINCE/DISTRICT/COMMUNE form"
    " (38/380/14755) is mapped to the 2025 commune.":
        "Mã TỈNH/XÃ (xã từ 2025), ví dụ 38/14797; dạng cũ TỈNH/HUYỆN/XÃ (38/380/14755) được chuyển sang xã mới.",
    "The ISP of the line measured, e.g. VNPT.": "Nhà mạng của đường truyền được đo, ví dụ VNPT.",
    "Fixed or mobile line.": "Đường truyền cố định hay di động.",
    "Subscribed download, Mbit/s.": "Tốc độ tải xuống theo gói cước, Mbit/s.",
    "Subscribed upload, Mbit/s.": "Tốc độ tải lên theo gói cước, Mbit/s.",
    "Latitude (default: the commune's point).": "Vĩ độ (mặc định: điểm của xã).",
    "Longitude (default: the commune's point).": "Kinh độ (mặc định: điểm của xã).",
    "The broker as the agent reaches it, e.g. mqtts://mqtt.thanhhoa.gov.vn:8883.":
        "Địa chỉ máy chủ MQTT mà thiết bị đo kết nối tới, ví dụ mqtts://mqtt.thanhhoa.gov.vn:8883.",
    "A test server URL for the agent (repeatable).": "Địa chỉ máy chủ đo cho thiết bị đo (lặp lại được).",
    "The CA the agent checks the broker with (copied into the bundle).":
        "Chứng thư CA để thiết bị đo kiểm tra máy chủ MQTT (được chép vào bộ cài).",
    "Folder for agent.toml and ca.crt (default: enrolled/ID).":
        "Thư mục ghi agent.toml và ca.crt (mặc định: enrolled/ID).",
    "Mosquitto's password file.": "Tệp mật khẩu của Mosquitto.",
    "The collector's archive, to register the site in its fleet registry (default: $DOKIEM_ARCHIVE_URL).":
        "Kho lưu trữ của bộ thu, để đăng ký địa điểm vào danh sách thiết bị (mặc định: $DOKIEM_ARCHIVE_URL).",
    "collector.toml (optional: the DOKIEM_* environment alone can configure it).":
        "Tệp collector.toml (không bắt buộc: chỉ biến môi trường DOKIEM_* cũng đủ cấu hình).",
    "On the server: remove an agent's broker credentials and registry entry (its results stay).":
        "Trên máy chủ: thu hồi tài khoản MQTT và mục đăng ký của thiết bị đo (kết quả của nó vẫn được giữ).",
    "The agent to revoke.": "Thiết bị đo cần thu hồi.",
    # the collector
    "The receiving side: MQTT ingest, validation, archive, InfluxDB, fleet registry, HTTP API.":
        "Phía nhận: nhận MQTT, kiểm tra, lưu trữ, InfluxDB, danh sách thiết bị, API HTTP.",
    "Publish a fleet config, retained, on the agent's config topic (it applies from its next period).":
        "Gửi cấu hình đội máy (giữ lại) lên chủ đề cấu hình của thiết bị đo (áp dụng từ chu kỳ sau).",
    "The agent to steer.": "Thiết bị đo cần điều chỉnh.",
    "Fleet config JSON: version, schedule, measure (see README).":
        "Cấu hình đội máy dạng JSON: version, schedule, measure (xem README).",
    "Withdraw the fleet config instead (the agent's own file applies again).":
        "Rút cấu hình đội máy (tệp cấu hình của chính thiết bị đo lại có hiệu lực).",
    "Rebuild InfluxDB from the archive (results and survey samples since DATE), each result filed again by\n"
    "    the region files: a result archived under a pre-reform commune code moves to its 2025 commune.":
        "Dựng lại InfluxDB từ kho lưu trữ (các kết quả và mẫu khảo sát từ ngày DATE), xếp lại từng kết quả theo danh"
        " mục hành chính: kết quả lưu theo mã xã cũ chuyển sang xã từ 2025.",
    "Back up the archive and the keys and files the collector's config names, while the collector runs.":
        "Sao lưu kho lưu trữ cùng các khóa và tệp mà cấu hình bộ thu nêu tên, trong khi bộ thu vẫn chạy.",
    "The folder backups go under (one dokiem-backup-<time> each).":
        "Thư mục đặt các bản sao lưu (mỗi bản một thư mục dokiem-backup-<thời điểm>).",
    "A file or folder to keep too (the PKI folder, letterheads, thresholds); repeat.":
        "Một tệp hoặc thư mục cần giữ thêm (thư mục PKI, tiêu đề văn bản, ngưỡng); có thể lặp lại.",
    "Check a backup: every file's checksum, and its archive opened from a scratch copy (exit 1 if damaged).":
        "Kiểm tra một bản sao lưu: mã kiểm tra của từng tệp, và kho lưu trữ mở từ một bản chép tạm (mã thoát 1"
        " nếu hỏng).",
    "Restore a backup onto an empty data directory: checked first, the archive where the config says, each\n"
    "    file back where it was (never over a different one).":
        "Khôi phục một bản sao lưu vào thư mục dữ liệu trống: kiểm tra trước, đặt kho lưu trữ vào chỗ cấu hình"
        " nêu, mỗi tệp về chỗ cũ (không bao giờ ghi đè một tệp khác).",
    "Keep only this many backups under --to, the newest.": "Chỉ giữ chừng này bản sao lưu mới nhất trong --to.",
    "A backup folder (dokiem-backup-<time>).": "Một thư mục sao lưu (dokiem-backup-<thời điểm>).",
    "Ask every agent to send again what it sent since a time and still keeps (after an archive was lost);\n"
    "    the running collector asks, through its own connection, and the archive takes each result once.":
        "Đề nghị mọi thiết bị đo gửi lại những kết quả đã gửi từ một thời điểm mà chúng còn giữ (khi kho lưu trữ bị"
        " mất); bộ thu đang chạy gửi đề nghị qua kết nối của chính nó, và kho lưu trữ nhận mỗi kết quả một lần.",
    "What the agents sent from this time (UTC) on.": "Những gì thiết bị đo đã gửi từ thời điểm này (UTC).",
    "Replace the server certificate (same names, same CA, a new key): no agent is enrolled again.":
        "Thay chứng thư máy chủ (cùng tên, cùng CA, khóa mới): không thiết bị đo nào phải đăng ký lại.",
    "The folder dokiem pki init wrote.": "Thư mục dokiem pki init đã ghi.",
    "From this date (UTC).": "Từ ngày này (UTC).",
    "Up to this date (UTC).": "Đến ngày này (UTC).",
    "Re-admit quarantined messages after a fix: each is validated and archived again as if just received.":
        "Nhận lại các tin nhắn bị giữ sau khi sửa lỗi: mỗi tin được kiểm tra và lưu lại như vừa nhận.",
    "Only messages kept for this reason (see /api/quarantine or /metrics).":
        "Chỉ các tin nhắn bị giữ vì lý do này (xem /api/quarantine hoặc /metrics).",
    "Only those kept since (UTC).": "Chỉ các tin bị giữ từ thời điểm này (UTC).",
    "Run the collector until stopped.": "Chạy bộ thu cho đến khi bị dừng.",
    # administration
    "Prepare the server stack (deploy/docker-compose.yml).": "Chuẩn bị cụm máy chủ (deploy/docker-compose.yml).",
    "Write .env, the secret files, the broker's password file and (unless --own-certs) TLS material.":
        "Viết .env, các tệp bí mật, tệp mật khẩu MQTT và (trừ khi có --own-certs) chứng thư TLS.",
    "The folder holding docker-compose.yml.": "Thư mục chứa docker-compose.yml.",
    "The server's public name, e.g. dokiem.thanhhoa.gov.vn.":
        "Tên công khai của máy chủ, ví dụ dokiem.thanhhoa.gov.vn.",
    "Do not make TLS material: the province puts its own in secrets/certs.":
        "Không tạo chứng thư TLS: tỉnh tự đặt chứng thư của mình vào secrets/certs.",
    "Replace existing secrets (every agent must then be enrolled again).":
        "Thay các bí mật đang có (khi đó mọi thiết bị đo phải đăng ký lại).",
    "TLS material for a lab or a province without its own certificates.":
        "Chứng thư TLS cho phòng thử nghiệm hoặc tỉnh chưa có chứng thư riêng.",
    "Create a CA and a server certificate signed by it.": "Tạo CA và chứng thư máy chủ do CA đó ký.",
    "Folder for ca.crt, ca.key, server.crt, server.key.": "Thư mục ghi ca.crt, ca.key, server.crt, server.key.",
    "A name (or IP address) the broker is reached by; repeatable.":
        "Tên (hoặc địa chỉ IP) để kết nối tới máy chủ MQTT; lặp lại được.",
    "Server certificate life.": "Thời hạn chứng thư máy chủ.",
    "Replace existing files.": "Thay các tệp đang có.",
    "Signed agent releases: the fleet config's update.version installs them on every agent.":
        "Bản phát hành có chữ ký: update.version của cấu hình đội máy cài chúng lên mọi thiết bị đo.",
    "Build the dokiem wheel, gather every dependency's wheel, list them in a signed manifest.":
        "Đóng gói dokiem, gom các gói phụ thuộc, liệt kê chúng trong một danh mục có chữ ký.",
    "dokiem's source folder (with pyproject.toml).": "Thư mục mã nguồn dokiem (có pyproject.toml).",
    "The signing key from `dokiem release keygen`.": "Khóa ký tạo bởi `dokiem release keygen`.",
    "Sets go to OUT/<version>/.": "Bộ phát hành được ghi vào OUT/<phiên bản>/.",
    "A machine type to include wheels for (repeatable; default: both, for Debian bookworm's glibc).":
        "Loại máy cần gói cho (lặp lại được; mặc định: cả hai, cho glibc của Debian bookworm).",
    "Agents install the set until then (renew it to extend).":
        "Thiết bị đo cài bộ này đến ngày đó (ký lại bằng renew để gia hạn).",
    "The set may replace a newer version (a deliberate rollback).":
        "Bộ này được phép thay một phiên bản mới hơn (chủ ý quay lại bản cũ).",
    "Make the Ed25519 key pair releases are signed with (once per province).":
        "Tạo cặp khóa Ed25519 để ký các bản phát hành (mỗi tỉnh một lần).",
    "Where the private (signing) key goes; keep it on the server only.":
        "Nơi ghi khóa bí mật (khóa ký); chỉ giữ trên máy chủ.",
    "Where the public key goes; install.sh installs it as /etc/dokiem/release.pub.":
        "Nơi ghi khóa công khai; install.sh cài nó thành /etc/dokiem/release.pub.",
    "Check a built set (files, and signature with --public-key) and copy it where agents fetch it.":
        "Kiểm tra bộ phát hành (các tệp, và chữ ký nếu có --public-key) rồi chép tới nơi thiết bị đo tải về.",
    "The collector's http.public_dir; agents fetch <url>/public/releases/<version>/.":
        "Thư mục http.public_dir của bộ thu; thiết bị đo tải từ <url>/public/releases/<phiên bản>/.",
    "Check the signature against this key first (the one agents have).":
        "Kiểm tra chữ ký với khóa này trước (khóa mà thiết bị đo có).",
    "Sign a built or published set's release.json again: a new expiry, or a rollback to this version.":
        "Ký lại release.json của một bộ phát hành: hạn mới, hoặc cho phép quay lại phiên bản này.",
    "Agents install the set until then.": "Thiết bị đo cài bộ này đến ngày đó.",
    # dashboards
    "Dashboards as code: build the provisioning files, or push them to a running Grafana.":
        "Bảng điều khiển dạng mã: tạo tệp cấp phát, hoặc đẩy lên một Grafana đang chạy.",
    "Write the dashboards' JSON, the datasource, the district gazetteer and the communes' map for the\n"
    "    collector config's ``province`` (every province without it).":
        "Viết JSON các bảng điều khiển, nguồn dữ liệu, danh bạ huyện và bản đồ xã cho tỉnh ``province`` trong"
        " cấu hình bộ thu (mọi tỉnh nếu không có).",
    "Folder to write provisioning/ and gazetteer/ into.": "Thư mục ghi provisioning/ và gazetteer/.",
    "Thresholds file the department edits (default: the national ones shipped with dokiem).":
        "Tệp ngưỡng chất lượng do Sở chỉnh (mặc định: các ngưỡng quốc gia đi kèm dokiem).",
    "Upload the InfluxDB datasource and the dashboards (created, or updated in place).":
        "Tải lên nguồn dữ liệu InfluxDB và các bảng điều khiển (tạo mới hoặc cập nhật).",
    "Grafana's address, e.g. https://grafana.example.vn": "Địa chỉ Grafana, ví dụ https://grafana.example.vn",
    "A service-account token with Editor rights.": "Mã truy cập của tài khoản dịch vụ có quyền Editor.",
    "InfluxDB as Grafana reaches it.": "Địa chỉ InfluxDB mà Grafana kết nối tới.",
    "Read-only InfluxDB token for Grafana.": "Mã truy cập InfluxDB chỉ đọc cho Grafana.",
    # reports
    "Reports from the archive.": "Báo cáo từ kho lưu trữ.",
    "Write the quarterly report: per province, former district, commune, ISP, fixed and mobile apart.":
        "Lập báo cáo quý: theo tỉnh, huyện cũ, xã, nhà mạng; cố định và di động tách riêng.",
    "The quarter, e.g. 2026Q3 (default: the last complete one).": "Quý, ví dụ 2026Q3 (mặc định: quý vừa kết thúc).",
    "The quarter, e.g. 2026Q4 (default: the last complete one, or the current one so far if that has none).":
        "Quý, ví dụ 2026Q4 (mặc định: quý vừa kết thúc, hoặc quý này đến nay nếu quý trước chưa có kết quả).",
    "The quarter, e.g. 2026Q3 (default: the last complete one, or the current one so far if that has none).":
        "Quý, ví dụ 2026Q3 (mặc định: quý vừa kết thúc, hoặc quý này đến nay nếu quý trước chưa có kết quả).",
    "Then show the site over HTTP until Ctrl+C (HOST:PORT; 127.0.0.1:8090 if given alone).":
        "Sau đó mở trang qua HTTP đến khi nhấn Ctrl+C (HOST:PORT; 127.0.0.1:8090 nếu không ghi gì thêm).",
    "Folder to write into (created if missing).": "Thư mục ghi báo cáo (tạo nếu chưa có).",
    "Comma-separated: xlsx, pdf, csv, docx (the Word document the department edits and signs).":
        "Phân cách bằng dấu phẩy: xlsx, pdf, csv, docx (văn bản Word để Sở chỉnh sửa và ký).",
    "TOML with the issuing body, number, signer and recipients for the DOCX (see"
    " deploy/report-letterhead.example.toml); blanks are left for the office otherwise.":
        "Tệp TOML ghi cơ quan ban hành, số hiệu, người ký và nơi nhận cho bản DOCX (xem"
        " deploy/report-letterhead.example.toml); nếu không có, các ô để trống cho văn phòng điền.",
    "Archive URL: sqlite:///relative/archive.db, sqlite:////absolute/archive.db (as SQLAlchemy reads them) or"
    " postgresql://user@host/db (default: the collector config's, else that of dokiem up in this folder).":
        "Địa chỉ kho lưu trữ: sqlite:///relative/archive.db (đường dẫn tương đối), sqlite:////absolute/archive.db"
        " (tuyệt đối), như SQLAlchemy đọc, hoặc"
        " postgresql://user@host/db (mặc định: archive_url trong cấu hình bộ thu, nếu không có thì kho của dokiem"
        " up trong thư mục này).",
    "Read only results received by then (local time; default: now). The documents state it: the same archive"
    " and cut-off give the same report.":
        "Chỉ đọc các kết quả đã nhận đến thời điểm này (giờ địa phương; mặc định: bây giờ). Báo cáo ghi rõ thời"
        " điểm này: cùng kho lưu trữ và thời điểm chốt cho cùng một báo cáo.",
    "Write the quarter's public results site and open data: pages per commune, an SVG map, CSV/JSON.":
        "Tạo trang công bố kết quả và dữ liệu mở của quý: trang từng xã, bản đồ SVG, CSV/JSON.",
    "Folder for the site (replaced whole once the new one is written); in the folder where dokiem up ran, its"
    " dokiem-data/site by default.":
        "Thư mục của trang (được thay toàn bộ khi trang mới đã ghi xong); trong thư mục đã chạy dokiem up, mặc định"
        " là dokiem-data/site của nó.",
    "The open data's licence.": "Giấy phép của dữ liệu mở.",
    "Whom reusers credit (default: the province's Sở Khoa học và Công nghệ).":
        "Đơn vị được ghi nguồn khi dùng lại dữ liệu (mặc định: Sở Khoa học và Công nghệ của tỉnh).",
    # regions
    "Communes since 2025-07-01, the pre-reform list and the former districts, as dokiem files results.":
        "Các xã từ 01/7/2025, danh mục trước sắp xếp và các huyện cũ, như dokiem dùng để xếp kết quả.",
    "Compare the department's list (CSV: code and name) with the one dokiem files results by.":
        "So danh sách của Sở (CSV: mã và tên) với danh mục dokiem dùng để xếp kết quả.",
    "The province's two-digit code (default: the collector's collector.province; dokiem regions provinces).":
        "Mã hai chữ số của tỉnh (mặc định: collector.province của bộ thu; xem dokiem regions provinces).",
    "Every province dokiem has: code, name, units since the reform, and whether it has the former districts.":
        "Mọi tỉnh, thành phố dokiem có: mã, tên, số đơn vị từ khi sắp xếp, và có danh mục huyện cũ hay không.",
    "The province's two-digit code (default: the first of the national list; dokiem regions provinces lists them).":
        "Mã hai chữ số của tỉnh (mặc định: tỉnh đầu danh mục quốc gia; xem dokiem regions provinces).",
    "The list before 2025-07-01 (with districts).": "Danh mục trước 01/7/2025 (có huyện).",
    "More province folders, as the collector's collector.regions_dir.":
        "Thêm thư mục tỉnh, như collector.regions_dir của bộ thu.",
    "Every commune: code, name and former district (with --before-reform: the old list and where each\n"
    "    unit went).":
        "Mọi xã: mã, tên và huyện cũ (với --before-reform: danh mục cũ và đơn vị mới của từng xã).",
    "Only the communes of this former district (code).": "Chỉ các xã thuộc huyện cũ này (mã).",
    "What a commune code names in each era, and where a result under it is filed.":
        "Mã xã này chỉ đơn vị nào trong từng thời kỳ, và kết quả mang mã này được xếp vào đâu.",
    "Read the code as a result of this day would be.": "Đọc mã như một kết quả của ngày này.",
    # the test server and dokiem up
    "Serve the LibreSpeed/i-Speed test endpoints (and Speedtest Mini's) for agents to measure against.":
        "Phục vụ các điểm đo kiểu LibreSpeed/i-Speed (và Speedtest Mini) để thiết bị đo đo tới.",
    "HOST:PORT to serve on.": "MÁY:CỔNG để phục vụ.",
    "Concurrent tests before answering 503.": "Số phép đo đồng thời trước khi trả lời 503.",
    "Of those, how many residents' tests at once (default: half): the rest stay free for the agents.": (
        "Trong số đó, bao nhiêu lượt người dân tự đo cùng lúc (mặc định: một nửa): phần còn lại luôn dành cho"
        " các thiết bị đo."
    ),
    "Serve HTTPS with this certificate (PEM, chain included).": "Phục vụ HTTPS với chứng thư này (PEM, gồm cả chuỗi).",
    "The certificate's private key (PEM).": "Khóa bí mật của chứng thư (PEM).",
    "Sign residents' test summaries with this Ed25519 private key (PEM; the collector holds its public key).":
        "Ký bản tóm tắt phép đo của người dân bằng khóa bí mật Ed25519 này (PEM; bộ thu giữ khóa công khai).",
    "This server's id in the collector's list of test servers (with --signing-key).":
        "Mã của máy chủ này trong danh sách máy chủ đo của bộ thu (đi cùng --signing-key).",
    "Run dokiem all-in-one: broker, collector, test server and an agent measuring it.":
        "Chạy dokiem trọn gói: máy chủ MQTT, bộ thu, máy chủ đo và một thiết bị đo đo tới nó.",
    "Minutes between measurements.": "Số phút giữa hai lần đo.",
    "Stop after this many runs (default: until Ctrl+C).": "Dừng sau số lần đo này (mặc định: đến khi nhấn Ctrl+C).",
    "Where the test server listens (port 0 = any free port).": "Nơi máy chủ đo lắng nghe (cổng 0 = cổng trống bất kỳ).",
    "Where the collector's API and the residents' page listen (port 0 = any free port).":
        "Nơi API của bộ thu và trang đo cho người dân lắng nghe (cổng 0 = cổng trống bất kỳ).",
    "Where the agent's outbox and the collector's archive live.":
        "Nơi đặt hàng đợi của thiết bị đo và kho lưu trữ của bộ thu.",
    "The collector's Ed25519 public key (PEM): only a ticket it signed opens a resident's test (with --signing-key).":
        "Khóa công khai Ed25519 của bộ thu (PEM): chỉ vé do bộ thu ký mới mở được lượt đo của người dân (dùng cùng"
        " --signing-key).",
    "Where the agents test from (CIDR; repeat, or a space-separated list in the variable). With --ticket-key, a"
    " client naming no ticket from anywhere else counts against the residents' share.":
        "Nơi các thiết bị đo đo từ đó (CIDR; lặp lại, hoặc một danh sách cách nhau bằng dấu cách trong biến môi"
        " trường). Khi có --ticket-key, một máy không nêu vé từ nơi khác được tính vào phần dành cho người dân.",
    "Where the agent stands: a commune's name (diacritics optional) or code (default: the province's first).":
        "Nơi đặt thiết bị đo: tên xã (có hoặc không dấu) hoặc mã xã (mặc định: xã đầu tiên của tỉnh).",
    "The kind of line the agent measures.": "Loại đường truyền thiết bị đo đo.",
    "The line's operator (default: the first listed for that kind of line).":
        "Nhà mạng của đường truyền (mặc định: nhà mạng đầu tiên trong danh mục cho loại đường truyền đó).",
    "First fill the archive with a generated quarter of the province (marked as demo data everywhere) and publish"
    " its site, so the report, the site and the dashboards show figures.":
        "Trước hết ghi vào kho lưu trữ một quý dữ liệu tạo sẵn của tỉnh (ghi rõ là dữ liệu mẫu ở mọi nơi) và công bố"
        " trang của quý đó, để báo cáo, trang công bố và bảng điều khiển có số liệu để xem.",
    "Also write to this InfluxDB (e.g. http://127.0.0.1:8086).": "Ghi thêm vào InfluxDB này (ví dụ http://127.0.0.1:8086).",
}  # fmt: skip


def _plain(text: str) -> str:
    return " ".join(text.split())


_BY_PLAIN = {_plain(english): vietnamese for english, vietnamese in (VIETNAMESE | HEADINGS).items()}


def translated(text: str, lang: str) -> str:
    """``text`` in ``lang``: English as written; Vietnamese where the table has it, however the help was
    wrapped, and for a command's first sentence shortened in a list ("Run the agent until...")."""
    if lang != "vi":
        return text
    plain = _plain(text)
    if plain in _BY_PLAIN:
        return _BY_PLAIN[plain]
    said, bracket, extra = plain.partition(" [")  # click's "  [default: ...]", spaces collapsed
    if bracket and said in _BY_PLAIN:
        return f"{_BY_PLAIN[said]}  [{_extra_in_vietnamese(extra)}"
    if plain.endswith("..."):
        whole = next((v for english, v in _BY_PLAIN.items() if english.startswith(plain[:-3])), None)
        if whole is not None:
            return whole.split(". ")[0].rstrip(".")
    return text


_EXTRA_WORDS = {"default: ": "mặc định: ", "required": "bắt buộc", "env var: ": "biến môi trường: "}


def _extra_in_vietnamese(extra: str) -> str:
    """Click's bracket after an option's help (``default: 30; 1<=x<=600``, ``required``) in Vietnamese."""
    for english, vietnamese in _EXTRA_WORDS.items():
        extra = extra.replace(english, vietnamese)
    return extra.replace(", or ", ", hoặc ")


class TranslatingFormatter(click.HelpFormatter):
    """Click's help formatter, writing each help text, heading and option description in the language
    the command line asked for (``--lang``, or DOKIEM_LANG; Vietnamese by default)."""

    lang = "vi"

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if self.lang == "vi":
            for english, vietnamese in METAVARS.items():
                args = args.replace(english, vietnamese)
        super().write_usage(prog, args, translated(prefix or "Usage:", self.lang) + " ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(translated(heading, self.lang))

    def write_text(self, text: str) -> None:
        super().write_text(translated(text, self.lang))

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(term, translated(text, self.lang)) for term, text in rows], col_max, col_spacing)


HELP_LANG = "dokiem.help_lang"  # where the root's eager --lang leaves the language, in the contexts' shared meta


class HelpContext(click.Context):
    """A context whose help speaks the language of the command line."""

    def make_formatter(self) -> click.HelpFormatter:
        formatter = TranslatingFormatter(width=self.terminal_width, max_width=self.max_content_width)
        formatter.lang = self.meta.get(HELP_LANG) or default_lang()
        return formatter

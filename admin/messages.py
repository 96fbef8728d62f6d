"""What enrolment, the PKI, deploy init and signed releases say."""

from __future__ import annotations

from dokiem.i18n import add_texts

TEXTS: dict[str, tuple[str, str]] = {
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
    "release_renewed": (
        "Đã ký lại bộ phát hành {version}: máy đo cài được đến {expires}.",
        "Signed the release {version} again: agents install it until {expires}.",
    ),
    "release_failed": ("Không tạo/công bố được bản phát hành: {reason}", "The release failed: {reason}"),
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
    "revoked": ("Đã thu hồi thiết bị đo {agent}.", "Revoked agent {agent}."),
    "not_enrolled": (
        "Không có thiết bị đo {agent} trong {passwd}: không có gì để thu hồi.",
        "No agent {agent} in {passwd}: nothing to revoke.",
    ),
    "pki_written": (
        "Đã tạo CA và chứng thư máy chủ cho {names} trong {folder} (khóa chỉ chủ sở hữu đọc được).",
        "Created a CA and a server certificate for {names} in {folder} (keys readable by their owner only).",
    ),
    "pki_renewed": (
        "Đã thay chứng thư máy chủ cho {names}, có hiệu lực đến {until} (khóa mới, cùng CA, CA hết hạn {ca_until})."
        " Khởi động lại Mosquitto để dùng nó; thiết bị đo không cần đăng ký lại.",
        "Renewed the server certificate for {names}, valid until {until} (a new key, the same CA, which ends"
        " {ca_until}). Restart Mosquitto to use it; no agent needs enrolling again.",
    ),
    "pki_missing": (
        "{path} thiếu {files}: chạy dokiem pki init trước (hoặc chỉ --dir tới thư mục của nó).",
        "{path} lacks {files}: run dokiem pki init first (or point --dir at its folder).",
    ),
    "deploy_ready": (
        "Đã tạo {env} và {secrets}. Khởi động: cd {folder} && docker compose up -d",
        "Wrote {env} and {secrets}. Start: cd {folder} && docker compose up -d",
    ),
}
add_texts(TEXTS)

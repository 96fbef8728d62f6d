#!/usr/bin/env bash
# Install the dokiem agent on Raspberry Pi OS / Debian (arm64, armhf, amd64) as a systemd service.
#
#   sudo deploy/agent/install.sh --id th-380-001 --broker mqtts://broker.example.vn:8883 \
#        --password 'from-the-department' --ca ca.pem --server http://speedtest.example.vn:8080/ \
#        --province 38 --district 380 --commune 14755 --isp VNPT --access fixed --plan-down 300 --plan-up 300
#
# or, with the bundle `dokiem agent enroll` made on the server (agent.toml and ca.crt):
#
#   sudo deploy/agent/install.sh --config enrolled/th-380-001/agent.toml
#
# --print-config writes the agent.toml it would install to stdout and changes nothing.
# --release-key FILE installs the province's release.pub (from `dokiem release keygen`; a release.pub
# beside the --config bundle is taken too): without it, the agent refuses every update.
# --survey makes a survey car's Pi: `dokiem agent survey` runs with the car's power (dokiem-survey.service)
# instead of the scheduled measurements; positions from the modem's GNSS or from gpsd (a USB GPS).
set -euo pipefail

PREFIX=/opt/dokiem
ETC=/etc/dokiem
SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
ID="" BROKER="" USERNAME="" PASSWORD="" CA="" SERVER="" PROVINCE="38" DISTRICT="" COMMUNE=""
ISP="" ACCESS="fixed" PLAN_DOWN="" PLAN_UP="" INTERVAL="60" BUDGET="0" PRINT_ONLY=0 GIVEN_CONFIG="" RELEASE_KEY=""
SURVEY=0

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --id) ID="$2"; shift 2 ;;
        --broker) BROKER="$2"; shift 2 ;;
        --username) USERNAME="$2"; shift 2 ;;
        --password) PASSWORD="$2"; shift 2 ;;
        --ca) CA="$2"; shift 2 ;;
        --server) SERVER="$2"; shift 2 ;;
        --province) PROVINCE="$2"; shift 2 ;;
        --district) DISTRICT="$2"; shift 2 ;;
        --commune) COMMUNE="$2"; shift 2 ;;
        --isp) ISP="$2"; shift 2 ;;
        --access) ACCESS="$2"; shift 2 ;;
        --plan-down) PLAN_DOWN="$2"; shift 2 ;;
        --plan-up) PLAN_UP="$2"; shift 2 ;;
        --interval) INTERVAL="$2"; shift 2 ;;
        --monthly-budget-mb) BUDGET="$2"; shift 2 ;;
        --source) SOURCE="$2"; shift 2 ;;
        --config) GIVEN_CONFIG="$2"; shift 2 ;;
        --release-key) RELEASE_KEY="$2"; shift 2 ;;
        --print-config) PRINT_ONLY=1; shift ;;
        --survey) SURVEY=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage 2 ;;
    esac
done

if [ -n "$GIVEN_CONFIG" ]; then
    [ -r "$GIVEN_CONFIG" ] || die "cannot read $GIVEN_CONFIG"
    [ -n "$CA" ] || CA="$(dirname "$GIVEN_CONFIG")/ca.crt"  # enroll's bundle puts it beside agent.toml
    bundled_key="$(dirname "$GIVEN_CONFIG")/release.pub"
    [ -n "$RELEASE_KEY" ] || [ ! -r "$bundled_key" ] || RELEASE_KEY="$bundled_key"
else
    [ -n "$ID" ] || die "--id is required (the agent id the department gave you, e.g. th-380-001)"
    [ -n "$BROKER" ] || die "--broker is required (e.g. mqtts://broker.example.vn:8883)"
    [ -n "$SERVER" ] || die "--server is required (the test server's URL)"
    case "$ACCESS" in fixed|mobile) ;; *) die "--access must be fixed or mobile, not '$ACCESS'" ;; esac
fi

toml_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

config() {
    if [ -n "$GIVEN_CONFIG" ]; then
        cat "$GIVEN_CONFIG"
        return
    fi
    echo "# dokiem agent configuration, written by deploy/agent/install.sh on $(date -u +%Y-%m-%d)"
    echo "[agent]"
    echo "id = $(toml_string "$ID")"
    echo "data_dir = \"/var/lib/dokiem\""
    echo
    echo "[site]"
    echo "province_code = $(toml_string "$PROVINCE")"
    [ -n "$DISTRICT" ] && echo "district_code = $(toml_string "$DISTRICT")"
    [ -n "$COMMUNE" ] && echo "commune_code = $(toml_string "$COMMUNE")"
    [ -n "$ISP" ] && echo "isp = $(toml_string "$ISP")"
    echo "access = $(toml_string "$ACCESS")"
    [ -n "$PLAN_DOWN" ] && echo "plan_down_mbps = $PLAN_DOWN"
    [ -n "$PLAN_UP" ] && echo "plan_up_mbps = $PLAN_UP"
    echo
    echo "[broker]"
    echo "url = $(toml_string "$BROKER")"
    [ -n "$USERNAME" ] && echo "username = $(toml_string "$USERNAME")"
    [ -n "$PASSWORD" ] && echo "password = $(toml_string "$PASSWORD")"
    [ -n "$CA" ] && echo "ca_file = \"$ETC/ca.pem\""
    echo
    echo "[schedule]"
    echo "interval_minutes = $INTERVAL"
    echo "monthly_budget_mb = $BUDGET"
    echo
    echo "[measure]"
    echo "servers = [$(toml_string "$SERVER")]"
    true
}

if [ "$PRINT_ONLY" = 1 ]; then
    config
    exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (sudo)"
[ -z "$CA" ] || [ -r "$CA" ] || die "cannot read the CA file $CA"
[ -z "$RELEASE_KEY" ] || [ -r "$RELEASE_KEY" ] || die "cannot read the release key $RELEASE_KEY"
VERSION="$(sed -n 's/^__version__ = "\([^"]*\)".*/\1/p' "$SOURCE/dokiem/__init__.py")"
[ -n "$VERSION" ] || die "$SOURCE is not dokiem's source folder (no dokiem/__init__.py with a version)"

echo "== packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev gcc >/dev/null

echo "== user and folders"
id dokiem >/dev/null 2>&1 || useradd --system --home-dir /var/lib/dokiem --shell /usr/sbin/nologin dokiem
install -d -m 0755 "$PREFIX"
install -d -m 0750 -o root -g dokiem "$ETC"

# Each version has its own virtualenv; `current` is what runs, `good` the last one confirmed by a
# heartbeat (the updater runs from it). Updates add versions beside this one (agent.update).
VENV="$PREFIX/versions/$VERSION"
echo "== dokiem $VERSION into $VENV"
install -d -m 0755 "$PREFIX/versions"
rm -rf "$VENV"
python3 -m venv "$VENV"
if [ "$SURVEY" = 1 ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check "$SOURCE[survey]"
else
    "$VENV/bin/pip" install -q --disable-pip-version-check "$SOURCE"
fi
ln -sfn "versions/$VERSION" "$PREFIX/current"
ln -sfn "versions/$VERSION" "$PREFIX/good"
rm -f "$PREFIX/update-state.json"  # installed by hand: a fresh start for the updater

echo "== configuration in $ETC"
[ -n "$CA" ] && install -m 0644 "$CA" "$ETC/ca.pem"
[ -n "$RELEASE_KEY" ] && install -m 0644 "$RELEASE_KEY" "$ETC/release.pub"
umask 027
config > "$ETC/agent.toml.new"
chgrp dokiem "$ETC/agent.toml.new"
"$PREFIX/current/bin/dokiem" agent check --config "$ETC/agent.toml.new" \
    || die "the configuration was refused (see above); nothing was enabled"
mv "$ETC/agent.toml.new" "$ETC/agent.toml"

echo "== service"
MAIN=dokiem-agent.service
[ "$SURVEY" = 1 ] && MAIN=dokiem-survey.service
UNITS="$MAIN dokiem-update.service dokiem-update.path dokiem-update.timer"
for unit in $UNITS; do install -m 0644 "$SOURCE/deploy/agent/$unit" "/etc/systemd/system/$unit"; done
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now dokiem-update.path dokiem-update.timer
    systemctl enable --now "$MAIN"
    sleep 3
    systemctl --no-pager --lines=5 status "$MAIN" || true
else
    # a chroot or an SD-card image being prepared: enable it; it starts at the next boot
    systemctl enable "$MAIN" dokiem-update.path dokiem-update.timer
    echo "systemd is not running here: $MAIN is enabled and starts at the next boot"
fi
echo "Done. Check it with: sudo -u dokiem $PREFIX/current/bin/dokiem agent status --config $ETC/agent.toml"

#!/usr/bin/env bash
# Screenshots of a published site as a phone (360 px) and a desktop (1280 px) show it, in headless
# Chromium (Debian's chromium package):  scripts/look_at_site.sh SITE_DIR [COMMUNE_CODE]
set -euo pipefail
site="$(cd "$1" && pwd)" commune="${2:-$(ls "$site/communes" | head -1 | sed 's/\.html$//')}"
for width in 360 1280; do
    for page in index.html "communes/$commune.html"; do
        name="$(echo "$page" | tr '/.' '__')"
        chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$width,2400" \
            --screenshot="$site/../shot-$width-$name.png" "file://$site/$page" 2>/dev/null
    done
done
ls "$site"/../shot-*.png

#!/usr/bin/env bash
# Render the quarterly report's PDF and DOCX pages as PNG, to look at them as a person would.
#   scripts/look_at_report.sh sqlite:////var/lib/dokiem/archive.db 2026Q3 [OUT]
# Needs poppler-utils and libreoffice-writer-nogui (the README's test command installs both).
set -euo pipefail
archive="$1" quarter="$2" out="${3:-report-look}"
mkdir -p "$out"
dokiem report quarterly --quarter "$quarter" --archive "$archive" --out "$out" --format pdf,docx
HOME="$out" soffice --headless --convert-to pdf --outdir "$out/docx-as-pdf" "$out"/dokiem-quarterly-*.docx >/dev/null
pdftoppm -r 70 -png "$out"/dokiem-quarterly-*.pdf "$out/pdf-page"
pdftoppm -r 70 -png "$out"/docx-as-pdf/*.pdf "$out/docx-page"
echo "pages: $(ls "$out"/*.png | wc -l) PNG files in $out"

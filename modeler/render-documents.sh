#!/usr/bin/env bash
# Render the SOP document of every shipped BPMN to PNG (one image per printed A4 page)
# in headless Chromium, for a person to look at. Offline: the HTML is self-contained and
# Chromium runs with networking features off.
#
#   bash modeler/render-documents.sh [OUT_DIR]      (default: build/documents)
#
# Needs Debian's chromium (apt-get install chromium). Each page is shown alone through
# its #halaman-N anchor, at the A4 landscape size of 1123 x 794 CSS px.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-build/documents}"
PY="${PYTHON:-.venv/bin/python}"
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [[ -z "$CHROMIUM" ]]; then
    echo "render-documents: chromium not found (apt-get install chromium)" >&2
    exit 1
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
shopt -s nullglob
files=(bpmn/*.bpmn)
if (( ${#files[@]} == 0 )); then
    echo "render-documents: no bpmn/*.bpmn files" >&2
    exit 1
fi
for bpmn in "${files[@]}"; do
    name="$(basename "$bpmn" .bpmn)"
    html="$OUT/$name.html"
    "$PY" -m sopflow document "$bpmn" -o "$html"
    pages="$(grep -o 'id="halaman-[0-9]*"' "$html" | wc -l)"
    for (( page = 1; page <= pages; page++ )); do
        png="$OUT/$name-$page.png"
        timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
            --disable-background-networking --disable-component-update --disable-sync \
            --no-first-run --hide-scrollbars --window-size=1123,794 \
            --screenshot="$png" "file://$html#halaman-$page" >/dev/null 2>&1
        [[ -s "$png" ]] || { echo "render-documents: $png was not written" >&2; exit 1; }
        echo "$png"
    done
done

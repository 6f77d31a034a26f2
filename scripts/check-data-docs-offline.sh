#!/usr/bin/env bash
# Open the Data Docs index in headless Chromium with the network OFF and check that the list
# of validations is rendered (bootstrap-table ran, so jQuery, Bootstrap and bootstrap-table
# loaded from the reports folder itself). Writes a screenshot next to the index for a human
# look. Usage: scripts/check-data-docs-offline.sh [path/to/data-docs/index.html] [min_rows]
# Needs chromium (`apt-get install -y chromium`). Exit 0 = rendered offline, 1 = not.
set -euo pipefail
index="$(realpath "${1:-.data/reports/data-docs/index.html}")"
min_rows="${2:-1}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[[ -n "$browser" ]] || { echo "chromium not found: apt-get install -y chromium" >&2; exit 2; }
[[ -f "$index" ]] || { echo "no Data Docs index at $index (run make demo first)" >&2; exit 2; }

# Network off: a new empty network namespace where allowed, else a proxy that goes nowhere.
offline=() flags=()
if unshare -n true 2>/dev/null; then offline=(unshare -n)
elif unshare -rn true 2>/dev/null; then offline=(unshare -rn)
else flags=(--proxy-server=http://127.0.0.1:9 --proxy-bypass-list='<-loopback>')
fi
common=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
        --disable-component-update --window-size=1400,1000 --virtual-time-budget=8000 "${flags[@]}")
shot="$(dirname "$index")/offline-check.png"
dom="$("${offline[@]}" "$browser" "${common[@]}" --dump-dom "file://$index" 2>/dev/null)"
"${offline[@]}" "$browser" "${common[@]}" --screenshot="$shot" "file://$index" >/dev/null 2>&1 || true

rows="$( (grep -o '<tr[^>]*data-index="[0-9]*"' <<<"$dom" || true) | wc -l)"
styled="$(grep -c 'class="bootstrap-table' <<<"$dom" || true)"
echo "offline: $rows validation row(s) listed, bootstrap-table rendered: $([[ $styled -gt 0 ]] && echo yes || echo no); screenshot $shot"
[[ "$rows" -ge "$min_rows" && "$styled" -gt 0 ]]

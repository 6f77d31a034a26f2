#!/usr/bin/env bash
# Copy one bulletin made by `make demo` to docs/bulletin-example/ and take the README's
# screenshot of it in headless Chromium with the network OFF (the page needs none).
# Usage: scripts/bulletin-example.sh [period] [reports dir]   (defaults: 2025-03, .data/reports)
# Needs chromium (`apt-get install -y chromium`). The test that checks a bulletin as a reader
# sees it is tests/integration/test_dbt_marts.py (tests/integration/bulletin_checks.py).
set -euo pipefail
period="${1:-2025-03}"
source_dir="$(realpath "${2:-.data/reports}")/$period/bulletin"
target="docs/bulletin-example"
browser="$(command -v chromium || command -v chromium-browser || true)"
[[ -n "$browser" ]] || { echo "chromium not found: apt-get install -y chromium" >&2; exit 2; }
[[ -f "$source_dir/index.html" ]] || { echo "no bulletin in $source_dir (make demo)" >&2; exit 2; }
mkdir -p "$target"
cp "$source_dir/index.html" "$source_dir/buletin-$period.pdf" "$target/"
offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); fi
"${offline[@]}" "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
    --proxy-server=http://127.0.0.1:9 --window-size=820,1500 --hide-scrollbars \
    --screenshot="$PWD/$target/screenshot.png" "file://$PWD/$target/index.html" 2>/dev/null
echo "wrote $target/ (index.html, buletin-$period.pdf, screenshot.png)"

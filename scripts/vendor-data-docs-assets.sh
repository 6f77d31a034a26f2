#!/usr/bin/env bash
# Refresh the Data Docs assets vendored in include/sinergi/datadocs_static/vendor/ from the npm
# packages pinned by include/sinergi/datadocs_static/package-lock.json (`npm ci`: the lock's
# exact versions and integrity hashes). Run it only when changing a version; the copied files
# are committed, so neither `make setup` nor the production image needs node or a network.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
static="$here/include/sinergi/datadocs_static"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$static/package.json" "$static/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --legacy-peer-deps >/dev/null)
nm="$work/node_modules"
out="$static/vendor"
rm -rf "$out"
copy() {  # copy <package> <file>... keeping each file's path inside its package
    local package="$1"; shift
    for file in "$@"; do
        # Not every package ships a LICENSE file (vega, popper.js name theirs in package.json).
        if [[ "$file" == LICENSE* && ! -e "$nm/$package/$file" ]]; then continue; fi
        mkdir -p "$out/$package/$(dirname "$file")"
        cp "$nm/$package/$file" "$out/$package/$file"
    done
}
copy jquery dist/jquery.min.js LICENSE.txt
copy popper.js dist/umd/popper.min.js package.json
copy bootstrap dist/js/bootstrap.min.js dist/css/bootstrap.min.css LICENSE
copy bootstrap-table dist/bootstrap-table.min.js dist/bootstrap-table.min.css \
    dist/extensions/filter-control/bootstrap-table-filter-control.min.js \
    dist/extensions/filter-control/bootstrap-table-filter-control.min.css \
    dist/extensions/filter-control/utils.min.js LICENSE
copy bootstrap-datepicker dist/js/bootstrap-datepicker.min.js \
    dist/css/bootstrap-datepicker.min.css LICENSE
copy @forevolve/bootstrap-dark dist/css/bootstrap-prefers-dark.css LICENSE
copy @fortawesome/fontawesome-free css/all.min.css LICENSE.txt
for font in "$nm"/@fortawesome/fontawesome-free/webfonts/*; do
    copy @fortawesome/fontawesome-free "webfonts/$(basename "$font")"
done
copy vega build/vega.min.js package.json LICENSE
copy vega-lite build/vega-lite.min.js LICENSE
copy vega-embed build/vega-embed.min.js LICENSE
echo "vendored into $out:"
(cd "$out" && find . -type f | sort)

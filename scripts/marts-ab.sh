#!/usr/bin/env bash
# Build the demo months from one checkout on DuckDB and PostgreSQL and dump every mart, so two
# checkouts can be compared byte for byte (a refactoring must change no mart):
#
#   scripts/marts-ab.sh /path/to/old-checkout before
#   scripts/marts-ab.sh /path/to/new-checkout after
#   diff -r $AB/before-marts-duckdb $AB/after-marts-duckdb && diff -r $AB/before-marts-pg $AB/after-marts-pg
#
# AB (default /tmp/marts-ab) holds the shared inbox (generated once: seed 42, scale 0.01,
# faults, 2025-01..03), each label's data folder and logs, and the dumps. PostgreSQL on
# 127.0.0.1:5432 (user postgres) gets a database sinergi_ab_<label>, dropped first.
set -euo pipefail
repo=$(cd "$1" && pwd); label=$2; ab=${AB:-/tmp/marts-ab}
mkdir -p "$ab"
cd "$repo"
make setup >/dev/null
export AIRFLOW_HOME=$repo/.airflow SINERGI_PII_KEY=marts-ab-fixed-key-0123456789abcdef
rm -rf "$ab/$label-data"
if [ ! -d "$ab/inbox" ]; then
  .venv/bin/sinergi generate --out "$ab/inbox" --periods 2025-01:2025-03 --seed 42 --scale 0.01 --faults >/dev/null
fi
psql -h 127.0.0.1 -U postgres -qc "drop database if exists sinergi_ab_$label" -c "create database sinergi_ab_$label"
for engine in duckdb pg; do
  if [ "$engine" = duckdb ]; then wh=duckdb://$ab/$label-data/wh.duckdb; else wh=postgresql://postgres@127.0.0.1:5432/sinergi_ab_$label; fi
  for period in 2025-01 2025-02 2025-03; do
    SINERGI_DATA_DIR=$ab/$label-data/$engine .venv/bin/sinergi run --period $period --inbox "$ab/inbox" \
      --warehouse "$wh" > "$ab/$label-$engine-$period.log" 2>&1 || echo "run $engine $period FAILED (log: $ab/$label-$engine-$period.log)"
  done
  .venv/bin/python scripts/dump_marts.py "$wh" "$ab/$label-marts-$engine" >/dev/null
done
echo "marts of $label in $ab/$label-marts-duckdb and $ab/$label-marts-pg"

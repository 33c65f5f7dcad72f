#!/usr/bin/env bash
# Benchmarks `history` over a series of snapshots of one generated tenant (default: 30 of m). The tenant is served
# without throttling; each snapshot after the first follows CHANGES (default 200) group-membership changes made
# through the emulator's write API (bench/churn.py). Then times `history` (changed grants, --privileged, and
# --all as JSON), `report --history` over the series, `export --lake` of every snapshot, and the DuckDB lake
# queries (queries/lake/) when $PYTHON (default python3) has duckdb. Prints wall time and peak RSS of each.
# Sign-in activity is not collected (COLLECT_ARGS, default --skip-sign-in-activity): collect keeps to its documented
# rate, which would make each snapshot take minutes, and no grant depends on it.
# Usage: bench/history.sh [SIZE] [COUNT]. With HISTORY_DIR=dir the snapshots are kept there and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
size=${1:-m}
count=${2:-30}
changes=${CHANGES:-200}
python=${PYTHON:-python3}
bin=$(azsnap_binary)
scratch
dir=${HISTORY_DIR:-$work/series}
mkdir -p "$dir"
if [ "$(ls "$dir"/*.db 2>/dev/null | wc -l)" -lt "$count" ]; then
  rm -f "$dir"/*.db
  "$bin" mock generate --size "$size" -o "$work/t.json" >"$work/gen.out"
  tenant=$(awk '{print $2}' "$work/gen.out")
  "$bin" mock serve --tenant "$work/t.json" --port 0 --throttle off >"$work/serve.out" 2>&1 &
  pid=$!
  until grep -qs listening "$work/serve.out"; do sleep 0.2; done
  base=$(sed -n 's/^listening on //p' "$work/serve.out")
  start=$(date +%s.%N)
  for i in $(seq -w 0 $((count - 1))); do
    [ "$i" -gt 0 ] && python3 bench/churn.py "$base" "$tenant" "$work/t.json" "$changes" "$((10#$i))" >/dev/null
    AZURE_TENANT_ID=$tenant AZURE_CLIENT_ID=a1b2c3d4-0000-4000-8000-000000000001 AZURE_CLIENT_SECRET=contoso-reader-secret \
      "$bin" collect --quiet --endpoint "$base" -o "$dir/$size-$i.db" --concurrency "$concurrency" \
      ${COLLECT_ARGS:---skip-sign-in-activity}
  done
  echo "collected $count snapshots of $size in $(echo "$(date +%s.%N) - $start" | bc) s"
  kill "$pid"; wait "$pid" 2>/dev/null || true
fi
echo "$(ls "$dir"/*.db | wc -l) snapshots, $(du -sh "$dir" | cut -f1)"
measure() { /usr/bin/time -f "$1: %e s wall, %M KiB peak RSS" "${@:2}"; }
measure "history" "$bin" history "$dir" >"$work/history.md"
head -1 "$work/history.md"
measure "history --privileged" "$bin" history "$dir" --privileged >"$work/privileged.md"
head -1 "$work/privileged.md"
measure "history --all --format json" "$bin" history "$dir" --all --format json >"$work/all.json"
echo "  $(du -h "$work/all.json" | cut -f1) of JSON"
newest=$(ls "$dir"/*.db | tail -1)
measure "report --history" "$bin" report "$newest" --history "$dir" -o "$work/report.html" -q
start=$(date +%s.%N)
for f in "$dir"/*.db; do
  "$bin" export "$f" --lake "$work/lake" -q
done
echo "export --lake of each: $(echo "$(date +%s.%N) - $start" | bc) s in all, $(du -sh "$work/lake" | cut -f1)"
if "$python" -c "import duckdb" 2>/dev/null; then
  for q in history privileged_over_time; do
    measure "duckdb queries/lake/$q.sql" "$python" - "$work/lake" "queries/lake" "$q" <<'PY'
import sys, duckdb
lake, queries, name = sys.argv[1:]
c = duckdb.connect()
c.execute("SET VARIABLE lake = ?", [lake])
c.execute(open(f"{queries}/views.sql").read())
rows = c.sql(open(f"{queries}/{name}.sql").read()).fetchall()
print(f"  {len(rows)} rows")
PY
  done
else
  echo "duckdb queries skipped: $python lacks duckdb"
fi

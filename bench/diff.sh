#!/usr/bin/env bash
# Benchmarks `azsnap diff` on two snapshots of a generated tenant (default preset l: about 1.7 M grants each) that
# differ by a few thousand membership changes made through the emulator's write API, beside a plain sqlite3
# anti-join over the same files as the baseline. Prints wall time and peak RSS of each. Sign-in activity is not
# collected: its documented rate (which collect keeps to) would make each collection of l take most of an hour.
# Usage: bench/diff.sh [SIZE] (default l). Needs sqlite3 and curl. With DIFF_DIR=dir, the snapshots are kept
# there and reused by later runs (only the measurements are repeated).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-l}
changes=${CHANGES:-3000}
cargo build --release --locked --quiet
bin=$PWD/target/release/azsnap
if [ -n "${DIFF_DIR:-}" ]; then
  work=$DIFF_DIR
  mkdir -p "$work"
  trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
else
  work=$(mktemp -d)
  trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
fi
if [ ! -f "$work/b.db" ]; then
"$bin" mock generate --size "$size" -o "$work/t.json" >"$work/gen.out"
tenant=$(awk '{print $2}' "$work/gen.out")
"$bin" mock serve --tenant "$work/t.json" --port 0 --throttle off >"$work/serve.out" 2>&1 &
until grep -q listening "$work/serve.out"; do sleep 0.2; done
base=$(sed -n 's/^listening on //p' "$work/serve.out")
export AZURE_TENANT_ID=$tenant AZURE_CLIENT_ID=a1b2c3d4-0000-4000-8000-000000000001 AZURE_CLIENT_SECRET=contoso-reader-secret
start=$(date +%s.%N)
"$bin" collect --quiet --endpoint "$base" -o "$work/a.db" --skip-p2 --skip-sign-in-activity
echo "collect $size (throttle off): $(echo "$(date +%s.%N) - $start" | bc) s"
python3 bench/churn.py "$base" "$tenant" "$work/t.json" "$changes"
"$bin" collect --quiet --endpoint "$base" -o "$work/b.db" --skip-p2 --skip-sign-in-activity
kill %1 2>/dev/null || true
fi
grants=$(sqlite3 "$work/a.db" 'SELECT count(*) FROM grants')
echo "grants: $grants per snapshot"
/usr/bin/time -f "azsnap diff: %e s wall, %M KiB peak RSS" "$bin" diff "$work/a.db" "$work/b.db" --format json >"$work/diff.json"
python3 -c "import json; s=json.load(open('$work/diff.json'))['summary']; print('azsnap diff found:', s['added'], 'added,', s['removed'], 'removed,', s['changed'], 'changed')"
key="o.principal_id = n.principal_id AND o.relation = n.relation AND o.target_id = n.target_id AND o.role_id = n.role_id AND o.scope = n.scope AND o.state = n.state"
/usr/bin/time -f "sqlite3 anti-join: %e s wall, %M KiB peak RSS" sqlite3 "$work/a.db" "ATTACH '$work/b.db' AS new;
SELECT (SELECT count(*) FROM new.grants n WHERE NOT EXISTS (SELECT 1 FROM main.grants o WHERE $key)),
       (SELECT count(*) FROM main.grants o WHERE NOT EXISTS (SELECT 1 FROM new.grants n WHERE $key));"

#!/usr/bin/env bash
# Benchmarks `azsnap collect` against the emulator with the documented throttling and a fixed latency, for generated
# tenants of the given presets. Prints, per size: wall time, peak RSS, requests, resource units, throttled answers,
# snapshot size, and the lower bound that the throttling limits and latency impose, with the ratio to it.
# Usage: bench/collect.sh [SIZES...] (default: s m). Environment: LATENCY_MS (default 50), CONCURRENCY (default 8).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin=$PWD/target/release/azsnap
latency=${LATENCY_MS:-50}
concurrency=${CONCURRENCY:-8}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(s m)
printf '%-4s %9s %9s %9s %9s %9s %11s %9s %7s\n' size wall_s rss_mib requests ru throttled snapshot_mb bound_s ratio
for size in "${sizes[@]}"; do
  "$bin" mock generate --size "$size" -o "$work/$size.json" >"$work/gen.out"
  tenant=$(awk '{print $2}' "$work/gen.out")
  users=$(python3 -c "import json,sys; d=json.load(open('$work/$size.json')); print(len(d['users']))")
  "$bin" mock serve --tenant "$work/$size.json" --port 0 --throttle documented --latency-ms "$latency" >"$work/serve.out" 2>&1 &
  pid=$!
  until grep -q listening "$work/serve.out"; do sleep 0.2; done
  base=$(sed -n 's/^listening on //p' "$work/serve.out")
  rm -f "$work/$size.db"
  AZURE_TENANT_ID=$tenant AZURE_CLIENT_ID=a1b2c3d4-0000-4000-8000-000000000001 AZURE_CLIENT_SECRET=contoso-reader-secret \
    /usr/bin/time -f "%e %M" -o "$work/time.out" "$bin" collect --quiet --endpoint "$base" -o "$work/$size.db" --concurrency "$concurrency"
  read -r wall rss_kib <"$work/time.out"
  stats=$(curl -s "$base/_emulator/stats")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$stats" "$wall" "$rss_kib" "$users" "$latency" "$work/$size.db" "$size" <<'PY'
import json, math, os, sys
stats, wall, rss, users, latency, db, size = json.loads(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
lat = latency / 1000
# Graph identity bucket for this tenant size (RU per 10 s), spent RU beyond the first bucket at the refill rate.
cap = 3500 if users < 50 else 5000 if users <= 500 else 8000
ru = stats.get("resource_units", 0)
ru_bound = max(0.0, ru - cap) / (cap / 10)
# Sign-in activity: pages of 500, 5 per 10 s and 10 per minute per app and tenant.
pages = math.ceil(users / 500)
signin_bound = max(max(0, pages - 5) / 0.5, max(0, pages - 10) / (10 / 60)) + lat
# Latency: each service's requests spread over its concurrency budget, and the shortest chain of dependent
# requests (organization, subscriptions, storage accounts, containers) or the longest nextLink walk.
conc = int(os.environ.get("CONCURRENCY", "8"))
by = stats.get("by_class", {})
latency_bound = max(by.get("graph", 0), by.get("arm", 0)) * lat / conc
chain_bound = max(4, pages) * lat
bound = max(ru_bound, signin_bound, latency_bound, chain_bound)
print(f"{size:<4} {wall:9.1f} {rss/1024:9.0f} {stats['requests']:9d} {ru:9.0f} {stats['throttled']:9d} {os.path.getsize(db)/1e6:11.1f} {bound:9.1f} {wall/bound if bound else float('nan'):7.2f}")
PY
done

#!/usr/bin/env bash
# Benchmarks `azsnap collect` against the emulator with the documented throttling and a fixed latency, for generated
# tenants of the given presets. Prints, per size: wall time, peak RSS, requests, resource units, throttled answers,
# snapshot size, and the lower bound that the throttling limits and latency impose, with the ratio to it.
# Usage: bench/collect.sh [SIZES...] (default: s m). Environment: LATENCY_MS (default 50), CONCURRENCY (default 8),
# COLLECT_ARGS (extra collect flags, e.g. --mailbox-settings), BIN (an azsnap binary to measure instead of building one). The limits come from the emulator (/_emulator/limits).
# Columns: requests = HTTP requests the emulator answered; inner = $batch items inside them; 429 = throttled answers
# (items included); inner_429 = of them, $batch items; 429_pct = 429 / (requests + inner).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin=$(azsnap_binary)
scratch
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(s m)
printf '%-4s %9s %9s %9s %9s %9s %9s %9s %8s %11s %9s %7s %4s\n' size wall_s rss_mib requests inner ru 429 inner_429 429_pct snapshot_mb bound_s ratio exit
for size in "${sizes[@]}"; do
  "$bin" mock generate --size "$size" -o "$work/$size.json" >"$work/gen.out"
  tenant=$(awk '{print $2}' "$work/gen.out")
  users=$(python3 -c "import json,sys; d=json.load(open('$work/$size.json')); print(len(d['users']))")
  serve "$work/$size.json" "$latency"
  rm -f "$work/$size.db"
  AZURE_TENANT_ID=$tenant AZURE_CLIENT_ID=a1b2c3d4-0000-4000-8000-000000000001 AZURE_CLIENT_SECRET=contoso-reader-secret \
    /usr/bin/time -f "%e %M" -o "$work/time.out" "$bin" collect --quiet --endpoint "$base" -o "$work/$size.db" --concurrency "$concurrency" ${COLLECT_ARGS:-} && code=0 || code=$?
  read -r wall rss_kib < <(tail -1 "$work/time.out")
  stats=$(curl -s "$base/_emulator/stats")
  limits=$(curl -s "$base/_emulator/limits")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$stats" "$wall" "$rss_kib" "$users" "$latency" "$work/$size.db" "$size" "$limits" "$code" <<'PY'
import json, math, os, sys
stats, wall, rss, users, latency, db, size = json.loads(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
limits, code = json.loads(sys.argv[8])["limits"], sys.argv[9]
lat = latency / 1000
# Graph identity bucket for this tenant size (RU per 10 s), spent RU beyond the first bucket at the refill rate.
cap = limits["graph_ru_per_10s"]
ru = stats.get("resource_units", 0)
ru_bound = max(0.0, ru - cap) / (cap / 10)
# Sign-in activity: pages of 500, within the reports tier (per 10 s) and the signInActivity limit (per minute).
pages = math.ceil(users / 500)
per10, permin = limits["reports_per_10s"], limits["sign_in_activity_per_min"]
signin_bound = max(max(0, pages - per10) / (per10 / 10), max(0, pages - permin) / (permin / 60)) + lat
# Latency: each service's requests spread over its concurrency budget, and the shortest chain of dependent
# requests (organization, subscriptions, storage accounts, containers) or the longest nextLink walk.
conc = int(os.environ.get("CONCURRENCY", "8"))
by = stats.get("by_class", {})
latency_bound = max(by.get("graph", 0), by.get("arm", 0)) * lat / conc
chain_bound = max(4, pages) * lat
bound = max(ru_bound, signin_bound, latency_bound, chain_bound)
inner = by.get("graph_batch_inner", 0)
sent = stats["requests"] + inner
pct = 100 * stats["throttled"] / sent if sent else 0
size_mb = os.path.getsize(db) / 1e6 if os.path.exists(db) else 0
print(f"{size:<4} {wall:9.1f} {rss/1024:9.0f} {stats['requests']:9d} {inner:9d} {ru:9.0f} {stats['throttled']:9d} {stats.get('throttled_inner', 0):9d} {pct:7.1f}% {size_mb:11.1f} {bound:9.1f} {wall/bound if bound else float('nan'):7.2f} {code:>4}")
PY
done

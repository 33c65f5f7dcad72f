#!/usr/bin/env bash
# Benchmarks `collect --since` against a full collection of the same tenant state, on generated tenants served with
# the documented throttling and a fixed latency. Per size: a full collection (PREV); CHURN_PCT % of users changed
# (disabled) and CHURN_PCT % of groups given a new member through the emulator's write endpoints; then a full
# collection and a `--since PREV` collection of that state, and a `--since` with nothing changed since. Prints wall
# time, peak RSS and requests (HTTP requests, and $batch items inside them) of each, the ratios, and whether the
# fingerprints agree.
# Usage: bench/incremental.sh [SIZES...] (default: s m). Environment: LATENCY_MS (default 50), CONCURRENCY
# (default 8), CHURN_PCT (default 1), COLLECT_ARGS (extra collect flags for every run, e.g. --mailbox-settings), BIN
# (an azsnap binary to measure instead of building one).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin=$(azsnap_binary)
churn=${CHURN_PCT:-1}
scratch
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(s m)
reader=(AZURE_CLIENT_ID=a1b2c3d4-0000-4000-8000-000000000001 AZURE_CLIENT_SECRET=contoso-reader-secret)

# run NAME ARGS...: one collection; prints "wall rss_mib requests inner exit". Each run starts with the throttling
# buckets as an hourly job would find them: it waits for the identity reports tier (5 per 10 s, 10 a minute) the
# previous run spent to refill.
run() {
  local name=$1; shift
  local before after code
  sleep 61
  curl -s "$base/_emulator/stats" >"$work/before.json"
  env AZURE_TENANT_ID="$tenant" "${reader[@]}" /usr/bin/time -f "%e %M" -o "$work/time.out" \
    "$bin" collect --quiet --endpoint "$base" -o "$work/$size-$name.db" --concurrency "$concurrency" ${COLLECT_ARGS:-} "$@" && code=0 || code=$?
  curl -s "$base/_emulator/stats" >"$work/after.json"
  # (Stats go through files: at `l` the emulator's write log outgrows an argument list.)
  python3 - "$work/before.json" "$work/after.json" "$(tail -1 "$work/time.out")" "$code" <<'PY'
import json, sys
b, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
wall, rss = sys.argv[3].split()
inner = a["by_class"].get("graph_batch_inner", 0) - b["by_class"].get("graph_batch_inner", 0)
print(wall, int(rss) // 1024, a["requests"] - b["requests"], inner, sys.argv[4])
PY
}

printf '%-4s %-10s %9s %8s %9s %9s %5s %10s %10s %s\n' size run wall_s rss_mib requests inner exit wall_ratio req_ratio fingerprint
for size in "${sizes[@]}"; do
  "$bin" mock generate --size "$size" -o "$work/$size.json" >"$work/gen.out"
  tenant=$(awk '{print $2}' "$work/gen.out")
  # The writer may change users for the churn; the reader may read the audit log (Directory.Read.All, which only
  # --since uses).
  python3 - "$work/$size.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
for app in t["apps"]:
    if app["clientId"].endswith("0002"):
        app["graphPermissions"] = sorted(set(app["graphPermissions"]) | {"User.ReadWrite.All", "GroupMember.ReadWrite.All"})
    if app["clientId"].endswith("0001"):
        app["graphPermissions"] = sorted(set(app["graphPermissions"]) | {"Directory.Read.All"})
json.dump(t, open(sys.argv[1], "w"))
PY
  serve "$work/$size.json" "$latency"
  read -r -a prev < <(run prev)
  python3 - "$base" "$tenant" "$work/$size.json" "$churn" <<'PY'
import json, sys, urllib.parse, urllib.request, time
base, tenant, path, pct = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
t = json.load(open(path))
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "a1b2c3d4-0000-4000-8000-000000000002",
    "client_secret": "contoso-writer-secret", "scope": "https://graph.microsoft.com/.default"}).encode()
token = json.load(urllib.request.urlopen(f"{base}/{tenant}/oauth2/v2.0/token", form))["access_token"]
def send(method, path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    while True:
        try:
            return urllib.request.urlopen(req).status
        except urllib.error.HTTPError as e:
            if e.code == 429:
                time.sleep(float(e.headers.get("Retry-After", "1")))
                continue
            return e.code
users = [u for u in t["users"] if not u.get("onPremisesSyncEnabled")]
groups = [g for g in t["groups"] if not g.get("onPremisesSyncEnabled") and "DynamicMembership" not in (g.get("groupTypes") or [])
          and not g.get("isAssignableToRole")]
n_users, n_groups = max(1, int(len(t["users"]) * pct / 100)), max(1, int(len(t["groups"]) * pct / 100))
for u in users[:n_users]:
    send("PATCH", f"/v1.0/users/{u['id']}", {"accountEnabled": not u.get("accountEnabled", True)})
done = 0
for g in groups:
    if done >= n_groups:
        break
    member = next(u["id"] for u in users[n_users:] if u["id"] not in g.get("members", []))
    if send("POST", f"/v1.0/groups/{g['id']}/members/$ref", {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{member}"}) == 204:
        done += 1
print(f"churn: {n_users} users changed, {done} groups given a member", file=sys.stderr)
PY
  read -r -a full < <(run full)
  read -r -a since < <(run since --since "$work/$size-prev.db")
  read -r -a again < <(run again --since "$work/$size-since.db")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  fp() { "$bin" info "$work/$size-$1.db" --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['fingerprint'])"; }
  same=$([ "$(fp full)" = "$(fp since)" ] && echo same || echo DIFFERENT)
  for r in prev full since again; do
    declare -n v=$r
    wall_ratio=$(python3 -c "print(f'{${v[0]}/${full[0]}:.3f}')")
    req_ratio=$(python3 -c "print(f'{(${v[2]}+${v[3]})/(${full[2]}+${full[3]}):.3f}')")
    printf '%-4s %-10s %9s %8s %9s %9s %5s %10s %10s %s\n' "$size" "$r" "${v[0]}" "${v[1]}" "${v[2]}" "${v[3]}" "${v[4]}" "$wall_ratio" "$req_ratio" "$([ "$r" = since ] && echo "$same" || echo -)"
  done
done

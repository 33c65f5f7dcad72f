#!/usr/bin/env bash
# Times the offline analyses on one snapshot (default: the `l` snapshot bench/diff.sh keeps with DIFF_DIR): access for
# the principal with most memberships and for a subscription, every named query, review (plain and effective), and
# export in each format, export --lake, and the HTML report (with the other snapshot beside it, when there is one, as
# its baseline). Prints wall time and peak RSS of each. Usage: bench/analyses.sh [SNAP.db]. Needs sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
snap=${1:-/tmp/diffbench/a.db}
cargo build --release --locked --quiet
bin=$PWD/target/release/azsnap
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
measure() { /usr/bin/time -f "$1: %e s wall, %M KiB peak RSS" "${@:2}" >/dev/null; }
echo "grants: $(sqlite3 "$snap" 'SELECT count(*) FROM grants')"
user=$(sqlite3 "$snap" "SELECT principal_id FROM grants WHERE relation = 'member' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
sub=$(sqlite3 "$snap" "SELECT id FROM resources WHERE kind = 'subscription' LIMIT 1")
measure "access --principal (most memberships)" "$bin" access "$snap" --principal "$user" --format json
measure "access --resource (a subscription)" "$bin" access "$snap" --resource "$sub" --format json
for q in $("$bin" query --list --format csv | tail -n +2 | cut -d, -f1); do
  measure "query $q" "$bin" query "$snap" "$q" --format csv
done
measure "review" "$bin" review "$snap" -o "$out/review.csv" -q
measure "review --effective" "$bin" review "$snap" -o "$out/effective.csv" --effective -q
measure "review --effective --scope (a subscription)" "$bin" review "$snap" -o "$out/sub.csv" --effective --scope "$sub" -q
for f in parquet csv json; do
  measure "export --format $f" "$bin" export "$snap" -o "$out/$f" --format "$f" -q
  echo "  $(du -sh "$out/$f" | cut -f1) in $out/$f"
done
measure "export --lake (a new lake)" "$bin" export "$snap" --lake "$out/lake" -q
echo "  $(du -sh "$out/lake" | cut -f1) in $out/lake"
baseline=$(dirname "$snap")/b.db
if [ -f "$baseline" ] && [ "$baseline" != "$snap" ]; then
  measure "report --baseline" "$bin" report "$snap" --baseline "$baseline" -o "$out/report.html" -q
else
  measure "report" "$bin" report "$snap" -o "$out/report.html" -q
fi
echo "  $(du -h "$out/report.html" | cut -f1) report"

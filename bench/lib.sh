# Shared by the benchmarks (sourced): the azsnap binary to measure, a scratch directory, the emulator, and the
# latency and concurrency of a collection run (LATENCY_MS, default 50; CONCURRENCY, default 8).

latency=${LATENCY_MS:-50}
concurrency=${CONCURRENCY:-8}

# The binary to measure: $BIN when given, else a release build of this checkout.
azsnap_binary() {
  if [ -n "${BIN:-}" ]; then
    realpath "$BIN"
  else
    cargo build --release --locked --quiet
    echo "$PWD/target/release/azsnap"
  fi
}

# Sets $work to a new scratch directory, removed on exit together with any emulator still running.
scratch() {
  work=$(mktemp -d)
  trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
}

# serve TENANT_FILE LATENCY_MS: starts `mock serve` with the documented throttling in the background; sets $pid and
# $base once it listens.
serve() {
  "$bin" mock serve --tenant "$1" --port 0 --throttle documented --latency-ms "$2" >"$work/serve.out" 2>&1 &
  pid=$!
  until grep -qs listening "$work/serve.out"; do sleep 0.2; done
  base=$(sed -n 's/^listening on //p' "$work/serve.out")
}

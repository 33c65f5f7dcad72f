#!/usr/bin/env bash
# Measures the emulator: time and peak memory to generate each size preset, and the time to start serving and
# resident memory while serving. Prints one line per measurement. Usage: bench/emulator.sh [SIZES...] (default: s m l)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin=target/release/azsnap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(s m l)
for size in "${sizes[@]}"; do
  /usr/bin/time -f "generate $size: %e s wall, %M KiB peak RSS" "$bin" mock generate --size "$size" -o "$work/$size.json" >/dev/null
  echo "generate $size: file $(stat -c %s "$work/$size.json") bytes"
  start=$(date +%s.%N)
  "$bin" mock serve --tenant "$work/$size.json" --port 0 >"$work/serve.out" 2>&1 &
  pid=$!
  until grep -q listening "$work/serve.out"; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.out"; exit 1; }
    sleep 0.2
  done
  ready=$(echo "$(date +%s.%N) - $start" | bc)
  echo "serve $size: ready in ${ready} s, $(grep VmRSS /proc/$pid/status | tr -s ' '), $(grep VmHWM /proc/$pid/status | tr -s ' ')"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done

#!/usr/bin/env bash
# Build cost of the quick loop against the full build: the workspace's test build (`cargo test --no-run`) from an
# empty target directory, then after editing one library file, three times, with the default features (polars, for
# `export`) and with --no-default-features. Prints wall times and target sizes (docs/performance.md). Works on a
# clean clone of HEAD in a temporary directory; takes about 6 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q . "$work/src"
cd "$work/src"
now() { date +%s.%N; }
for mode in default --no-default-features; do
  flags=()
  [ "$mode" = default ] || flags=("$mode")
  export CARGO_TARGET_DIR=$work/target-$mode
  start=$(now)
  cargo test --locked --workspace --no-run "${flags[@]}" >/dev/null 2>&1
  echo "clean test build ($mode): $(echo "$(now) - $start" | bc) s"
  for i in 1 2 3; do
    echo "// edit $i" >>src/analyze/sql.rs
    start=$(now)
    cargo test --locked --workspace --no-run "${flags[@]}" >/dev/null 2>&1
    echo "after editing src/analyze/sql.rs ($mode), run $i: $(echo "$(now) - $start" | bc) s"
  done
  git checkout -q src/analyze/sql.rs
  echo "target size ($mode): $(du -sh "$CARGO_TARGET_DIR" | cut -f1)"
done

#!/usr/bin/env bash
# What the engine's own work costs as WebAssembly: tests/wasm-cost built
# natively and for wasm32-wasip2 (both --release, the profile the
# components ship with), run natively and under wasmtime, then each part's
# ratio wasm/native as a Markdown table (the README's "Native vs
# WebAssembly"). A benchmark, not a test: it asserts nothing about time.
#
#   scripts/wasm-cost.sh [--users N] [--repeat R]     (defaults: 50000, 3)
#
# Needs wasmtime, which the test command does not:
#   cargo install wasmtime-cli --locked --version 48.0.8
set -euo pipefail
cd "$(dirname "$0")/.."
WASMTIME_VERSION=48.0.8

if ! command -v wasmtime >/dev/null; then
  echo "wasm-cost: wasmtime is missing; install it with: cargo install wasmtime-cli --locked --version $WASMTIME_VERSION" >&2
  exit 2
fi
target_dir="${CARGO_TARGET_DIR:-target}"
nice cargo build --quiet --release -p wasm-cost
nice cargo build --quiet --release -p wasm-cost --target wasm32-wasip2

echo "$(rustc --version); $(wasmtime --version); $(nproc) cores"
native="$(nice "$target_dir/release/wasm-cost" "$@")"
wasm="$(nice wasmtime run "$target_dir/wasm32-wasip2/release/wasm-cost.wasm" "$@")"
printf '\n%s\n\n%s\n\n' "$native" "$wasm"

# The two tables joined on the part's name (columns are two or more spaces
# apart; the first two lines are headings).
echo "| part | engine calls | native ms | wasm ms | wasm / native |"
echo "|---|---:|---:|---:|---:|"
awk -F '  +' '
  FNR <= 2 { next }
  NR == FNR { native[$1] = $3; next }
  {
    ratio = native[$1] > 0 ? sprintf("%.2f", $3 / native[$1]) : "n/a"
    printf "| %s | %s | %.1f | %.1f | %s |\n", $1, $2, native[$1], $3, ratio
  }
' <(echo "$native") <(echo "$wasm")

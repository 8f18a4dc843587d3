#!/usr/bin/env bash
# What the engine's own work costs as WebAssembly: tests/wasm-cost built
# natively and for wasm32-wasip2 (both --release, the profile the
# components ship with), run natively and under wasmtime in alternation
# (so a load that comes and goes weighs on both), then each part's best
# time of the rounds and its ratio wasm/native as a Markdown table (the
# README's "Native vs WebAssembly"). A benchmark, not a test: it asserts
# nothing about time.
#
#   scripts/wasm-cost.sh [USERS] [ROUNDS]     (defaults: 50000 users, 5 rounds)
#
# Needs wasmtime, which the test command does not:
#   cargo install wasmtime-cli --locked --version 48.0.8
set -euo pipefail
cd "$(dirname "$0")/.."
WASMTIME_VERSION=48.0.8
users="${1:-50000}"
rounds="${2:-5}"

if ! command -v wasmtime >/dev/null; then
  echo "wasm-cost: wasmtime is missing; install it with: cargo install wasmtime-cli --locked --version $WASMTIME_VERSION" >&2
  exit 2
fi
target_dir="${CARGO_TARGET_DIR:-target}"
nice cargo build --quiet --release -p wasm-cost
nice cargo build --quiet --release -p wasm-cost --target wasm32-wasip2

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
  nice "$target_dir/release/wasm-cost" --users "$users" --repeat 1 >"$out/native.$round"
  # A timeout compiles epoch-interruption checks into the code, as Spin
  # configures wasmtime to bound a request's time.
  nice wasmtime run -W timeout=600s "$target_dir/wasm32-wasip2/release/wasm-cost.wasm" \
    --users "$users" --repeat 1 >"$out/wasm.$round"
done

echo "$(rustc --version); $(wasmtime --version); $(nproc) cores; best of $rounds rounds"
head -qn 1 "$out/native.1" "$out/wasm.1" | sed "s/, best of 1//"
echo
echo "| part | engine calls | native ms | wasm ms | wasm / native | round by round: median (range) | longest call, native / wasm ms |"
echo "|---|---:|---:|---:|---:|---:|---:|"
# Each table's rows are a part's name, calls, total and longest ms, two or
# more spaces apart; its first two lines are headings. The ms columns are
# each side's best round; the ratio round by round pairs each native run
# with the wasm run that followed it.
awk -F '  +' '
  FNR <= 2 { next }
  {
    kind = FILENAME ~ /\/native\.[0-9]+$/ ? "native" : "wasm"
    round = FILENAME
    sub(/.*\./, "", round)
    round += 0
    ms[kind, $1, round] = $3 + 0
    longest[kind, $1, round] = $4 + 0
    if (round > rounds) rounds = round
    if (!($1 in calls)) { order[++parts] = $1; calls[$1] = $2 }
  }
  function best(kind, p,    r, b) {
    b = ms[kind, p, 1]
    for (r = 2; r <= rounds; r++) if (ms[kind, p, r] < b) b = ms[kind, p, r]
    return b
  }
  function best_longest(kind, p,    r, b) {
    b = longest[kind, p, 1]
    for (r = 2; r <= rounds; r++) if (longest[kind, p, r] < b) b = longest[kind, p, r]
    return b
  }
  function paired(p,    r, i, j, t, n, ratio) {
    n = 0
    for (r = 1; r <= rounds; r++) if (ms["native", p, r] > 0) ratio[++n] = ms["wasm", p, r] / ms["native", p, r]
    if (n == 0) return "n/a"
    for (i = 2; i <= n; i++) for (j = i; j > 1 && ratio[j - 1] > ratio[j]; j--) {
      t = ratio[j]; ratio[j] = ratio[j - 1]; ratio[j - 1] = t
    }
    return sprintf("%.2f (%.2f-%.2f)", ratio[int((n + 1) / 2)], ratio[1], ratio[n])
  }
  END {
    for (i = 1; i <= parts; i++) {
      p = order[i]
      n = best("native", p)
      w = best("wasm", p)
      printf "| %s | %s | %.2f | %.2f | %s | %s | %.2f / %.2f |\n", p, calls[p], n, w, (n > 0 ? sprintf("%.2f", w / n) : "n/a"), paired(p), best_longest("native", p), best_longest("wasm", p)
    }
  }
' "$out"/native.* "$out"/wasm.*

#!/usr/bin/env bash
# The test command (README, .ci/run): every check, in order, failing fast.
#
#   format        cargo fmt --check
#   lint          clippy -D warnings, natively and for the wasm32 components
#                 and the wasm-cost bench
#   unit          cargo test: engine, Graph client, simulator, platform, API;
#                 the repository against its docs (tests/e2e/tests/repo.rs)
#   wasm-rules    the engine's rule tests compiled to wasm32-unknown-unknown,
#                 run under Node by wasm-bindgen-test-runner
#   wasm          every component in spin.toml built for wasm32-wasip2, its
#                 imports and exports checked against each platform profile
#                 that deploys it (Spin 3.6/4.0 + trigger-cron 0.4.2,
#                 SpinKube, Fermyon Cloud, Akamai Functions)
#   e2e           the scenarios over HTTP: against idp-sync-local always,
#                 and against `spin up` when spin (with trigger-cron 0.4.2) is
#                 on PATH; the benchmark at 1/100 of its sizes, to prove it
#                 runs (no time is asserted)
#   contract      schemathesis fuzzes every operation of the OpenAPI
#                 document against idp-sync-local, as the operator and as an
#                 org admin: no 5xx, only documented statuses, bodies match
#                 their schemas (tests/contract/run.sh)
#   browser       the console in headless Chromium (tests/browser/run.sh)
#
# Cargo runs with at most $JOBS jobs (default 2). The wasm components are
# built where spin.toml expects them (target/), whatever CARGO_TARGET_DIR says.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
JOBS="${JOBS:-2}"
export CARGO_BUILD_JOBS="$JOBS"

started_all=$(date +%s)
timings=()

section() {
  local name="$1"
  shift
  local started
  started=$(date +%s)
  printf '\n==================== %s ====================\n' "$name"
  if ! "$@"; then
    printf '\n!!!!! %s FAILED after %ss\n' "$name" "$(($(date +%s) - started))" >&2
    exit 1
  fi
  local took=$(($(date +%s) - started))
  timings+=("$(printf '%-10s %5ss' "$name" "$took")")
  printf -- '---- %s passed in %ss\n' "$name" "$took"
}

format() {
  cargo fmt --all --check
}

lint() {
  cargo clippy --workspace --all-targets -- -D warnings
  # The Spin adapters compile only for wasm32: lint them there too.
  cargo clippy --target wasm32-wasip2 --lib -p platform -p scheduler -p api -p entra-sim -- -D warnings
  # The wasm-cost bench (scripts/wasm-cost.sh) must build for WASI; it is
  # run only by hand, under wasmtime.
  cargo clippy --target wasm32-wasip2 --all-targets -p wasm-cost -- -D warnings
  # The engine's rule tests as the wasm-rules step builds them.
  cargo clippy --target wasm32-unknown-unknown --tests -p engine -- -D warnings
}

unit() {
  cargo test --workspace --exclude e2e
  # The repository against its docs: module headers, paths the docs name.
  cargo test -p e2e --test repo
}

# The engine's rule tests again as wasm under Node: no clock, thread or
# randomness of the host hides in the rules. tests/interleavings.rs (shuttle
# threads) and tests/module_graph.rs (reads files) are host-only by their cfg.
# Built at opt-level 1 without debug info (overflow checks and debug
# assertions stay on): unoptimized, the tests run about 7 times slower under
# Node, and wasm-bindgen-test-runner reads binaries ten times the size.
wasm_rules() {
  CARGO_PROFILE_DEV_OPT_LEVEL=1 CARGO_PROFILE_DEV_DEBUG=0 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p engine --target wasm32-unknown-unknown --tests
}

# The build commands of spin.toml's components, one per line.
spin_build_commands() {
  sed -n 's/^command = "\(.*\)"$/\1/p' spin.toml
}

# The wasm files spin.toml loads, one per line.
spin_sources() {
  sed -n 's/^source = "\(.*\.wasm\)"$/\1/p' spin.toml
}

wasm() {
  local command
  while IFS= read -r command; do
    echo "+ $command"
    env -u CARGO_TARGET_DIR bash -c "$command"
  done < <(spin_build_commands)
  local source
  while IFS= read -r source; do
    if [ ! -f "$source" ]; then
      echo "spin.toml loads $source, which the build did not produce" >&2
      return 1
    fi
    printf '%-50s %8s bytes\n' "$source" "$(wc -c <"$source")"
  done < <(spin_sources)
  # Their imports and exports against every platform profile that deploys
  # them.
  IDP_SYNC_ROOT="$root" cargo test -p e2e --test components -- --nocapture
}

e2e() {
  # The suite builds idp-sync-local itself; IDP_SYNC_ROOT tells it where
  # spin.toml and the wasm files are for the `spin up` target.
  IDP_SYNC_ROOT="$root" cargo test -p e2e --test local --test spin -- --nocapture
  # The benchmark (scripts/bench.sh) at small size: it runs, and prints its
  # table. A debug build: quicker to compile than the release one.
  cargo run --quiet -p bench -- --scale small
}

contract() {
  bash tests/contract/run.sh
}

browser() {
  if [ -f tests/browser/run.sh ]; then
    bash tests/browser/run.sh
  else
    echo "browser: skipped: tests/browser/run.sh not present"
  fi
}

# The lint and wasm steps compile for wasm32-wasip2, wasm-rules for
# wasm32-unknown-unknown.
installed_targets="$(rustup target list --installed)"
for target in wasm32-wasip2 wasm32-unknown-unknown; do
  if ! grep -qx "$target" <<<"$installed_targets"; then
    rustup target add "$target"
  fi
done

section format format
section lint lint
section unit unit
section wasm-rules wasm_rules
section wasm wasm
section e2e e2e
section contract contract
section browser browser

printf '\n==================== summary ====================\n'
printf '%s\n' "${timings[@]}"
printf 'all checks passed in %ss\n' "$(($(date +%s) - started_all))"

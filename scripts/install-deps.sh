#!/usr/bin/env bash
# Installs what scripts/test.sh needs. Idempotent: safe to run again.
#
# - the Rust target for Spin components (wasm32-wasip2), rustfmt and clippy;
# - the engine's rule tests on wasm: the wasm32-unknown-unknown target and
#   wasm-bindgen-test-runner (wasm-bindgen-cli) of the wasm-bindgen version in
#   Cargo.lock, which runs them under Node;
# - the browser tests' own dependencies (tests/browser/install.sh: Debian's
#   Chromium and playwright-core), when that suite is present;
# - schemathesis for the contract tests (tests/contract/install.sh: a
#   project-local Python venv).
#
# Spin itself is not installed (it is not in any package registry): the
# end-to-end suite runs against the native server, and also against
# `spin up` when `spin` with the trigger-cron plugin 0.4.2 is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

installed_targets="$(rustup target list --installed)"
for target in wasm32-wasip2 wasm32-unknown-unknown; do
  if ! grep -qx "$target" <<<"$installed_targets"; then
    rustup target add "$target"
  fi
done

installed_components="$(rustup component list --installed)"
for component in rustfmt clippy; do
  if ! grep -q "^${component}" <<<"$installed_components"; then
    rustup component add "$component"
  fi
done

# The test runner must be of the very wasm-bindgen version the tests link.
# Not --locked: wasm-bindgen-cli's lockfile names a webpki-roots release the
# registry does not serve. No default features: they are TLS for downloading
# WebDriver, and Node runs these tests.
wasm_bindgen_version="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;q}' Cargo.lock)"
if ! wasm-bindgen-test-runner --version 2>/dev/null | grep -qwF "$wasm_bindgen_version"; then
  cargo install wasm-bindgen-cli --version "=$wasm_bindgen_version" --no-default-features
fi

if [ -f tests/browser/install.sh ]; then
  bash tests/browser/install.sh
fi

bash tests/contract/install.sh

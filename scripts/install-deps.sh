#!/usr/bin/env bash
# Installs what scripts/test.sh needs. Idempotent: safe to run again.
#
# - the Rust target for Spin components (wasm32-wasip2), rustfmt and clippy;
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
if ! grep -qx wasm32-wasip2 <<<"$installed_targets"; then
  rustup target add wasm32-wasip2
fi

installed_components="$(rustup component list --installed)"
for component in rustfmt clippy; do
  if ! grep -q "^${component}" <<<"$installed_components"; then
    rustup component add "$component"
  fi
done

if [ -f tests/browser/install.sh ]; then
  bash tests/browser/install.sh
fi

bash tests/contract/install.sh

#!/usr/bin/env bash
# Browser tests of the web console.
#
# Installs Debian's Chromium and playwright-core when missing, builds and
# starts `idp-sync-local` (API + console + a simulated Entra tenant, in-memory
# store) on a free port, runs the tests with node's test runner, then stops
# the server.
#
# To test another running deployment instead (e.g. `spin up`), set
# IDP_SYNC_URL, IDP_SYNC_OPERATOR_TOKEN, IDP_SYNC_TENANT_ID, IDP_SYNC_CLIENT_ID
# and IDP_SYNC_CLIENT_SECRET (and IDP_SYNC_SIM_URL when the tenant is the
# simulator): no server is started then.
# IDP_SYNC_SCREENSHOTS=1 also rewrites docs/screenshots/*.png. Arguments go to
# `node --test` (e.g. --test-name-pattern=SAML).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

"$here/install.sh"

if [ -z "${IDP_SYNC_URL:-}" ]; then
  target="${CARGO_TARGET_DIR:-$root/target}"
  (cd "$root" && cargo build --quiet -p api --bin idp-sync-local)
  log="$(mktemp)"
  # One Graph page per request or tick, ticks every second: a run spans a few
  # invocations, as on a serverless host, so the console shows it in progress.
  "$target/debug/idp-sync-local" --port 0 --page-budget 1 --tick-ms 1000 >"$log" 2>&1 &
  server=$!
  trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
  # Signals end the script through `exit`, so the EXIT trap stops the server too.
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 141' PIPE
  trap 'exit 143' TERM

  for _ in $(seq 300); do
    grep -q 'listening on http://' "$log" && break
    if ! kill -0 "$server" 2>/dev/null; then
      echo "idp-sync-local exited before listening:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done

  # `key: value` lines printed at start-up (key case-insensitive, `:` or `=`).
  field() {
    grep -i -m1 -E "^[[:space:]]*$1[[:space:]]*[:=]" "$log" | sed -E 's/^[^:=]*[:=][[:space:]]*//' | tr -d '\r' || true
  }
  IDP_SYNC_URL="$(grep -o -m1 -E 'http://127\.0\.0\.1:[0-9]+' "$log")"
  IDP_SYNC_OPERATOR_TOKEN="$(field 'operator[ _-]?token')"
  IDP_SYNC_TENANT_ID="$(field '(demo[ _-]?)?tenant[ _-]?id')"
  IDP_SYNC_CLIENT_ID="$(field '(demo[ _-]?)?client[ _-]?id')"
  IDP_SYNC_CLIENT_SECRET="$(field '(demo[ _-]?)?client[ _-]?secret')"
  # The simulated tenant's own admin endpoints (fault injection), for the progress test.
  IDP_SYNC_SIM_URL="$(grep -i -m1 'simulat' "$log" | grep -o -m1 -E '127\.0\.0\.1:[0-9]+' | sed 's|^|http://|' || true)"
  export IDP_SYNC_SIM_URL IDP_SYNC_URL IDP_SYNC_OPERATOR_TOKEN IDP_SYNC_TENANT_ID IDP_SYNC_CLIENT_ID IDP_SYNC_CLIENT_SECRET
  for name in IDP_SYNC_OPERATOR_TOKEN IDP_SYNC_TENANT_ID IDP_SYNC_CLIENT_ID IDP_SYNC_CLIENT_SECRET; do
    if [ -z "${!name}" ]; then
      echo "could not read ${name} from idp-sync-local's output:" >&2
      cat "$log" >&2
      exit 1
    fi
  done
fi

cd "$here"
status=0
node --test --test-concurrency=1 --test-reporter=spec "$@" ./*.test.mjs || status=$?
if [ "$status" != 0 ] && [ -n "${log:-}" ]; then
  echo "--- last lines of idp-sync-local's output ---" >&2
  tail -n 40 "$log" >&2
fi
exit "$status"

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
  # shellcheck source=../local-server.sh
  . "$root/tests/local-server.sh"
  # One Graph page per request or tick, ticks every second: a run spans a few
  # invocations, as on a serverless host, so the console shows it in progress.
  start_local_server --page-budget 1 --tick-ms 1000
fi

cd "$here"
status=0
node --test --test-concurrency=1 --test-reporter=spec "$@" ./*.test.mjs || status=$?
if [ "$status" != 0 ] && [ -n "${IDP_SYNC_LOG:-}" ]; then
  echo "--- last lines of idp-sync-local's output ---" >&2
  tail -n 40 "$IDP_SYNC_LOG" >&2
fi
exit "$status"

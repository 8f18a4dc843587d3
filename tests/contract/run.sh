#!/usr/bin/env bash
# Contract fuzzing: schemathesis generates requests for every operation of
# the OpenAPI document (`/api/v1/openapi.json`) and checks that no answer
# is a 5xx, that every status is one the document lists for the operation,
# and that every JSON body matches its schema.
#
# Installs schemathesis (pinned; tests/contract/install.sh) when missing,
# builds and starts `idp-sync-local` on a free port, creates an org (operator
# token) and connects the demo tenant (org admin token), then runs
# schemathesis twice: once with the operator token, once with the admin's.
# Bounded and repeatable: a fixed seed and a few examples per operation.
# CONTRACT_MAX_EXAMPLES overrides the number of examples.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

"$here/install.sh"

# shellcheck source=../local-server.sh
. "$root/tests/local-server.sh"
start_local_server
scratch="$(mktemp -d)"
local_server_scratch+=("$scratch")
url="$IDP_SYNC_URL"
operator="$IDP_SYNC_OPERATOR_TOKEN"
tenant="$IDP_SYNC_TENANT_ID"
client="$IDP_SYNC_CLIENT_ID"
secret="$IDP_SYNC_CLIENT_SECRET"

# A JSON string field of a response body.
json_field() {
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"
}

org="contract"
admin="$(curl -fsS -X POST "$url/api/v1/orgs" \
  -H "Authorization: Bearer $operator" -H 'Content-Type: application/json' \
  -d "{\"name\": \"Contract\", \"id\": \"$org\"}" | json_field '["admin_token"]')"
dir="$(curl -fsS -X POST "$url/api/v1/orgs/$org/directories" \
  -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d "{\"name\": \"Demo\", \"tenant_id\": \"$tenant\", \"client_id\": \"$client\", \"client_secret\": \"$secret\"}" \
  | json_field '["directory"]["id"]')"
# A completed sync, so the data routes have users, groups and a run.
curl -fsS -o /dev/null -X POST "$url/api/v1/orgs/$org/directories/$dir/sync" \
  -H "Authorization: Bearer $admin"
export IDP_SYNC_CONTRACT_ORG="$org" IDP_SYNC_CONTRACT_DIR="$dir"

fuzz() {
  local who="$1" token="$2"
  echo "--- schemathesis as the $who ---"
  # From a scratch directory: schemathesis keeps a cache where it runs.
  # One worker: with two, CPython 3.11's AST constructor races in
  # hypothesis' lambda descriptions ("AST constructor recursion depth
  # mismatch", python/cpython#106905) and the coverage phase errors at random.
  (cd "$scratch" && "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$url/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --max-examples "${CONTRACT_MAX_EXAMPLES:-50}" \
    --seed 12 \
    --workers 1 \
    --phases examples,coverage,fuzzing \
    --no-color)
}

status=0
fuzz operator "$operator" || status=$?
fuzz "org admin" "$admin" || status=$?
if [ "$status" != 0 ]; then
  echo "--- last lines of idp-sync-local's output ---" >&2
  tail -n 40 "$IDP_SYNC_LOG" >&2
fi
exit "$status"

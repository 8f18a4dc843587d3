# Sourced by the test scripts that drive a running idp-sync-local
# (tests/browser/run.sh, tests/contract/run.sh): `start_local_server ARGS...`
# builds it, starts it on a free port with ARGS, stops it when the script
# exits (also on a signal), waits (at most 30 s) until it listens, and exports
# what it printed at start-up:
#   IDP_SYNC_URL, IDP_SYNC_OPERATOR_TOKEN, IDP_SYNC_TENANT_ID,
#   IDP_SYNC_CLIENT_ID, IDP_SYNC_CLIENT_SECRET, IDP_SYNC_SIM_URL
# and IDP_SYNC_LOG, the file its output goes to. Paths added to the array
# `local_server_scratch` are deleted at exit too.

local_server_scratch=()

start_local_server() {
  local root target
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  target="${CARGO_TARGET_DIR:-$root/target}"
  (cd "$root" && cargo build --quiet -p api --bin idp-sync-local)
  IDP_SYNC_LOG="$(mktemp)"
  local_server_scratch+=("$IDP_SYNC_LOG")
  "$target/debug/idp-sync-local" --port 0 "$@" >"$IDP_SYNC_LOG" 2>&1 &
  local_server_pid=$!
  trap 'kill "$local_server_pid" 2>/dev/null || true; wait "$local_server_pid" 2>/dev/null || true; rm -rf "${local_server_scratch[@]}"' EXIT
  # Signals end the script through `exit`, so the EXIT trap stops the server too.
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 141' PIPE
  trap 'exit 143' TERM

  for _ in $(seq 300); do
    grep -q 'listening on http://' "$IDP_SYNC_LOG" && break
    if ! kill -0 "$local_server_pid" 2>/dev/null; then
      echo "idp-sync-local exited before listening:" >&2
      cat "$IDP_SYNC_LOG" >&2
      exit 1
    fi
    sleep 0.1
  done

  IDP_SYNC_URL="$(grep -o -m1 -E 'http://127\.0\.0\.1:[0-9]+' "$IDP_SYNC_LOG")"
  IDP_SYNC_OPERATOR_TOKEN="$(start_up_field 'operator[ _-]?token')"
  IDP_SYNC_TENANT_ID="$(start_up_field '(demo[ _-]?)?tenant[ _-]?id')"
  IDP_SYNC_CLIENT_ID="$(start_up_field '(demo[ _-]?)?client[ _-]?id')"
  IDP_SYNC_CLIENT_SECRET="$(start_up_field '(demo[ _-]?)?client[ _-]?secret')"
  # The simulated tenant's own admin endpoints (fault injection).
  IDP_SYNC_SIM_URL="$(grep -i -m1 'simulat' "$IDP_SYNC_LOG" | grep -o -m1 -E '127\.0\.0\.1:[0-9]+' | sed 's|^|http://|' || true)"
  export IDP_SYNC_LOG IDP_SYNC_SIM_URL IDP_SYNC_URL IDP_SYNC_OPERATOR_TOKEN IDP_SYNC_TENANT_ID IDP_SYNC_CLIENT_ID IDP_SYNC_CLIENT_SECRET
  local name
  for name in IDP_SYNC_OPERATOR_TOKEN IDP_SYNC_TENANT_ID IDP_SYNC_CLIENT_ID IDP_SYNC_CLIENT_SECRET; do
    if [ -z "${!name}" ]; then
      echo "could not read ${name} from idp-sync-local's output:" >&2
      cat "$IDP_SYNC_LOG" >&2
      exit 1
    fi
  done
}

# A `key: value` line idp-sync-local printed at start-up (key
# case-insensitive, `:` or `=`).
start_up_field() {
  grep -i -m1 -E "^[[:space:]]*$1[[:space:]]*[:=]" "$IDP_SYNC_LOG" | sed -E 's/^[^:=]*[:=][[:space:]]*//' | tr -d '\r' || true
}

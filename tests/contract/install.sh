#!/usr/bin/env bash
# Installs schemathesis (pinned) into tests/contract/.venv for the contract
# tests. Idempotent: does nothing when that version is already there.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version="4.32.5"
venv="$here/.venv"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $version\$"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

#!/usr/bin/env bash
# Issue 13's benchmark: every scenario through the engine and the Graph
# client over loopback HTTP to entra-sim, each against the floor measured in
# the same run. A benchmark, not a test: it asserts nothing about time.
#
#   scripts/bench.sh [--scale small|full] [--scenario NAME] [--markdown] [--budget-ms MS]
#                    [--shared-cores]
#
# --markdown prints the table the README's "Figures worth knowing" shows.
# --budget-ms sets each invocation's budget (for a profiler, e.g. callgrind,
# which runs the engine about 40 times slower).
# By default the engine's thread gets a core of its own and the simulator's
# and the HTTP transport's threads the others (decision 0014);
# --shared-cores leaves every thread to the scheduler.
# Full scale (the default) includes the 1,000,000-user tenant: about half a
# minute on 2 cores (at 1c92a41) and
# gigabytes; every run stops itself after 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice cargo run --quiet -p bench --release -- "$@"

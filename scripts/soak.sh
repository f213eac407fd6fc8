#!/usr/bin/env bash
# Soak test of "no acknowledged write is lost": runs the kill -9 test for CYCLES cycles
# (default 1000). Each cycle starts `paraaf serve`, sends submissions and signatures from
# four threads with idempotency keys, and kills the server with SIGKILL after a random
# number of acknowledgements. At the end every acknowledged request is re-sent and
# checked. Prints: cycles, acknowledged, lost, duplicated. Not part of .ci/run.
#
#   scripts/soak.sh 1000
set -euo pipefail
cycles="${1:-1000}"
cd "$(dirname "$0")/.."
PARAAF_KILL_CYCLES="$cycles" cargo test --release --locked --test runtime_http \
    crash_loses_no_acknowledged_request -- --exact --nocapture 2>&1 \
    | tee /tmp/paraaf-soak.log | grep -E "kill -9 soak:|test result|panicked"

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
# The same with a signing key (checkpoints every 3 events): after every kill the crash's
# unsigned tail is taken, and at the end `audit verify --public-key` is ok.
PARAAF_KILL_CYCLES="$cycles" cargo test --release --locked --test audit_trail \
    kill_9_with_a_signing_key_loses_nothing_and_verifies -- --exact --nocapture 2>&1 \
    | tee /tmp/paraaf-soak-signed.log | grep -E "kill -9 with a signing key:|test result|panicked"
# The same with a local TSA and a witness anchoring every second (needs python3 and
# openssl): no crash leaves an anchor ahead of the log; `audit verify` is ok every cycle.
PARAAF_KILL_CYCLES="$cycles" cargo test --release --locked --test anchoring \
    kill_9_with_a_tsa_and_a_witness_never_leaves_an_anchor_ahead_of_the_log -- --exact --nocapture 2>&1 \
    | tee /tmp/paraaf-soak-anchored.log | grep -E "kill -9 with a TSA and a witness:|test result|panicked"

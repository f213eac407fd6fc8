#!/usr/bin/env bash
# Fuzz `check`, the printer and `fmt` for a fixed time (default 60 s) on stable Rust.
# Crashing inputs land in compiler/tests/fuzz-regressions/ (commit them: the normal test
# run then keeps them fixed). Usage: scripts/fuzz.sh [SECONDS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS="${1:-60}" FUZZ_SEED="${2:-11400714819323198485}" \
  cargo test --release -p paraaf-compiler --test fuzz -- --ignored --nocapture fuzz_for_a_while

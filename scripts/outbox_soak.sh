#!/usr/bin/env bash
# The outbox's kill -9 soak, longer than the 50 cycles CI runs: start `paraaf serve`,
# let it send mails to a local SMTP sink (aiosmtpd), kill -9 it at a random moment, again
# and again; at the end every mail must have arrived, none under a second Message-ID.
# Prints: cycles, mail items, deliveries, second copies under the same Message-ID (the
# one window, see docs/operations.md).
# Usage: scripts/outbox_soak.sh [CYCLES]   (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
PARAAF_OUTBOX_SOAK_CYCLES="${1:-500}" cargo test --release --test outbox \
  a_kill_9_while_sending -- --nocapture 2>&1 | grep -E "seed|kills|test result|panicked"

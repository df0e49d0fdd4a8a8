#!/usr/bin/env bash
# Node B stopped and started again under a mixed write load through HAProxy:
# not one request fails, each is answered within DB_CONNECT_TIMEOUT +
# DB_QUERY_TIMEOUT + 1 s, every answer agrees with what was acknowledged
# before it, the node catches up within 10 s of its return (while the load
# goes on), and within 10 s of the load's end both nodes hold identical rows
# in which every acknowledged write (creates, updates, deletes, session keys,
# visits) is present (Tests/e2e/ledger.py keeps the ledger and verifies it).
# Helpers run through poll and at_exit (SC2317).
# shellcheck source=Tests/e2e/lib.sh disable=SC2317
source "$(dirname "$0")/lib.sh"

NODE=b            # the node this test stops
LOAD_SECONDS=12   # the load; the node is stopped at ~3 s and started at ~7 s
STOP_AT=3
DOWN_FOR=4

# The helpers and settings every fault test shares.
# shellcheck source=Tests/e2e/fault_lib.sh
source "$E2E_DIR/fault_lib.sh"

# The test itself, the same for either node.
# shellcheck source=Tests/e2e/node_stopped.sh
source "$E2E_DIR/node_stopped.sh"

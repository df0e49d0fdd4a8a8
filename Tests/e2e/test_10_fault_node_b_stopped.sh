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

# ---------------------------------------------------------------- the test

if ! poll 10 cluster_healthy; then
    fail "the cluster is not healthy before the test: $(unhealthy_parts)"
    finish
fi
pass "the cluster is healthy before the test"
take_baseline

ledger=$E2E_TMP/ledger.json
start_load "$ledger" --url "$E2E_HAPROXY" --threads 4 --duration "$LOAD_SECONDS" \
    --max-failures 0 --max-latency "$LIMIT"
note "load started (4 threads, ${LOAD_SECONDS}s, through HAProxy)"
sleep "$STOP_AT"

note "stopping node $NODE"
cluster stop-node "$NODE" || fail "deploy/cluster stop-node $NODE"
assert_eq down "$(part_state node "$NODE")" "deploy/cluster status shows node $NODE down"
note "node $NODE stopped"
sleep "$DOWN_FOR"

note "starting node $NODE"
cluster start-node "$NODE" || fail "deploy/cluster start-node $NODE"
assert_eq up "$(part_state node "$NODE")" "deploy/cluster status shows node $NODE up again"
note "node $NODE started"

# The contract: a returning node catches up by itself within 10 s (every pool then sees it up,
# no longer catching_up), here while the load goes on.
if caught_up_within "$NODE" 10; then
    pass "node $NODE caught up within 10 s of its return"
    note "every pool sees node $NODE caught up (${CAUGHT_UP_AFTER}s after its return)"
else
    fail "node $NODE not caught up within 10 s of its return: after ${CAUGHT_UP_AFTER}s pools ${CAUGHT_UP_PENDING:-none} still did not see it up ($(unhealthy_parts))"
fi

wait_load "no failed request, none slower than ${LIMIT}s, every answer consistent with the ledger"
note "load ended"

verify_ledger 10 "within 10 s both nodes identical and every acknowledged write on both" \
    --ledger "$ledger" --manage "$E2E_HAPROXY"
note "verified"

restore_cluster check
((_failures == 0)) || pool_log_excerpt
finish

# Tests/e2e/node_stopped.sh: the body of test_10 (node B) and test_11 (node A), sourced after
# lib.sh and fault_lib.sh with NODE, LOAD_SECONDS, STOP_AT and DOWN_FOR set: the node is stopped
# and started again under a mixed write load through HAProxy, and every acknowledged write must
# be on both nodes afterwards.
# shellcheck shell=bash disable=SC2317

# ---------------------------------------------------------------- the test

begin_fault_test

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

# docs/REPLICATION.md: a returning node catches up by itself within 10 s (every pool then sees it up,
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

end_fault_test

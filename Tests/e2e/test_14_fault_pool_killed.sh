#!/usr/bin/env bash
# Pool 2 killed (SIGKILL) under a mixed write load through HAProxy: not one
# request fails (HAProxy retries a refused connection or an empty answer on
# another pool and its health check takes the pool out), every answer agrees
# with the ledger, every acknowledged write is on both nodes and the nodes are
# identical (Tests/e2e/ledger.py); `deploy/cluster start-pool 2` brings it
# back, `status` shows it up and HAProxy sends it requests again.
# Helpers run through poll and at_exit (SC2317).
# shellcheck source=Tests/e2e/lib.sh disable=SC2317
source "$(dirname "$0")/lib.sh"

POOL=2
LOAD_SECONDS=10   # the load; the pool is killed at ~3 s
KILL_AT=3

# The helpers and settings every fault test shares.
# shellcheck source=Tests/e2e/fault_lib.sh
source "$E2E_DIR/fault_lib.sh"

# ---------------------------------------------------------------- the test

begin_fault_test

ledger=$E2E_TMP/ledger.json
# Only the requests in flight on pool 2 at the instant of the SIGKILL may fail (one per load
# thread at most): HAProxy does not replay them, since pool 2 may have written them already.
# The ledger counts such a write as "may or may not have happened"; everything else is exact.
start_load "$ledger" --url "$E2E_HAPROXY" --threads 4 --duration "$LOAD_SECONDS" \
    --max-failures 4 --max-latency "$LIMIT"
note "load started (4 threads, ${LOAD_SECONDS}s, through HAProxy)"
sleep "$KILL_AT"

note "killing pool $POOL"
cluster kill-pool "$POOL" || fail "deploy/cluster kill-pool $POOL"
assert_eq down "$(part_state pool "$POOL")" "deploy/cluster status shows pool $POOL down"
note "pool $POOL killed"

wait_load "no failed request, none slower than ${LIMIT}s, every answer consistent with the ledger"
note "load ended"

verify_ledger 10 "both nodes identical and every acknowledged write on both" \
    --ledger "$ledger" --manage "$E2E_HAPROXY" --sessions "$E2E_HAPROXY"

note "starting pool $POOL"
cluster start-pool "$POOL" || fail "deploy/cluster start-pool $POOL"
assert_eq up "$(part_state pool "$POOL")" "deploy/cluster status shows pool $POOL up again"
if poll 10 served_by_pool "$E2E_HAPROXY" "pool-$POOL"; then
    pass "HAProxy sends requests to pool $POOL again"
else
    fail "HAProxy does not send requests to pool $POOL within 10 s of its start"
fi
note "pool $POOL serves again"

end_fault_test

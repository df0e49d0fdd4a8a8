#!/usr/bin/env bash
# Node B hung (SIGSTOP to its postmaster and every backend: connections are
# accepted by the kernel but never answered) under a mixed write load through
# HAProxy: not one request fails; each is answered within DB_CONNECT_TIMEOUT +
# DB_QUERY_TIMEOUT + 1 s; once a pool has had its first slow answer (the
# timeout that tells it B is away), its later requests are fast again (under
# 1 s); every pool reports B down meanwhile; after SIGCONT B catches up
# within 10 s and both nodes hold every acknowledged write (ledger.py).
# Helpers run through poll and at_exit (SC2317).
# shellcheck source=Tests/e2e/lib.sh disable=SC2317
source "$(dirname "$0")/lib.sh"

NODE=b            # the node this test hangs
LOAD_SECONDS=16   # the load; the node hangs at ~3 s and resumes at ~9 s
HANG_AT=3
HUNG_FOR=6
# Seconds: "fast" once the node is known to be away. The first change after the fall waits, once,
# the second it takes node a to begin to stand alone (docs/REPLICATION.md, "One node away"); a
# request that arrives in that second answers in about 1.02 s. Any wait on the hung node itself
# lasts a whole DB_QUERY_TIMEOUT (2 s), so 1.5 s still tells the two apart.
FAST=1.5

# The helpers and settings every fault test shares.
# shellcheck source=Tests/e2e/fault_lib.sh
source "$E2E_DIR/fault_lib.sh"

# node_processes NODE: the postmaster's pid, then its children's (backends, checkpointer, ...).
node_processes() {
    local pid
    pid=$(head -n 1 "$CLUSTER_DIR/node-$1/postmaster.pid" 2>/dev/null)
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    printf '%s\n' "$pid"
    pgrep -P "$pid"
}

# all_stopped PID...: every process is in state T (stopped).
all_stopped() {
    local pid state
    for pid in "$@"; do
        state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
        [ -z "$state" ] || [ "$state" = T ] || return 1
    done
}

# ---------------------------------------------------------------- the test

begin_fault_test

ledger=$E2E_TMP/ledger.json
start_load "$ledger" --url "$E2E_HAPROXY" --threads 4 --duration "$LOAD_SECONDS" \
    --max-failures 0 --max-latency "$LIMIT" --fast-after-slow "$FAST"
note "load started (4 threads, ${LOAD_SECONDS}s, through HAProxy)"
sleep "$HANG_AT"

postmaster=$(head -n 1 "$CLUSTER_DIR/node-$NODE/postmaster.pid" 2>/dev/null)
if [[ $postmaster =~ ^[0-9]+$ ]]; then
    note "hanging node $NODE: SIGSTOP to postmaster $postmaster and its children"
    kill -STOP "$postmaster"
    pkill -STOP -P "$postmaster"
    sleep 0.2
    pkill -STOP -P "$postmaster" # anything forked in between
    mapfile -t procs < <(node_processes "$NODE")
    if all_stopped "${procs[@]}"; then
        pass "node $NODE's ${#procs[@]} processes are stopped"
    else
        fail "node $NODE's processes are not all stopped: $(ps -o pid=,stat=,args= -p "$(IFS=,; echo "${procs[*]}")" | tr '\n' ';')"
    fi
    if poll "$LIMIT" every_pool_sees "$NODE" down; then
        pass "every pool reports node $NODE down while it hangs"
    else
        fail "not every pool reports node $NODE down within ${LIMIT}s of the hang: $(unhealthy_parts)"
    fi
    note "every pool sees node $NODE down"
    sleep "$HUNG_FOR"
    note "resuming node $NODE: SIGCONT"
    pkill -CONT -P "$postmaster"
    kill -CONT "$postmaster"
else
    fail "no postmaster.pid of node $NODE under $CLUSTER_DIR (set CLUSTER_DIR)"
fi

# docs/REPLICATION.md: a returning node catches up by itself within 10 s (every pool then sees it up,
# no longer catching_up), here while the load goes on.
if caught_up_within "$NODE" 10; then
    pass "node $NODE caught up within 10 s of its return"
    note "every pool sees node $NODE caught up (${CAUGHT_UP_AFTER}s after its return)"
else
    fail "node $NODE not caught up within 10 s of its return: after ${CAUGHT_UP_AFTER}s pools ${CAUGHT_UP_PENDING:-none} still did not see it up ($(unhealthy_parts))"
fi

wait_load "no failed request, none slower than ${LIMIT}s, fast (<${FAST}s) once a pool knows, answers consistent"
note "load ended"

verify_ledger 10 "within 10 s both nodes identical and every acknowledged write on both" \
    --ledger "$ledger" --manage "$E2E_HAPROXY"
note "verified"

end_fault_test

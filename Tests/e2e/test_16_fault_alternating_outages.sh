#!/usr/bin/env bash
# Alternating outages: node A stopped, a write load (creates, updates, deletes,
# session writes, visits) served by B alone gives even item ids; A started
# and caught up; node B stopped, the load goes on (it also updates the items
# B created) served by A alone with odd ids; B started. Afterwards every item
# id is unique, every acknowledged write of both phases is on both nodes and
# the nodes are identical (Tests/e2e/ledger.py).
# Helpers run through poll and at_exit (SC2317).
# shellcheck source=Tests/e2e/lib.sh disable=SC2317
source "$(dirname "$0")/lib.sh"

PHASE_SECONDS=3

# The helpers and settings every fault test shares.
# shellcheck source=Tests/e2e/fault_lib.sh
source "$E2E_DIR/fault_lib.sh"

# ids_of_parity PHASE PARITY: checks that every id created in PHASE is even/odd.
ids_of_parity() {
    local ids wrong want
    ids=$(python3 "$LEDGER" show --ledger "$ledger" --what created --phase "$1")
    if [ "$2" = even ]; then want=0; else want=1; fi
    wrong=$(awk -v w="$want" '$1 % 2 != w' <<<"$ids" | head -n 10 | tr '\n' ' ')
    if [ -z "$ids" ]; then
        fail "no item was created in phase $1"
    elif [ -z "$wrong" ]; then
        pass "the $(wc -l <<<"$ids") ids created in phase $1 are all $2"
    else
        fail "ids created in phase $1 that are not $2: $wrong"
    fi
}

# outage NODE PHASE MIX ARGS...: NODE stopped (and known to every pool as down), PHASE's load
# run, NODE started and caught up.
outage() {
    local node=$1 phase=$2 mix=$3 rc=0
    shift 3
    note "stopping node $node"
    cluster stop-node "$node" || fail "deploy/cluster stop-node $node"
    assert_eq down "$(part_state node "$node")" "deploy/cluster status shows node $node down"
    poll "$LIMIT" every_pool_sees "$node" down ||
        fail "not every pool sees node $node down within ${LIMIT}s: $(unhealthy_parts)"
    note "phase $phase: load with node $node down"
    python3 "$LEDGER" run --ledger "$ledger" --url "$E2E_HAPROXY,$E2E_NGINX,$E2E_LIGHTTPD" --threads 4 \
        --duration "$PHASE_SECONDS" --mix "$mix" --phase "$phase" --max-failures 0 --max-latency "$LIMIT" "$@" \
        >"$E2E_TMP/load.out" 2>&1 || rc=$?
    sed 's/^/    /' "$E2E_TMP/load.out"
    assert_eq 0 "$rc" "phase $phase: no failed request, answers consistent with the ledger"
    note "starting node $node"
    cluster start-node "$node" || fail "deploy/cluster start-node $node"
    if caught_up_within "$node" 10; then
        pass "phase $phase: every pool sees node $node caught up within 10 s (${CAUGHT_UP_AFTER}s)"
    else
        fail "phase $phase: node $node not caught up within 10 s of its return: after ${CAUGHT_UP_AFTER}s pools ${CAUGHT_UP_PENDING:-none} still did not see it up ($(unhealthy_parts))"
    fi
    verify_ledger 10 "phase $phase: within 10 s both nodes identical and every acknowledged write on both" \
        --ledger "$ledger"
    note "node $node caught up"
}


# ---------------------------------------------------------------- the test

begin_fault_test

ledger=$E2E_TMP/ledger.json
outage a b-alone "create=40,update=15,delete=10,session=20,visit=15"
ids_of_parity b-alone even
outage b a-alone "create=30,update=30,delete=10,session=15,visit=15" --continue
ids_of_parity a-alone odd

dups=$(python3 "$LEDGER" show --ledger "$ledger" --what created | sort | uniq -d | head -n 10 | tr '\n' ' ')
assert_eq "" "$dups" "every created item id is unique"
verify_ledger 10 "both phases: every acknowledged write on both nodes, nodes identical, ids unique" \
    --ledger "$ledger" --manage "$E2E_HAPROXY" --sessions "$E2E_HAPROXY"

end_fault_test

#!/usr/bin/env bash
# Deletes while node B is away do not come back: 24 items are created (on
# both nodes), node B is stopped, half of them are deleted (acknowledged, on
# node A only, queued for B), B is started; while B catches up and
# afterwards, no update revives a deleted item (404) and no GET /manage
# through any front end lists one, and after the catch-up every deleted item
# is a tombstone on both nodes (a key of items_tombstone, no row in items),
# every other item live on both, and the nodes identical (Tests/e2e/ledger.py).
# Helpers run through poll and at_exit (SC2317).
# shellcheck source=Tests/e2e/lib.sh disable=SC2317
source "$(dirname "$0")/lib.sh"

NODE=b
ITEMS=24

# The helpers and settings every fault test shares.
# shellcheck source=Tests/e2e/fault_lib.sh
source "$E2E_DIR/fault_lib.sh"

# none_listed URL IDS-FILE: GET URL/manage (JSON, every page that covers their range) lists none
# of the ids in the file.
# Sets LISTED_BAD to the ones it lists.
none_listed() {
    local listed
    if ! listed=$(python3 "$LEDGER" listed --url "$1" --min "$(sort -n "$2" | head -n 1)" \
        --max "$(sort -n "$2" | tail -n 1)" 2>&1); then
        LISTED_BAD="(no list: $listed)"
        return 1
    fi
    LISTED_BAD=$(grep -Fxf "$2" <<<"$listed" | tr '\n' ' ')
    [ -z "$LISTED_BAD" ]
}

# ---------------------------------------------------------------- the test

begin_fault_test

ledger=$E2E_TMP/ledger.json
python3 "$LEDGER" run --ledger "$ledger" --url "$E2E_HAPROXY" --threads 4 --requests "$ITEMS" \
    --duration 20 --mix create=1 --phase created --max-failures 0 >"$E2E_TMP/load.out" 2>&1
LOAD_PID=""
rc=$?
sed 's/^/    /' "$E2E_TMP/load.out"
assert_eq 0 "$rc" "$ITEMS creates acknowledged"
assert_eq "$ITEMS" "$(python3 "$LEDGER" show --ledger "$ledger" --what live | wc -l)" "$ITEMS items in the ledger"
verify_ledger 10 "the items are on both nodes" --ledger "$ledger"

note "stopping node $NODE"
cluster stop-node "$NODE" || fail "deploy/cluster stop-node $NODE"
assert_eq down "$(part_state node "$NODE")" "deploy/cluster status shows node $NODE down"

# Half of them deleted (two threads, twelve items each: twelve deletes never run out of items).
python3 "$LEDGER" run --ledger "$ledger" --continue --url "$E2E_HAPROXY" --threads 2 \
    --requests $((ITEMS / 2)) --duration 20 --mix delete=1 --phase outage --max-failures 0 --max-latency "$LIMIT" \
    >"$E2E_TMP/load.out" 2>&1
rc=$?
sed 's/^/    /' "$E2E_TMP/load.out"
assert_eq 0 "$rc" "$((ITEMS / 2)) deletes acknowledged with node $NODE down"
python3 "$LEDGER" show --ledger "$ledger" --what deleted >"$E2E_TMP/deleted"
python3 "$LEDGER" show --ledger "$ledger" --what live >"$E2E_TMP/live"
assert_eq "$((ITEMS / 2)) $((ITEMS / 2))" "$(wc -l <"$E2E_TMP/deleted") $(wc -l <"$E2E_TMP/live")" \
    "half deleted, half live in the ledger"
deleted_ids=$(paste -sd, "$E2E_TMP/deleted")
[ -n "$deleted_ids" ] || deleted_ids=0
assert_eq "0 $((ITEMS / 2))" "$(psql_a "SELECT (SELECT count(*) FROM items WHERE id IN ($deleted_ids)) || ' ' ||
    (SELECT count(*) FROM items_tombstone WHERE id IN ($deleted_ids))")" \
    "the deleted items are tombstones on node a during the outage, none live"
note "deleted $(wc -l <"$E2E_TMP/deleted") items with node $NODE down"

note "starting node $NODE"
cluster start-node "$NODE" || fail "deploy/cluster start-node $NODE"
# An update of a deleted item must not revive it from B's stale copy: 404, every one.
bad=""
while read -r id; do
    do_curl -H 'Content-Type: application/json' --data "{\"action\":\"update\",\"id\":$id,\"name\":\"revived\"}" \
        "$E2E_HAPROXY/manage"
    [ "$STATUS" = 404 ] || bad+="$id: $STATUS $(short "$BODY"); "
done <"$E2E_TMP/deleted"
if [ -z "$bad" ]; then pass "updates of the deleted items answer 404 while node $NODE returns"; else
    fail "updates of deleted items while node $NODE returns did not answer 404: $bad"
fi
# B comes back holding the deleted items as live rows; no list may show them, whichever pool and
# front end answers, while it catches up (about 3 s of lists through each front end in turn).
lists=0
bad=""
end=$((SECONDS + 3))
while ((SECONDS < end)); do
    for front in "${FRONTS[@]}"; do
        lists=$((lists + 1))
        none_listed "$(front_url "$front")" "$E2E_TMP/deleted" || bad+="[$front] $LISTED_BAD; "
    done
done
if [ -z "$bad" ]; then
    pass "no GET /manage lists a deleted item while node $NODE catches up ($lists lists)"
else
    fail "GET /manage lists deleted items while node $NODE catches up: $bad"
fi
note "listed $lists times while node $NODE catches up"

verify_ledger 10 "after the catch-up: deletes are tombstones on both nodes, the rest live, nodes identical" \
    --ledger "$ledger" --manage "$E2E_HAPROXY" --manage "$E2E_NGINX" --manage "$E2E_LIGHTTPD"
for node in a b; do
    assert_eq "0 $((ITEMS / 2))" \
        "$(psql_node "$node" "SELECT (SELECT count(*) FROM items WHERE id IN ($deleted_ids)) || ' ' ||
            (SELECT count(*) FROM items_tombstone WHERE id IN ($deleted_ids))")" \
        "node $node: the $((ITEMS / 2)) deleted items are tombstones, none live"
done
# Once more a few seconds later: nothing brings them back.
sleep 2
for front in "${FRONTS[@]}"; do
    if none_listed "$(front_url "$front")" "$E2E_TMP/deleted"; then
        pass "[$front] GET /manage does not list a deleted item after the catch-up"
    else
        fail "[$front] GET /manage lists deleted items after the catch-up: $LISTED_BAD"
    fi
done
assert_eq "0|0" "$(psql_a "SELECT count(*) FROM items WHERE id IN ($deleted_ids)")|$(psql_b "SELECT count(*) FROM items WHERE id IN ($deleted_ids)")" \
    "no deleted item is live on either node 2 s later"

end_fault_test

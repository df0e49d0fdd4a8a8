#!/usr/bin/env bash
# Both nodes stopped: through HAProxy, nginx and lighttpd, /health answers
# 503, GET /session and a write answer 503 with Retry-After: 5, each within
# 3 s (HAProxy's own 503 errorfile, once it has marked every pool down, is
# accepted as well: it has the same status and Retry-After). Both nodes
# started: the service comes back by itself within 10 s through every front
# end, and the writes acknowledged before the outage are all there, on both
# nodes and through the service (Tests/e2e/ledger.py).
# Helpers run through poll and at_exit (SC2317).
# shellcheck source=Tests/e2e/lib.sh disable=SC2317,SC2034
source "$(dirname "$0")/lib.sh"

QUICK=3           # seconds within which an answer counts as quick
RETURN_WITHIN=10  # seconds for the service to come back after both nodes started

# The helpers and settings every fault test shares.
# shellcheck source=Tests/e2e/fault_lib.sh
source "$E2E_DIR/fault_lib.sh"

# answered_quickly WHAT: the last request took less than QUICK seconds.
answered_quickly() {
    if awk -v t="$TIME" -v q="$QUICK" 'BEGIN { exit !(t < q) }'; then pass "$1 within ${QUICK}s"; else
        fail "$1 took ${TIME}s (at most ${QUICK}s)"
    fi
}

# unavailable WHAT: the last answer is 503 with Retry-After: 5, quick.
unavailable() {
    assert_status 503 "$1"
    assert_eq 5 "$(header Retry-After)" "$1: Retry-After"
    answered_quickly "$1"
}

# health_is URL STATUS: GET URL/health answers STATUS.
health_is() {
    do_curl "$1/health"
    [ "$STATUS" = "$2" ]
}

# every_front_health STATUS: /health answers STATUS through every front end.
every_front_health() {
    local front
    for front in "${FRONTS[@]}"; do health_is "$(front_url "$front")" "$1" || return 1; done
}

# ---------------------------------------------------------------- the test

E2E_CURL_TIMEOUT=10
begin_fault_test

# Writes acknowledged before the outage.
ledger=$E2E_TMP/ledger.json
start_load "$ledger" --url "$E2E_HAPROXY,$E2E_NGINX,$E2E_LIGHTTPD" --threads 4 --duration 3 --max-failures 0
wait_load "writes before the outage: all acknowledged"
verify_ledger 10 "the writes before the outage are on both nodes" --ledger "$ledger"
sid=$(python3 "$LEDGER" show --ledger "$ledger" --what sessions | head -n 1)

note "stopping both nodes"
cluster stop-node b || fail "deploy/cluster stop-node b"
cluster stop-node a || fail "deploy/cluster stop-node a"
assert_eq "down down" "$(part_state node a) $(part_state node b)" "deploy/cluster status shows both nodes down"
note "both nodes stopped"

# Round 1 right after the stop (the pools answer 503 themselves); round 2 some seconds later, when
# HAProxy has marked every pool down (its health check wants 200) and answers with its errorfile
# and nginx may have marked its upstreams failed.
for round in 1 2; do
    ((round == 1)) || sleep 3
    for front in "${FRONTS[@]}"; do
        url=$(front_url "$front")
        p="[$front] both nodes down, round $round:"
        # The pools notice at once (a refused connection); allow a breath for /health, which
        # reads the pools' circuit breakers rather than the databases.
        if poll 3 health_is "$url" 503; then pass "$p /health turns 503"; else
            fail "$p /health answers $STATUS, not 503, 3 s after both nodes stopped: $(short "$BODY")"
        fi
        for ((i = 1; i <= POOL_COUNT; i++)); do
            do_curl "$url/health"
            assert_status 503 "$p GET /health #$i"
            answered_quickly "$p GET /health #$i"
            do_curl -H "Cookie: $SESSION_NAME=$sid" "$url/session"
            unavailable "$p GET /session #$i"
            do_curl -H "Cookie: $SESSION_NAME=$sid" "$url/"
            unavailable "$p GET / #$i"
            do_curl -H 'Content-Type: application/json' --data '{"action":"create","name":"during the outage"}' \
                "$url/manage"
            unavailable "$p POST /manage create #$i"
        done
        note "round $round: $front answered 503 ($(short "$BODY"))"
    done
done

note "starting both nodes"
cluster start-node a || fail "deploy/cluster start-node a"
cluster start-node b || fail "deploy/cluster start-node b"
note "both nodes started"
if poll "$RETURN_WITHIN" every_front_health 200; then
    pass "the service is back through every front end within ${RETURN_WITHIN}s"
else
    fail "the service is not back within ${RETURN_WITHIN}s: /health answers $STATUS: $(short "$BODY")"
fi
note "service back"

for front in "${FRONTS[@]}"; do
    url=$(front_url "$front")
    do_curl -H "Cookie: $SESSION_NAME=$sid" "$url/session"
    assert_status 200 "[$front] GET /session after the outage"
    assert_eq "$sid" "$(json_get id)" "[$front] the session from before the outage is served"
done
verify_ledger 10 "the writes acknowledged before the outage are all there" --ledger "$ledger" \
    --manage "$E2E_HAPROXY" --sessions "$E2E_HAPROXY" --sessions "$E2E_NGINX" --sessions "$E2E_LIGHTTPD"

# A write after the outage reaches both nodes again.
do_curl -H 'Content-Type: application/json' --data '{"action":"create","name":"after the outage"}' \
    "$E2E_HAPROXY/manage"
assert_status 201 "a create after the outage"
id=$(json_get id)
[[ $id =~ ^[0-9]+$ ]] || id=0
assert_eq "after the outage|after the outage" \
    "$(psql_a "SELECT name FROM items WHERE id = $id")|$(psql_b "SELECT name FROM items WHERE id = $id")" \
    "the create after the outage is on both nodes"

end_fault_test

#!/usr/bin/env bash
# With node b stopped, pages and writes still answer through HAProxy within
# 5 s and /health reports b down; node b is started again afterwards.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

url=$E2E_HAPROXY
E2E_CURL_TIMEOUT=5

# health_says NODE STATE COUNT: COUNT /health answers in a row (one per pool
# under round-robin) report NODE in STATE.
# shellcheck disable=SC2317 # called through poll
health_says() {
    local k
    for ((k = 0; k < $3; k++)); do
        do_curl "$url/health"
        [ "$STATUS" = 200 ] && [ "$(json_get "nodes.$1")" = "$2" ] || return 1
    done
}

node_state() { "$CLUSTER_SCRIPT" status | awk -v n="$1" '$1 == "node" && $2 == n { print $3 }'; }

if [ "$(node_state b)" != up ]; then
    fail "node b is not up before the test"
    finish
fi
"$CLUSTER_SCRIPT" stop-node b >/dev/null || fail "deploy/cluster stop-node b"
at_exit "$CLUSTER_SCRIPT" start-node b
assert_eq down "$(node_state b)" "deploy/cluster status shows node b down"

jar=$E2E_TMP/jar
for ((i = 1; i <= 4; i++)); do
    do_curl -b "$jar" -c "$jar" "$url/"
    assert_status 200 "GET / #$i with node b down (${TIME}s)"
done
do_curl -b "$jar" -c "$jar" "$url/session"
assert_status 200 "GET /session with node b down"
assert_eq 4 "$(json_get visits)" "visits count with node b down"

name="e2e node-down $$"
do_curl -H 'Content-Type: application/json' --data "{\"action\":\"create\",\"name\":\"$name\"}" "$url/manage"
assert_status 201 "create an item with node b down (${TIME}s)"
id=$(json_get id)
[[ $id =~ ^[0-9]+$ ]] || id=0
assert_eq "$name" "$(psql_a "SELECT name FROM items WHERE id = $id")" "the item is on node a"

if poll 10 health_says b down "$POOL_COUNT"; then
    pass "/health reports node b down"
else
    fail "/health does not report node b down within 10 s: $(short "$BODY")"
fi
assert_eq up "$(json_get nodes.a)" "/health reports node a up"

"$CLUSTER_SCRIPT" start-node b >/dev/null || fail "deploy/cluster start-node b"
if poll 20 health_says b up "$POOL_COUNT"; then
    pass "/health reports node b up again"
else
    fail "/health does not report node b up within 20 s: $(short "$BODY")"
fi

finish

#!/usr/bin/env bash
# Concurrent requests of one session never lose each other's writes: N parallel
# increments through a mix of pools and all three front ends raise `visits` by
# exactly N; parallel requests setting different keys all survive; sessions of
# other users are not slowed into failure meanwhile.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

N=${E2E_CONCURRENCY:-48}

# One session to share: start it through HAProxy.
jar=$E2E_TMP/shared.jar
do_curl -b "$jar" -c "$jar" "$E2E_HAPROXY/session"
assert_status 200 "start the shared session"
id=$(json_get id)
start=$(json_get visits)
cookie="$SESSION_NAME=$id"

# N increments (GET /) and N key writes (POST /session) at once, spread over the fronts.
pids=()
for ((i = 0; i < N; i++)); do
    front=${FRONTS[i % 3]}
    url=$(front_url "$front")
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -H "Cookie: $cookie" "$url/" \
        >"$E2E_TMP/inc.$i" 2>&1 &
    pids+=($!)
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -H "Cookie: $cookie" \
        -H 'Content-Type: application/json' --data "{\"k$i\":\"v$i\"}" "$url/session" \
        >"$E2E_TMP/set.$i" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

ok_inc=$(cat "$E2E_TMP"/inc.* | grep -c '^200$')
ok_set=$(cat "$E2E_TMP"/set.* | grep -c '^200$')
assert_eq "$N" "$ok_inc" "all $N parallel increments answered 200"
assert_eq "$N" "$ok_set" "all $N parallel key writes answered 200"

do_curl -H "Cookie: $cookie" "$E2E_HAPROXY/session"
assert_eq "$id" "$(json_get id)" "the session kept its id"
assert_eq "$((start + ok_inc))" "$(json_get visits)" "visits rose by exactly the number of answered increments"
missing=0
for ((i = 0; i < N; i++)); do
    [ "$(json_get "data.k$i")" = "v$i" ] || missing=$((missing + 1))
done
assert_eq 0 "$missing" "every key written in parallel is in the session"

# Both nodes hold the same bytes.
a=$(psql_a "SELECT md5(data) FROM php_session WHERE id = $(quote_sql "$id")")
b=$(psql_b "SELECT md5(data) FROM php_session WHERE id = $(quote_sql "$id")")
assert_ne "" "$a" "the session is on node A"
assert_eq "$a" "$b" "node B holds the same session bytes as node A"

# A request of another session is not held up by the busy one.
for ((i = 0; i < N; i++)); do
    curl -s -o /dev/null --max-time 20 -H "Cookie: $cookie" "$E2E_HAPROXY/" &
done
do_curl "$E2E_NGINX/session"
assert_status 200 "another user's session answers while one session is busy"
wait

finish

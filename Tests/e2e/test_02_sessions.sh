#!/usr/bin/env bash
# Sessions through each front end: visits count up across pools, the row is
# on both nodes in PHP's format, values are set by form and JSON, `visits`
# is the server's own, and DELETE destroys the session (no live row left on
# either node, a tombstone on both).
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

N=8

# session_row NODE ID: the live session's data as text, empty when none
# (php_session holds live rows only: a destroyed session is a key of php_session_tombstone).
session_row() {
    psql_node "$1" "SELECT $(sql_text "$1" php_session data) FROM php_session WHERE id = $(quote_sql "$2")"
}

for front in "${FRONTS[@]}"; do
    url=$(front_url "$front")
    p="[$front]"
    jar=$E2E_TMP/$front.jar
    c=(-b "$jar" -c "$jar")
    served=()
    id=""

    for ((i = 1; i <= N; i++)); do
        do_curl "${c[@]}" "$url/"
        assert_status 200 "$p GET / #$i"
        served+=("$(header X-Served-By)")
        do_curl "${c[@]}" "$url/session"
        assert_status 200 "$p GET /session #$i"
        served+=("$(header X-Served-By)")
        assert_eq "$i" "$(json_get visits)" "$p visits after $i pages"
        if ((i == 1)); then
            id=$(json_get id)
            assert_match "$id" '^[A-Za-z0-9,-]{22,256}$' "$p session id"
        else
            assert_eq "$id" "$(json_get id)" "$p the session id stays"
        fi
    done
    assert_eq "$id" "$(cookie_value "$jar" "$SESSION_NAME")" "$p the cookie holds the session id"
    distinct=$(printf '%s\n' "${served[@]}" | grep -v '^$' | sort -u | wc -l)
    if ((POOL_COUNT < 2 || distinct >= 2)); then
        pass "$p served by $distinct pools"
    else
        fail "$p all $((2 * N)) requests were served by '${served[0]}': no load balancing"
    fi

    for node in a b; do
        assert_contains "$(session_row "$node" "$id")" "visits|i:$N;" "$p the session on node $node"
    done

    do_curl "${c[@]}" --data 'key=color&value=blue' "$url/session"
    assert_status 200 "$p POST /session form"
    assert_eq blue "$(json_get data.color)" "$p the form's value in the answer"
    do_curl "${c[@]}" -H 'Content-Type: application/json' --data '{"size":"L"}' "$url/session"
    assert_status 200 "$p POST /session JSON"
    do_curl "${c[@]}" "$url/session"
    assert_eq blue "$(json_get data.color)" "$p GET /session shows color"
    assert_eq L "$(json_get data.size)" "$p GET /session shows size"
    assert_eq "$N" "$(json_get visits)" "$p setting values leaves visits"
    for node in a b; do
        row=$(session_row "$node" "$id")
        assert_contains "$row" 'color|s:4:"blue";' "$p color on node $node"
        assert_contains "$row" 'size|s:1:"L";' "$p size on node $node"
    done

    do_curl "${c[@]}" --data 'key=visits&value=100' "$url/session"
    assert_status 422 "$p POST visits by form"
    assert_json_error "$p 422"
    do_curl "${c[@]}" -H 'Content-Type: application/json' --data '{"visits":100}' "$url/session"
    assert_status 422 "$p POST visits by JSON"
    do_curl "${c[@]}" "$url/session"
    assert_eq "$N" "$(json_get visits)" "$p a rejected POST changes nothing"

    do_curl "${c[@]}" -H 'Accept: text/html' --data 'key=shape&value=round' "$url/session"
    assert_status 303 "$p browser form POST /session"
    assert_match "$(header Location)" '^(https?://[^/]+)?/$' "$p browser form redirects to /"

    do_curl "${c[@]}" -X DELETE "$url/session"
    assert_status 200 "$p DELETE /session"
    assert_eq true "$(json_get destroyed)" "$p DELETE answers destroyed"
    cookie=$(header_all Set-Cookie | grep "^$SESSION_NAME=" | head -n 1)
    assert_contains "$cookie" "Max-Age=0" "$p DELETE expires the cookie"
    for node in a b; do
        assert_eq "" "$(session_row "$node" "$id")" "$p the session is gone from node $node"
        assert_deleted "$node" php_session "$id" "$p the destroyed session is a tombstone on node $node, not a live row"
    done
    do_curl -H "Cookie: $SESSION_NAME=$id" "$url/session"
    assert_status 200 "$p GET /session with the destroyed id"
    assert_ne "$id" "$(json_get id)" "$p a destroyed id is not adopted"
    assert_eq 0 "$(json_get visits)" "$p a new session starts at 0 visits"
done

finish

#!/usr/bin/env bash
# Every route, its .php alias and the error statuses, through each front end.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# A form body one byte over MAX_BODY_BYTES (default 1 MiB).
big=$E2E_TMP/big-body
{
    printf 'key=big&value='
    head -c "${MAX_BODY_BYTES:-1048576}" /dev/zero | tr '\0' a
} >"$big"

for front in "${FRONTS[@]}"; do
    url=$(front_url "$front")
    p="[$front]"

    do_curl "$url/health"
    assert_status 200 "$p GET /health"
    assert_json "$p GET /health"
    assert_served_by "$p GET /health"
    assert_eq ok "$(json_get status)" "$p /health status"
    assert_eq up "$(json_get nodes.a)" "$p /health node a"
    assert_eq up "$(json_get nodes.b)" "$p /health node b"

    for path in / /index.php; do
        do_curl "$url$path"
        assert_status 200 "$p GET $path"
        assert_served_by "$p GET $path"
        assert_contains "$(header Content-Type)" text/html "$p GET $path Content-Type"
        assert_match "$BODY" '<![Dd][Oo][Cc][Tt][Yy][Pp][Ee] [Hh][Tt][Mm][Ll]>' "$p GET $path is an HTML page"
    done

    for path in /session /session.php; do
        do_curl "$url$path"
        assert_status 200 "$p GET $path"
        assert_served_by "$p GET $path"
        assert_json "$p GET $path"
        assert_eq string "$(json_type id)" "$p GET $path: id"
        assert_eq int "$(json_type visits)" "$p GET $path: visits"
        assert_eq object "$(json_type data)" "$p GET $path: data"
        assert_eq "$(header X-Served-By)" "$(json_get served_by)" "$p GET $path: served_by is X-Served-By"
    done

    for path in /manage /manage.php; do
        do_curl "$url$path"
        assert_status 200 "$p GET $path"
        assert_served_by "$p GET $path"
        assert_contains "$(header Content-Type)" text/html "$p GET $path Content-Type"
        do_curl -H 'Accept: application/json' "$url$path"
        assert_status 200 "$p GET $path (JSON)"
        assert_eq list "$(json_type items)" "$p GET $path (JSON): items"
    done

    do_curl --head "$url/"
    assert_status 200 "$p HEAD /"
    assert_served_by "$p HEAD /"
    assert_contains "$(header Content-Type)" text/html "$p HEAD / Content-Type"
    raw_http "$url" "HEAD / HTTP/1.1\r\nHost: ${url#http://}\r\nConnection: close\r\n\r\n"
    assert_eq 200 "$STATUS" "$p HEAD / over a raw connection"
    assert_eq 0 "$RAW_BODY_SIZE" "$p HEAD / body size"

    do_curl "$url/no-such-page"
    assert_status 404 "$p GET /no-such-page"
    assert_served_by "$p 404"
    assert_json_error "$p 404"

    do_curl -X PUT -H 'Content-Type: application/json' --data '{}' "$url/session"
    assert_status 405 "$p PUT /session"
    assert_served_by "$p 405"
    allow=$(header Allow)
    assert_contains "$allow" GET "$p 405 Allow"
    assert_contains "$allow" POST "$p 405 Allow"

    do_curl -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$big" "$url/session"
    assert_status 413 "$p POST /session over MAX_BODY_BYTES"
    assert_served_by "$p 413"

    do_curl --data 'key=%zz&value=1' "$url/session"
    assert_status 400 "$p POST /session broken percent-encoding"
    assert_served_by "$p 400"
    assert_json_error "$p 400 (form)"

    do_curl -H 'Content-Type: application/json' --data '{"color": "blue",' "$url/session"
    assert_status 400 "$p POST /session invalid JSON"
    assert_json_error "$p 400 (JSON)"

    do_curl -H 'Content-Type: text/plain' --data 'color=blue' "$url/session"
    assert_status 415 "$p POST /session text/plain"
    assert_served_by "$p 415"
    assert_json_error "$p 415"
done

finish

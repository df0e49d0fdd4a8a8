# Tests/e2e/lib.sh: sourced by every Tests/e2e/test_NN_*.sh.
#
# A test makes checks with assert_* (or pass/fail), which count and report
# but do not stop the script, and ends with `finish`, which prints a summary
# and exits non-zero when a check failed. deploy/run-tests sets the
# environment; against a cluster started by hand the defaults below fit
# `deploy/cluster up` with its default ports.
#
# shellcheck shell=bash

set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
E2E_ROOT=$(cd "$E2E_DIR/../.." && pwd -P)

BIND_HOST=${BIND_HOST:-127.0.0.1}
E2E_HAPROXY=${E2E_HAPROXY:-http://$BIND_HOST:${HAPROXY_PORT:-8080}}
E2E_NGINX=${E2E_NGINX:-http://$BIND_HOST:${NGINX_PORT:-8081}}
E2E_LIGHTTPD=${E2E_LIGHTTPD:-http://$BIND_HOST:${LIGHTTPD_PORT:-8082}}
CLUSTER_SCRIPT=${CLUSTER_SCRIPT:-$E2E_ROOT/deploy/cluster}
NODE_A_PORT=${NODE_A_PORT:-54321}
NODE_B_PORT=${NODE_B_PORT:-54322}
NODE_A_DB=${NODE_A_DB:-cluster_session_a}
NODE_B_DB=${NODE_B_DB:-cluster_session_b}
CLUSTER_DB_USER=${CLUSTER_DB_USER:-webuser}
CLUSTER_DB_PASSWORD=${CLUSTER_DB_PASSWORD:-change_me}
POOL_COUNT=${POOL_COUNT:-4}
SESSION_NAME=${SESSION_NAME:-PHPSESSID}
E2E_CURL_TIMEOUT=${E2E_CURL_TIMEOUT:-10}

# The front ends, by name; front_url NAME gives the base URL.
# shellcheck disable=SC2034 # used by the tests
FRONTS=(haproxy nginx lighttpd)
front_url() {
    case $1 in
        haproxy) printf '%s' "$E2E_HAPROXY" ;;
        nginx) printf '%s' "$E2E_NGINX" ;;
        lighttpd) printf '%s' "$E2E_LIGHTTPD" ;;
        *) printf 'no front end %s\n' "$1" >&2 && return 1 ;;
    esac
}

# haproxy_command COMMAND: one command to the local cluster's HAProxy runtime API, through socat.
haproxy_command() {
    printf '%s\n' "$1" | timeout 5 socat -t 2 - "UNIX-CONNECT:${CLUSTER_DIR:-$E2E_ROOT/.cluster}/run/haproxy.sock"
}

# require_haproxy_api: ends the test as failed unless socat and the runtime API's socket are there.
require_haproxy_api() {
    local socket=${CLUSTER_DIR:-$E2E_ROOT/.cluster}/run/haproxy.sock
    if ! command -v socat >/dev/null 2>&1 || [ ! -S "$socket" ]; then
        fail "HAProxy's runtime API at $socket (with socat) is needed"
        finish
    fi
}

TEST_NAME=$(basename "$0" .sh)
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")
_checks=0
_failures=0
_at_exit=()

# at_exit COMMAND...: run when the test ends, however it ends (last first).
at_exit() { _at_exit=("$(printf '%q ' "$@")" "${_at_exit[@]}"); }
_e2e_exit() {
    local cmd
    for cmd in "${_at_exit[@]}"; do eval "$cmd" || true; done
    rm -rf "$E2E_TMP"
}
trap _e2e_exit EXIT
# A test stopped from outside (deploy/run-tests' time limit) still cleans up.
trap 'exit 143' TERM INT

# ---------------------------------------------------------------- results

pass() {
    _checks=$((_checks + 1))
    [ -z "${E2E_VERBOSE:-}" ] || printf '  ok   %s\n' "$*"
}

# fail MESSAGE: records a failed check and goes on.
fail() {
    _checks=$((_checks + 1))
    _failures=$((_failures + 1))
    printf '  FAIL %s\n' "$*"
}

# finish: the summary line; exits 1 when a check failed (or none was made).
# checker_verdicts: counts each line of standard input from a checker program: `PASS what` and
# `FAIL what` as a check each; anything else (a traceback) as a failure that quotes it.
checker_verdicts() {
    local line
    while IFS= read -r line; do
        case $line in
            PASS\ *) pass "${line#PASS }" ;;
            FAIL\ *) fail "${line#FAIL }" ;;
            *) fail "the checker said: $line" ;;
        esac
    done
}

finish() {
    if ((_checks == 0)); then
        printf '%s: no check was made\n' "$TEST_NAME"
        exit 1
    fi
    printf '%s: %d checks, %d failed\n' "$TEST_NAME" "$_checks" "$_failures"
    ((_failures == 0)) || exit 1
    exit 0
}

# ---------------------------------------------------------------- HTTP

STATUS=000   # status of the last do_curl (000: no answer)
BODY=""      # its body
TIME=0       # its duration in seconds
CURL_ERROR="" # curl's message when there was no answer

# do_curl CURL-ARGS... URL: one request; sets STATUS, BODY, TIME and the
# headers that `header` reads. Never fails: a request without an answer
# gives STATUS=000 and CURL_ERROR.
do_curl() {
    local out
    : >"$E2E_TMP/headers"
    : >"$E2E_TMP/body"
    if out=$(curl -sS --max-time "$E2E_CURL_TIMEOUT" -D "$E2E_TMP/headers" -o "$E2E_TMP/body" \
        -w '%{http_code} %{time_total}' "$@" 2>"$E2E_TMP/curl-error"); then
        CURL_ERROR=""
    else
        CURL_ERROR=$(tr '\n' ' ' <"$E2E_TMP/curl-error")
    fi
    STATUS=${out%% *}
    # shellcheck disable=SC2034 # for the tests
    TIME=${out##* }
    [ -n "$STATUS" ] || STATUS=000
    BODY=$(cat "$E2E_TMP/body")
}

# header NAME: the value of NAME in the last response's final header block
# (after any 100 Continue), empty when absent.
header() {
    header_all "$1" | head -n 1
}

# header_all NAME: every value of NAME, one a line (Set-Cookie).
header_all() {
    tr -d '\r' <"$E2E_TMP/headers" | awk -v name="$1" '
        /^HTTP\// { n = 0; delete v; next }
        {
            i = index($0, ":")
            if (i > 0 && tolower(substr($0, 1, i - 1)) == tolower(name)) {
                s = substr($0, i + 1); sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); v[++n] = s
            }
        }
        END { for (k = 1; k <= n; k++) print v[k] }'
}

# raw_http BASE-URL REQUEST-TEXT: sends REQUEST-TEXT (printf %b escapes)
# over a plain TCP connection and reads the answer until the server closes,
# to see the bytes curl would hide (the body of a HEAD answer). Sets STATUS
# and RAW_BODY_SIZE (bytes after the header block, -1 when there is none).
raw_http() {
    local hostport=${1#http://}
    hostport=${hostport%%/*}
    STATUS=000
    RAW_BODY_SIZE=-1
    # shellcheck disable=SC2016 # the inner script's own arguments
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "%b" "$3" >&3 && cat <&3' _ \
        "${hostport%:*}" "${hostport##*:}" "$2" >"$E2E_TMP/raw" 2>/dev/null || return 0
    STATUS=$(head -n 1 "$E2E_TMP/raw" | awk '{ print $2 }')
    # shellcheck disable=SC2016,SC2034 # PHP code; for the tests
    RAW_BODY_SIZE=$(php -r '$s = file_get_contents($argv[1]); $p = strpos($s, "\r\n\r\n");
        echo $p === false ? -1 : strlen($s) - $p - 4;' "$E2E_TMP/raw")
}

# short TEXT: one line of at most 200 characters, for messages.
short() { printf '%s' "$1" | tr '\n\r' '  ' | cut -c1-200; }

# ---------------------------------------------------------------- assertions

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
    if [ "$1" == "$2" ]; then pass "$3"; else fail "$3: expected '$(short "$1")', got '$(short "$2")'"; fi
}

# assert_ne UNEXPECTED ACTUAL WHAT
assert_ne() {
    if [ "$1" != "$2" ]; then pass "$3"; else fail "$3: got '$(short "$2")', which it must not be"; fi
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
    if [[ $1 == *"$2"* ]]; then pass "$3"; else fail "$3: '$(short "$1")' does not contain '$(short "$2")'"; fi
}

# assert_match TEXT REGEX WHAT (bash ERE)
assert_match() {
    if [[ $1 =~ $2 ]]; then pass "$3"; else fail "$3: '$(short "$1")' does not match /$2/"; fi
}

# assert_status EXPECTED WHAT: the last response's status; shows the body
# (or curl's error) when it differs.
assert_status() {
    if [ "$STATUS" = "$1" ]; then
        pass "$2"
    elif [ "$STATUS" = 000 ]; then
        fail "$2: expected $1, got no answer ($CURL_ERROR)"
    else
        fail "$2: expected $1, got $STATUS: $(short "$BODY")"
    fi
}

# assert_served_by WHAT: the last response carries X-Served-By.
assert_served_by() {
    if [ -n "$(header X-Served-By)" ]; then pass "$1 has X-Served-By"; else fail "$1: no X-Served-By header"; fi
}

# assert_json_type WHAT: the last response is JSON (header and body).
assert_json() {
    assert_contains "$(header Content-Type)" application/json "$1: Content-Type"
    if json_get "" >/dev/null; then pass "$1: body is JSON"; else fail "$1: body is not JSON: $(short "$BODY")"; fi
}

# assert_json_error WHAT: the last response is JSON {"error": "<non-empty>"}.
assert_json_error() {
    assert_json "$1"
    local message
    message=$(json_get error)
    if [ "$(json_type error)" = string ] && [ -n "$message" ]; then
        pass "$1: has an error message"
    else
        fail "$1: no {\"error\": ...} in $(short "$BODY")"
    fi
}

# ---------------------------------------------------------------- JSON

# json_get PATH [JSON]: the value at a dotted PATH ("" for the whole, "a.b",
# "items.0.id") of JSON (default: the last body). Strings and numbers print
# as themselves, true/false/null as such, arrays and objects as JSON.
# Fails when the text is not JSON or the path is missing.
json_get() {
    # shellcheck disable=SC2016 # PHP code
    printf '%s' "${2-$BODY}" | php -r '
        $v = json_decode(stream_get_contents(STDIN), true, 512, JSON_BIGINT_AS_STRING);
        if (json_last_error() !== JSON_ERROR_NONE) exit(2);
        foreach ($argv[1] === "" ? [] : explode(".", $argv[1]) as $k) {
            if (!is_array($v) || !array_key_exists($k, $v)) exit(1);
            $v = $v[$k];
        }
        if (is_bool($v)) echo $v ? "true" : "false";
        elseif ($v === null) echo "null";
        elseif (is_array($v)) echo json_encode($v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        else echo $v;' "$1"
}

# json_type PATH [JSON]: int, float, string, bool, null, list, object, missing
# or invalid.
json_type() {
    # shellcheck disable=SC2016 # PHP code
    printf '%s' "${2-$BODY}" | php -r '
        $t = json_decode($s = stream_get_contents(STDIN), false, 512, JSON_BIGINT_AS_STRING);
        if (json_last_error() !== JSON_ERROR_NONE) { echo "invalid"; exit; }
        $v = json_decode($s, true, 512, JSON_BIGINT_AS_STRING);
        foreach ($argv[1] === "" ? [] : explode(".", $argv[1]) as $k) {
            if (!is_array($v) || !array_key_exists($k, $v)) { echo "missing"; exit; }
            $v = $v[$k]; $t = is_object($t) ? $t->$k : $t[$k];
        }
        echo match (true) {
            is_int($v) => "int", is_float($v) => "float", is_string($v) => "string",
            is_bool($v) => "bool", $v === null => "null", is_object($t) => "object", default => "list",
        };' "$1"
}

# ---------------------------------------------------------------- databases

# psql_node a|b SQL: the rows of a query as webuser over TCP (-At).
psql_node() {
    local port db
    if [ "$1" = a ]; then port=$NODE_A_PORT db=$NODE_A_DB; else port=$NODE_B_PORT db=$NODE_B_DB; fi
    PGPASSWORD=$CLUSTER_DB_PASSWORD PGCONNECT_TIMEOUT=5 psql -X -At -q -h "$BIND_HOST" -p "$port" \
        -U "$CLUSTER_DB_USER" -d "$db" -v ON_ERROR_STOP=1 -c "$2"
}
psql_a() { psql_node a "$1"; }
psql_b() { psql_node b "$1"; }

# has_column NODE TABLE COLUMN: the column exists (in the search path).
has_column() {
    [ "$(psql_node "$1" "SELECT count(*) FROM information_schema.columns
        WHERE table_name = '$2' AND column_name = '$3' AND table_schema = ANY (current_schemas(false))")" != 0 ]
}

# sql_text NODE TABLE COLUMN: an SQL expression giving COLUMN as text,
# whether it is bytea (the session data may be) or text.
sql_text() {
    local type
    type=$(psql_node "$1" "SELECT data_type FROM information_schema.columns
        WHERE table_name = '$2' AND column_name = '$3' AND table_schema = ANY (current_schemas(false))")
    if [ "$type" = bytea ]; then printf "convert_from(%s, 'UTF8')" "$3"; else printf '%s' "$3"; fi
}

# php_session and items hold live rows only; a delete leaves the key, its
# clock and writer in php_session_tombstone / items_tombstone
# (docs/PROTOCOL.md, "Rows and versions").

# key_state NODE TABLE KEY: where KEY of TABLE (php_session or items) is on a
# node: "live", "tombstone", "absent", or "live+tombstone" (never allowed);
# empty when the node cannot be read (or has no tombstone table).
key_state() {
    psql_node "$1" "SELECT CASE WHEN l AND t THEN 'live+tombstone' WHEN l THEN 'live' WHEN t THEN 'tombstone'
        ELSE 'absent' END FROM (SELECT EXISTS (SELECT 1 FROM $2 WHERE id = $(quote_sql "$3")) AS l,
        EXISTS (SELECT 1 FROM ${2}_tombstone WHERE id = $(quote_sql "$3")) AS t) AS k" 2>/dev/null
}

# assert_deleted NODE TABLE KEY WHAT: KEY is gone from the live table on the
# node and its tombstone is there.
assert_deleted() {
    assert_eq tombstone "$(key_state "$1" "$2" "$3")" "$4"
}

# assert_live NODE TABLE KEY WHAT: KEY is a live row on the node, without a tombstone.
assert_live() {
    assert_eq live "$(key_state "$1" "$2" "$3")" "$4"
}

# ---------------------------------------------------------------- misc

# cookie_value JAR NAME: a cookie's value from a curl cookie jar.
cookie_value() {
    [ -f "$1" ] || return 0
    awk -v name="$2" -F'\t' 'NF >= 7 && $6 == name { v = $7 } END { if (v != "") print v }' "$1"
}

# poll SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds;
# fails after SECONDS.
poll() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# quote_sql TEXT: TEXT as an SQL string literal.
quote_sql() { printf "'%s'" "${1//\'/\'\'}"; }

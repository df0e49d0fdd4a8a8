#!/usr/bin/env bash
# The PHP handler under php-fpm, next to the responder: a php-fpm pool of the test's own (Debian's
# php-fpm8.2, `pm = static` with 2 workers, on a spare TCP port, its config in the test's temp
# directory, the nodes passed by `env[…]`, the handler registered by `auto_prepend_file` through
# contrib/php/ClusterSessionHandler.php) serves a seed-style page (session_start, visits++, JSON),
# asked through `cgi-fcgi` (libfcgi-bin). Checks:
#   - a session started by the responder (through $E2E_HAPROXY, cookie PHPSESSID) is read and
#     incremented by the php-fpm page, and the responder counts on from there;
#   - a session started by the php-fpm page is adopted and incremented by the responder, and the
#     page counts on from there; both nodes hold the same row;
#   - strict mode: the page does not adopt an id no node has;
#   - destroy through the page leaves a tombstone on both nodes and no live row; neither the page
#     nor the responder adopts the id again;
#   - php-fpm logged no PHP warning or error.
# php-fpm is stopped when the test ends, however it ends.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=Tests/e2e/php_lib.sh
source "$E2E_DIR/php_lib.sh"

url=$E2E_HAPROXY

# ------------------------------------------------------------ php-fpm and cgi-fcgi
FPM_BIN=""
for candidate in php-fpm8.2 /usr/sbin/php-fpm8.2 php-fpm /usr/sbin/php-fpm; do
    if command -v "$candidate" >/dev/null 2>&1; then
        FPM_BIN=$(command -v "$candidate")
        break
    fi
done
if [ -z "$FPM_BIN" ]; then
    fail "php-fpm8.2 is needed (apt-get install php8.2-fpm)"
    finish
fi
CGI_FCGI=$(command -v cgi-fcgi || true)
if [ -z "$CGI_FCGI" ]; then
    fail "cgi-fcgi is needed (apt-get install libfcgi-bin)"
    finish
fi
if ! "$FPM_BIN" -m 2>/dev/null | grep -qx pgsql; then
    fail "php-fpm lacks the pgsql extension (apt-get install php-pgsql)"
    finish
fi

# spare_port: a TCP port of BIND_HOST that nothing listens on, below the ephemeral range (32768+)
# so that no outgoing connection can hold it meanwhile.
spare_port() {
    python3 - "$BIND_HOST" <<'PY'
import random, socket, sys
for _ in range(200):
    port = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind((sys.argv[1], port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
PY
}

FPM_DIR=$E2E_TMP/fpm
mkdir -p "$FPM_DIR"
conninfo() {
    local port db
    if [ "$1" = a ]; then port=$NODE_A_PORT db=$NODE_A_DB; else port=$NODE_B_PORT db=$NODE_B_DB; fi
    printf 'host=%s port=%s dbname=%s user=%s password=%s' "$BIND_HOST" "$port" "$db" "$CLUSTER_DB_USER" "$CLUSTER_DB_PASSWORD"
}

# The handler, for every request of the pool, before the page.
cat >"$FPM_DIR/prepend.php" <<'PHP'
<?php
declare(strict_types=1);
require getenv('CLUSTER_PHP_HANDLER');
$clusterSessionHandler = new ClusterSessionHandler(getenv('CLUSTER_NODE_A'), getenv('CLUSTER_NODE_B'),
    lifetime: (int) getenv('SESSION_LIFETIME'), touchInterval: (int) getenv('SESSION_TOUCH_INTERVAL'), downMemoDir: null);
session_set_save_handler($clusterSessionHandler, true);
PHP

# The seed-style page: visits + 1 on every request, as JSON; ?action=destroy ends the session.
cat >"$FPM_DIR/page.php" <<'PHP'
<?php
declare(strict_types=1);
header('Content-Type: application/json');
if (!session_start()) {
    http_response_code(503);
    echo json_encode(['error' => 'session_start failed: ' . $clusterSessionHandler->lastError()]);
    exit;
}
if (($_GET['action'] ?? '') === 'destroy') {
    $id = session_id();
    $ok = session_destroy();
    echo json_encode(['destroyed' => $id, 'ok' => $ok, 'error' => $clusterSessionHandler->lastError()]);
    exit;
}
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
echo json_encode(['id' => session_id(), 'visits' => $_SESSION['visits'], 'pid' => getmypid()]);
PHP

FPM_PORT=$(spare_port)
if [ -z "$FPM_PORT" ]; then
    fail "no spare TCP port for php-fpm"
    finish
fi
cat >"$FPM_DIR/php-fpm.conf" <<EOF
[global]
pid = $FPM_DIR/php-fpm.pid
error_log = $FPM_DIR/php-fpm.log
log_level = notice
daemonize = no

[e2e]
listen = $BIND_HOST:$FPM_PORT
listen.allowed_clients = $BIND_HOST
pm = static
pm.max_children = 2
catch_workers_output = yes
decorate_workers_output = no
clear_env = yes
env[CLUSTER_PHP_HANDLER] = "$PHP_HANDLER_FILE"
env[CLUSTER_NODE_A] = "$(conninfo a)"
env[CLUSTER_NODE_B] = "$(conninfo b)"
env[SESSION_LIFETIME] = $SESSION_LIFETIME
env[SESSION_TOUCH_INTERVAL] = $SESSION_TOUCH_INTERVAL
php_admin_value[auto_prepend_file] = $FPM_DIR/prepend.php
php_admin_value[error_log] = $FPM_DIR/php-errors.log
php_admin_flag[log_errors] = on
php_admin_flag[display_errors] = off
php_admin_value[error_reporting] = E_ALL
php_admin_value[session.name] = $SESSION_NAME
php_admin_flag[session.use_strict_mode] = on
php_admin_flag[session.use_cookies] = on
php_admin_flag[session.use_only_cookies] = on
php_admin_value[session.serialize_handler] = php
php_admin_value[session.gc_probability] = 0
EOF

# As root the pool runs as root (-R): the pages and the checkout may be private (CI runs a fresh
# clone under /root).
fpm_args=(-F -O -y "$FPM_DIR/php-fpm.conf")
((EUID == 0)) && fpm_args+=(-R)
if ! "$FPM_BIN" -t "${fpm_args[@]}" >"$FPM_DIR/config-test.log" 2>&1; then
    fail "php-fpm refuses the pool config: $(short "$(cat "$FPM_DIR/config-test.log")")"
    finish
fi
"$FPM_BIN" "${fpm_args[@]}" >"$FPM_DIR/php-fpm.out" 2>&1 </dev/null &
FPM_PID=$!

# stop_fpm: php-fpm's master and its workers, gracefully first.
# shellcheck disable=SC2317 # called by at_exit
stop_fpm() {
    kill -0 "$FPM_PID" 2>/dev/null || return 0
    kill -TERM "$FPM_PID" 2>/dev/null
    local _
    for _ in $(seq 50); do
        kill -0 "$FPM_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$FPM_PID" 2>/dev/null || true
    wait "$FPM_PID" 2>/dev/null || true
}
at_exit stop_fpm

# shellcheck disable=SC2317 # called by poll
listening() { (exec 3<>"/dev/tcp/$BIND_HOST/$FPM_PORT") 2>/dev/null; }
if poll 10 listening; then
    pass "php-fpm listens on $BIND_HOST:$FPM_PORT (pm static, 2 workers)"
else
    fail "php-fpm does not listen on $BIND_HOST:$FPM_PORT: $(short "$(cat "$FPM_DIR/php-fpm.out" "$FPM_DIR/php-fpm.log" 2>/dev/null)")"
    finish
fi
# shellcheck disable=SC2317 # called by poll
two_workers() { [ "$(pgrep -P "$FPM_PID" | wc -l)" = 2 ]; }
if poll 5 two_workers; then
    pass "the pool has 2 workers"
else
    fail "the pool has $(pgrep -P "$FPM_PID" | wc -l) workers, not 2"
fi

# fpm_page QUERY [SESSION-ID]: the page through php-fpm (FastCGI, by cgi-fcgi), with the session
# cookie when an id is given. Sets STATUS (200 unless the page sent a Status header), BODY and
# FPM_COOKIE (the session id of a Set-Cookie, empty when none). PHP sends the id URL-encoded (a
# `,` of the id's alphabet as `%2C`) and decodes the cookies it is sent; FPM_COOKIE is decoded,
# FPM_COOKIE_RAW is the value as PHP sent it (what a browser sends back).
fpm_page() {
    local cookie=() raw headers
    [ -z "${2:-}" ] || cookie=("HTTP_COOKIE=$SESSION_NAME=$2")
    raw=$E2E_TMP/fpm-response
    # The request's parameters are cgi-fcgi's environment: only these (env -i).
    timeout 15 env -i SCRIPT_FILENAME="$FPM_DIR/page.php" SCRIPT_NAME=/page.php DOCUMENT_ROOT="$FPM_DIR" \
        REQUEST_URI="/page.php${1:+?$1}" QUERY_STRING="$1" REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1 \
        GATEWAY_INTERFACE=CGI/1.1 SERVER_NAME=localhost SERVER_PORT=80 REMOTE_ADDR=127.0.0.1 "${cookie[@]}" \
        "$CGI_FCGI" -bind -connect "$BIND_HOST:$FPM_PORT" >"$raw" 2>"$E2E_TMP/fpm-stderr"
    headers=$(tr -d '\r' <"$raw" | sed '/^$/q')
    BODY=$(tr -d '\r' <"$raw" | sed '1,/^$/d')
    STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' <<<"$headers")
    [ -n "$STATUS" ] || STATUS=200
    [ -s "$raw" ] || STATUS=000
    FPM_COOKIE_RAW=$(sed -n "s/^Set-Cookie: $SESSION_NAME=\([^;]*\).*/\1/p" <<<"$headers" | tail -n 1)
    FPM_COOKIE=$(printf '%b' "${FPM_COOKIE_RAW//%/\\x}")
}

# ------------------------------------------------------------ responder → php-fpm → responder
echo "a session started by the responder is read and incremented by the php-fpm page, and back"
jar=$E2E_TMP/jar
do_curl -b "$jar" -c "$jar" "$url/"
assert_status 200 "GET / through HAProxy starts a session"
rid=$(cookie_value "$jar" "$SESSION_NAME")
assert_match "$rid" '^[A-Za-z0-9,-]{22,256}$' "the responder's session cookie"
do_curl -b "$jar" "$url/session"
assert_eq 1 "$(json_get visits)" "the responder counted 1 visit"

fpm_page "" "$rid"
assert_eq 200 "$STATUS" "the php-fpm page answers ($(short "$BODY"))"
assert_eq "$rid" "$(json_get id)" "php-fpm adopts the responder's session"
assert_eq 2 "$(json_get visits)" "php-fpm reads visits 1 and counts 2"
assert_eq "" "$FPM_COOKIE" "php-fpm sends no new cookie for an adopted session"
assert_eq "$(session_row a "$rid")" "$(session_row b "$rid")" "nodes a and b hold the same row after php-fpm's write"

do_curl -b "$jar" "$url/"
assert_status 200 "GET / through HAProxy after php-fpm"
do_curl -b "$jar" "$url/session"
assert_eq "$rid" "$(json_get id)" "the responder keeps the id"
assert_eq 3 "$(json_get visits)" "the responder reads php-fpm's 2 and counts 3"
fpm_page "" "$rid"
assert_eq 4 "$(json_get visits)" "php-fpm counts 4 after the responder"
do_curl -b "$jar" -c "$jar" -X DELETE "$url/session"
assert_status 200 "DELETE /session (clean up)"

# ------------------------------------------------------------ php-fpm → responder → php-fpm
echo "a session started by the php-fpm page is adopted and incremented by the responder, and back"
# An id with a `,` (about 40 % of them), which PHP sends as `%2C`: the case a browser meets.
for _ in $(seq 20); do
    fpm_page ""
    case $FPM_COOKIE in *,*) break ;; esac
done
assert_eq 200 "$STATUS" "the php-fpm page answers without a cookie ($(short "$BODY"))"
fid=$FPM_COOKIE
assert_match "$fid" '^[A-Za-z0-9,-]{32}$' "php-fpm sets a session cookie (the handler's create_sid)"
assert_eq "$fid" "$(json_get id)" "the page shows that id"
assert_eq 1 "$(json_get visits)" "php-fpm counts 1"
assert_live a php_session "$fid" "php-fpm's session is live on node a"
assert_live b php_session "$fid" "php-fpm's session is live on node b"
assert_eq "$(session_row a "$fid")" "$(session_row b "$fid")" "nodes a and b hold the same row"

# The cookie as a browser returns it: as PHP set it, URL-encoded (`%2C` for each `,`). The
# responder decodes it as PHP does.
assert_match "$FPM_COOKIE_RAW" '%2C' "php-fpm sent the id URL-encoded"
cookie=(-H "Cookie: $SESSION_NAME=$FPM_COOKIE_RAW")
for front in "${FRONTS[@]}"; do
    do_curl "${cookie[@]}" "$(front_url "$front")/"
    assert_status 200 "GET / through $front with php-fpm's session"
done
do_curl "${cookie[@]}" "$url/session"
assert_eq "$fid" "$(json_get id)" "the responder adopts php-fpm's session"
assert_eq $((1 + ${#FRONTS[@]})) "$(json_get visits)" "the responder reads visits 1 and counts on"
fpm_page "" "$fid"
assert_eq "$fid" "$(json_get id)" "php-fpm keeps its session"
assert_eq $((2 + ${#FRONTS[@]})) "$(json_get visits)" "php-fpm reads the responder's count and adds 1"
assert_eq "$(session_row a "$fid")" "$(session_row b "$fid")" "nodes a and b hold the same row"

# ------------------------------------------------------------ strict mode
echo "strict mode: the php-fpm page does not adopt an unknown id"
unknown=phpfpm$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
fpm_page "" "$unknown"
assert_eq 200 "$STATUS" "the page answers for an unknown id"
assert_ne "$unknown" "$(json_get id)" "php-fpm does not adopt it"
assert_eq "$(json_get id)" "$FPM_COOKIE" "php-fpm sets a cookie with a new id"
assert_eq 1 "$(json_get visits)" "the new session counts 1"
assert_eq absent "$(key_state a php_session "$unknown")" "no row for the unknown id on node a"
assert_eq absent "$(key_state b php_session "$unknown")" "no row for the unknown id on node b"
fpm_page action=destroy "$FPM_COOKIE"
assert_eq true "$(json_get ok)" "the new session is destroyed (clean up)"

# ------------------------------------------------------------ destroy through php-fpm
echo "destroy through php-fpm: a tombstone on both nodes, the id never comes back"
fpm_page action=destroy "$fid"
assert_eq 200 "$STATUS" "the destroy page answers ($(short "$BODY"))"
assert_eq "$fid" "$(json_get destroyed)" "php-fpm destroys the session it adopted"
assert_eq true "$(json_get ok)" "session_destroy() succeeds"
assert_deleted a php_session "$fid" "a tombstone and no live row on node a"
assert_deleted b php_session "$fid" "a tombstone and no live row on node b"
assert_eq "$(tombstone_row a "$fid")" "$(tombstone_row b "$fid")" "the same tombstone on both nodes"
do_curl "${cookie[@]}" "$url/session"
assert_status 200 "GET /session with the destroyed id"
assert_ne "$fid" "$(json_get id)" "the responder does not adopt the destroyed id"
fpm_page "" "$fid"
assert_ne "$fid" "$(json_get id)" "php-fpm does not adopt the destroyed id"
fresh=$(json_get id)
fpm_page action=destroy "$fresh"
assert_deleted a php_session "$fid" "the destroyed id stays a tombstone on node a"
assert_deleted b php_session "$fid" "the destroyed id stays a tombstone on node b"

# ------------------------------------------------------------ php-fpm's logs
if [ -s "$FPM_DIR/php-errors.log" ]; then
    fail "PHP logged under php-fpm: $(short "$(cat "$FPM_DIR/php-errors.log")")"
else
    pass "PHP logged no warning or error under php-fpm"
fi
if grep -qiE 'WARNING|ERROR' "$FPM_DIR/php-fpm.log" 2>/dev/null; then
    fail "php-fpm logged: $(short "$(grep -iE 'WARNING|ERROR' "$FPM_DIR/php-fpm.log")")"
else
    pass "php-fpm logged no warning or error"
fi

stop_fpm
if kill -0 "$FPM_PID" 2>/dev/null; then
    fail "php-fpm ($FPM_PID) is still running after TERM"
else
    pass "php-fpm stopped"
fi
finish

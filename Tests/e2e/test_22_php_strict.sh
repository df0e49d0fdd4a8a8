#!/usr/bin/env bash
# Strict mode, destroy, regenerate, expiry, lazy writes and gc of the PHP
# handler (contrib/php/ClusterSessionHandler.php), checked against the
# responder and both nodes' rows.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=Tests/e2e/php_lib.sh
source "$E2E_DIR/php_lib.sh"

url=$E2E_HAPROXY

# row NODE ID: "data-hex|hlc|origin" of the live row, empty when there is none.
row() { session_row "$@"; }
hlc() { psql_node "$1" "SELECT hlc FROM php_session WHERE id = $(quote_sql "$2")"; }

# get_session ID: GET /session with cookie ID (sets STATUS and BODY; not in
# a subshell).
get_session() { do_curl -H "Cookie: $SESSION_NAME=$1" "$url/session"; }

cat >"$E2E_TMP/t.php" <<'PHP'
<?php
declare(strict_types=1);
ob_start();
require getenv('PHP_HANDLER_FILE');

function node(string $n): array
{
    $N = strtoupper($n);
    return ['host' => getenv('BIND_HOST'), 'port' => getenv("NODE_{$N}_PORT"), 'dbname' => getenv("NODE_{$N}_DB"),
        'user' => getenv('CLUSTER_DB_USER'), 'password' => getenv('CLUSTER_DB_PASSWORD')];
}

function handler(?int $touch = null): ClusterSessionHandler
{
    return new ClusterSessionHandler(node('a'), node('b'), lifetime: (int) getenv('SESSION_LIFETIME'),
        touchInterval: $touch ?? (int) getenv('SESSION_TOUCH_INTERVAL'), downMemoDir: null);
}

function start(?string $id, ?int $touch = null, bool $lazy = true): ClusterSessionHandler
{
    ini_set('session.use_cookies', '0');
    ini_set('session.use_strict_mode', '1');
    ini_set('session.cache_limiter', '');
    ini_set('session.gc_probability', '0');
    ini_set('session.lazy_write', $lazy ? '1' : '0');
    $h = handler($touch);
    session_set_save_handler($h, true);
    if ($id !== null) {
        session_id($id);
    }
    if (!session_start()) {
        echo "FAIL session_start failed: ", $h->lastError(), "\n";
        exit(1);
    }
    return $h;
}

function check(string $what, bool $ok, string $detail = ''): void
{
    echo $ok ? "ok $what\n" : "FAIL $what" . ($detail === '' ? '' : ": $detail") . "\n";
}

$mode = $argv[1];
$id = $argv[2] ?? null;
switch ($mode) {
    case 'validate':  // prints whether validateId accepts the id
        echo 'out ', handler()->validateId($id) ? 'valid' : 'invalid', "\n";
        break;
    case 'create':  // a new session with one value; prints its id
        start(null);
        $_SESSION['who'] = 'php';
        check('PHP writes a new session', session_write_close());
        echo 'out ', session_id(), "\n";
        break;
    case 'start':  // session_start with the id; prints the id PHP ended up with
        start($id);
        $got = session_id();
        session_write_close();
        echo "out $got\n";
        break;
    case 'destroy':
        start($id);
        check('PHP adopts the session before destroying it', session_id() === $id, session_id());
        check('session_destroy() succeeds', session_destroy());
        break;
    case 'regenerate':
        start($id);
        check('PHP adopts the session before regenerating', session_id() === $id, session_id());
        $_SESSION['regenerated'] = true;
        check('session_regenerate_id(true) succeeds', session_regenerate_id(true));
        $new = session_id();
        check('session_write_close() after regenerate', session_write_close());
        echo "out $new\n";
        break;
    case 'unchanged':  // session_start + nothing changed + close, with a touch interval
        $h = start($id, (int) $argv[3], $argv[4] === 'lazy');
        check("PHP adopts the session (touch interval $argv[3], $argv[4])", session_id() === $id, session_id());
        check('session_write_close()', session_write_close(), (string) $h->lastError());
        break;
    case 'gc':
        $h = handler();
        $n = $h->gc(1440);
        check('gc() answers a count', is_int($n), var_export($n, true) . ' ' . $h->lastError());
        echo 'out ', (int) $n, "\n";
        break;
    case 'malformed':
        $h = handler();
        foreach (['short' => 'abc', 'bad characters' => str_repeat('a', 30) . '!', 'too long' => str_repeat('a', 257), 'empty' => ''] as $what => $bad) {
            check("validateId refuses a $what id", $h->validateId($bad) === false);
        }
        $sid = $h->create_sid();
        check('create_sid() gives 32 characters of [A-Za-z0-9,-]', (bool) preg_match('/^[A-Za-z0-9,-]{32}$/D', $sid), $sid);
        check('create_sid() differs each time', $sid !== $h->create_sid());
        break;
    default:
        echo "unknown mode $mode\n";
        exit(2);
}
PHP

# ------------------------------------------------------------ strict mode
echo "strict mode: PHP's validateId refuses made-up, malformed and unknown ids"
run_php malformed
madeup=MadeUpSessionId0123456789abcdef
run_php validate "$madeup"
assert_eq invalid "$PHP_OUT" "validateId refuses a made-up id"
run_php start "$madeup"
fresh=$PHP_OUT
assert_ne "$madeup" "$fresh" "session_start() with a made-up id gets a new id"
assert_match "$fresh" '^[A-Za-z0-9,-]{32}$' "the new id"
assert_eq "" "$(row a "$madeup")" "no row for the made-up id on node a"
assert_eq "" "$(row b "$madeup")" "no row for the made-up id on node b"
assert_live a php_session "$fresh" "PHP's new (empty) session is stored on node a"
assert_live b php_session "$fresh" "and on node b"
assert_eq "$(row a "$fresh")" "$(row b "$fresh")" "the same row on both nodes"
get_session "$fresh"
assert_eq "$fresh" "$(json_get id)" "the responder adopts PHP's new session"
run_php validate "$fresh"
assert_eq valid "$PHP_OUT" "validateId accepts a live session"

# ------------------------------------------------------------ destroy through PHP
echo "destroy through PHP: no live row, tombstones on both nodes, the responder issues a new id"
jar=$E2E_TMP/jar
do_curl -b "$jar" -c "$jar" "$url/"
assert_status 200 "GET / starts a responder session"
rid=$(cookie_value "$jar" "$SESSION_NAME")
assert_live a php_session "$rid" "the responder's session is live on node a before the destroy"
run_php destroy "$rid"
assert_deleted a php_session "$rid" "node a: no row in php_session, a tombstone in php_session_tombstone"
assert_deleted b php_session "$rid" "node b: no row in php_session, a tombstone in php_session_tombstone"
assert_eq "$(tombstone_row a "$rid")" "$(tombstone_row b "$rid")" "the same tombstone (hlc, origin, deleted_at) on both nodes"
get_session "$rid"
new=$(json_get id)
assert_status 200 "GET /session with the destroyed id"
assert_ne "$rid" "$new" "the responder issues a new id for the destroyed one"
assert_eq 0 "$(json_get visits)" "the new session starts at 0 visits"
run_php validate "$rid"
assert_eq invalid "$PHP_OUT" "validateId refuses the destroyed id"
run_php start "$rid"
assert_ne "$rid" "$PHP_OUT" "session_start() with the destroyed id gets a new id"

# ------------------------------------------------------------ destroy through the responder
echo "destroy through the responder: PHP no longer adopts the id"
run_php create
pid=$PHP_OUT
do_curl -H "Cookie: $SESSION_NAME=$pid" -X DELETE "$url/session"
assert_status 200 "DELETE /session of PHP's session"
run_php validate "$pid"
assert_eq invalid "$PHP_OUT" "validateId refuses the id the responder destroyed"
run_php start "$pid"
assert_ne "$pid" "$PHP_OUT" "session_start() gets a new id"
assert_deleted a php_session "$pid" "the tombstone stays on node a (PHP did not revive it)"
assert_deleted b php_session "$pid" "the tombstone stays on node b (PHP did not revive it)"

# ------------------------------------------------------------ regenerate
echo "session_regenerate_id(true): the data moves, the old id is gone for both"
run_php create
old=$PHP_OUT
run_php regenerate "$old"
regen=$PHP_OUT
assert_ne "$old" "$regen" "a new id"
assert_deleted a php_session "$old" "the old id: no row in php_session, a tombstone on node a"
assert_deleted b php_session "$old" "the old id: no row in php_session, a tombstone on node b"
assert_live a php_session "$regen" "the new id is live on node a"
assert_live b php_session "$regen" "the new id is live on node b"
do_curl -H "Cookie: $SESSION_NAME=$regen" "$url/session"
assert_eq "$regen" "$(json_get id)" "the responder adopts the new id"
assert_eq php "$(json_get data.who)" "the data came along"
assert_eq true "$(json_get data.regenerated)" "with the change made before regenerating"
get_session "$old"
assert_ne "$old" "$(json_get id)" "the responder refuses the old id"

# ------------------------------------------------------------ lazy write and refresh
echo "lazy write: an unchanged session is not written, except the refresh when due"
h0=$(hlc a "$regen")
run_php unchanged "$regen" 3600 lazy
assert_eq "$h0" "$(hlc a "$regen")" "unchanged and fresh (lazy_write=1): nothing written"
run_php unchanged "$regen" 3600 eager
assert_eq "$h0" "$(hlc a "$regen")" "unchanged and fresh (lazy_write=0): nothing written"
before=$(row a "$regen")
run_php unchanged "$regen" 0 lazy
h1=$(hlc a "$regen")
if [ -n "$h1" ] && [ -n "$h0" ] && ((h1 > h0)); then
    pass "unchanged but due (touch interval 0): refreshed"
else
    fail "unchanged but due (touch interval 0): hlc went from '$h0' to '$h1'"
fi
after=$(row a "$regen")
assert_eq "${before%%|*}" "${after%%|*}" "the refresh keeps the data byte for byte"
assert_eq "$after" "$(row b "$regen")" "the refresh reached node b"

# ------------------------------------------------------------ expiry and gc
echo "expiry: an expired session is refused by both; gc removes it and old tombstones from both nodes"
run_php create
exp=$PHP_OUT
for node in a b; do
    psql_node "$node" "UPDATE php_session SET date_change = date_change - interval '2 days'
        WHERE id = $(quote_sql "$exp")" >/dev/null
done
run_php validate "$exp"
assert_eq invalid "$PHP_OUT" "validateId refuses an expired session"
get_session "$exp"
assert_ne "$exp" "$(json_get id)" "the responder refuses it too"
# The tombstone of the session the responder destroyed ($pid) grows older than the tombstone TTL
# (the handler's default, 7 days); the one PHP wrote ($rid) stays fresh.
for node in a b; do
    psql_node "$node" "UPDATE php_session_tombstone SET deleted_at = deleted_at - interval '30 days'
        WHERE id = $(quote_sql "$pid")" >/dev/null
done
run_php gc
gone=0
[ -z "$(row a "$exp")" ] && [ -z "$(row b "$exp")" ] && [ -z "$(tombstone_row a "$pid")" ] && [ -z "$(tombstone_row b "$pid")" ] && gone=1
if [[ $PHP_OUT =~ ^[0-9]+$ ]] && ((PHP_OUT >= 4)); then
    pass "gc() deleted $PHP_OUT rows"
elif ((gone)); then
    pass "gc() deleted $PHP_OUT rows: the responders' own collection was first"
else
    fail "gc() deleted '$PHP_OUT' rows and the expired session or the old tombstone is still there"
fi
assert_eq "" "$(row a "$exp")" "the expired session is gone from node a"
assert_eq "" "$(row b "$exp")" "the expired session is gone from node b"
assert_eq "" "$(tombstone_row a "$exp")$(tombstone_row b "$exp")" "the expired session left no tombstone"
assert_eq "" "$(tombstone_row a "$pid")" "the tombstone older than the TTL is gone from node a"
assert_eq "" "$(tombstone_row b "$pid")" "the tombstone older than the TTL is gone from node b"
assert_deleted a php_session "$rid" "gc keeps a fresh tombstone on node a"
assert_deleted b php_session "$rid" "gc keeps a fresh tombstone on node b"

# Clean up what is still live.
for s in "$fresh" "$regen"; do
    curl -s -o /dev/null --max-time 5 -X DELETE -H "Cookie: $SESSION_NAME=$s" "$url/session"
done

finish

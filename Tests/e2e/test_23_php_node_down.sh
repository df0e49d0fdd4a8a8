#!/usr/bin/env bash
# The PHP handler (contrib/php/ClusterSessionHandler.php) with one node away:
# writes go to the other node with an outbox row, the responder serves them,
# and the returning node catches up (deletes included). A node alone that
# cannot prove it holds every write (docs/PROTOCOL.md, "Standing") shows a
# session but refuses to change it, and an id it lacks is not taken for
# unknown. A node that accepts TCP but never answers costs one connect
# timeout, and none for the requests that follow; a backend that stops
# mid-request costs one query timeout (plus the second a node's standing
# alone takes to settle). Both nodes are up again at the end.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=Tests/e2e/php_lib.sh
source "$E2E_DIR/php_lib.sh"

url=$E2E_HAPROXY
CATCH_UP=20 # seconds a returning node may take (docs/REPLICATION.md says 10)

# row NODE ID: the live row (data hex, hlc, origin); tombstone NODE ID: the tombstone (hlc, origin,
# deleted_at); each empty when there is none.
row() { session_row "$@" 2>/dev/null; }
tombstone() { tombstone_row "$@" 2>/dev/null; }
queued() { psql_node "$1" "SELECT count(*) FROM replication_outbox WHERE table_name = 'php_session' AND row_key = $(quote_sql "$2")"; }
node_state() { "$CLUSTER_SCRIPT" status | awk -v n="$1" '$1 == "node" && $2 == n { print $3 }'; }
# shellcheck disable=SC2317 # called through poll
current() { [ "$(psql_node "$1" 'SELECT current FROM node_standing')" = t ]; }
# both_current: nodes a and b are confirmed to hold every acknowledged write, and still are a
# second later (a beat that still believes the other node stands alone, for 600 ms after its
# standing ended, clears `current` again until the next confirmation).
# shellcheck disable=SC2317 # called through poll
both_current() { current a && current b && sleep 1 && current a && current b; }
# shellcheck disable=SC2317 # called through poll
same_row() { local r; r=$(row a "$1") && [ -n "$r" ] && [ "$r" = "$(row b "$1")" ]; }
# shellcheck disable=SC2317 # called through poll
same_tombstone() { local t; t=$(tombstone a "$1") && [ -n "$t" ] && [ "$t" = "$(tombstone b "$1")" ]; }
# shellcheck disable=SC2317 # called through poll
session_has() {
    do_curl -H "Cookie: $SESSION_NAME=$1" "$url/session"
    [ "$STATUS" = 200 ] && [ "$(json_get id)" = "$1" ] && [ "$(json_get "data.$2")" = "$3" ]
}

cat >"$E2E_TMP/t.php" <<'PHP'
<?php
declare(strict_types=1);
ob_start();
require getenv('PHP_HANDLER_FILE');

function node(string $n): array|string
{
    if ($n === 'blackhole') {
        return 'host=127.0.0.1 port=' . getenv('BLACKHOLE_PORT') . ' dbname=x user=x password=x';
    }
    $N = strtoupper($n);
    return ['host' => getenv('BIND_HOST'), 'port' => getenv("NODE_{$N}_PORT"), 'dbname' => getenv("NODE_{$N}_DB"),
        'user' => getenv('CLUSTER_DB_USER'), 'password' => getenv('CLUSTER_DB_PASSWORD')];
}

/** The handler, set for the session functions, with the session id $id (null: a new session). */
function handler(?string $id): ClusterSessionHandler
{
    ini_set('session.use_cookies', '0');
    ini_set('session.use_strict_mode', '1');
    ini_set('session.cache_limiter', '');
    ini_set('session.gc_probability', '0');
    $memo = getenv('MEMO_DIR');
    $h = new ClusterSessionHandler(node('a'), node(getenv('NODE_B_AS') ?: 'b'),
        lifetime: (int) getenv('SESSION_LIFETIME'), touchInterval: (int) getenv('SESSION_TOUCH_INTERVAL'),
        downMemoDir: $memo === false || $memo === '' ? null : $memo);
    session_set_save_handler($h, true);
    if ($id !== null) {
        session_id($id);
    }
    return $h;
}

function start(?string $id): ClusterSessionHandler
{
    $h = handler($id);
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
[$id, $key, $value] = $mode === 'create' ? [null, $argv[2], $argv[3]] : array_slice($argv, 2) + [null, null, null];
$t0 = microtime(true);
switch ($mode) {
    case 'create':
        $h = start(null);
        $_SESSION[$key] = $value;
        check("PHP writes a new session ($key)", session_write_close(), (string) $h->lastError());
        echo 'out ', session_id(), "\n";
        break;
    case 'set':
        $h = start($id);
        printf("elapsed start %.2f\n", microtime(true) - $t0);
        check("PHP adopts the session to set $key", session_id() === $id, session_id());
        $_SESSION[$key] = $value;
        check("PHP writes $key", session_write_close(), (string) $h->lastError());
        break;
    case 'set-refused':
        // The one node that answers cannot prove it holds every write: it shows its live copy,
        // but a change could undo writes it missed.
        $h = start($id);
        check('PHP adopts the session (node a holds a live copy)', session_id() === $id, session_id());
        $_SESSION[$key] = $value;
        error_clear_last();
        @session_write_close();  // true either way: PHP only warns when write() fails
        check("PHP's write of $key is refused", str_contains(error_get_last()['message'] ?? '', 'Failed to write session data'),
            'the write succeeded');
        check('the handler tells why', str_contains((string) $h->lastError(), 'prove'), (string) $h->lastError());
        break;
    case 'destroy-refused':
        $h = start($id);
        check('PHP adopts the session to destroy it', session_id() === $id, session_id());
        check('session_destroy() is refused', @session_destroy() === false, 'the destroy succeeded');
        check('the handler tells why', str_contains((string) $h->lastError(), 'prove'), (string) $h->lastError());
        break;
    case 'start-refused':
        // An id that the one node answering lacks proves nothing (the session may be on the other
        // node): session_start() fails rather than start a new session, which would log the user out.
        $h = handler($id);
        check('session_start() fails for an id node a cannot vouch for', @session_start() === false,
            'it started session ' . session_id());
        check('the handler tells why', str_contains((string) $h->lastError(), 'prove'), (string) $h->lastError());
        break;
    case 'destroy':
        $h = start($id);
        check('PHP adopts the session to destroy it', session_id() === $id, session_id());
        check('session_destroy()', session_destroy(), (string) $h->lastError());
        break;
    case 'hung-backend':
        // Node b's backend of this handler's connection stops (SIGSTOP) between the read and the
        // write: the write must still succeed, within DB_QUERY_TIMEOUT + 1 s, through node a.
        $h = new ClusterSessionHandler(node('a'), node('b'), lifetime: (int) getenv('SESSION_LIFETIME'),
            touchInterval: (int) getenv('SESSION_TOUCH_INTERVAL'), downMemoDir: null);
        $h->open('', 'PHPSESSID');
        $data = $h->read($id);
        check('the handler reads the session', is_string($data) && $data !== '', var_export($data, true));
        $links = (new ReflectionProperty($h, 'links'))->getValue($h);  // SessionCluster\NodeLinks
        $connections = (new ReflectionProperty($links, 'connections'))->getValue($links);
        $pid = pg_get_pid($connections['b']);
        file_put_contents(getenv('E2E_TMP') . '/stopped-pid', (string) $pid);
        register_shutdown_function(fn () => posix_kill($pid, SIGCONT));
        check("node b's backend $pid stopped", posix_kill($pid, SIGSTOP));
        $t = microtime(true);
        $ok = $h->write($id, $data . 'hung|b:1;');
        $took = microtime(true) - $t;
        posix_kill($pid, SIGCONT);
        check('the write succeeds with node b hung', $ok, (string) $h->lastError());
        // Node b's query timeout (2 s), then, when node a did not stand alone yet, the second its
        // standing takes to settle before the write, queued for node b, is acknowledged.
        check(sprintf('it takes about the query timeout (%.2f s)', $took), $took >= 1.5 && $took < 4);
        break;
    default:
        echo "unknown mode $mode\n";
        exit(2);
}
printf("elapsed %.2f\n", microtime(true) - $t0);
PHP

# php_elapsed OUTPUT: the seconds the PHP script reported; php_started OUTPUT:
# the seconds its session_start() took (mode set).
php_elapsed() { sed -n 's/^elapsed \([0-9.]*\)$/\1/p' <<<"$1"; }
php_started() { sed -n 's/^elapsed start //p' <<<"$1"; }

if [ "$(node_state a)" != up ] || [ "$(node_state b)" != up ]; then
    fail "nodes a and b must be up before the test ($(node_state a)/$(node_state b))"
    finish
fi

# start_again NODE: starts the node and waits (bounded) until the responder
# reports it up.
# shellcheck disable=SC2317 # at_exit
start_again() {
    [ "$(node_state "$1")" = up ] || "$CLUSTER_SCRIPT" start-node "$1" >/dev/null
    poll 20 node_is_up "$1" || true
}
# shellcheck disable=SC2317 # through poll
node_is_up() { do_curl "$url/health" && [ "$(json_get "nodes.$1")" = up ]; }

for down in b a; do
    up=a
    [ "$down" = a ] && up=b
    echo "node $down stopped: PHP writes go to node $up with an outbox row"
    "$CLUSTER_SCRIPT" stop-node "$down" >/dev/null || fail "deploy/cluster stop-node $down"
    at_exit start_again "$down"

    start=$SECONDS
    run_php create "where_$down" "only-$up"
    id=$PHP_OUT
    assert_match "$id" '^[A-Za-z0-9,-]{32}$' "PHP started a session with node $down down"
    if ((SECONDS - start > 5)); then fail "PHP took $((SECONDS - start)) s with node $down down"; else pass "PHP answered in time"; fi
    assert_ne "" "$(row "$up" "$id")" "the session is on node $up"
    assert_eq 1 "$(queued "$up" "$id")" "node $up's outbox holds it for node $down"
    run_php set "$id" color green
    if session_has "$id" color green; then pass "the responder serves PHP's change with node $down down"; else
        fail "the responder does not serve PHP's change with node $down down: $STATUS $(short "$BODY")"; fi

    run_php create doomed yes
    doomed=$PHP_OUT
    run_php destroy "$doomed"
    assert_deleted "$up" php_session "$doomed" "node $up: no row of the destroyed session in php_session, its tombstone instead"
    n=$(queued "$up" "$doomed")
    if [[ $n =~ ^[0-9]+$ ]] && ((n >= 2)); then pass "node $up's outbox holds the destroy for node $down"; else
        fail "node $up's outbox holds '$n' entries of the destroyed session (the create and the destroy expected)"; fi

    echo "node $down returns and catches up"
    "$CLUSTER_SCRIPT" start-node "$down" >/dev/null || fail "deploy/cluster start-node $down"
    if poll "$CATCH_UP" same_row "$id"; then
        pass "node $down caught up with PHP's session"
    else
        fail "node $down does not hold PHP's session within $CATCH_UP s: $up='$(short "$(row "$up" "$id")")' $down='$(short "$(row "$down" "$id")")'"
    fi
    if poll "$CATCH_UP" same_tombstone "$doomed"; then
        pass "node $down holds the tombstone PHP wrote"
    else
        fail "node $down does not hold the tombstone within $CATCH_UP s: $up='$(short "$(tombstone "$up" "$doomed")")' $down='$(short "$(tombstone "$down" "$doomed")")'"
    fi
    assert_deleted "$down" php_session "$doomed" "node $down: no row of the destroyed session in php_session"
    assert_deleted "$up" php_session "$doomed" "node $up: still none"
    poll "$CATCH_UP" node_is_up "$down" || fail "the responder does not report node $down up within $CATCH_UP s"
    assert_eq 0 "$(queued "$up" "$id")" "node $up's outbox is replayed"
    run_php set "$id" after back
    assert_eq "$(row a "$id")" "$(row b "$id")" "a write after the return reaches both nodes"
    curl -s -o /dev/null --max-time 5 -X DELETE -H "Cookie: $SESSION_NAME=$id" "$url/session"
    # Node $down restarted: it decides alone only once confirmed (node $up's outbox empty, and
    # its standing alone ended 3 s after the last claim), which the next round needs.
    poll "$CATCH_UP" both_current || fail "nodes a and b are not both confirmed current within $CATCH_UP s"
done

echo "node b stopped and node a not confirmed to hold every write: PHP shows, changes nothing"
run_php create lonely yes
lonely=$PHP_OUT
"$CLUSTER_SCRIPT" stop-node b >/dev/null || fail "deploy/cluster stop-node b"
# As if node a had been away while node b took writes: neither current nor standing alone. With
# node b down, nothing confirms it again.
psql_node a "UPDATE node_standing SET current = false, solo_since = NULL" >/dev/null
before=$(row a "$lonely")
run_php set-refused "$lonely" color red
run_php destroy-refused "$lonely"
assert_ne "" "$before" "node a holds a live row of the session"
assert_eq "$before" "$(row a "$lonely")" "node a's row is unchanged"
assert_eq "" "$(tombstone a "$lonely")" "node a holds no tombstone of it"
assert_eq 0 "$(queued a "$lonely")" "nothing is queued for node b"
# Rows newer than every row now (not a count of all rows: the responders' garbage collection may
# delete expired ones meanwhile).
newest=$(psql_node a "SELECT coalesce(max(hlc), 0) FROM php_session")
run_php start-refused MadeUpOnlyNodeBMightKnowIt0123456
assert_eq 0 "$(psql_node a "SELECT count(*) FROM php_session WHERE hlc > $newest")" "no session was started in its place"
run_php create fresh yes
fresh=$PHP_OUT
assert_eq 1 "$(queued a "$fresh")" "a new session needs no standing: it is on node a, queued for node b"
"$CLUSTER_SCRIPT" start-node b >/dev/null || fail "deploy/cluster start-node b"
poll "$CATCH_UP" node_is_up b || fail "the responder does not report node b up within $CATCH_UP s"
if poll "$CATCH_UP" both_current; then
    pass "node a is confirmed again once node b returns"
else
    fail "nodes a and b are not both confirmed current within $CATCH_UP s"
fi
run_php set "$lonely" color red
assert_eq "$(row a "$lonely")" "$(row b "$lonely")" "PHP's write then reaches both nodes"
poll "$CATCH_UP" same_row "$fresh" || fail "node b lacks the new session within $CATCH_UP s"
for s in "$lonely" "$fresh"; do
    curl -s -o /dev/null --max-time 5 -X DELETE -H "Cookie: $SESSION_NAME=$s" "$url/session"
done

echo "node b accepts TCP but never answers: one connect timeout, then skipped"
# A listening socket nobody accepts from: the kernel completes the handshake.
# shellcheck disable=SC2016 # PHP code
php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo stream_socket_get_name($s, false), "\n"; fflush(STDOUT); sleep(60);' \
    >"$E2E_TMP/blackhole" 2>/dev/null &
blackhole_pid=$!
at_exit kill "$blackhole_pid"
poll 5 test -s "$E2E_TMP/blackhole" || true
export BLACKHOLE_PORT
BLACKHOLE_PORT=$(sed -n '1s/.*://p' "$E2E_TMP/blackhole")
export NODE_B_AS=blackhole MEMO_DIR=$E2E_TMP
out=$(timeout 30 php "$E2E_TMP/t.php" create hung first 2>&1)
id=$(sed -n 's/^out //p' <<<"$out")
elapsed=$(php_elapsed "$out")
assert_match "$id" '^[A-Za-z0-9,-]{32}$' "PHP writes with node b hung ($(short "$out"))"
if awk -v t="$elapsed" 'BEGIN { exit !(t != "" && t >= 1.5 && t < 5) }'; then
    pass "the first request waits about the connect timeout (${elapsed}s)"
else
    fail "the first request took '${elapsed}' s, expected between 1.5 and 5 (connect timeout 2 s)"
fi
out=$(timeout 30 php "$E2E_TMP/t.php" set "$id" second yes 2>&1)
started=$(php_started "$out")
elapsed=$(php_elapsed "$out")
assert_contains "$out" "ok PHP writes second" "the next request writes with node b hung"
# Its change waits, on node a alone, for node a's standing to settle (1 s), once.
if awk -v s="$started" -v t="$elapsed" 'BEGIN { exit !(s != "" && t != "" && s < 1 && t < 2) }'; then
    pass "the next request skips the hung node at once (session started in ${started}s, written in ${elapsed}s)"
else
    fail "the next request took '${started}' s to start its session and '${elapsed}' s in all ($(short "$out"))"
fi
unset NODE_B_AS
if poll "$CATCH_UP" same_row "$id"; then
    pass "node b got the session written while it was 'hung' (from node a's outbox)"
else
    fail "node b lacks the session within $CATCH_UP s"
fi
curl -s -o /dev/null --max-time 5 -X DELETE -H "Cookie: $SESSION_NAME=$id" "$url/session"
unset MEMO_DIR

echo "node b's backend hangs in the middle of a PHP request: the write still succeeds"
run_php create hung_backend first
id=$PHP_OUT
# shellcheck disable=SC2016 # the inner shell's own arguments
at_exit sh -c 'test -s "$1" && kill -CONT "$(cat "$1")" 2>/dev/null' _ "$E2E_TMP/stopped-pid"
run_php hung-backend "$id"
# Resume the backend at once even if PHP died before doing so: a stopped
# backend would keep node b from ever shutting down.
[ -s "$E2E_TMP/stopped-pid" ] && kill -CONT "$(cat "$E2E_TMP/stopped-pid")" 2>/dev/null
if poll "$CATCH_UP" same_row "$id"; then
    pass "node b got the write it missed (from node a's outbox)"
else
    fail "node b lacks the write within $CATCH_UP s: a='$(short "$(row a "$id")")' b='$(short "$(row b "$id")")'"
fi
do_curl -H "Cookie: $SESSION_NAME=$id" "$url/session"
assert_eq true "$(json_get data.hung)" "the responder serves the write"
curl -s -o /dev/null --max-time 5 -X DELETE -H "Cookie: $SESSION_NAME=$id" "$url/session"

finish

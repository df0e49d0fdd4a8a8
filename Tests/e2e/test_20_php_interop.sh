#!/usr/bin/env bash
# PHP interoperability (contrib/php/ClusterSessionHandler.php): a session
# written by PHP through the handler is read and changed by the responder and
# read back by PHP with every value intact (object included); a session
# started by the responder decodes in PHP to the same values.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=Tests/e2e/php_lib.sh
source "$E2E_DIR/php_lib.sh"

url=$E2E_HAPROXY

cat >"$E2E_TMP/t.php" <<'PHP'
<?php
declare(strict_types=1);
require getenv('PHP_HANDLER_FILE');

final class Point
{
    public function __construct(public int $x = 0, public int $y = 0, public ?Point $next = null) {}
}

enum Suit: string
{
    case Hearts = 'H';
}

function node(string $n): array
{
    $N = strtoupper($n);
    return ['host' => getenv('BIND_HOST'), 'port' => getenv("NODE_{$N}_PORT"), 'dbname' => getenv("NODE_{$N}_DB"),
        'user' => getenv('CLUSTER_DB_USER'), 'password' => getenv('CLUSTER_DB_PASSWORD')];
}

function start(?string $id): ClusterSessionHandler
{
    ini_set('session.use_cookies', '0');
    ini_set('session.use_strict_mode', '1');
    ini_set('session.cache_limiter', '');
    ini_set('session.serialize_handler', 'php');
    ini_set('session.gc_probability', '0');
    $h = new ClusterSessionHandler(node('a'), node('b'), lifetime: (int) getenv('SESSION_LIFETIME'),
        touchInterval: (int) getenv('SESSION_TOUCH_INTERVAL'), downMemoDir: null);
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

function show(mixed $v): string
{
    return str_replace("\n", ' ', var_export($v, true));
}

/** The values PHP writes, by name. */
function originals(): array
{
    return [
        'str' => 'plain text',
        'utf8' => "Grüße, ✓ 日本語 🎉",
        'bin' => "\x00\xff\xfe|;\"}a:1:{",
        'empty' => '',
        'int' => 42,
        'neg' => -9007199254740993,
        'float' => 1.5,
        'tenth' => 0.1,
        'yes' => true,
        'no' => false,
        'nothing' => null,
        'list' => [1, 'two', [3.25, null]],
        'map' => ['a' => 1, 'b' => ['c' => 'd', 7 => 'seven'], 'ü' => []],
        'point' => new Point(3, 4, new Point(5, 6)),
    ];
}

$mode = $argv[1];
if ($mode === 'write') {
    // A new session from PHP.
    start(null);
    foreach (originals() as $name => $value) {
        $_SESSION[$name] = $value;
    }
    $encoded = session_encode();
    $id = session_id();
    if (!session_write_close()) {
        echo "FAIL session_write_close\n";
        exit(1);
    }
    check('PHP issued a well-formed id', (bool) preg_match('/^[A-Za-z0-9,-]{32}$/', $id), $id);
    file_put_contents(getenv('E2E_TMP') . '/encoded', $encoded);
    echo "out $id\n";
} elseif ($mode === 'expect-json') {
    // How the responder must show the values (docs/API.md, "GET /session").
    $json = json_decode(stream_get_contents(STDIN), true);
    $data = $json['data'] ?? null;
    if (!is_array($data)) {
        check('GET /session has a data object', false, show($json));
        exit(0);
    }
    $o = originals();
    $want = [
        'str' => 'plain text', 'utf8' => $o['utf8'], 'bin' => ['$base64' => base64_encode($o['bin'])],
        'empty' => '', 'int' => 42, 'neg' => -9007199254740993, 'float' => 1.5, 'tenth' => 0.1,
        'yes' => true, 'no' => false, 'nothing' => null, 'list' => [1, 'two', [3.25, null]],
        'map' => ['a' => 1, 'b' => ['c' => 'd', '7' => 'seven'], 'ü' => []],
        'point' => ['$php' => serialize($o['point'])],
    ];
    foreach ($want as $name => $value) {
        $got = array_key_exists($name, $data) ? $data[$name] : '(missing)';
        check("responder shows $name as " . json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES),
            $got === $value, 'got ' . json_encode($got, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES));
    }
    // JSON types: lists are arrays, maps objects, the float a float.
    $raw = json_decode(json_encode($json), false);
    check('list is a JSON array', is_array($raw->data->list ?? null));
    check('map is a JSON object', is_object($raw->data->map ?? null));
    check('map.ü (empty PHP array) is a JSON array', ($raw->data->map->{'ü'} ?? null) === []);
} elseif ($mode === 'read-back') {
    // After the responder's changes: PHP finds every original value plus the changes.
    [$id, $visits] = [$argv[2], (int) $argv[3]];
    $h = start($id);
    check('strict mode adopts the id of a live session', session_id() === $id, session_id());
    foreach (originals() as $name => $value) {
        $got = array_key_exists($name, $_SESSION) ? $_SESSION[$name] : '(missing)';
        $same = is_object($value) ? $got == $value && $got instanceof Point && $got->next instanceof Point : $got === $value;
        check("PHP reads $name back", $same, show($got));
    }
    check("PHP reads the responder's value", ($_SESSION['added'] ?? null) === 'x', show($_SESSION['added'] ?? null));
    check("PHP reads visits $visits", ($_SESSION['visits'] ?? null) === $visits, show($_SESSION['visits'] ?? null));
    check('the session has nothing else', count($_SESSION) === count(originals()) + 2, show(array_keys($_SESSION)));
    // Change it from PHP: one value changed, one removed, one added.
    $_SESSION['int'] = 43;
    unset($_SESSION['no']);
    $_SESSION['from_php'] = ['k' => 'v'];
    check('PHP writes the change', session_write_close(), (string) $h->lastError());
} elseif ($mode === 'responder-session') {
    [$id, $visits] = [$argv[2], (int) $argv[3]];
    start($id);
    check('PHP adopts the responder\'s id', session_id() === $id, session_id());
    check('list decodes to [1, 2]', ($_SESSION['list'] ?? null) === [1, 2], show($_SESSION['list'] ?? null));
    check("map decodes to ['a' => true]", ($_SESSION['map'] ?? null) === ['a' => true], show($_SESSION['map'] ?? null));
    check("visits decodes to $visits", ($_SESSION['visits'] ?? null) === $visits, show($_SESSION['visits'] ?? null));
    check('nothing else', count($_SESSION) === 3, show(array_keys($_SESSION)));
    session_write_close();
} elseif ($mode === 'refs-write') {
    // Values JSON cannot carry: a shared object (r:), a PHP reference (R:), INF, NAN, an enum.
    start(null);
    $p = new Point(1, 2);
    $_SESSION['p'] = $p;
    $_SESSION['same'] = $p;
    $_SESSION['s'] = 'text';
    $_SESSION['alias'] = &$_SESSION['s'];
    $_SESSION['inf'] = INF;
    $_SESSION['nan'] = NAN;
    $_SESSION['enum'] = Suit::Hearts;
    $_SESSION['pair'] = [$p, $p];
    $encoded = session_encode();
    session_write_close();
    file_put_contents(getenv('E2E_TMP') . '/encoded', $encoded);
    echo 'out ', session_id(), "\n";
} elseif ($mode === 'refs-read') {
    $id = $argv[2];
    start($id);
    check('PHP adopts the session', session_id() === $id, session_id());
    check('the shared object is still one object', ($_SESSION['same'] ?? null) === ($_SESSION['p'] ?? false)
        && $_SESSION['pair'][0] === $_SESSION['p'] && $_SESSION['pair'][1] === $_SESSION['p']);
    $_SESSION['s'] = 'changed';
    check('the PHP reference still binds alias to s', ($_SESSION['alias'] ?? null) === 'changed');
    check('INF, NAN and the enum come back', ($_SESSION['inf'] ?? null) === INF && is_nan($_SESSION['nan'] ?? 0.0)
        && ($_SESSION['enum'] ?? null) === Suit::Hearts);
    check("the responder's key is there", ($_SESSION['resp'] ?? null) === 'y', var_export($_SESSION['resp'] ?? null, true));
    session_abort();
} else {
    echo "unknown mode $mode\n";
    exit(2);
}
PHP
export E2E_TMP

# ------------------------------------------------------------ PHP → responder → PHP
echo "PHP writes a session through the handler; the responder reads and changes it"
run_php write
id=$PHP_OUT
if [ -z "$id" ]; then
    fail "PHP wrote no session"
    finish
fi
row_a=$(session_row a "$id")
row_b=$(session_row b "$id")
assert_ne "" "$row_a" "the PHP session is on node a"
assert_eq "$row_a" "$row_b" "nodes a and b hold the same row (data, hlc, origin)"
encoded_hex=$(od -An -v -tx1 "$E2E_TMP/encoded" | tr -d ' \n')
assert_eq "$encoded_hex" "${row_a%%|*}" "the stored data is PHP's session_encode() byte for byte"

cookie=(-H "Cookie: $SESSION_NAME=$id")
do_curl "${cookie[@]}" "$url/session"
assert_status 200 "GET /session with PHP's session"
assert_eq "$id" "$(json_get id)" "the responder adopts PHP's session id"
assert_eq 0 "$(json_get visits)" "visits is 0 before any page"
run_php expect-json <<<"$BODY"

do_curl "${cookie[@]}" --data 'key=added&value=x' "$url/session"
assert_status 200 "POST /session key=added&value=x"
assert_eq x "$(json_get data.added)" "the answer shows added"
visits=0
for front in "${FRONTS[@]}"; do
    do_curl "${cookie[@]}" "$(front_url "$front")/"
    assert_status 200 "GET / through $front"
    visits=$((visits + 1))
done
do_curl "${cookie[@]}" "$url/session"
assert_eq "$visits" "$(json_get visits)" "visits after $visits pages"
assert_eq "$id" "$(json_get id)" "the id stays"
stored=$(psql_a "SELECT encode(data, 'hex') FROM php_session WHERE id = $(quote_sql "$id")")
assert_eq "$encoded_hex" "${stored:0:${#encoded_hex}}" "PHP's variables survive the responder's writes byte for byte"

echo "PHP reads it back: every original value, the responder's value and visits"
run_php read-back "$id" "$visits"
do_curl "${cookie[@]}" "$url/session"
assert_status 200 "GET /session after PHP's change"
assert_eq 43 "$(json_get data.int)" "the responder sees PHP's changed value"
assert_eq missing "$(json_type data.no)" "the responder sees PHP's removal"
assert_eq '{"k":"v"}' "$(json_get data.from_php)" "the responder sees PHP's new value"
assert_eq x "$(json_get data.added)" "its own value is kept"
assert_eq "$visits" "$(json_get visits)" "visits is kept"
assert_eq "$(session_row a "$id")" "$(session_row b "$id")" "nodes a and b hold the same row after PHP's change"

do_curl "${cookie[@]}" -X DELETE "$url/session"
assert_status 200 "DELETE /session (clean up)"

# ------------------------------------------------------------ responder → PHP
echo "the responder starts a session; PHP decodes it to the same values"
jar=$E2E_TMP/jar
do_curl -b "$jar" -c "$jar" "$url/"
assert_status 200 "GET / starts a session"
rid=$(cookie_value "$jar" "$SESSION_NAME")
assert_match "$rid" '^[A-Za-z0-9,-]{22,256}$' "the responder's session cookie"
do_curl -b "$jar" -c "$jar" -H 'Content-Type: application/json' --data '{"list":[1,2],"map":{"a":true}}' "$url/session"
assert_status 200 "POST /session JSON"
assert_eq '[1,2]' "$(json_get data.list)" "the answer shows list"
assert_eq '{"a":true}' "$(json_get data.map)" "the answer shows map"
run_php responder-session "$rid" 1
do_curl -b "$jar" -c "$jar" "$url/session"
assert_eq 1 "$(json_get visits)" "a PHP request that changes nothing leaves the session as it was"
do_curl -b "$jar" -c "$jar" -X DELETE "$url/session"
assert_status 200 "DELETE /session (clean up)"

# ------------------------------------------------------------ references and unmodeled values
echo "shared objects, PHP references, INF, NAN and enums: shown as \$php, kept, read back"
run_php refs-write
id=$PHP_OUT
cookie=(-H "Cookie: $SESSION_NAME=$id")
do_curl "${cookie[@]}" "$url/session"
assert_status 200 "GET /session of the PHP session with references"
assert_eq 'r:1;' "$(json_get "data.same.\$php")" "a shared object shows as {\"\$php\":\"r:1;\"}"
assert_match "$(json_get "data.alias.\$php")" '^R:[0-9]+;$' "a PHP reference shows as {\"\$php\":\"R:n;\"}"
assert_eq 'd:INF;' "$(json_get "data.inf.\$php")" "INF shows as \$php"
assert_eq 'd:NAN;' "$(json_get "data.nan.\$php")" "NAN shows as \$php"
assert_eq 'E:11:"Suit:Hearts";' "$(json_get "data.enum.\$php")" "an enum shows as \$php"
assert_eq 'text' "$(json_get data.s)" "the first occurrence shows plainly"
do_curl "${cookie[@]}" --data 'key=resp&value=y' "$url/session"
assert_status 200 "POST /session key=resp"
encoded_hex=$(od -An -v -tx1 "$E2E_TMP/encoded" | tr -d ' \n')
stored=$(psql_a "SELECT encode(data, 'hex') FROM php_session WHERE id = $(quote_sql "$id")")
assert_eq "$encoded_hex" "${stored:0:${#encoded_hex}}" "the responder's write keeps PHP's references byte for byte"
run_php refs-read "$id"
do_curl "${cookie[@]}" -X DELETE "$url/session"
assert_status 200 "DELETE /session (clean up)"

finish

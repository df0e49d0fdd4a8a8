#!/usr/bin/env bash
# PHP (contrib/php/ClusterSessionHandler.php) and the responder writing one
# session at the same time lose nothing: a write of PHP that loses the
# compare-and-set is merged variable by variable onto what is stored.
# First a staged race (PHP reads, the responder writes, PHP writes), then 20
# `GET /` through all front ends in parallel with 20 php-cli processes each
# setting its own key.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=Tests/e2e/php_lib.sh
source "$E2E_DIR/php_lib.sh"

url=$E2E_HAPROXY
N=${PHP_CONCURRENCY:-20}
export E2E_URL=$url SESSION_NAME E2E_CURL_TIMEOUT

cat >"$E2E_TMP/t.php" <<'PHP'
<?php
declare(strict_types=1);
ob_start();  // output must not count as sent headers: decoded() starts a session afterwards
require getenv('PHP_HANDLER_FILE');

function node(string $n): array
{
    $N = strtoupper($n);
    return ['host' => getenv('BIND_HOST'), 'port' => getenv("NODE_{$N}_PORT"), 'dbname' => getenv("NODE_{$N}_DB"),
        'user' => getenv('CLUSTER_DB_USER'), 'password' => getenv('CLUSTER_DB_PASSWORD')];
}

function handler(): ClusterSessionHandler
{
    return new ClusterSessionHandler(node('a'), node('b'), lifetime: (int) getenv('SESSION_LIFETIME'),
        touchInterval: (int) getenv('SESSION_TOUCH_INTERVAL'), downMemoDir: null);
}

function start(string $id): ClusterSessionHandler
{
    ini_set('session.use_cookies', '0');
    ini_set('session.use_strict_mode', '1');
    ini_set('session.cache_limiter', '');
    ini_set('session.gc_probability', '0');
    $h = handler();
    session_set_save_handler($h, true);
    session_id($id);
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

/** The session as PHP decodes it (through the handler, outside of $_SESSION's life). */
function decoded(string $id): array
{
    $h = handler();
    $data = $h->read($id);
    ini_set('session.use_cookies', '0');
    ini_set('session.cache_limiter', '');
    ini_set('session.save_handler', 'files');
    ini_set('session.save_path', getenv('E2E_TMP'));
    session_start();
    session_decode((string) $data);
    $vars = $_SESSION;
    session_destroy();
    return $vars;
}

/** The responder's POST /session of one form value, as curl sends it. */
function responder_set(string $id, string $key, string $value): int
{
    $cmd = sprintf('curl -sS -o /dev/null -w %%{http_code} --max-time %d -H %s --data %s %s',
        (int) getenv('E2E_CURL_TIMEOUT'), escapeshellarg('Cookie: ' . getenv('SESSION_NAME') . "=$id"),
        escapeshellarg("key=$key&value=$value"), escapeshellarg(getenv('E2E_URL') . '/session'));
    return (int) shell_exec($cmd);
}

$mode = $argv[1];
if ($mode === 'staged') {
    // PHP reads; the responder and another PHP writer change the session; PHP writes its change.
    $id = $argv[2];
    $h = handler();
    $h->open('', 'PHPSESSID');
    $read = $h->read($id);
    check('the handler reads the session', is_string($read) && str_contains($read, 'visits|i:'), var_export($read, true));
    check('the responder writes in between (200)', responder_set($id, 'staged_responder', 'r') === 200);
    $other = handler();
    $otherRead = $other->read($id);
    check('another PHP writer writes in between', $other->write($id, $otherRead . 'staged_other|s:1:"o";'));
    // This request: changes `color` (set by the responder before), adds a key, removes `size`.
    $mine = str_replace('color|s:4:"blue";', 'color|s:3:"red";', $read);
    $mine = str_replace('size|s:1:"L";', '', $mine) . 'staged_php|a:1:{i:0;b:1;}';
    check('PHP\'s write loses the compare-and-set and merges', $h->write($id, $mine), (string) $h->lastError());
    $h->close();
    $vars = decoded($id);
    check('the merged session keeps the responder\'s key', ($vars['staged_responder'] ?? null) === 'r');
    check('the merged session keeps the other writer\'s key', ($vars['staged_other'] ?? null) === 'o');
    check('the merged session has PHP\'s new key', ($vars['staged_php'] ?? null) === [true]);
    check('the merged session has PHP\'s changed value', ($vars['color'] ?? null) === 'red');
    check('the merged session lacks the value PHP removed', !array_key_exists('size', $vars));
    check('the merged session keeps visits', is_int($vars['visits'] ?? null));
} elseif ($mode === 'set-key') {
    [$id, $n] = [$argv[2], (int) $argv[3]];
    $h = start($id);
    if (session_id() !== $id) {
        echo "FAIL php #$n: strict mode refused the session\n";
        exit(1);
    }
    $_SESSION["php_k$n"] = $n;
    if (!session_write_close()) {
        echo "FAIL php #$n: write failed: ", $h->lastError(), "\n";
        exit(1);
    }
    file_put_contents(getenv('E2E_TMP') . "/runs/races-$n", $h->stats()['lost_races']);
} elseif ($mode === 'keys') {
    [$id, $n] = [$argv[2], (int) $argv[3]];
    $vars = decoded($id);
    $missing = [];
    for ($k = 1; $k <= $n; $k++) {
        if (($vars["php_k$k"] ?? null) !== $k) {
            $missing[] = "php_k$k";
        }
    }
    check("all $n keys written by PHP are there", $missing === [], 'missing ' . implode(' ', $missing));
} else {
    echo "unknown mode $mode\n";
    exit(2);
}
PHP

jar=$E2E_TMP/jar
do_curl -b "$jar" -c "$jar" "$url/"
assert_status 200 "GET / starts a session"
id=$(cookie_value "$jar" "$SESSION_NAME")
if ! [[ $id =~ ^[A-Za-z0-9,-]{22,256}$ ]]; then
    fail "no session cookie from GET /"
    finish
fi
at_exit curl -s -o /dev/null --max-time 5 -X DELETE -H "Cookie: $SESSION_NAME=$id" "$url/session"
do_curl -b "$jar" -c "$jar" -H 'Content-Type: application/json' --data '{"color":"blue","size":"L"}' "$url/session"
assert_status 200 "POST /session color and size"

echo "staged race: PHP reads, the responder and another PHP writer write, PHP writes"
run_php staged "$id"
do_curl -b "$jar" -c "$jar" "$url/session"
assert_eq red "$(json_get data.color)" "the responder sees PHP's color"
assert_eq missing "$(json_type data.size)" "the responder sees size removed"
assert_eq r "$(json_get data.staged_responder)" "the responder's own value survived PHP's write"
assert_eq '[true]' "$(json_get data.staged_php)" "the responder sees PHP's new value"
assert_eq "$(session_row a "$id")" "$(session_row b "$id")" "nodes a and b hold the same row"

echo "$N GET / in parallel with $N php-cli processes setting php_k1..php_k$N"
do_curl -b "$jar" -c "$jar" "$url/session"
before=$(json_get visits)
mkdir -p "$E2E_TMP/runs"
go=$E2E_TMP/go
pids=()
for ((i = 1; i <= N; i++)); do
    front=${FRONTS[$((i % ${#FRONTS[@]}))]}
    (
        for ((w = 0; w < 1000; w++)); do [ -e "$go" ] && break; sleep 0.01; done
        curl -sS -o /dev/null -w '%{http_code}' --max-time 20 -H "Cookie: $SESSION_NAME=$id" \
            "$(front_url "$front")/" >"$E2E_TMP/runs/curl-$i" 2>&1
    ) &
    pids+=($!)
    (
        for ((w = 0; w < 1000; w++)); do [ -e "$go" ] && break; sleep 0.01; done
        timeout 30 php -d display_errors=stderr "$E2E_TMP/t.php" set-key "$id" "$i" >"$E2E_TMP/runs/php-$i" 2>&1
        echo "exit $?" >>"$E2E_TMP/runs/php-$i"
    ) &
    pids+=($!)
done
sleep 0.3
touch "$go"
start=$SECONDS
for pid in "${pids[@]}"; do wait "$pid"; done
echo "  all done in $((SECONDS - start)) s"

statuses=$(for f in "$E2E_TMP"/runs/curl-*; do cat "$f"; echo; done | sort | uniq -c | awk '{ printf " %s×%s", $1, $2 }')
bad_curl=$(grep -L '^200$' "$E2E_TMP"/runs/curl-* | wc -l)
assert_eq 0 "$bad_curl" "every GET / answered 200 (statuses:$statuses)"
bad_php=0
for ((i = 1; i <= N; i++)); do
    if [ "$(tail -n 1 "$E2E_TMP/runs/php-$i")" != "exit 0" ] || [ "$(wc -l <"$E2E_TMP/runs/php-$i")" != 1 ]; then
        bad_php=$((bad_php + 1))
        fail "php #$i: $(short "$(cat "$E2E_TMP/runs/php-$i")")"
    fi
done
assert_eq 0 "$bad_php" "every php-cli process wrote its key without a warning"
races=$(for f in "$E2E_TMP"/runs/races-*; do cat "$f" 2>/dev/null; echo; done | awk '{ s += $1 } END { print s + 0 }')
echo "  the php-cli processes lost $races compare-and-set races and merged"

do_curl -b "$jar" -c "$jar" "$url/session"
assert_status 200 "GET /session afterwards"
assert_eq "$((before + N))" "$(json_get visits)" "visits rose by exactly $N (from $before)"
missing=0
for ((i = 1; i <= N; i++)); do
    [ "$(json_get "data.php_k$i")" = "$i" ] || missing=$((missing + 1))
done
assert_eq 0 "$missing" "the responder sees all $N php_k keys"
run_php keys "$id" "$N"
assert_eq "$(session_row a "$id")" "$(session_row b "$id")" "nodes a and b hold the same row"

finish

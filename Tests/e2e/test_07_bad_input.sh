#!/usr/bin/env bash
# Hostile input through HAProxy (docs/API.md "Errors", "Sessions and cookies",
# "Cross-site requests", "Routes"). Every refused request is checked three
# ways: its status; its body (JSON {"error":"<one sentence>"}, or a small HTML
# page when Accept prefers text/html) shows no SQL, database message, file
# path or stack trace and injects no header; and nothing changed in
# php_session, items or the item id sequence on EITHER node (a fingerprint
# of both nodes is taken before and after each case).
#
# Part 1 sends only requests that must be refused, against a real session
# (cookie) and a real item. Part 2 sends the requests that are served and do
# change the databases (the controls next to each limit, forged session
# cookies, injection text stored verbatim and shown escaped, header
# injection), each with its expected change checked.
#
# The fingerprint covers the live tables and the tombstone tables
# (php_session_tombstone, items_tombstone). It leaves out only rows that
# garbage collection may remove while the test runs: live sessions and
# tombstones within a few minutes of their lifetime (SESSION_LIFETIME,
# TOMBSTONE_TTL). Every other column of every row counts, date_change
# included: a refused request must not even refresh a session.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

URL=$E2E_HAPROXY
SESSION_LIFETIME=${SESSION_LIFETIME:-1440}
TOMBSTONE_TTL=${TOMBSTONE_TTL:-604800}
MAX_BODY_BYTES=${MAX_BODY_BYTES:-1048576}
# The input limits (settings of the responder, passed to the pools by deploy/cluster).
MAX_FORM_FIELDS=${MAX_FORM_FIELDS:-1000}
MAX_FIELD_BYTES=${MAX_FIELD_BYTES:-65536}
MAX_JSON_MEMBERS=${MAX_JSON_MEMBERS:-1000}
MAX_JSON_DEPTH=${MAX_JSON_DEPTH:-32}
MAX_HEADER_BYTES=${MAX_HEADER_BYTES:-8192}
MAX_COOKIE_BYTES=${MAX_COOKIE_BYTES:-8192}
MAX_COOKIES=${MAX_COOKIES:-50}
MAX_SESSION_BYTES=${MAX_SESSION_BYTES:-262144}
JSON=(-H 'Content-Type: application/json')
HTML=(-H 'Accept: text/html')

# ---------------------------------------------------------------- helper process
#
# One PHP process keeps a connection to each node (a psql start costs about
# 150 ms here, far too much for a fingerprint per case) and checks response
# bodies. One request a line on stdin, one answer a line on stdout:
#   fp                      both nodes' fingerprints
#   sql NODE B64SQL B64P... the first column of the first row, base64 ("-": no row)
#   check MODE STATUS       the problems of the last response, empty when none

cat >"$E2E_TMP/helper.php" <<'PHP'
<?php
[, $headersFile, $bodyFile, $lifetime, $ttl, $sessionName] = $argv;
$links = [];
function link_to(string $node) {
    global $links;
    if (!isset($links[$node]) || pg_connection_status($links[$node]) !== PGSQL_CONNECTION_OK) {
        $links[$node] = @pg_connect(getenv($node === 'a' ? 'HELPER_DSN_A' : 'HELPER_DSN_B'), PGSQL_CONNECT_FORCE_NEW);
    }
    return $links[$node];
}
function query(string $node, string $sql, array $params) {
    $link = link_to($node);
    if (!$link) return null;
    $result = @pg_query_params($link, $sql, $params);
    if (!$result) return null;
    return pg_fetch_row($result) ?: [];
}
// Rows garbage collection may remove during the test are left out: cut-offs a
// margin short of the lifetimes, fixed once so the set of rows does not drift.
$margin = min(300, intdiv((int)$lifetime, 2));
$cut = query('a', "SELECT ((now() AT TIME ZONE 'UTC') - make_interval(secs => $1::int))::text,
    ((now() AT TIME ZONE 'UTC') - make_interval(secs => $2::int))::text",
    [(int)$lifetime - $margin, (int)$ttl - $margin]) ?? ['-infinity', '-infinity'];
// php_session and items hold live rows only; deletes are rows of the tombstone tables.
$fingerprintSQL = <<<'SQL'
SELECT
 (SELECT count(*) || ':' || md5(coalesce(string_agg(concat_ws('|', id, md5(data), date_change, hlc, origin),
     E'\n' ORDER BY id COLLATE "C"), ''))
  FROM php_session WHERE date_change >= $1::timestamp),
 (SELECT count(*) || ':' || md5(coalesce(string_agg(concat_ws('|', id, deleted_at, hlc, origin),
     E'\n' ORDER BY id COLLATE "C"), ''))
  FROM php_session_tombstone WHERE deleted_at >= $2::timestamp),
 (SELECT count(*) || ':' || md5(coalesce(string_agg(concat_ws('|', id, md5(name), md5(content), updated_at, hlc,
     origin), E'\n' ORDER BY id), ''))
  FROM items),
 (SELECT count(*) || ':' || md5(coalesce(string_agg(concat_ws('|', id, deleted_at, hlc, origin), E'\n' ORDER BY id), ''))
  FROM items_tombstone WHERE deleted_at >= $2::timestamp),
 (SELECT last_value || '/' || is_called FROM items_id_seq)
SQL;
function fingerprint(string $node): string {
    global $fingerprintSQL, $cut;
    $row = query($node, $fingerprintSQL, $cut);
    return $row ? implode(' ', $row) : 'unreachable';
}

// The checks of one response: $mode is json, html, front (the front end's own answer: no shape
// checked) or served (a served answer, which may show the client's own data: headers only).
function check(string $mode, int $status): string {
    global $headersFile, $bodyFile, $sessionName;
    $problems = [];
    $raw = (string)@file_get_contents($headersFile);
    $body = (string)@file_get_contents($bodyFile);
    $blocks = preg_split('/\r?\n\r?\n/', trim($raw));
    $lines = preg_split('/\r?\n/', (string)end($blocks));
    $headers = [];
    foreach (array_slice($lines, 1) as $line) {
        $i = strpos($line, ':');
        if ($i === false || $i === 0) { $problems[] = 'a header line without a name: ' . substr($line, 0, 60); continue; }
        $headers[strtolower(substr($line, 0, $i))][] = trim(substr($line, $i + 1));
    }
    // Header injection: no header of a client's making, no cookie but the session's and the notice's.
    foreach (['x-injected', 'x-evil', 'refresh'] as $name) {
        if (isset($headers[$name])) $problems[] = "an injected header $name";
    }
    foreach ($headers['set-cookie'] ?? [] as $cookie) {
        if (!str_starts_with($cookie, "$sessionName=") && !str_starts_with($cookie, 'manage_notice=')) {
            $problems[] = 'an injected Set-Cookie: ' . substr($cookie, 0, 60);
        }
    }
    foreach ($headers['location'] ?? [] as $location) {
        if (!preg_match('#^(https?://[^/]+)?/(manage)?$#', $location)) $problems[] = "an unexpected Location: $location";
    }
    if ($mode === 'served') return implode('; ', $problems);
    $type = $headers['content-type'][0] ?? '';
    $message = $body;
    if ($mode === 'json' || $mode === 'frontjson') {
        if (!str_starts_with(strtolower($type), 'application/json')) $problems[] = "Content-Type '$type', not JSON";
        $json = json_decode($body, true);
        if (!is_array($json) || array_keys($json) !== ['error'] || !is_string($json['error']) || $json['error'] === '') {
            $problems[] = 'the body is not {"error":"..."}: ' . substr($body, 0, 120);
        } else {
            $message = $json['error'];
            if (strlen($message) > 300 || preg_match('/[\r\n]/', $message) || !preg_match('/[.!?]$/', $message)
                || preg_match('/[.!?]\s+[A-Z]/', $message)) {
                $problems[] = "the error is not one short sentence: '" . substr($message, 0, 120) . "'";
            }
        }
    } elseif ($mode === 'html') {
        if (!str_starts_with(strtolower($type), 'text/html')) $problems[] = "Content-Type '$type', not HTML";
        if (strlen($body) > 8192) $problems[] = 'the HTML error page is ' . strlen($body) . ' bytes';
        if (stripos($body, '<html') === false || strpos($body, (string)$status) === false) {
            $problems[] = 'not an HTML page naming the status: ' . substr($body, 0, 120);
        }
        // The message is the page's title and main part; the footer names PostgreSQL as the product's description.
        preg_match('#<title>(.*?)</title>#s', $body, $t);
        preg_match('#<main[^>]*>(.*?)</main>#s', $body, $m);
        $message = ($t[1] ?? '') . ' ' . ($m[1] ?? $body);
    }
    if ($mode !== 'front' && $mode !== 'frontjson' && !isset($headers['x-served-by'])) $problems[] = 'no X-Served-By';
    if (preg_match('#(/work\b|/usr/|/home/|/root\b|/tmp/|/var/|\.build/|Sources/|\.swift\b)#', $body, $x)) {
        $problems[] = "a file path ({$x[1]})";
    }
    if (preg_match('/(Fatal error|Backtrace|Stack trace|\b0x[0-9a-f]{6,}|#\d+\s+0x|\bat \S+:\d+)/i', $body, $x)) {
        $problems[] = "a stack trace ({$x[1]})";
    }
    if (preg_match('/\b(SELECT|INSERT|UPDATE|DELETE)\b.*\b(FROM|INTO|SET|WHERE)\b|\bON CONFLICT\b|\$\d+::|\bRETURNING\b'
        . '|\b(php_session|items_id_seq|replication_outbox|date_change|hlc)\b/s', $body, $x)) {
        $problems[] = "SQL ({$x[0]})";
    }
    if (preg_match('/(ERROR:|FATAL:|DETAIL:|HINT:|violates|\brelation\b|syntax error|\b(lib)?pq|postgres|sqlstate'
        . '|duplicate key|constraint|\bcolumn\b)/i', $message, $x)) {
        $problems[] = "a database message ({$x[1]})";
    }
    return implode('; ', $problems);
}

while (($line = fgets(STDIN)) !== false) {
    $words = explode(' ', rtrim($line, "\n"));
    switch ($words[0]) {
    case 'fp':
        $answer = 'A=' . fingerprint('a') . ' B=' . fingerprint('b');
        break;
    case 'sql':
        $row = query($words[1], base64_decode($words[2]), array_map('base64_decode', array_slice($words, 3)));
        $answer = $row === null ? 'ERR' : (count($row) ? base64_encode((string)$row[0]) : '-');
        break;
    case 'check':
        $answer = check($words[1], (int)$words[2]);
        break;
    default:
        $answer = 'ERR unknown request';
    }
    fwrite(STDOUT, str_replace("\n", ' ', $answer) . "\n");
    fflush(STDOUT);
}
PHP

dsn() { printf 'host=%s port=%s dbname=%s user=%s password=%s connect_timeout=5' "$BIND_HOST" "$1" "$2" \
    "$CLUSTER_DB_USER" "$CLUSTER_DB_PASSWORD"; }
export HELPER_DSN_A HELPER_DSN_B
HELPER_DSN_A=$(dsn "$NODE_A_PORT" "$NODE_A_DB")
HELPER_DSN_B=$(dsn "$NODE_B_PORT" "$NODE_B_DB")
coproc HELPER { exec php "$E2E_TMP/helper.php" "$E2E_TMP/headers" "$E2E_TMP/body" "$SESSION_LIFETIME" \
    "$TOMBSTONE_TTL" "$SESSION_NAME"; }
at_exit kill "$HELPER_PID"

# ask REQUEST...: one request to the helper; its answer in REPLY.
ask() {
    REPLY="ERR the helper did not answer"
    printf '%s\n' "$*" >&"${HELPER[1]}" && IFS= read -r -t 30 REPLY <&"${HELPER[0]}"
}

# db_value NODE SQL PARAM...: the first column of the first row ("-" when no row).
db_value() {
    local node=$1 words=() p
    shift
    for p in "$@"; do words+=("$(printf '%s' "$p" | base64 -w0)"); done
    ask sql "$node" "${words[@]}"
    case $REPLY in
        -) printf -- - ;;
        ERR*) printf 'ERR' ;;
        *) printf '%s' "$REPLY" | base64 -d ;;
    esac
}

fingerprint() { ask fp; printf '%s' "$REPLY"; }

# shellcheck disable=SC2317 # called through poll
# nodes_agree: both nodes hold the same rows (the item id sequences differ by design).
nodes_agree() {
    local fp a b
    fp=$(fingerprint)
    a=${fp#A=}; a=${a%% B=*}
    b=${fp#* B=}
    [ "${a% *}" = "${b% *}" ] && [ "$a" != unreachable ]
}

BASE=""
# unchanged WHAT: nothing changed on either node since BASE (which then follows the databases).
# An answer the front end made itself (no X-Served-By) may leave the responder still working on
# the request: its writes are waited for, so that they count against this case, not the next.
unchanged() {
    local now
    [ -n "$(header X-Served-By)" ] || sleep 0.5
    now=$(fingerprint)
    if [ "$now" = "$BASE" ]; then
        pass "$1: nothing written"
    else
        fail "$1: the databases changed (before: $BASE; after: $now)"
        BASE=$now
    fi
}

# body_ok MODE WHAT: the last response's body and headers (see check() above).
body_ok() {
    ask check "$1" "$STATUS"
    if [ -z "$REPLY" ]; then pass "$2: body"; else fail "$2: $REPLY"; fi
}

# refuse STATUS MODE WHAT CURL-ARGS...: the request is refused with STATUS, a
# clean body of MODE (json, html, front; frontjson: a front end's own JSON answer) and no change on either node.
refuse() {
    local status=$1 mode=$2 what=$3
    shift 3
    do_curl "$@"
    assert_status "$status" "$what"
    body_ok "$mode" "$what"
    unchanged "$what"
}

# refuse_any STATUSES MODE WHAT CURL-ARGS...: as refuse, for answers the front
# end gives itself; STATUSES is a regex.
refuse_any() {
    local statuses=$1 mode=$2 what=$3
    shift 3
    do_curl "$@"
    if [[ $STATUS =~ ^($statuses)$ ]]; then pass "$what: $STATUS"; else fail "$what: got $STATUS, not $statuses"; fi
    body_ok "$mode" "$what"
    unchanged "$what"
}

# repeat TEXT COUNT: TEXT (no newline in it) COUNT times.
repeat() { yes -- "$1" | head -n "$2" | tr -d '\n'; }

# stored NODE ID: the session's data on a node as text ("-" when there is no live row).
stored() {
    db_value "$1" "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = \$1" "$2"
}

# ---------------------------------------------------------------- set-up

jar=$E2E_TMP/jar
C=(-b "$jar")
do_curl -c "$jar" --data 'key=color&value=blue' "$URL/session"
assert_status 200 "set-up: a session"
SID=$(cookie_value "$jar" "$SESSION_NAME")
assert_match "$SID" '^[A-Za-z0-9,-]{22,256}$' "set-up: the session cookie"
do_curl "${JSON[@]}" --data "{\"action\":\"create\",\"name\":\"bad-input $$\",\"content\":\"kept\"}" "$URL/manage"
assert_status 201 "set-up: an item"
ITEM=$(json_get id)
[[ $ITEM =~ ^[0-9]+$ ]] || ITEM=1
NO_ITEM=9000000000000000000 # well-formed, below 2^63, far above any id the sequences reach

if poll 15 nodes_agree; then pass "set-up: both nodes hold the same rows"; else
    fail "set-up: the nodes differ before the test: $(fingerprint)"
fi
BASE=$(fingerprint)
if [[ $BASE == *unreachable* ]]; then
    fail "set-up: no fingerprint ($BASE)"
    finish
fi

# Bodies too big to pass as arguments.
big=$E2E_TMP/big
{ printf 'key=big&value='; repeat a "$MAX_BODY_BYTES"; } >"$big.session-form"
{ printf '{"big":"'; repeat a "$MAX_BODY_BYTES"; printf '"}'; } >"$big.session-json"
{ printf 'action=create&name=big&content='; repeat a "$MAX_BODY_BYTES"; } >"$big.manage-form"
{ printf '{"action":"create","name":"big","content":"'; repeat a "$MAX_BODY_BYTES"; printf '"}'; } >"$big.manage-json"
{ printf '{"huge":"'; repeat x $((MAX_SESSION_BYTES + 1)); printf '"}'; } >"$big.session-over"
# MAX_FIELD_BYTES bounds a field's name and its value, each counted after percent-decoding: a
# value of MAX_FIELD_BYTES + 1 bytes, a name of MAX_FIELD_BYTES + 1 bytes, and a value of
# MAX_FIELD_BYTES bytes, also percent-encoded (three times as long on the wire).
{ printf 'key=long&value='; repeat v $((MAX_FIELD_BYTES + 1)); } >"$big.field-over"
{ printf 'key=long&value=1&'; repeat n $((MAX_FIELD_BYTES + 1)); printf '=1'; } >"$big.name-over"
{ printf 'key=long&value='; repeat v "$MAX_FIELD_BYTES"; } >"$big.field-at"
{ printf 'key=long&value='; repeat %76 "$MAX_FIELD_BYTES"; } >"$big.field-at-encoded"

# ================================================================ part 1: refused, nothing written

# ---- body size (MAX_BODY_BYTES): the responder answers from Content-Length, without reading.
refuse 413 json "POST /session form over MAX_BODY_BYTES" "${C[@]}" --data-binary "@$big.session-form" "$URL/session"
refuse 413 json "POST /session JSON over MAX_BODY_BYTES" "${C[@]}" "${JSON[@]}" --data-binary "@$big.session-json" \
    "$URL/session"
refuse 413 json "POST /manage form over MAX_BODY_BYTES" --data-binary "@$big.manage-form" "$URL/manage"
refuse 413 json "POST /manage JSON over MAX_BODY_BYTES" "${JSON[@]}" --data-binary "@$big.manage-json" "$URL/manage"
refuse 413 html "POST /manage browser form over MAX_BODY_BYTES" "${HTML[@]}" --data-binary "@$big.manage-form" \
    "$URL/manage"
# A chunked body has no Content-Length; HAProxy's FastCGI side must know the
# length and refuses a chunked body past its buffer (16 KB) with its own 400.
refuse_any '400|413' front "POST /session chunked over MAX_BODY_BYTES" "${C[@]}" -H 'Transfer-Encoding: chunked' \
    --data-binary "@$big.session-form" "$URL/session"
# (A Content-Length that promises more than is sent cannot be tried through
# HAProxy: it waits for the promised body and answers 408 itself after
# `timeout http-request`.)

# ---- media types
refuse 415 json "text/plain body" "${C[@]}" -H 'Content-Type: text/plain' --data 'key=a&value=b' "$URL/session"
refuse 415 json "application/xml body" -H 'Content-Type: application/xml' --data '<item/>' "$URL/manage"
refuse 415 json "multipart body" "${C[@]}" -F key=a -F value=b "$URL/session"
refuse 415 json "a body without Content-Type" "${C[@]}" -H 'Content-Type:' --data-binary 'key=a&value=b' "$URL/session"
refuse 415 json "application/json-patch+json body" "${C[@]}" -H 'Content-Type: application/json-patch+json' \
    --data '{"a":"b"}' "$URL/session"
refuse 415 html "text/plain body from a browser" "${HTML[@]}" -H 'Content-Type: text/plain' \
    --data 'action=create&name=x' "$URL/manage"
# Declared JSON, sent a form: cannot be parsed (400). Declared a form, sent
# JSON: a valid form whose one field has a strange name, so the required
# field is missing (422).
refuse 400 json "JSON declared, form sent (/session)" "${C[@]}" "${JSON[@]}" --data 'key=a&value=b' "$URL/session"
refuse 400 json "JSON declared, form sent (/manage)" "${JSON[@]}" --data 'action=create&name=x' "$URL/manage"
refuse 422 json "form declared, JSON sent (/session)" "${C[@]}" --data '{"a":"b"}' "$URL/session"
refuse 422 json "form declared, JSON sent (/manage)" --data '{"action":"create","name":"x"}' "$URL/manage"

# ---- percent-encoding and UTF-8
refuse 400 json "broken %-escape in a form name" "${C[@]}" --data 'key=a%zz&value=b' "$URL/session"
refuse 400 json "truncated %-escape at the end of a form" "${C[@]}" --data 'key=a&value=b%2' "$URL/session"
refuse 400 json "broken %-escape in a /manage form" --data 'action=create&name=%G1' "$URL/manage"
refuse 400 json "broken %-escape in the query (GET)" "${C[@]}" "$URL/session?x=%zz"
refuse 400 json "broken %-escape in the query of a valid POST /session" "${C[@]}" --data 'key=q&value=1' \
    "$URL/session?x=%4"
refuse 400 json "broken %-escape in the query of a valid POST /manage" --data 'action=create&name=q' \
    "$URL/manage?x=%zz"
# HAProxy cannot pass such a path over FastCGI: it answers the responder's 400 itself (haproxy.cfg).
refuse 400 frontjson "broken %-escape in the path" "$URL/sess%zzion"
refuse 400 json "raw invalid UTF-8 in a form value" "${C[@]}" --data-binary $'key=a&value=\xff\xfe' "$URL/session"
refuse 400 json "%-encoded invalid UTF-8 in a form value" "${C[@]}" --data 'key=a&value=%ff' "$URL/session"
refuse 400 json "overlong UTF-8 in a form value" --data 'action=create&name=%c0%af' "$URL/manage"
refuse 400 json "invalid UTF-8 in a JSON string" "${C[@]}" "${JSON[@]}" --data-binary $'{"a":"\xc3\x28"}' "$URL/session"
refuse 400 json "overlong UTF-8 in a JSON string" "${JSON[@]}" --data-binary $'{"action":"create","name":"\xc0\xaf"}' \
    "$URL/manage"
refuse 400 json "a lone surrogate in a JSON string" "${C[@]}" "${JSON[@]}" --data '{"a":"\ud800"}' "$URL/session"
refuse 400 json "%-encoded invalid UTF-8 in the query of a valid POST" "${C[@]}" --data 'key=q&value=1' \
    "$URL/session?x=%c3%28"
refuse 400 json "%-encoded invalid UTF-8 in the path" "$URL/session%ff"
# Raw bytes over 0x7F in the request line never reach the responder: HAProxy refuses them.
refuse_any 400 front "raw invalid UTF-8 in the query" "${C[@]}" --data 'key=q&value=1' "$URL/session?x="$'\xff'

# ---- JSON that is not a JSON object
for body in '{"a":' '{a:"b"}' "{'a':'b'}" '{"a":"b",}' '' '[{"a":"b"}]' '"a"' 'null' '42' \
    '{"a":"1","a":"2"}' '{"a":"1"} x' '{"a":"1"}{}' '{"a":NaN}' '{"a":1e999}'; do
    refuse 400 json "JSON body $(printf '%q' "$body")" "${C[@]}" "${JSON[@]}" --data-binary "$body" "$URL/session"
done
refuse 400 json "JSON array to /manage" "${JSON[@]}" --data '[{"action":"create","name":"x"}]' "$URL/manage"
refuse 400 json "JSON with duplicate action" "${JSON[@]}" \
    --data "{\"action\":\"create\",\"name\":\"x\",\"action\":\"delete\",\"id\":$ITEM}" "$URL/manage"
refuse 400 json "invalid JSON with Accept: text/html gets JSON" "${HTML[@]}" "${C[@]}" "${JSON[@]}" --data '{"a":' \
    "$URL/session"

# ---- /manage fields (422)
refuse 422 json "no action (form)" --data 'name=x' "$URL/manage"
refuse 422 json "no action (JSON)" "${JSON[@]}" --data '{"name":"x"}' "$URL/manage"
refuse 422 json "empty action" --data 'action=&name=x' "$URL/manage"
refuse 422 json "unknown action" --data 'action=drop&name=x' "$URL/manage"
refuse 422 json "action in capitals" --data 'action=CREATE&name=x' "$URL/manage"
refuse 422 json "action as a JSON array" "${JSON[@]}" --data '{"action":["create"],"name":"x"}' "$URL/manage"
refuse 422 html "unknown action from a browser" "${HTML[@]}" --data 'action=drop&name=x' "$URL/manage"
refuse 422 json "name of 201 code points" "${JSON[@]}" \
    --data "{\"action\":\"create\",\"name\":\"$(repeat é 201)\"}" "$URL/manage"
refuse 422 json "name of white space only" "${JSON[@]}" --data '{"action":"create","name":" \t\n "}' "$URL/manage"
refuse 422 json "no name on create" "${JSON[@]}" --data '{"action":"create","content":"c"}' "$URL/manage"
refuse 422 json "a control character in the name" "${JSON[@]}" --data '{"action":"create","name":"a\u0000b"}' \
    "$URL/manage"
refuse 422 json "content of 10,001 code points" "${JSON[@]}" \
    --data "{\"action\":\"create\",\"name\":\"x\",\"content\":\"$(repeat ü 10001)\"}" "$URL/manage"
refuse 422 json "update of a real item with a 201-code-point name" "${JSON[@]}" \
    --data "{\"action\":\"update\",\"id\":$ITEM,\"name\":\"$(repeat n 201)\"}" "$URL/manage"
refuse 422 json "update of a real item with over-long content" \
    --data "action=update&id=$ITEM&content=$(repeat c 10001)" "$URL/manage"
do_curl "${HTML[@]}" --data "action=create&name=$(repeat n 201)" "$URL/manage"
assert_status 422 "over-long name from a browser form"
assert_contains "$BODY" "The name must be at most 200 characters." "over-long name from a browser form: the message"
unchanged "over-long name from a browser form"
for id in abc -1 1.5 '1 OR 1=1' "$ITEM; DROP TABLE items" ' 1' '0x10' '1e3' ''; do
    refuse 422 json "delete with id $(printf '%q' "$id") (form)" --data-urlencode action=delete --data-urlencode "id=$id" \
        "$URL/manage"
done
refuse 422 json "update with no id" "${JSON[@]}" --data '{"action":"update","name":"x"}' "$URL/manage"
refuse 422 json "delete with id \"abc\" (JSON)" "${JSON[@]}" --data '{"action":"delete","id":"abc"}' "$URL/manage"
refuse 422 json "delete with id -1 (JSON number)" "${JSON[@]}" --data '{"action":"delete","id":-1}' "$URL/manage"
refuse 422 json "delete with id 1.5 (JSON number)" "${JSON[@]}" --data '{"action":"delete","id":1.5}' "$URL/manage"
refuse 422 json "delete with id true (JSON)" "${JSON[@]}" --data '{"action":"delete","id":true}' "$URL/manage"
refuse 422 json "GET /manage?edit=abc" "$URL/manage?edit=abc"
refuse 422 json "GET /manage?confirm_delete=-1" "$URL/manage?confirm_delete=-1"
# Well-formed ids of no item: 404. 99999999999999999999 is a number, only too
# big for any item: docs/API.md's "well-formed id of no item" (404) rather
# than "non-numeric id" (422), as ItemInput.id documents; the same whether
# it comes as a form field, a JSON string or a JSON number.
HUGE_ID_STATUS=404
refuse 404 json "update of id $NO_ITEM" "${JSON[@]}" --data "{\"action\":\"update\",\"id\":$NO_ITEM,\"name\":\"x\"}" \
    "$URL/manage"
refuse 404 json "delete of id $NO_ITEM" --data "action=delete&id=$NO_ITEM" "$URL/manage"
refuse 404 html "delete of id $NO_ITEM from a browser" "${HTML[@]}" --data "action=delete&id=$NO_ITEM" "$URL/manage"
refuse "$HUGE_ID_STATUS" json "delete of id 99999999999999999999 (form)" --data 'action=delete&id=99999999999999999999' "$URL/manage"
refuse "$HUGE_ID_STATUS" json "delete of id \"99999999999999999999\" (JSON string)" "${JSON[@]}" \
    --data '{"action":"delete","id":"99999999999999999999"}' "$URL/manage"
refuse "$HUGE_ID_STATUS" json "delete of id 99999999999999999999 (JSON number)" "${JSON[@]}" \
    --data '{"action":"delete","id":99999999999999999999}' "$URL/manage"
refuse "$HUGE_ID_STATUS" json "GET /manage?edit=99999999999999999999" "$URL/manage?edit=99999999999999999999"

# ---- session keys (422); a JSON body with one bad key changes nothing at all
for key in '' "$(repeat k 129)" 12345 0 visits $'a\r\nb' 'a|b' 'a b' 'a;b' '<script>' "'; DROP TABLE items; --" \
    'ké' 'a!b' $'a\tb'; do
    refuse 422 json "session key $(printf '%q' "$key") (form)" "${C[@]}" --data-urlencode "key=$key" \
        --data-urlencode value=x "$URL/session"
done
refuse 422 json "no key field (form)" "${C[@]}" --data 'value=x' "$URL/session"
for key in '' visits 'a|b' '12' "$(repeat k 129)" 'a\r\nb'; do
    refuse 422 json "session key $(printf '%q' "$key") (JSON)" "${C[@]}" "${JSON[@]}" --data "{\"$key\":\"x\"}" \
        "$URL/session"
done
refuse 422 json "JSON with a good key and a bad key" "${C[@]}" "${JSON[@]}" --data '{"good":"1","bad|key":"2"}' \
    "$URL/session"
refuse 422 json "JSON with a good key and visits" "${C[@]}" "${JSON[@]}" --data '{"good":"1","visits":99}' "$URL/session"
refuse 422 html "bad key from a browser form" "${HTML[@]}" "${C[@]}" --data 'key=a|b&value=x' "$URL/session"

# ---- cross-site state changes (403); GET is never refused (part 2)
XS=(-H 'Sec-Fetch-Site: cross-site')
EVIL=(-H 'Origin: https://evil.example')
refuse 403 json "POST /session, Sec-Fetch-Site: cross-site" "${C[@]}" "${XS[@]}" --data 'key=x&value=1' "$URL/session"
refuse 403 json "POST /session, Sec-Fetch-Site: same-site" "${C[@]}" -H 'Sec-Fetch-Site: same-site' \
    --data 'key=x&value=1' "$URL/session"
refuse 403 json "DELETE /session, Sec-Fetch-Site: cross-site" "${C[@]}" "${XS[@]}" -X DELETE "$URL/session"
refuse 403 json "form destroy, Sec-Fetch-Site: cross-site" "${C[@]}" "${XS[@]}" --data 'action=destroy' "$URL/session"
refuse 403 json "POST /session/regenerate, Sec-Fetch-Site: cross-site" "${C[@]}" "${XS[@]}" -X POST \
    "$URL/session/regenerate"
refuse 403 json "POST /manage create, Sec-Fetch-Site: cross-site" "${XS[@]}" --data 'action=create&name=x' "$URL/manage"
refuse 403 json "POST /manage delete of a real item, Sec-Fetch-Site: cross-site" "${XS[@]}" \
    --data "action=delete&id=$ITEM" "$URL/manage"
refuse 403 html "cross-site browser form" "${HTML[@]}" "${C[@]}" "${XS[@]}" --data 'key=x&value=1' "$URL/session"
refuse 403 json "POST /session, Origin: https://evil.example" "${C[@]}" "${EVIL[@]}" --data 'key=x&value=1' \
    "$URL/session"
refuse 403 json "DELETE /session, Origin: https://evil.example" "${C[@]}" "${EVIL[@]}" -X DELETE "$URL/session"
refuse 403 json "POST /manage delete of a real item, Origin: https://evil.example" "${EVIL[@]}" \
    --data "action=delete&id=$ITEM" "$URL/manage"
refuse 403 json "POST /manage update, Origin: null" -H 'Origin: null' --data "action=update&id=$ITEM&name=x" \
    "$URL/manage"
hostport=${URL#http://}
hostport=${hostport%%/*}
refuse 403 json "POST /session, Origin of another port" "${C[@]}" -H "Origin: http://${hostport%:*}:1" \
    --data 'key=x&value=1' "$URL/session"
refuse 403 json "POST /session, Origin of another scheme" "${C[@]}" -H "Origin: https://$hostport" \
    --data 'key=x&value=1' "$URL/session"

# ---- limits (the form and session ones exist; the JSON statuses and the header ones are being added)
# cookies NAME=VALUE COUNT: a Cookie header value of the session cookie and COUNT - 1 more.
cookies() { printf '%s' "$1"; for ((i = 1; i < $2; i++)); do printf '; c%d=1' "$i"; done; }
# padded_cookie BYTES: a Cookie header value of BYTES bytes that carries the session.
padded_cookie() { local c="$SESSION_NAME=$SID; pad="; printf '%s' "$c"; repeat c $(($1 - ${#c})); }

refuse 413 json "MAX_FORM_FIELDS: $((MAX_FORM_FIELDS + 1)) form fields" "${C[@]}" \
    --data "key=a&value=b$(repeat '&f=1' $((MAX_FORM_FIELDS - 1)))" "$URL/session"
refuse 413 json "MAX_FORM_FIELDS: $((MAX_FORM_FIELDS + 1)) query fields on a valid POST" "${C[@]}" \
    --data 'key=q&value=1' "$URL/session?$(repeat 'f=1&' $((MAX_FORM_FIELDS + 1)))"
refuse 413 json "MAX_FIELD_BYTES: a form value of $((MAX_FIELD_BYTES + 1)) bytes" "${C[@]}" \
    --data-binary "@$big.field-over" "$URL/session"
refuse 413 json "MAX_FIELD_BYTES: a form field name of $((MAX_FIELD_BYTES + 1)) bytes" "${C[@]}" \
    --data-binary "@$big.name-over" "$URL/session"
refuse 413 json "MAX_SESSION_BYTES: a value of $((MAX_SESSION_BYTES + 1)) bytes" "${C[@]}" "${JSON[@]}" \
    --data-binary "@$big.session-over" "$URL/session"
refuse 413 json "MAX_JSON_MEMBERS: 1 member + $MAX_JSON_MEMBERS elements (/session)" "${C[@]}" "${JSON[@]}" \
    --data "{\"a\":[$(seq -s, 1 "$MAX_JSON_MEMBERS")]}" "$URL/session"
refuse 413 json "MAX_JSON_MEMBERS: 3 members + $((MAX_JSON_MEMBERS - 2)) elements (/manage)" "${JSON[@]}" \
    --data "{\"action\":\"create\",\"name\":\"x\",\"pad\":[$(seq -s, 1 $((MAX_JSON_MEMBERS - 2)))]}" "$URL/manage"
refuse 413 json "MAX_JSON_DEPTH: $((MAX_JSON_DEPTH + 1)) levels" "${C[@]}" "${JSON[@]}" \
    --data "{\"a\":$(repeat '[' "$MAX_JSON_DEPTH")$(repeat ']' "$MAX_JSON_DEPTH")}" "$URL/session"
refuse 431 json "MAX_HEADER_BYTES: a header value of $((MAX_HEADER_BYTES + 1)) bytes" "${C[@]}" \
    -H "X-Padding: $(repeat h $((MAX_HEADER_BYTES + 1)))" --data 'key=hdr&value=1' "$URL/session"
refuse 431 json "MAX_HEADER_BYTES on a GET that would start a session" \
    -H "X-Padding: $(repeat h $((MAX_HEADER_BYTES + 1)))" "$URL/session"
refuse 431 json "MAX_COOKIE_BYTES: a Cookie header of $((MAX_COOKIE_BYTES + 1)) bytes" \
    -H "Cookie: $(padded_cookie $((MAX_COOKIE_BYTES + 1)))" --data 'key=hdr&value=1' "$URL/session"
refuse 431 json "MAX_COOKIES: $((MAX_COOKIES + 1)) cookies" -H "Cookie: $(cookies "$SESSION_NAME=$SID" $((MAX_COOKIES + 1)))" \
    --data 'key=hdr&value=1' "$URL/session"

# ---- header injection in refused requests (no injected header: checked on every answer)
refuse 422 json "CR/LF in a session key" "${C[@]}" --data 'key=a%0d%0aX-Injected:%20yes&value=x' "$URL/session"
refuse 422 html "CR/LF in a session key from a browser" "${HTML[@]}" "${C[@]}" \
    --data 'key=a%0d%0aLocation:%20http://evil.example/%0d%0aX-Injected:%20yes&value=x' "$URL/session"
refuse 404 json "CR/LF in the path" "$URL/session%0d%0aX-Injected:%20yes"
refuse 422 json "CR/LF in ?edit=" "$URL/manage?edit=1%0d%0aX-Injected:%20yes"

# ================================================================ part 2: served, with the change checked

# expect_changed WHAT: something was written (the new baseline).
expect_changed() {
    local now
    now=$(fingerprint)
    assert_ne "$BASE" "$now" "$1: written"
    BASE=$now
}

# served WHAT CURL-ARGS...: the request is served (2xx or 303).
served() {
    local what=$1
    shift
    do_curl "$@"
    if [[ $STATUS =~ ^(2..|303)$ ]]; then pass "$what: served ($STATUS)"; else
        fail "$what: expected to be served, got $STATUS: $(short "$BODY")"
    fi
    body_ok served "$what"
}

# ---- the other side of each refusal: the same request without the hostile part is served
served "POST /session without Sec-Fetch-Site or Origin (curl)" "${C[@]}" --data 'key=plain&value=1' "$URL/session"
assert_eq 1 "$(json_get data.plain)" "POST /session (curl): stored"
served "POST /session, Sec-Fetch-Site: same-origin" "${C[@]}" -H 'Sec-Fetch-Site: same-origin' \
    --data 'key=sfs&value=same-origin' "$URL/session"
served "POST /session, Sec-Fetch-Site: none" "${C[@]}" -H 'Sec-Fetch-Site: none' --data 'key=sfs&value=none' "$URL/session"
served "POST /session, Origin of this site" "${C[@]}" -H "Origin: http://$hostport" --data 'key=origin&value=1' \
    "$URL/session"
served "GET /session, Sec-Fetch-Site: cross-site (GET is never refused)" "${C[@]}" "${XS[@]}" "$URL/session"
assert_eq "$SID" "$(json_get id)" "GET cross-site: the same session"
served "$MAX_FORM_FIELDS form fields" "${C[@]}" --data "key=fields&value=1$(repeat '&f=1' $((MAX_FORM_FIELDS - 2)))" \
    "$URL/session"
served "a form value of $MAX_FIELD_BYTES bytes" "${C[@]}" --data-binary "@$big.field-at" "$URL/session"
served "a form value of $MAX_FIELD_BYTES bytes, percent-encoded ($((3 * MAX_FIELD_BYTES)) bytes on the wire)" "${C[@]}" \
    --data-binary "@$big.field-at-encoded" "$URL/session"
assert_eq "$MAX_FIELD_BYTES" "$(json_get data.long | wc -c | tr -d ' ')" "the percent-encoded value is stored decoded"
served "1 member + $((MAX_JSON_MEMBERS - 1)) elements" "${C[@]}" "${JSON[@]}" \
    --data "{\"members\":[$(seq -s, 1 $((MAX_JSON_MEMBERS - 1)))]}" "$URL/session"
served "$MAX_JSON_DEPTH levels of JSON" "${C[@]}" "${JSON[@]}" \
    --data "{\"depth\":$(repeat '[' $((MAX_JSON_DEPTH - 1)))$(repeat ']' $((MAX_JSON_DEPTH - 1)))}" "$URL/session"
served "a header value of $MAX_HEADER_BYTES bytes" "${C[@]}" -H "X-Padding: $(repeat h "$MAX_HEADER_BYTES")" \
    --data 'key=hdr&value=at-limit' "$URL/session"
assert_eq "$SID" "$(json_get id)" "a header value of $MAX_HEADER_BYTES bytes: the same session"
served "a Cookie header of $MAX_COOKIE_BYTES bytes" -H "Cookie: $(padded_cookie "$MAX_COOKIE_BYTES")" \
    --data 'key=cookie&value=at-limit' "$URL/session"
assert_eq "$SID" "$(json_get id)" "a Cookie header of $MAX_COOKIE_BYTES bytes: the same session"
served "$MAX_COOKIES cookies" -H "Cookie: $(cookies "$SESSION_NAME=$SID" "$MAX_COOKIES")" \
    --data 'key=cookies&value=at-limit' "$URL/session"
assert_eq "$SID" "$(json_get id)" "$MAX_COOKIES cookies: the same session"
served "remove the long value" "${C[@]}" --data 'key=long&action=remove' "$URL/session"
BASE=$(fingerprint)

# MAX_SESSION_BYTES counts the session after the change: three quarters fit, a third more do not.
grow1=$((MAX_SESSION_BYTES * 3 / 4))
grow2=$((MAX_SESSION_BYTES / 3))
served "a value of $grow1 bytes" "${C[@]}" "${JSON[@]}" \
    --data-binary @<(printf '{"grow1":"'; repeat g "$grow1"; printf '"}') "$URL/session"
expect_changed "a value of $grow1 bytes"
refuse 413 json "MAX_SESSION_BYTES: $grow2 bytes more" "${C[@]}" "${JSON[@]}" \
    --data-binary @<(printf '{"grow2":"'; repeat g "$grow2"; printf '"}') "$URL/session"
served "remove the $grow1 bytes" "${C[@]}" --data 'key=grow1&action=remove' "$URL/session"
BASE=$(fingerprint)

# ---- forged session cookies: a new session, the forged id stored nowhere
for forged in abc 'abcdefghijklmnopqrstuvwxyz!!' "$(repeat a 4096)" 'abcdefghijklmnopqrstuvwx%0d%0aSet-Cookie:%20x=1' \
    "' OR 1=1 --" "aaaaaaaaaaaaaaaaaaaaaaaa' OR '1'='1" 'aaaaaaaaaaaaaaaaaaaaaaaa;DROP' \
    "Unknown0WellFormed0Id0$$0$RANDOM" '"Quoted0WellFormed0Session0Id0"'; do
    what="forged cookie $(short "$(printf '%q' "$forged")" | cut -c1-40)"
    served "$what" -H "Cookie: $SESSION_NAME=$forged" --data 'key=forged&value=1' "$URL/session"
    new=$(json_get id)
    unquoted=${forged//\"/}
    before_semicolon=${unquoted%%;*}
    assert_ne "$unquoted" "$new" "$what: a new id"
    assert_match "$new" '^[A-Za-z0-9,-]{22,256}$' "$what: the new id is well-formed"
    assert_eq "$SESSION_NAME=$new" "$(header Set-Cookie | cut -d';' -f1)" "$what: the cookie carries the new id"
    assert_eq 1 "$(json_get data.forged)" "$what: the value went to the new session"
    for node in a b; do
        # shellcheck disable=SC2016 # SQL parameters
        assert_eq - "$(db_value "$node" 'SELECT id FROM php_session WHERE id IN ($1, $2, $3)
            UNION ALL SELECT id FROM php_session_tombstone WHERE id IN ($1, $2, $3)' "$forged" "$unquoted" \
            "$before_semicolon")" \
            "$what: not stored on node $node (neither live nor a tombstone)"
        assert_contains "$(stored "$node" "$new")" 'forged|s:1:"1";' "$what: the new session on node $node"
    done
done
BASE=$(fingerprint)

# ---- injection text: stored verbatim, shown escaped
sql_text="'; DROP TABLE items; --"
script='<script>alert(1)</script>'
attr='" onmouseover="alert(2)'
served "session values with SQL and HTML" "${C[@]}" "${JSON[@]}" \
    --data "{\"inj_sql\":\"'; DROP TABLE items; --\",\"inj_html\":\"<script>alert(1)</script>\",\"inj_attr\":\"\\\" onmouseover=\\\"alert(2)\"}" \
    "$URL/session"
assert_eq "$sql_text" "$(json_get data.inj_sql)" "SQL text as a session value: answered verbatim"
assert_eq "$script" "$(json_get data.inj_html)" "HTML as a session value: answered verbatim"
form_sql="x' OR '1'='1'; DELETE FROM php_session; --"
served "a session value with SQL by form" "${C[@]}" --data-urlencode key=inj_form --data-urlencode "value=$form_sql" \
    "$URL/session"
for node in a b; do
    row=$(stored "$node" "$SID")
    assert_contains "$row" "inj_sql|s:${#sql_text}:\"$sql_text\";" "SQL session value on node $node, verbatim"
    assert_contains "$row" "inj_html|s:${#script}:\"$script\";" "HTML session value on node $node, verbatim"
    assert_contains "$row" "inj_attr|s:${#attr}:\"$attr\";" "attribute-breaking session value on node $node, verbatim"
    assert_contains "$row" "inj_form|s:${#form_sql}:\"$form_sql\";" \
        "SQL session value by form on node $node, verbatim"
done
do_curl "${C[@]}" "$URL/"
assert_status 200 "GET / with injected values"
assert_contains "$BODY" '&lt;script&gt;alert(1)&lt;/script&gt;' "GET /: the script is shown escaped"
assert_eq 0 "$(grep -c '<script>alert' <<<"$BODY")" "GET /: no live script"
assert_eq 0 "$(grep -c '" onmouseover="' <<<"$BODY")" "GET /: no attribute breaks out"
assert_contains "$BODY" 'DROP TABLE items; --' "GET /: the SQL text is shown as text"

name="<script>alert(4)</script> '; DROP TABLE items; -- $$"
content='<img src=x onerror=alert(5)> "quoted" & '"'single'"
# shellcheck disable=SC2016 # PHP code
do_curl "${JSON[@]}" --data "$(php -r 'echo json_encode(["action" => "create", "name" => $argv[1], "content" => $argv[2]]);' \
    "$name" "$content")" "$URL/manage"
assert_status 201 "create an item with SQL and HTML in it"
inj_item=$(json_get id)
[[ $inj_item =~ ^[0-9]+$ ]] || inj_item=0
assert_eq "$name" "$(json_get name)" "the item's name answered verbatim"
assert_eq "$content" "$(json_get content)" "the item's content answered verbatim"
for node in a b; do
    # shellcheck disable=SC2016 # SQL parameters
    assert_eq t "$(db_value "$node" 'SELECT name = $2 AND content = $3 FROM items WHERE id = $1::bigint' \
        "$inj_item" "$name" "$content")" "the item on node $node, verbatim"
    assert_ne ERR "$(db_value "$node" 'SELECT count(*) FROM items')" "the items table still exists on node $node"
done
for page in "/manage?before=$((inj_item + 1))" "/manage?edit=$inj_item" "/manage?confirm_delete=$inj_item"; do
    do_curl "${HTML[@]}" "$URL$page"
    assert_status 200 "GET $page"
    assert_contains "$BODY" '&lt;script&gt;alert(4)&lt;/script&gt;' "GET $page: the name is shown escaped"
    assert_eq 0 "$(grep -c -e '<script>alert' -e '<img src=x' <<<"$BODY")" "GET $page: no live script or image"
done
do_curl "${HTML[@]}" "$URL/manage?edit=$inj_item"
assert_contains "$BODY" '&lt;img src=x onerror=alert(5)&gt; &quot;quoted&quot; &amp; ' "the edit form escapes the content"

# ---- header injection in served requests: the stored value never reaches a header
do_curl "${HTML[@]}" "${C[@]}" --data 'key=hdr_inj&value=x%0d%0aX-Injected:%20yes%0d%0aSet-Cookie:%20evil=1' "$URL/session"
assert_status 303 "CR/LF in a value from a browser form"
body_ok served "CR/LF in a value from a browser form"
assert_match "$(header Location)" '^(https?://[^/]+)?/$' "CR/LF in a value: the redirect goes to /"
crlf_value=$'x\r\nX-Injected: yes\r\nSet-Cookie: evil=1'
for node in a b; do
    assert_contains "$(stored "$node" "$SID")" "hdr_inj|s:${#crlf_value}:\"$crlf_value\";" \
        "CR/LF in a value: stored verbatim on node $node"
done
do_curl "${HTML[@]}" -H 'Cookie: '"$SESSION_NAME"'=abcdefghijklmnopqrstuvwx%0d%0aX-Injected:%20yes' \
    --data 'key=a&value=b' "$URL/session"
assert_status 303 "CR/LF in a forged cookie from a browser form"
body_ok served "CR/LF in a forged cookie from a browser form"
do_curl "${C[@]}" "$URL/session?next=%0d%0aX-Injected:%20yes&redirect=http://evil.example/%0d%0aX-Evil:%201"
assert_status 200 "CR/LF in a query"
body_ok served "CR/LF in a query"
do_curl "${HTML[@]}" --data-urlencode action=create --data-urlencode $'name=hdr\r\nX-Injected: yes' "$URL/manage"
assert_status 422 "CR/LF in an item name from a browser form"
body_ok served "CR/LF in an item name from a browser form"

# ---- clean up what part 2 made
do_curl "${JSON[@]}" --data "{\"action\":\"delete\",\"id\":$inj_item}" "$URL/manage"
assert_status 200 "delete the injected item"
do_curl "${JSON[@]}" --data "{\"action\":\"delete\",\"id\":$ITEM}" "$URL/manage"
assert_status 200 "delete the set-up item"
do_curl "${C[@]}" -X DELETE "$URL/session"
assert_status 200 "destroy the session"
for node in a b; do
    assert_deleted "$node" items "$inj_item" "the injected item is a tombstone on node $node, not a live row"
    assert_deleted "$node" items "$ITEM" "the set-up item is a tombstone on node $node, not a live row"
    assert_deleted "$node" php_session "$SID" "the session is a tombstone on node $node, not a live row"
done

finish

#!/usr/bin/env bash
# A reader that knows only the seed's columns sees exactly the live data (docs/PROTOCOL.md, "Rows
# and versions"): php_session and items hold live rows only, deletes are in the tombstone
# tables. A php-cli script (PDO pgsql) reads each node with the seed's own queries:
#   SELECT data FROM php_session WHERE id = ?      (a session handler's read)
#   SELECT 1 FROM php_session WHERE id = ?         (its validateId)
#   SELECT id, name, content FROM items            (a listing)
# After a DELETE /session, a POST /session/regenerate (the old id), an item deleted through
# /manage (by JSON, and by a browser form) and a session that expired and was garbage-collected,
# the reader on BOTH nodes finds nothing for the old id or the deleted item, and still finds a
# live session and a live item (and the regenerated session's new id). The deleted keys are in
# the tombstone tables of both nodes; the collected session leaves no row anywhere.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

SESSION_LIFETIME=${SESSION_LIFETIME:-1440}
JSON=(-H 'Content-Type: application/json')
HTML=(-H 'Accept: text/html')

cat >"$E2E_TMP/reader.php" <<'PHP'
<?php
// The seed's reader: php_session(id, data, date_change) and items(id, name, content, updated_at),
// nothing else. Arguments: node, session ids, item ids (each list space-separated: a session id may
// hold commas).
// One line per id: "session ID none|data:HEX valid|invalid", "item ID absent|present HEX(name)".
[, $node, $sessions, $items] = $argv;
$port = getenv($node === 'a' ? 'NODE_A_PORT' : 'NODE_B_PORT');
$db = getenv($node === 'a' ? 'NODE_A_DB' : 'NODE_B_DB');
try {
    $pdo = new PDO(sprintf('pgsql:host=%s;port=%s;dbname=%s;connect_timeout=5', getenv('BIND_HOST'), $port, $db),
        getenv('CLUSTER_DB_USER'), getenv('CLUSTER_DB_PASSWORD'), [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $read = $pdo->prepare('SELECT data FROM php_session WHERE id = ?');
    $validate = $pdo->prepare('SELECT 1 FROM php_session WHERE id = ?');
    foreach (preg_split('/ +/', $sessions, -1, PREG_SPLIT_NO_EMPTY) as $id) {
        $read->execute([$id]);
        $row = $read->fetch(PDO::FETCH_NUM);
        $data = $row === false ? null : (is_resource($row[0]) ? stream_get_contents($row[0]) : (string)$row[0]);
        $validate->execute([$id]);
        $valid = $validate->fetchColumn() !== false;
        echo "session $id ", $data === null ? 'none' : 'data:' . bin2hex($data), ' ', $valid ? 'valid' : 'invalid', "\n";
    }
    $names = [];
    foreach ($pdo->query('SELECT id, name, content FROM items')->fetchAll(PDO::FETCH_NUM) as [$id, $name, $content]) {
        $names[(string)$id] = $name;
    }
    foreach (preg_split('/ +/', $items, -1, PREG_SPLIT_NO_EMPTY) as $id) {
        echo "item $id ", isset($names[$id]) ? 'present ' . bin2hex($names[$id]) : 'absent', "\n";
    }
} catch (Throwable $e) {
    echo 'error ', str_replace("\n", ' ', $e->getMessage()), "\n";
    exit(1);
}
PHP
export BIND_HOST NODE_A_PORT NODE_B_PORT NODE_A_DB NODE_B_DB CLUSTER_DB_USER CLUSTER_DB_PASSWORD

# reader NODE SESSIONS ITEMS: the reader's lines (space-separated ids).
reader() { php "$E2E_TMP/reader.php" "$@" 2>&1; }
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

LIVE_SESSIONS=()
LIVE_ITEMS=()
# check_reader WHAT GONE-SESSIONS GONE-ITEMS (space-separated): on both nodes the reader finds none of the gone
# sessions and items, and every live one (LIVE_SESSIONS: "id value-fragment", LIVE_ITEMS: "id name").
check_reader() {
    local what=$1 sessions=$2 items=$3 node out id entry fragment name gone_sessions=() gone_items=()
    read -ra gone_sessions <<<"$sessions"
    read -ra gone_items <<<"$items"
    local all_sessions=$sessions all_items=$items
    for entry in "${LIVE_SESSIONS[@]}"; do all_sessions+=" ${entry%% *}"; done
    for entry in "${LIVE_ITEMS[@]}"; do all_items+=" ${entry%% *}"; done
    for node in a b; do
        out=$(reader "$node" "$all_sessions" "$all_items")
        if [[ $out == error* ]]; then
            fail "$what: the reader on node $node failed: $out"
            continue
        fi
        for id in "${gone_sessions[@]}"; do
            assert_eq "session $id none invalid" "$(grep "^session $id " <<<"$out")" \
                "$what: node $node's reader finds no session $id"
        done
        for id in "${gone_items[@]}"; do
            assert_eq "item $id absent" "$(grep "^item $id " <<<"$out")" "$what: node $node's reader finds no item $id"
        done
        for entry in "${LIVE_SESSIONS[@]}"; do
            id=${entry%% *} fragment=${entry#* }
            assert_match "$(grep "^session $id " <<<"$out")" "^session $id data:[0-9a-f]*$(hex "$fragment")[0-9a-f]* valid$" \
                "$what: node $node's reader finds the live session $id with its data"
        done
        for entry in "${LIVE_ITEMS[@]}"; do
            id=${entry%% *} name=${entry#* }
            assert_eq "item $id present $(hex "$name")" "$(grep "^item $id " <<<"$out")" \
                "$what: node $node's reader finds the live item $id"
        done
    done
}

# new_session FRONT JAR VALUE: a session with color=VALUE; its id in SID.
new_session() {
    do_curl -b "$2" -c "$2" --data "key=color&value=$3" "$(front_url "$1")/session"
    assert_status 200 "[$1] a session with color=$3"
    SID=$(cookie_value "$2" "$SESSION_NAME")
    assert_match "$SID" '^[A-Za-z0-9,-]{22,256}$' "[$1] the session cookie"
}

# ---------------------------------------------------------------- the live controls

live_jar=$E2E_TMP/live.jar
new_session haproxy "$live_jar" live$$
live_sid=$SID
live_name="reader live item $$"
do_curl "${JSON[@]}" --data "{\"action\":\"create\",\"name\":\"$live_name\",\"content\":\"kept\"}" "$E2E_HAPROXY/manage"
assert_status 201 "a live item"
live_item=$(json_get id)
[[ $live_item =~ ^[0-9]+$ ]] || live_item=0
LIVE_SESSIONS=("$live_sid color|s:$((${#$} + 4)):\"live$$\";")
LIVE_ITEMS=("$live_item $live_name")
check_reader "before any delete" "" ""

# ---------------------------------------------------------------- DELETE /session

jar=$E2E_TMP/destroyed.jar
new_session nginx "$jar" gone$$
destroyed=$SID
check_reader "a new session" "" ""
out=$(reader a "$destroyed" "")
assert_match "$out" "^session $destroyed data:[0-9a-f]+ valid$" "node a's reader finds the new session before DELETE"
do_curl -b "$jar" -c "$jar" -X DELETE "$E2E_NGINX/session"
assert_status 200 "[nginx] DELETE /session"
check_reader "after DELETE /session" "$destroyed" ""
for node in a b; do assert_deleted "$node" php_session "$destroyed" "the destroyed session is a tombstone on node $node"; done

# ---------------------------------------------------------------- POST /session/regenerate

jar=$E2E_TMP/regenerated.jar
new_session lighttpd "$jar" regen$$
old=$SID
do_curl -b "$jar" -c "$jar" --data '' "$E2E_LIGHTTPD/session/regenerate"
assert_status 200 "[lighttpd] POST /session/regenerate"
new=$(cookie_value "$jar" "$SESSION_NAME")
assert_ne "$old" "$new" "regenerate gives a new id"
LIVE_SESSIONS+=("$new color|s:$((${#$} + 5)):\"regen$$\";")
check_reader "after POST /session/regenerate" "$old" ""
for node in a b; do
    assert_deleted "$node" php_session "$old" "the regenerated session's old id is a tombstone on node $node"
    assert_live "$node" php_session "$new" "the new id is live on node $node"
done

# ---------------------------------------------------------------- items deleted through /manage

do_curl "${JSON[@]}" --data "{\"action\":\"create\",\"name\":\"reader json item $$\",\"content\":\"x\"}" "$E2E_HAPROXY/manage"
assert_status 201 "[haproxy] create an item by JSON"
json_item=$(json_get id)
[[ $json_item =~ ^[0-9]+$ ]] || json_item=0
check_reader "an item created by JSON" "" ""
out=$(reader b "" "$json_item")
assert_eq "item $json_item present $(hex "reader json item $$")" "$out" "node b's reader finds the new item"
do_curl "${JSON[@]}" --data "{\"action\":\"delete\",\"id\":$json_item}" "$E2E_HAPROXY/manage"
assert_status 200 "[haproxy] delete the item by JSON"

form_name="reader form item $$"
do_curl "${HTML[@]}" --data-urlencode action=create --data-urlencode "name=$form_name" --data-urlencode content=y \
    "$E2E_NGINX/manage"
assert_status 303 "[nginx] create an item by a browser form"
form_item=$(psql_a "SELECT id FROM items WHERE name = $(quote_sql "$form_name")")
[[ $form_item =~ ^[0-9]+$ ]] || form_item=0
do_curl "${HTML[@]}" --data "action=delete&id=$form_item" "$E2E_LIGHTTPD/manage"
assert_status 303 "[lighttpd] delete the item by a browser form"
check_reader "after the item deletes" "" "$json_item $form_item"
for node in a b; do
    assert_deleted "$node" items "$json_item" "the item deleted by JSON is a tombstone on node $node"
    assert_deleted "$node" items "$form_item" "the item deleted by a form is a tombstone on node $node"
done

# ---------------------------------------------------------------- expiry and garbage collection

jar=$E2E_TMP/expired.jar
new_session haproxy "$jar" old$$
expired=$SID
for node in a b; do
    assert_eq 1 "$(psql_node "$node" "UPDATE php_session SET date_change = (now() AT TIME ZONE 'UTC')
        - make_interval(secs => $SESSION_LIFETIME + 86400) WHERE id = $(quote_sql "$expired") RETURNING 1")" \
        "the session's date_change is set a day past its lifetime on node $node"
done
# shellcheck disable=SC2317 # called through poll
collected() { [ "$(key_state a php_session "$expired")|$(key_state b php_session "$expired")" = "absent|absent" ]; }
if poll 30 collected; then pass "the expired session is collected on both nodes"; else
    fail "the expired session is not collected within 30 s: node a $(key_state a php_session "$expired"), node b $(key_state b php_session "$expired")"
fi
check_reader "after garbage collection" "$expired" "$json_item $form_item"
for node in a b; do
    assert_eq absent "$(key_state "$node" php_session "$expired")" "no row and no tombstone of the collected session on node $node"
done
do_curl -H "Cookie: $SESSION_NAME=$expired" "$E2E_HAPROXY/session"
assert_status 200 "GET /session with the collected id"
assert_ne "$expired" "$(json_get id)" "the collected id is not adopted"

# ---------------------------------------------------------------- clean up

do_curl -b "$live_jar" -X DELETE "$E2E_HAPROXY/session"
assert_status 200 "destroy the live session"
do_curl -b "$E2E_TMP/regenerated.jar" -X DELETE "$E2E_HAPROXY/session"
assert_status 200 "destroy the regenerated session"
do_curl "${JSON[@]}" --data "{\"action\":\"delete\",\"id\":$live_item}" "$E2E_HAPROXY/manage"
assert_status 200 "delete the live item"
LIVE_SESSIONS=()
LIVE_ITEMS=()
check_reader "after the clean-up" "$live_sid $new" "$live_item"

finish

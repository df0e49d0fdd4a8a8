#!/usr/bin/env bash
# Upgrading from the previous layout (docs/PROTOCOL.md, "Upgrading from the previous layout").
# Two scratch databases, one on each test node, are loaded from pg_dumps of a pair of nodes of
# the previous layout (Tests/e2e/fixtures/previous-layout-{a,b}.sql: tombstones were rows with
# deleted = true; node A's outbox holds a destroy, a delete, a create and a session change made
# while B was down). Then:
#   * the old layout is there: rows marked deleted, no tombstone tables;
#   * schema.sql moves every such row into php_session_tombstone / items_tombstone with its key,
#     clock, writer and time (deleted_at = its date_change / updated_at), leaves the live rows
#     and the outbox as they were, and a second run changes nothing (every table's content and
#     the schema itself);
#   * a writer of the previous layout (the previous responder's settlement upsert with
#     deleted = true) has its row turned into a tombstone at once, and a live insert of a
#     tombstoned key is skipped;
#   * one responder (the cluster's binary) started on the two scratch databases carries A's
#     outbox to B: the session destroyed and the item deleted while B was away become tombstones
#     on B, the item created meanwhile is live on B, the changed session has A's data on B, and
#     A's outbox empties.
# The fixtures' clocks are moved forward (the same amount on both, before anything else) so that
# their newest write is a minute old: the sessions must not have expired when the responder
# copies them. The scratch databases are dropped at the end, however the test ends.
# Creating a database needs the postgres superuser: over the node's Unix socket in
# $CLUSTER_DIR/run, as the postgres user when the test runs as root (as deploy/cluster does).
# Helpers run through at_exit and poll (SC2317).
# shellcheck source=Tests/e2e/lib.sh disable=SC2317
source "$(dirname "$0")/lib.sh"

FIXTURES=$E2E_DIR/fixtures
SCHEMA=$E2E_ROOT/schema.sql
RUN_DIR=${CLUSTER_DIR:-$E2E_ROOT/.cluster}/run
RESPONDER=${UPGRADE_RESPONDER:-${CLUSTER_DIR:-$E2E_ROOT/.cluster}/bin/responder}
SCRATCH_A=upgrade_test_a_$$
SCRATCH_B=upgrade_test_b_$$

# What the fixtures hold (their header): written on A alone while B was down, queued for B.
DESTROYED=aZMXJRnEpX9LLGcIN0XbAMtpB7QFk6YV # live on B, destroyed on A
CHANGED=zkPkHsdvKueBvMvs-WkXCwPY2H1xJtpV   # on both, changed on A
DELETED_ITEM=9553                          # live on B, deleted on A
CREATED_ITEM=9559                          # created on A
LIVE_SESSION=SYrekT2PtoZU7WK3zfLMgeuwcWhX3frj # live on both, not queued
LIVE_ITEM=9551                             # live on both, not queued
OLD_TOMBSTONE=FaaVZprwAnVXRfTuNo8128wJ7AyNSNaH # a session destroyed before the outage

node_port() { if [ "$1" = a ]; then printf '%s' "$NODE_A_PORT"; else printf '%s' "$NODE_B_PORT"; fi; }
scratch_db() { if [ "$1" = a ]; then printf '%s' "$SCRATCH_A"; else printf '%s' "$SCRATCH_B"; fi; }

# psql_super NODE ARGS...: psql as the postgres superuser on the node's Unix socket.
psql_super() {
    local port
    port=$(node_port "$1")
    shift
    local as=()
    [ "$(id -u)" -ne 0 ] || as=(runuser -u postgres --)
    "${as[@]}" psql -X -q -At -h "$RUN_DIR" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

# scratch NODE ARGS...: psql as the cluster's user on the node's scratch database (-At).
scratch() {
    local node=$1
    shift
    PGPASSWORD=$CLUSTER_DB_PASSWORD PGCONNECT_TIMEOUT=5 psql -X -q -At -h "$BIND_HOST" -p "$(node_port "$node")" \
        -U "$CLUSTER_DB_USER" -d "$(scratch_db "$node")" -v ON_ERROR_STOP=1 "$@"
}
sq() { scratch "$1" -c "$2"; }

# state NODE TABLE KEY: live, tombstone, absent or live+tombstone (never allowed) on the scratch database.
state() {
    sq "$1" "SELECT CASE WHEN l AND t THEN 'live+tombstone' WHEN l THEN 'live' WHEN t THEN 'tombstone' ELSE 'absent' END
        FROM (SELECT EXISTS (SELECT 1 FROM $2 WHERE id = $(quote_sql "$3")) AS l,
                     EXISTS (SELECT 1 FROM ${2}_tombstone WHERE id = $(quote_sql "$3")) AS t) AS k" 2>&1
}

drop_scratch() {
    local node
    for node in a b; do
        psql_super "$node" -c "DROP DATABASE IF EXISTS $(scratch_db "$node") WITH (FORCE)" >/dev/null 2>&1 ||
            printf '  (could not drop the scratch database %s on node %s)\n' "$(scratch_db "$node")" "$node"
    done
}

# ---------------------------------------------------------------- the scratch databases

at_exit drop_scratch
for node in a b; do
    if ! out=$(psql_super "$node" -c "CREATE DATABASE $(scratch_db "$node") OWNER $CLUSTER_DB_USER
        ENCODING 'UTF8' TEMPLATE template0" 2>&1); then
        fail "node $node: create the scratch database as postgres on $RUN_DIR: $(short "$out")"
        finish
    fi
    if out=$(scratch "$node" -f "$FIXTURES/previous-layout-$node.sql" 2>&1 >/dev/null); then
        pass "node $node: the fixture loads"
    else
        fail "node $node: loading previous-layout-$node.sql: $(short "$out")"
        finish
    fi
done

# The fixtures' clocks, moved forward on both nodes alike: the newest write a minute ago.
newest=0
for node in a b; do
    n=$(sq "$node" "SELECT max(hlc >> 16) FROM (SELECT hlc FROM php_session UNION ALL SELECT hlc FROM items) AS r")
    [[ $n =~ ^[0-9]+$ ]] && ((n > newest)) && newest=$n
done
shift_ms=$(($(date +%s%3N) - 60000 - newest))
for node in a b; do
    sq "$node" "UPDATE php_session SET hlc = hlc + ($shift_ms::bigint << 16),
            date_change = date_change + make_interval(secs => $shift_ms / 1000.0);
        UPDATE items SET hlc = hlc + ($shift_ms::bigint << 16),
            updated_at = updated_at + make_interval(secs => $shift_ms / 1000.0)" >/dev/null ||
        fail "node $node: moving the fixture's clocks"
done

# ---------------------------------------------------------------- the previous layout

# Digests of what the upgrade must keep (the key, clock, writer and time of each delete; the
# live rows; the outbox; the sequence).
deleted_sessions="SELECT coalesce(string_agg(concat_ws('|', id, hlc, origin, date_change), ' ' ORDER BY id), '-')
    FROM php_session WHERE deleted"
deleted_items="SELECT coalesce(string_agg(concat_ws('|', id, hlc, origin, updated_at), ' ' ORDER BY id), '-')
    FROM items WHERE deleted"
session_tombstones="SELECT coalesce(string_agg(concat_ws('|', id, hlc, origin, deleted_at), ' ' ORDER BY id), '-')
    FROM php_session_tombstone"
item_tombstones="SELECT coalesce(string_agg(concat_ws('|', id, hlc, origin, deleted_at), ' ' ORDER BY id), '-')
    FROM items_tombstone"
live_sessions="SELECT count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', id, encode(data, 'hex'), date_change,
    hlc, origin), E'\n' ORDER BY id), '')) FROM php_session WHERE NOT deleted"
live_items="SELECT count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', id, name, content, updated_at, hlc, origin),
    E'\n' ORDER BY id), '')) FROM items WHERE NOT deleted"
outbox="SELECT count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', seq, table_name, row_key, queued_at),
    E'\n' ORDER BY seq), '')) FROM replication_outbox"
sequence="SELECT last_value || '/' || is_called FROM items_id_seq"

declare -A before
for node in a b; do
    assert_eq "true true" "$(sq "$node" "SELECT (to_regclass('php_session_tombstone') IS NULL) || ' ' ||
        (to_regclass('items_tombstone') IS NULL)")" "node $node: the previous layout has no tombstone tables"
    before[$node.sessions]=$(sq "$node" "$deleted_sessions")
    before[$node.items]=$(sq "$node" "$deleted_items")
    before[$node.live_sessions]=$(sq "$node" "$live_sessions")
    before[$node.live_items]=$(sq "$node" "$live_items")
    before[$node.outbox]=$(sq "$node" "$outbox")
    before[$node.sequence]=$(sq "$node" "$sequence")
done
assert_eq "6 3" "$(sq a "SELECT (SELECT count(*) FROM php_session WHERE deleted) || ' ' ||
    (SELECT count(*) FROM items WHERE deleted)")" "node a: 6 sessions and 3 items are rows marked deleted"
assert_eq "5 2" "$(sq b "SELECT (SELECT count(*) FROM php_session WHERE deleted) || ' ' ||
    (SELECT count(*) FROM items WHERE deleted)")" "node b: 5 sessions and 2 items are rows marked deleted"
assert_eq "t|f f|t t|f" "$(sq a "SELECT deleted FROM php_session WHERE id = '$DESTROYED'")|$(sq b "SELECT deleted FROM php_session WHERE id = '$DESTROYED'") $(
    sq a "SELECT deleted FROM items WHERE id = $CREATED_ITEM")|$(sq b "SELECT count(*) = 1 FROM items WHERE id = $CREATED_ITEM OR id = $DELETED_ITEM AND NOT deleted") $(
    sq a "SELECT deleted FROM items WHERE id = $DELETED_ITEM")|$(sq b "SELECT deleted FROM items WHERE id = $DELETED_ITEM")" \
    "the fixtures: the destroy and the delete made on A alone, the create only on A"
assert_eq "php_session|$DESTROYED items|$DELETED_ITEM items|$CREATED_ITEM php_session|$CHANGED" \
    "$(sq a "SELECT string_agg(table_name || '|' || row_key, ' ' ORDER BY seq) FROM replication_outbox")" \
    "node a's outbox holds the four changes made while B was away"
assert_eq 0 "$(sq b "SELECT count(*) FROM replication_outbox")" "node b's outbox is empty"

# ---------------------------------------------------------------- schema.sql

for node in a b; do
    if out=$(scratch "$node" -v node="$node" -f "$SCHEMA" 2>&1); then pass "node $node: schema.sql applies"; else
        fail "node $node: schema.sql failed: $(short "$out")"
    fi
    assert_eq "0 0" "$(sq "$node" "SELECT (SELECT count(*) FROM php_session WHERE deleted) || ' ' ||
        (SELECT count(*) FROM items WHERE deleted)")" "node $node: no row marked deleted is left"
    assert_eq "${before[$node.sessions]}" "$(sq "$node" "$session_tombstones")" \
        "node $node: php_session_tombstone holds exactly the deleted sessions, with their hlc, origin and time"
    assert_eq "${before[$node.items]}" "$(sq "$node" "$item_tombstones")" \
        "node $node: items_tombstone holds exactly the deleted items, with their hlc, origin and time"
    assert_eq "${before[$node.live_sessions]}" "$(sq "$node" "$live_sessions")" "node $node: the live sessions are unchanged"
    assert_eq "${before[$node.live_items]}" "$(sq "$node" "$live_items")" "node $node: the live items are unchanged"
    assert_eq "${before[$node.outbox]}" "$(sq "$node" "$outbox")" "node $node: the outbox is unchanged"
    assert_eq "${before[$node.sequence]}" "$(sq "$node" "$sequence")" "node $node: the item sequence is unchanged"
done

# everything NODE: a digest of every table's rows, and the schema (pg_dump -s).
everything() {
    local table
    while read -r table; do
        printf '%s %s\n' "$table" "$(sq "$1" "SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\n'
            ORDER BY t::text), '')) FROM $table t")"
    done < <(sq "$1" "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    PGPASSWORD=$CLUSTER_DB_PASSWORD pg_dump -s -h "$BIND_HOST" -p "$(node_port "$1")" -U "$CLUSTER_DB_USER" \
        "$(scratch_db "$1")" 2>&1 | grep -v -e '^\\restrict' -e '^\\unrestrict' | md5sum
}
for node in a b; do
    first=$(everything "$node")
    if out=$(scratch "$node" -v node="$node" -f "$SCHEMA" 2>&1); then pass "node $node: schema.sql applies again"; else
        fail "node $node: schema.sql failed the second time: $(short "$out")"
    fi
    second=$(everything "$node")
    if [ "$first" = "$second" ]; then
        pass "node $node: the second schema.sql changed nothing ($(wc -l <<<"$first") tables and the schema)"
    else
        fail "node $node: the second schema.sql changed: $(diff <(printf '%s\n' "$first") <(printf '%s\n' "$second") | grep '^[<>]' | tr '\n' ' ')"
    fi
done

# ---------------------------------------------------------------- writers of the previous layout

# The previous responder's settlement upsert (sessionPut / itemPut), marking a live row deleted.
hlc=$(sq a "SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint << 16)")
old_session_delete="INSERT INTO php_session AS s (id, data, hlc, origin, deleted, date_change)
SELECT \$1::varchar, ''::bytea, \$2::bigint, 4242, true, to_timestamp((\$2::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC'
WHERE true
ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin,
    deleted = EXCLUDED.deleted, date_change = EXCLUDED.date_change
WHERE NOT s.deleted AND (EXCLUDED.deleted OR (s.hlc, s.origin) < (EXCLUDED.hlc, EXCLUDED.origin))
RETURNING id"
old_item_delete="INSERT INTO items AS i (id, name, content, updated_at, hlc, origin, deleted)
SELECT \$1::bigint, '', '', to_timestamp((\$2::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC', \$2::bigint, 4242, true
WHERE true
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, content = EXCLUDED.content,
    updated_at = EXCLUDED.updated_at, hlc = EXCLUDED.hlc, origin = EXCLUDED.origin, deleted = EXCLUDED.deleted
WHERE NOT i.deleted AND (EXCLUDED.deleted OR (i.hlc, i.origin) < (EXCLUDED.hlc, EXCLUDED.origin))
RETURNING id"
for node in a b; do
    assert_eq live "$(state "$node" php_session "$LIVE_SESSION")" "node $node: session ${LIVE_SESSION:0:8}… is live"
    assert_eq live "$(state "$node" items "$LIVE_ITEM")" "node $node: item $LIVE_ITEM is live"
done
sq a "PREPARE p AS $old_session_delete; EXECUTE p('$LIVE_SESSION', $hlc)" >/dev/null ||
    fail "node a: the previous layout's upsert of a deleted session"
assert_eq tombstone "$(state a php_session "$LIVE_SESSION")" \
    "node a: a live session a writer of the previous layout marks deleted becomes a tombstone"
assert_eq "$hlc|4242|t" "$(sq a "SELECT concat_ws('|', hlc, origin,
    deleted_at = to_timestamp(($hlc::bigint >> 16) / 1000.0) AT TIME ZONE 'UTC')
    FROM php_session_tombstone WHERE id = '$LIVE_SESSION'")" "node a: the tombstone has the writer's clock, origin and time"
fresh=previous-layout-fresh-$$
sq a "PREPARE p AS $old_session_delete; EXECUTE p('$fresh', $hlc)" >/dev/null ||
    fail "node a: the previous layout's insert of a deleted session"
assert_eq tombstone "$(state a php_session "$fresh")" "node a: a new session inserted marked deleted is a tombstone"
sq a "PREPARE p AS $old_item_delete; EXECUTE p($LIVE_ITEM, $hlc)" >/dev/null ||
    fail "node a: the previous layout's upsert of a deleted item"
assert_eq tombstone "$(state a items "$LIVE_ITEM")" \
    "node a: a live item a writer of the previous layout marks deleted becomes a tombstone"
assert_eq "$hlc|4242" "$(sq a "SELECT hlc || '|' || origin FROM items_tombstone WHERE id = $LIVE_ITEM")" \
    "node a: the item's tombstone has the writer's clock and origin"
assert_eq "0 0" "$(sq a "SELECT (SELECT count(*) FROM php_session WHERE deleted) || ' ' ||
    (SELECT count(*) FROM items WHERE deleted)")" "node a: still no row marked deleted"

# A live row never comes back over a tombstone: a new insert, and the previous layout's upsert
# of a live copy with a greater clock, are both skipped.
newer=$((hlc + 65536))
assert_eq "" "$(sq a "INSERT INTO php_session (id, data, hlc, origin, date_change)
    VALUES ('$OLD_TOMBSTONE', 'revived', $newer, 77, now() AT TIME ZONE 'UTC') ON CONFLICT (id) DO NOTHING RETURNING id")" \
    "node a: a live insert of a migrated tombstone's key inserts nothing"
assert_eq tombstone "$(state a php_session "$OLD_TOMBSTONE")" "node a: the migrated tombstone stays, no live row"
old_session_put=${old_session_delete/, 4242, true,/, 77, false,}
sq a "PREPARE p AS $old_session_put; EXECUTE p('$LIVE_SESSION', $newer)" \
    >/dev/null || fail "node a: the previous layout's upsert of a live session"
assert_eq "tombstone $hlc|4242" "$(state a php_session "$LIVE_SESSION") $(sq a "SELECT hlc || '|' || origin
    FROM php_session_tombstone WHERE id = '$LIVE_SESSION'")" \
    "node a: the previous layout's live upsert of a tombstoned session (newer clock) is skipped"
assert_eq "" "$(sq a "INSERT INTO items (id, name, content, hlc, origin) VALUES (9547, 'revived', '', $newer, 77)
    ON CONFLICT (id) DO NOTHING RETURNING id")" "node a: a live insert of a migrated item tombstone's key inserts nothing"
assert_eq tombstone "$(state a items 9547)" "node a: item 9547 stays a tombstone"
# And a tombstone written for a live key removes the live row.
live_b=NgLrT7MXo-JL,3se9-7g7Za7aOGd0OaL
assert_eq live "$(state b php_session "$live_b")" "node b: session ${live_b:0:8}… is live"
sq b "INSERT INTO php_session_tombstone (id, hlc, origin, deleted_at)
    VALUES ('$live_b', $hlc, 4243, now() AT TIME ZONE 'UTC')" >/dev/null || fail "node b: writing a tombstone"
assert_eq tombstone "$(state b php_session "$live_b")" "node b: a tombstone removes the live row"

# ---------------------------------------------------------------- catch-up by a responder

want_changed=$(sq a "SELECT concat_ws('|', encode(data, 'hex'), hlc, origin) FROM php_session WHERE id = '$CHANGED'")
want_destroyed=$(sq a "SELECT hlc || '|' || origin FROM php_session_tombstone WHERE id = '$DESTROYED'")
want_deleted=$(sq a "SELECT hlc || '|' || origin FROM items_tombstone WHERE id = $DELETED_ITEM")
want_created=$(sq a "SELECT concat_ws('|', name, content, hlc, origin) FROM items WHERE id = $CREATED_ITEM")
assert_ne "$want_changed" "$(sq b "SELECT concat_ws('|', encode(data, 'hex'), hlc, origin) FROM php_session
    WHERE id = '$CHANGED'")" "node b holds an older copy of the changed session"
assert_eq "live absent" "$(state b php_session "$DESTROYED") $(state b items "$CREATED_ITEM")" \
    "node b: the destroyed session still live, the created item absent"

if [ ! -x "$RESPONDER" ]; then
    fail "no responder binary at $RESPONDER (set UPGRADE_RESPONDER)"
    finish
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
envs=("PATH=/usr/local/bin:/usr/bin:/bin" "LANG=C.UTF-8" "HOME=$E2E_TMP"
    "DB1_HOST=$BIND_HOST" "DB1_PORT=$NODE_A_PORT" "DB1_NAME=$SCRATCH_A" "DB1_USER=$CLUSTER_DB_USER"
    "DB1_PASSWORD=$CLUSTER_DB_PASSWORD" "DB2_HOST=$BIND_HOST" "DB2_PORT=$NODE_B_PORT" "DB2_NAME=$SCRATCH_B"
    "DB2_USER=$CLUSTER_DB_USER" "DB2_PASSWORD=$CLUSTER_DB_PASSWORD" "RESPONDER_NAME=upgrade-$$"
    "LOG_FILE=$E2E_TMP/responder.log" "WORKERS=1" "SESSION_LIFETIME=86400")
[ -z "${LD_LIBRARY_PATH:-}" ] || envs+=("LD_LIBRARY_PATH=$LD_LIBRARY_PATH")
env -i "${envs[@]}" "$RESPONDER" --listen "$BIND_HOST:$port" </dev/null >"$E2E_TMP/responder.out" 2>&1 &
responder_pid=$!
at_exit kill "$responder_pid"

caught_up() {
    [ "$(sq a "SELECT count(*) FROM replication_outbox")" = 0 ] &&
        [ "$(state b php_session "$DESTROYED")" = tombstone ] && [ "$(state b items "$DELETED_ITEM")" = tombstone ] &&
        [ "$(state b items "$CREATED_ITEM")" = live ] &&
        [ "$(sq b "SELECT concat_ws('|', encode(data, 'hex'), hlc, origin) FROM php_session WHERE id = '$CHANGED'")" = "$want_changed" ]
}
if poll 15 caught_up; then pass "a responder on the upgraded nodes catches B up within 15 s"; else
    fail "B is not caught up 15 s after the responder started (its log: $(short "$(tail -n 5 "$E2E_TMP/responder.log" "$E2E_TMP/responder.out" 2>/dev/null)"))"
fi
if kill -0 "$responder_pid" 2>/dev/null; then pass "the responder runs"; else
    fail "the responder exited: $(short "$(cat "$E2E_TMP/responder.out")")"
fi
assert_eq "tombstone $want_destroyed" "$(state b php_session "$DESTROYED") $(sq b "SELECT hlc || '|' || origin
    FROM php_session_tombstone WHERE id = '$DESTROYED'")" "node b: the session destroyed while B was away is a tombstone"
assert_eq "tombstone $want_deleted" "$(state b items "$DELETED_ITEM") $(sq b "SELECT hlc || '|' || origin
    FROM items_tombstone WHERE id = $DELETED_ITEM")" "node b: the item deleted while B was away is a tombstone"
assert_eq "live $want_created" "$(state b items "$CREATED_ITEM") $(sq b "SELECT concat_ws('|', name, content, hlc, origin)
    FROM items WHERE id = $CREATED_ITEM")" "node b: the item created while B was away is live, as on A"
assert_eq "$want_changed" "$(sq b "SELECT concat_ws('|', encode(data, 'hex'), hlc, origin) FROM php_session
    WHERE id = '$CHANGED'")" "node b: the session changed while B was away has A's data"
assert_eq 0 "$(sq a "SELECT count(*) FROM replication_outbox")" "node a's outbox is empty"
for node in a b; do
    assert_eq "0 0 0 0" "$(sq "$node" "SELECT (SELECT count(*) FROM php_session WHERE deleted) || ' ' ||
        (SELECT count(*) FROM items WHERE deleted) || ' ' ||
        (SELECT count(*) FROM php_session JOIN php_session_tombstone USING (id)) || ' ' ||
        (SELECT count(*) FROM items JOIN items_tombstone USING (id))")" \
        "node $node: no row marked deleted, no key live and tombstoned at once"
done

finish

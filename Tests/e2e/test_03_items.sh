#!/usr/bin/env bash
# Items through each front end: create, update, list and delete by JSON,
# each change on both nodes (a delete leaves no live row, a tombstone on
# both); the error statuses; browser forms get 303.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

# item_name NODE ID: the live item's name on a node, empty when none.
item_name() {
    psql_node "$1" "SELECT name FROM items WHERE id = $2"
}

# listed ID: the item's name in the last GET /manage JSON, or nothing.
listed() {
    # shellcheck disable=SC2016 # PHP code
    printf '%s' "$BODY" | php -r '
        $j = json_decode(stream_get_contents(STDIN), true);
        foreach ($j["items"] ?? [] as $i) if (($i["id"] ?? null) === (int)$argv[1]) { echo $i["name"]; break; }' "$1"
}

json=(-H 'Content-Type: application/json')
for front in "${FRONTS[@]}"; do
    url=$(front_url "$front")
    p="[$front]"
    name="e2e $front $$"

    do_curl "${json[@]}" --data "{\"action\":\"create\",\"name\":\"  $name  \",\"content\":\"c1\"}" "$url/manage"
    assert_status 201 "$p create"
    assert_served_by "$p create"
    id=$(json_get id)
    if [ "$(json_type id)" = int ] && ((id > 0)); then pass "$p item id"; else fail "$p item id: $(short "$BODY")"; fi
    [[ $id =~ ^[0-9]+$ ]] || id=0
    assert_eq "$name" "$(json_get name)" "$p the name is trimmed"
    assert_eq c1 "$(json_get content)" "$p content"
    assert_match "$(json_get updated_at)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$p updated_at"
    for node in a b; do
        assert_eq "$name" "$(item_name "$node" "$id")" "$p the new item on node $node"
        assert_live "$node" items "$id" "$p the new item is live on node $node"
    done

    do_curl "${json[@]}" --data "{\"action\":\"update\",\"id\":$id,\"name\":\"$name v2\"}" "$url/manage"
    assert_status 200 "$p update"
    assert_eq "$name v2" "$(json_get name)" "$p the updated name"
    assert_eq c1 "$(json_get content)" "$p an absent field stays"
    for node in a b; do
        assert_eq "$name v2" "$(item_name "$node" "$id")" "$p the update on node $node"
    done

    do_curl -H 'Accept: application/json' "$url/manage"
    assert_status 200 "$p GET /manage (JSON)"
    assert_eq "$name v2" "$(listed "$id")" "$p the item is listed"

    do_curl "${json[@]}" --data "{\"action\":\"delete\",\"id\":$id}" "$url/manage"
    assert_status 200 "$p delete"
    assert_eq "$id" "$(json_get deleted)" "$p delete answers the id"
    assert_eq int "$(json_type deleted)" "$p the deleted id is a number"
    for node in a b; do
        assert_eq "" "$(item_name "$node" "$id")" "$p the item is gone from node $node"
        assert_deleted "$node" items "$id" "$p the deleted item is a tombstone on node $node, not a live row"
    done
    do_curl -H 'Accept: application/json' "$url/manage"
    assert_eq "" "$(listed "$id")" "$p a deleted item is not listed"

    do_curl "${json[@]}" --data "{\"action\":\"update\",\"id\":$id,\"name\":\"x\"}" "$url/manage"
    assert_status 404 "$p update of a deleted id"
    assert_json_error "$p 404"
    do_curl "${json[@]}" --data '{"action":"bogus","name":"x"}' "$url/manage"
    assert_status 422 "$p action bogus"
    assert_json_error "$p 422"
    do_curl "${json[@]}" --data '{"action":"update","id":"abc","name":"x"}' "$url/manage"
    assert_status 422 "$p non-numeric id (JSON)"
    do_curl --data 'action=delete&id=abc' "$url/manage"
    assert_status 422 "$p non-numeric id (form)"

    do_curl -H 'Accept: text/html' --data "action=create&name=form+$front+$$&content=x" "$url/manage"
    assert_status 303 "$p browser form create"
    assert_served_by "$p 303"
    assert_match "$(header Location)" '^(https?://[^/]+)?/manage$' "$p the form redirects to /manage"
done

finish

#!/usr/bin/env bash
# Item name and content limits, counted in decoded Unicode code points whatever the encoding
# and the transport (docs/API.md, "Items"): a name is 1 to 200 code points after trimming, the
# content at most 10,000. Through each front end, for each of ASCII, precomposed accented Latin
# ("é", 2 bytes), CJK (3 bytes), emoji (4 bytes, a surrogate pair when JSON-escaped) and
# combining marks ("e" + U+0301: 2 code points, 1 grapheme), an item is created at each limit
# and one code point past it, by a browser-style urlencoded form (Accept: text/html, 303; or
# Accept: application/json, 201 with the item) and by a JSON body (raw UTF-8 or \u-escaped).
# At the limit: created, and the row on BOTH nodes holds exactly what was sent (md5 of the
# UTF-8 bytes; the name trimmed). Past it, or an empty or white-space-only name: 422, and no
# row on either node. The byte counts differ from the code point counts in every encoding but
# ASCII, so a byte count fails the accented, CJK and emoji cases; a grapheme count fails the
# combining one (10,001 code points in 5,000 graphemes).
# MAX_FIELD_BYTES (65536 by default) counts a form field's DECODED bytes: 10,000 emoji are
# 40,000 bytes but 120,000 percent-encoded, and must pass; a session value by form of 64,000
# decoded bytes (192,000 encoded) too, while one of 66,000 decoded bytes answers 413.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

MAX_FIELD_BYTES=${MAX_FIELD_BYTES:-65536}
# Every row this run makes carries TAG<case>: in its name, or (an empty name) as its content.
TAG=$(printf 'T%07dn' $(($$ % 10000000)))

cat >"$E2E_TMP/limits.py" <<'PY'
import hashlib, json, os, re, sys, urllib.parse

TMP = os.environ["E2E_TMP"]
TAG = os.environ["TAG"]
# name: (one unit of text, its length in code points, one code point more past a limit)
ENCODINGS = [
    ("ascii", "a", 1, "a"),
    ("latin", "\u00e9", 1, "\u00e9"),        # é precomposed: 2 UTF-8 bytes
    ("cjk", "\u6f22", 1, "\u6f22"),          # 漢: 3 bytes
    ("emoji", "\U0001F600", 1, "\U0001F600"),  # 😀: 4 bytes, \ud83d\ude00 in JSON
    ("combining", "e\u0301", 2, "\u0301"),   # e + COMBINING ACUTE: 2 code points, 1 grapheme
]
NAME_MAX, CONTENT_MAX = 200, 10000


def md5(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def fill(unit, length, count):
    assert count % length == 0
    return unit * (count // length)


def gen(fronts):
    cases, n = [], 0
    for fi, front in enumerate(fronts):
        for ei, (enc, unit, length, extra) in enumerate(ENCODINGS):
            for field in ("name", "content"):
                for limit in ("at", "past"):
                    for transport in ("form", "json"):
                        n += 1
                        tag = "%s%04d:" % (TAG, n)  # 14 code points
                        if field == "name":
                            stored = tag + fill(unit, length, NAME_MAX - len(tag))
                            assert len(stored) == NAME_MAX
                            if limit == "past":
                                stored += extra
                            name, content = "  " + stored + " ", unit * 3
                        else:
                            stored = fill(unit, length, CONTENT_MAX)
                            if limit == "past":
                                stored += extra
                            name, content = tag, stored
                        cases.append(dict(n=n, front=front, fi=fi, ei=ei, what="%s %s %s limit" % (enc, field, limit),
                                          tag=tag, name=name, content=content, transport=transport,
                                          ok=limit == "at"))
        for transport in ("form", "json"):
            for blank in ("", " \t\n "):
                n += 1
                tag = "%s%04d:" % (TAG, n)
                cases.append(dict(n=n, front=front, fi=fi, ei=0, what="name %r" % blank, tag=tag, name=blank,
                                  content=tag, transport=transport, ok=False))
    lines = []
    for c in cases:
        v = (c["fi"] + c["ei"]) % 2
        fields = {"action": "create", "name": c["name"], "content": c["content"]}
        if c["transport"] == "form":
            # As a browser sends it: UTF-8, percent-encoded, spaces as '+'.
            body = urllib.parse.urlencode(fields).encode("ascii")
            c["accept"] = "html" if v == 0 else "json"
            c["how"] = "form (Accept: %s)" % ("text/html" if v == 0 else "application/json")
        else:
            body = json.dumps(fields, ensure_ascii=v == 1).encode("utf-8")
            c["accept"] = "json"
            c["how"] = "JSON (%s)" % ("\\u-escaped" if v == 1 else "UTF-8")
        with open(os.path.join(TMP, "body-%d" % c["n"]), "wb") as f:
            f.write(body)
        c["status"] = ("303" if c["accept"] == "html" else "201") if c["ok"] else "422"
        c["bytes"] = len(body)
        lines.append("\t".join(str(c[k]) for k in ("n", "front", "transport", "accept", "status", "bytes"))
                     + "\t" + c["what"] + ", " + c["how"])
    with open(os.path.join(TMP, "cases.json"), "w") as f:
        json.dump(cases, f)
    print("\n".join(lines))


def rows(path):
    """{tag: [(id, md5 name, md5 content)]} from psql -At output: id|tag|md5(name)|md5(content)."""
    out = {}
    for line in open(path, encoding="utf-8").read().splitlines():
        if line:
            i, tag, mn, mc = line.split("|")
            out.setdefault(tag, []).append((int(i), mn, mc))
    return out


def verify():
    cases = json.load(open(os.path.join(TMP, "cases.json")))
    nodes = {n: rows(os.path.join(TMP, "rows-%s" % n)) for n in "ab"}
    ids = []
    for c in cases:
        p = "[%s] %s (case %d)" % (c["front"], c["what"], c["n"])
        stored_name = c["name"].strip(" \t\n")
        found = {n: nodes[n].get(c["tag"], []) for n in "ab"}
        if not c["ok"]:
            for n in "ab":
                print(("ok" if not found[n] else "FAIL") + " %s: refused, no row on node %s%s" % (
                    p, n, "" if not found[n] else " (found item %s)" % ", ".join(str(r[0]) for r in found[n])))
            continue
        want = (md5(stored_name), md5(c["content"]))
        for n in "ab":
            got = found[n]
            if len(got) != 1:
                print("FAIL %s: expected one row on node %s, found %d" % (p, n, len(got)))
                continue
            bad = [f for f, w, g in (("name", want[0], got[0][1]), ("content", want[1], got[0][2])) if w != g]
            print(("ok" if not bad else "FAIL") + " %s: node %s holds the %s as sent%s" % (
                p, n, c["what"].split()[1], "" if not bad else " (differs: %s)" % ", ".join(bad)))
        if len(found["a"]) == 1 and len(found["b"]) == 1:
            same = found["a"][0][0] == found["b"][0][0]
            print(("ok" if same else "FAIL") + " %s: the same id on both nodes (%s, %s)" % (
                p, found["a"][0][0], found["b"][0][0]))
            ids.append(found["a"][0][0])
        if c["status"] == "201":
            try:
                j = json.load(open(os.path.join(TMP, "resp-%d" % c["n"]), encoding="utf-8"))
            except Exception as e:
                print("FAIL %s: the answer is not JSON: %s" % (p, e))
                continue
            ok = isinstance(j, dict) and isinstance(j.get("id"), int) and isinstance(j.get("name"), str) \
                and isinstance(j.get("content"), str)
            ok = ok and md5(j["name"]) == want[0] and md5(j["content"]) == want[1]
            ok = ok and (not found["a"] or j["id"] == found["a"][0][0])
            print(("ok" if ok else "FAIL") + " %s: the JSON answer shows the stored item" % p)
    with open(os.path.join(TMP, "ids"), "w") as f:
        f.write("".join("%d\n" % i for i in sorted(set(ids))))


def session_value(count):
    """A form body key=emoji&value=<count emoji>, and the md5 of the value."""
    value = "\U0001F600" * count
    body = urllib.parse.urlencode({"key": "emoji", "value": value}).encode("ascii")
    sys.stdout.buffer.write(body)
    with open(os.path.join(TMP, "emoji-%d.md5" % count), "w") as f:
        f.write(md5(value))


def session_stored(count, path):
    """0 when the hex session data in PATH holds emoji|s:<bytes>:"<count emoji>";"""
    value = "\U0001F600" * count
    data = bytes.fromhex(open(path).read().strip() or "")
    fragment = ('emoji|s:%d:"%s";' % (len(value.encode("utf-8")), value)).encode("utf-8")
    return 0 if fragment in data else 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2:])
    elif cmd == "verify":
        verify()
    elif cmd == "session-body":
        session_value(int(sys.argv[2]))
    elif cmd == "session-stored":
        sys.exit(session_stored(int(sys.argv[2]), sys.argv[3]))
PY

export E2E_TMP TAG
python3 "$E2E_TMP/limits.py" gen "${FRONTS[@]}" >"$E2E_TMP/cases.tsv" || {
    fail "generating the cases"
    finish
}

# ---------------------------------------------------------------- the creates

while IFS=$'\t' read -r n front transport accept status bytes what; do
    url=$(front_url "$front")
    args=(--data-binary "@$E2E_TMP/body-$n")
    if [ "$transport" = form ]; then
        args+=(-H 'Content-Type: application/x-www-form-urlencoded')
    else
        args+=(-H 'Content-Type: application/json')
    fi
    if [ "$accept" = html ]; then
        args+=(-H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')
    else
        args+=(-H 'Accept: application/json')
    fi
    do_curl "${args[@]}" "$url/manage"
    assert_status "$status" "[$front] $what ($bytes bytes): status"
    cp "$E2E_TMP/body" "$E2E_TMP/resp-$n"
    case $status in
        303) assert_match "$(header Location)" '^(https?://[^/]+)?/manage$' "[$front] $what: redirects to /manage" ;;
        422)
            if [ "$accept" = json ]; then
                assert_contains "$(header Content-Type)" application/json "[$front] $what: a JSON error"
            else
                assert_contains "$(header Content-Type)" text/html "[$front] $what: an HTML error page"
            fi
            ;;
    esac
done <"$E2E_TMP/cases.tsv"

# ---------------------------------------------------------------- what the nodes hold

# A create writes every usable node before it answers: each row is on both nodes already.
query="SELECT id, coalesce(substring(name from '${TAG}[0-9]{4}:'), substring(content from '^${TAG}[0-9]{4}:')),
    md5(name), md5(content) FROM items WHERE name ~ '$TAG' OR content ~ '^$TAG' ORDER BY id"
for node in a b; do
    if ! psql_node "$node" "$query" >"$E2E_TMP/rows-$node"; then
        fail "node $node: the rows could not be read"
    fi
done
python3 "$E2E_TMP/limits.py" verify >"$E2E_TMP/verdicts" || fail "verifying the rows"
while IFS= read -r line; do
    case $line in
        "ok "*) pass "${line#ok }" ;;
        *) fail "${line#FAIL }" ;;
    esac
done <"$E2E_TMP/verdicts"
accepted=$(grep -c $'\t'"\(201\|303\)"$'\t' "$E2E_TMP/cases.tsv")
assert_eq "$accepted" "$(wc -l <"$E2E_TMP/ids")" "every accepted create made one item ($accepted)"

# ---------------------------------------------------------------- MAX_FIELD_BYTES counts decoded bytes

jar=$E2E_TMP/jar
under=$(((MAX_FIELD_BYTES - 1536) / 4)) # emoji: 4 bytes decoded, 12 percent-encoded
over=$(((MAX_FIELD_BYTES + 464) / 4))
python3 "$E2E_TMP/limits.py" session-body "$under" >"$E2E_TMP/session-under"
python3 "$E2E_TMP/limits.py" session-body "$over" >"$E2E_TMP/session-over"
do_curl -b "$jar" -c "$jar" --data-binary "@$E2E_TMP/session-under" "$E2E_HAPROXY/session"
assert_status 200 "a session value by form of $under emoji ($((under * 4)) bytes decoded, $((under * 12)) encoded)"
sid=$(cookie_value "$jar" "$SESSION_NAME")
[[ $sid =~ ^[A-Za-z0-9,-]+$ ]] || sid=none
for node in a b; do
    psql_node "$node" "SELECT encode(data, 'hex') FROM php_session WHERE id = $(quote_sql "$sid")" \
        >"$E2E_TMP/session-$node" 2>/dev/null
    if python3 "$E2E_TMP/limits.py" session-stored "$under" "$E2E_TMP/session-$node"; then
        pass "the $under emoji are stored on node $node"
    else
        fail "node $node does not hold the $under emoji in session $sid"
    fi
done
do_curl -b "$jar" -c "$jar" --data-binary "@$E2E_TMP/session-over" "$E2E_HAPROXY/session"
assert_status 413 "a session value by form of $over emoji ($((over * 4)) bytes decoded, over MAX_FIELD_BYTES)"
do_curl -b "$jar" -c "$jar" -X DELETE "$E2E_HAPROXY/session"
assert_status 200 "destroy the session"

# ---------------------------------------------------------------- clean up

# The created items go again (long names and contents would weigh on the pages of later tests).
while read -r id; do
    do_curl -H 'Content-Type: application/json' --data "{\"action\":\"delete\",\"id\":$id}" "$E2E_HAPROXY/manage"
    [ "$STATUS" = 200 ] || fail "delete item $id: $STATUS $(short "$BODY")"
done < <(cut -d'|' -f1 "$E2E_TMP/rows-a" "$E2E_TMP/rows-b" | sort -un)
for node in a b; do
    assert_eq 0 "$(psql_node "$node" "SELECT count(*) FROM items WHERE name ~ '$TAG' OR content ~ '^$TAG'")" \
        "node $node: the test's items are deleted"
done

finish

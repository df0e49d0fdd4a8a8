#!/usr/bin/env bash
# Log rotation (docs/OPERATIONS.md, "Logs"): under load through HAProxy, every pool's LOG_FILE
# is moved away and the pool gets SIGUSR1, as deploy/logrotate/session-cluster does; the load
# goes on. Each request then has exactly one line in the old file or the new one (counted by the
# session's hash, per pool, against the X-Served-By of the answers), no line is split, the
# rotation happened in the middle of the load (lines on both sides), and the shipped logrotate
# file parses.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

CLUSTER_DIR=${CLUSTER_DIR:-$E2E_ROOT/.cluster}
LOGS=$CLUSTER_DIR/logs
RUN=$CLUSTER_DIR/run
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if command -v logrotate >/dev/null; then
    if out=$(logrotate --debug "$E2E_ROOT/deploy/logrotate/session-cluster" 2>&1); then
        pass "deploy/logrotate/session-cluster parses (logrotate --debug)"
    else
        fail "logrotate --debug refused deploy/logrotate/session-cluster: $(tail -n 3 <<<"$out")"
    fi
else
    fail "logrotate is not installed (deploy/cluster packages installs it)"
fi

jar=$WORK/jar
# The request that starts the session is logged under its hash too: it counts.
curl -s -m "$E2E_CURL_TIMEOUT" -c "$jar" -b "$jar" -o /dev/null -D - "$E2E_HAPROXY/session" |
    tr -d '\r' | awk 'tolower($1) == "x-served-by:" { print $2 }' >"$WORK/served.0"
id=$(awk -v name="$SESSION_NAME" '$6 == name { print $7 }' "$jar" | tail -n 1)
if [ -z "$id" ]; then
    fail "no session cookie from $E2E_HAPROXY/session"
    finish
fi
# The log's session.hash: FNV-1a (64 bits) of the id, shifted right by 16, in hex.
hash=$(python3 -c '
import sys
value = 0xcbf29ce484222325
for byte in sys.argv[1].encode():
    value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
print(format(value >> 16, "x"))' "$id")

load() {  # one client: GET /session with the cookie, one X-Served-By per answered request
    local i
    for ((i = 0; i < 150; i++)); do
        curl -s -m "$E2E_CURL_TIMEOUT" -b "$jar" -o /dev/null -D - "$E2E_HAPROXY/session" |
            tr -d '\r' | awk 'tolower($1) == "x-served-by:" { print $2 }' >>"$WORK/served.$1"
    done
}
for client in 1 2 3; do load "$client" & done

sleep 1
rotated=0
for ((n = 1; n <= POOL_COUNT; n++)); do
    pid=$(cat "$RUN/pool-$n.pid" 2>/dev/null)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        fail "pool $n has no running process ($RUN/pool-$n.pid)"
        continue
    fi
    mv "$LOGS/pool-$n.log" "$LOGS/pool-$n.log.rotated"
    kill -USR1 "$pid"
    rotated=$((rotated + 1))
done
wait
sleep 1  # request lines reach the file within a quarter of a second
[ "$rotated" -eq "$POOL_COUNT" ] && pass "moved every pool's log and sent SIGUSR1 under load"

served_total=$(cat "$WORK"/served.[1-3] | wc -l)
if [ "$served_total" -eq 450 ]; then
    pass "450 requests answered during the rotation"
else
    fail "$served_total of 450 requests answered during the rotation"
fi

line_pattern='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (trace|debug|info|notice|warning|error|critical) [^ ]+: '
for ((n = 1; n <= POOL_COUNT; n++)); do
    old=$LOGS/pool-$n.log.rotated
    new=$LOGS/pool-$n.log
    served=$(cat "$WORK"/served.* | grep -cx "pool-$n")
    in_old=$(grep -c "session.hash=$hash\$" "$old" 2>/dev/null)
    in_new=$(grep -c "session.hash=$hash\$" "$new" 2>/dev/null)
    if [ "$((in_old + in_new))" -eq "$served" ]; then
        pass "pool-$n: $served requests served, $in_old lines in the old file + $in_new in the new one"
    else
        fail "pool-$n: $served requests served but $in_old + $in_new request lines"
    fi
    if [ "$served" -gt 0 ] && { [ "$in_old" -eq 0 ] || [ "$in_new" -eq 0 ]; }; then
        fail "pool-$n: the rotation did not fall inside the load (old $in_old, new $in_new)"
    fi
    broken=$(cat "$old" "$new" 2>/dev/null | grep -cvE "$line_pattern")
    if [ "$broken" -eq 0 ]; then
        pass "pool-$n: every line in both files is whole"
    else
        fail "pool-$n: $broken lines are not whole log lines"
    fi
    if grep -q "log file reopened" "$new"; then
        pass "pool-$n: the new file starts with the reopening"
    else
        fail "pool-$n: no 'log file reopened' line in the new file"
    fi
    rm -f "$old"
done

finish

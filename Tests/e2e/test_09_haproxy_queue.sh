#!/usr/bin/env bash
# HAProxy sends a pool at most WORKERS requests at once (`maxconn` per
# server); more concurrent clients than the pools have workers wait in
# HAProxy's one queue, not in one pool's accept backlog behind a slow
# request. Under 48 concurrent clients: every pool's highest count of
# requests in flight stays within its limit, the queue was used, and every
# request is answered 200.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

WORKERS=${WORKERS:-4}
CLIENTS=48
SECONDS_OF_LOAD=3
require_haproxy_api

haproxy_command "clear counters" >/dev/null || fail "clear counters"
# CLIENTS threads, each sending GET /session (two database reads) one after another.
answers=$(python3 - "$E2E_HAPROXY" "$CLIENTS" "$SECONDS_OF_LOAD" <<'EOF'
import http.client, sys, threading, time, urllib.parse
url, clients, seconds = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
counts, lock = {}, threading.Lock()
def client():
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            conn.request("GET", "/session", headers={"Accept": "application/json"})
            status = str(conn.getresponse().status)
            conn.close()
        except Exception as error:
            status = type(error).__name__
        with lock:
            counts[status] = counts.get(status, 0) + 1
threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
EOF
)
stats=$(haproxy_command "show stat")
printf '  answers by status: %s\n' "$answers"
assert_match "$answers" "^200=[0-9]+$" "every request under $CLIENTS concurrent clients answered 200"

# show stat is CSV: pxname,svname,qcur,qmax,scur,smax,slim,...
pools=0
while IFS=, read -r proxy server _ _ _ smax slim _; do
    if [ "$proxy" != pools ] || [[ $server != pool* ]]; then continue; fi
    pools=$((pools + 1))
    assert_eq "$WORKERS" "$slim" "$server: HAProxy's limit is the pool's WORKERS"
    if [[ $smax =~ ^[0-9]+$ ]] && ((smax >= 1 && smax <= WORKERS)); then
        pass "$server: at most $smax requests in flight (limit $WORKERS)"
    else
        fail "$server: $smax requests in flight at once, more than its $WORKERS workers"
    fi
done <<<"$stats"
assert_eq "$POOL_COUNT" "$pools" "every pool is in HAProxy's statistics"
qmax=$(awk -F, '$1 == "pools" && $2 == "BACKEND" { print $4 }' <<<"$stats")
if [[ $qmax =~ ^[0-9]+$ ]] && ((qmax > 0)); then
    pass "requests waited in HAProxy's queue (at most $qmax at once)"
else
    fail "HAProxy's queue was never used under $CLIENTS clients (qmax '$qmax'): the check above proves nothing"
fi

finish

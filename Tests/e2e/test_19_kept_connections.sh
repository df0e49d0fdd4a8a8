#!/usr/bin/env bash
# HAProxy keeps its FastCGI connections to the pools (`option keep-conn`), and they pin no worker.
# Under 32 keep-alive clients through HAProxy for a few seconds: most requests reuse a kept
# connection (HAProxy's own `connect` and `reuse` counters), every answer is 200, nginx and
# lighttpd (which share the pools, one connection per request) are answered within 3 s each, and
# HAProxy's health checks keep every pool UP. With libfcgi's own loop each kept connection would
# hold a worker in read() until its next request, and the pools would stop answering anyone else.
# Afterwards HAProxy still holds idle kept connections, and the pools answer at once.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

CLIENTS=32
SECONDS_OF_LOAD=5
require_haproxy_api

# pool_stats: "name status connect reuse" per pool server (show stat's fields 2, 18, 85, 86).
pool_stats() {
    haproxy_command "show stat" | awk -F, '$1 == "pools" && $2 ~ /^pool/ { print $2, $18, $85, $86 }'
}

header=$(haproxy_command "show stat" | head -n 1 | cut -d, -f85,86)
assert_eq "connect,reuse" "$header" "HAProxy's show stat has the connect and reuse counters where this test reads them"

haproxy_command "clear counters all" >/dev/null || fail "clear counters all"
answers_file=$E2E_TMP/kept-answers
# CLIENTS threads, each on one keep-alive HTTP connection, sending GET /session one after another.
python3 - "$E2E_HAPROXY" "$CLIENTS" "$SECONDS_OF_LOAD" >"$answers_file" <<'EOF' &
import http.client, sys, threading, time, urllib.parse
url, clients, seconds = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
counts, lock = {}, threading.Lock()
def client():
    end = time.monotonic() + seconds
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    while time.monotonic() < end:
        try:
            conn.request("GET", "/session", headers={"Accept": "application/json"})
            response = conn.getresponse()
            response.read()
            status = str(response.status)
        except Exception as error:
            status = type(error).__name__
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        with lock:
            counts[status] = counts.get(status, 0) + 1
    conn.close()
threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
EOF
load=$!
sleep 1

# While the load runs: nginx and lighttpd reach the same pools, and HAProxy's checks pass.
for front in nginx lighttpd; do
    base=$(front_url "$front")
    slowest=0 failures=0
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        start=$(date +%s%N)
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$base/health" || true)
        took=$((($(date +%s%N) - start) / 1000000))
        ((took > slowest)) && slowest=$took
        [ "$code" = 200 ] || failures=$((failures + 1))
    done
    assert_eq 0 "$failures" "$front: 10 of 10 GET /health answered 200 within 3 s during the HAProxy load (slowest ${slowest} ms)"
done
during=$(pool_stats)
up=$(awk '$2 == "UP"' <<<"$during" | wc -l)
assert_eq "$POOL_COUNT" "$up" "every pool stays UP in HAProxy's health checks during the load"

wait "$load" || true
answers=$(cat "$answers_file")
printf '  answers by status: %s\n' "$answers"
assert_match "$answers" "^200=[0-9]+$" "every request of $CLIENTS keep-alive clients through HAProxy answered 200"

after=$(pool_stats)
read -r connects reuses < <(awk '{ c += $3; r += $4 } END { print c + 0, r + 0 }' <<<"$after")
printf '  HAProxy to the pools: %s connections opened, %s requests on a kept one\n' "$connects" "$reuses"
if ((reuses > 0 && reuses > 4 * connects)); then
    pass "most requests reused a kept FastCGI connection ($reuses reuses, $connects connects)"
else
    fail "HAProxy reused few connections ($reuses reuses, $connects connects): keep-conn is not in effect"
fi

idle=$(haproxy_command "show servers conn pools" | awk '$1 ~ /^pools\/pool/ { n += $13 } END { print n + 0 }')
if ((idle > 0)); then
    pass "HAProxy holds $idle idle kept connections after the load"
else
    fail "HAProxy holds no idle kept connection after the load"
fi
for front in haproxy nginx lighttpd; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$(front_url "$front")/health" || true)
    assert_eq 200 "$code" "$front: GET /health answers at once with HAProxy's connections idle"
done

finish

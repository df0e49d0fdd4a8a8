#!/usr/bin/env bash
# Raw FastCGI abuse sent straight to a pool's port: clients that connect and
# stall, garbage bytes, truncated records and absurd parameter lengths never end
# the process and never pin all of its workers for longer than the idle timeout.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

POOL_BASE_PORT=${POOL_BASE_PORT:-9001}
port=$POOL_BASE_PORT
pid_file=${CLUSTER_DIR:+$CLUSTER_DIR/run/pool-1.pid}
pid_before=$(cat "$pid_file" 2>/dev/null || true)

# health_direct: GET /health on pool 1 over FastCGI; sets STATUS and TIME.
health_direct() {
    local start end out
    start=$(date +%s%N)
    out=$(REQUEST_METHOD=GET REQUEST_URI=/health SCRIPT_NAME=/health QUERY_STRING='' SERVER_PROTOCOL=HTTP/1.1 \
        timeout 15 cgi-fcgi -bind -connect "$BIND_HOST:$port" 2>/dev/null | head -n 1 | tr -d '\r')
    end=$(date +%s%N)
    STATUS=$(printf '%s' "$out" | awk '{print $2}')
    TIME=$(((end - start) / 1000000))
}

# abuse KIND: one hostile connection to the pool, held for HOLD seconds.
abuse() {
    python3 - "$BIND_HOST" "$port" "$1" "${2:-12}" <<'PY' &
import os, socket, struct, sys, time
host, port, kind, hold = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.create_connection((host, port), timeout=5)
def record(kind_, content, request_id=1):
    return struct.pack(">BBHHBx", 1, kind_, request_id, len(content), 0) + content
try:
    if kind == "garbage":
        s.sendall(os.urandom(4096))
    elif kind == "truncated":
        s.sendall(struct.pack(">BBHHBx", 1, 1, 1, 65535, 0) + b"\x00" * 10)
    elif kind == "huge-param":
        begin = record(1, struct.pack(">HB5x", 1, 0))
        # A name length of 2^31-1 bytes that never arrive.
        s.sendall(begin + record(4, struct.pack(">II", 0xFFFFFFFF, 0x7FFFFFFF) + b"X" * 100))
    elif kind == "slow-params":
        begin = record(1, struct.pack(">HB5x", 1, 0))
        s.sendall(begin)
        for b in record(4, b"\x0e\x03REQUEST_METHODGET"):
            s.sendall(bytes([b]))
            time.sleep(0.5)
    # "idle": send nothing.
    time.sleep(hold)
except OSError:
    pass
PY
}

health_direct
assert_eq 200 "$STATUS" "pool 1 answers before the abuse"

# Stalled connections, fewer than the pool's workers: each pins one worker, the rest serve at once
# (with libfcgi's usual accept lock, one stalled client stopped the whole pool).
WORKERS=${WORKERS:-4}
for ((i = 1; i < WORKERS; i++)); do abuse idle; done
sleep 0.5
health_direct
assert_eq 200 "$STATUS" "pool 1 answers while $((WORKERS - 1)) clients hold idle connections"
if ((TIME < 3000)); then pass "answered in ${TIME} ms, not after an idle timeout"; else fail "took ${TIME} ms"; fi

# More stalled connections than workers: every worker is held for the idle timeout (10 s) at most.
for ((i = 0; i < WORKERS + 2; i++)); do abuse idle; done
sleep 0.5
health_direct
assert_eq 200 "$STATUS" "pool 1 answers while $((WORKERS + 2)) clients hold idle connections"
if ((TIME < 14000)); then pass "answered in ${TIME} ms, within the 10 s idle timeout"; else fail "took ${TIME} ms"; fi

for kind in garbage truncated huge-param slow-params; do
    abuse "$kind" 6
    sleep 0.3
    health_direct
    assert_eq 200 "$STATUS" "pool 1 answers during a '$kind' connection"
done

# A request without any CGI parameter (HAProxy sends one when it aborts a request it cannot
# encode): refused with 400, never served as a default GET / that would start a session.
sessions_before=$(psql_a "SELECT count(*) FROM php_session")
answer=$(python3 - "$BIND_HOST" "$port" <<'PY'
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
def record(kind, content):
    return struct.pack(">BBHHBx", 1, kind, 1, len(content), 0) + content
s.sendall(record(1, struct.pack(">HB5x", 1, 0)) + record(4, b"") + record(5, b""))
out = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
stdout, i = b"", 0
while i + 8 <= len(out):
    kind, length, padding = out[i + 1], struct.unpack(">H", out[i + 4:i + 6])[0], out[i + 6]
    if kind == 6:
        stdout += out[i + 8:i + 8 + length]
    i += 8 + length + padding
print(stdout.split(b"\r\n")[0].decode("latin-1"))
PY
)
assert_eq "Status: 400 Bad Request" "$answer" "a request without parameters is refused"
assert_eq "$sessions_before" "$(psql_a "SELECT count(*) FROM php_session")" "and starts no session"

# The stalled connections are dropped after the idle timeout (10 s) and the
# process is still the same one.
wait
health_direct
assert_eq 200 "$STATUS" "pool 1 answers after the abusive connections end"

# A bare GET /health is answered from text prepared at start-up: byte for byte
# what the full route gives (a query, HEAD or a long header take the full route).
raw_get() { # URI QUERY [NAME=VALUE...]: pool 1's whole CGI answer, hex-encoded
    local uri=$1 query=$2
    shift 2
    env -i REQUEST_METHOD=GET REQUEST_URI="$uri" SCRIPT_NAME=/health QUERY_STRING="$query" SERVER_PROTOCOL=HTTP/1.1 \
        HTTP_HOST="$BIND_HOST:8080" HTTP_USER_AGENT=e2e "$@" timeout 15 cgi-fcgi -bind -connect "$BIND_HOST:$port" \
        2>/dev/null | od -An -tx1 | tr -d ' \n'
}
prepared=$(raw_get /health "")
assert_eq "$(raw_get "/health?full=1" "full=1")" "$prepared" "GET /health prepared = the full route's answer (query)"
assert_eq "$(raw_get /health "" HTTP_COOKIE="a=1; b=2")" "$prepared" "GET /health prepared = the full route's answer (cookie)"
assert_eq "$(raw_get /health "" CONTENT_LENGTH=0)" "$prepared" "GET /health with HAProxy's CONTENT_LENGTH=0"
case $(raw_get /health "" CONTENT_LENGTH=5) in
    5374617475733a2034303020*) pass "a declared body that never comes is still refused on /health" ;;
    *) fail "GET /health with CONTENT_LENGTH=5 and no body is not refused with 400" ;;
esac
case $prepared in 5374617475733a2032303020*) pass "GET /health answers 200 directly" ;; *) fail "GET /health: $prepared" ;; esac
long=$(head -c 9000 /dev/zero | tr '\0' x)
case $(raw_get /health "" HTTP_X_LONG="$long") in
    5374617475733a2034333120*) pass "a header over MAX_HEADER_BYTES still gets 431 on /health" ;;
    *) fail "a header over MAX_HEADER_BYTES on /health is not refused with 431" ;;
esac
if [ -n "$pid_before" ]; then
    assert_eq "$pid_before" "$(cat "$pid_file" 2>/dev/null)" "pool 1 was not restarted"
    if kill -0 "$pid_before" 2>/dev/null; then pass "pool 1's process is alive"; else fail "pool 1's process died"; fi
fi
do_curl "$E2E_HAPROXY/session"
assert_status 200 "the cluster serves through HAProxy afterwards"

finish

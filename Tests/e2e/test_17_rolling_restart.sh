#!/usr/bin/env bash
# `deploy/cluster restart-pools` under a steady load: every pool is restarted (new pids) and
# not one request through HAProxy fails, since each pool is drained through HAProxy's runtime
# API before its SIGTERM. nginx and lighttpd carry load through the same restart, each with its
# own ledger: they have no drain, and lean on sending a refused request to the next pool
# (fastcgi_next_upstream, lighttpd's reconnect); restart-pools stops the next pool only once they
# serve from the last one again, so they never run out of pools (checked in their error logs).
# Their few failures (requests a stopping pool had queued) are counted and held to a budget.
# Afterwards every acknowledged write is on both nodes, each client's `visits` equals its
# acknowledged `GET /`, and the nodes are identical (Tests/e2e/ledger.py).
# Helpers run through poll and at_exit (SC2317).
# shellcheck source=Tests/e2e/lib.sh disable=SC2317
source "$(dirname "$0")/lib.sh"

LOAD_LIMIT=45      # the loads end when restart-pools has ended, at the latest after this
LEAD_IN=1          # seconds of load before the restart, and after it
MIX=visit=40,session=30,create=30
declare -A THREADS=([haproxy]=4 [nginx]=2 [lighttpd]=2)
# Failed requests allowed per front end. HAProxy drains each pool first: none. nginx and lighttpd
# have no drain: a request they had handed to a pool that has not yet accepted it when the pool
# stops is reset, and they replay it on another pool only when it was not sent yet (nginx also
# replays an idempotent one). At most one per client per pool restart; never their own "no pool
# at all" (checked in their logs below).
declare -A MAX_FAILURES=([haproxy]=0 [nginx]=$((THREADS[nginx] * POOL_COUNT)) [lighttpd]=$((THREADS[lighttpd] * POOL_COUNT)))

# The helpers and settings the fault tests share (timeline, loads, ledger checks, restore).
# shellcheck source=Tests/e2e/fault_lib.sh
source "$E2E_DIR/fault_lib.sh"

# haproxy_ready_all: every pool back to "ready" in HAProxy (after a restart-pools that failed).
haproxy_ready_all() {
    local n
    for ((n = 1; n <= POOL_COUNT; n++)); do
        printf 'set server pools/pool%s state ready\n' "$n" |
            timeout 5 socat -t 2 - "UNIX-CONNECT:$CLUSTER_DIR/run/haproxy.sock" >/dev/null 2>&1
    done
}

# pool_pids: "pid1 pid2 ..." of the pools as `deploy/cluster status` shows them.
pool_pids() { "$CLUSTER_SCRIPT" status 2>/dev/null | awk '$1 == "pool" { sub(/^pid=/, "", $4); printf "%s ", $4 }'; }

# ---------------------------------------------------------------- the test

begin_fault_test

read -ra before <<<"$(pool_pids)"
# Where the front ends' error logs end now: only what this test adds is read.
declare -A LOG_FILE=([nginx]=$CLUSTER_DIR/logs/nginx-error.log [lighttpd]=$CLUSTER_DIR/logs/lighttpd-error.log)
declare -A LOG_START=()
for front in nginx lighttpd; do LOG_START[$front]=$(stat -c %s "${LOG_FILE[$front]}" 2>/dev/null || echo 0); done

for front in haproxy nginx lighttpd; do
    python3 "$LEDGER" run --ledger "$E2E_TMP/$front.json" --url "$(front_url "$front")" \
        --threads "${THREADS[$front]}" --duration "$LOAD_LIMIT" --mix "$MIX" --phase "restart-$front" \
        --max-failures "${MAX_FAILURES[$front]}" --stop-file "$E2E_TMP/stop" \
        --ready-file "$E2E_TMP/ready-$front" >"$E2E_TMP/load-$front.out" 2>&1 &
    LOAD_PIDS[$front]=$!
done
wait_loads_ready haproxy nginx lighttpd
note "loads started (HAProxy ${THREADS[haproxy]}, nginx ${THREADS[nginx]}, lighttpd ${THREADS[lighttpd]} clients; mix $MIX)"
sleep "$LEAD_IN"

note "deploy/cluster restart-pools"
start=$EPOCHREALTIME
if "$CLUSTER_SCRIPT" restart-pools >"$E2E_TMP/restart.out" 2>&1; then
    pass "deploy/cluster restart-pools succeeds"
else
    fail "deploy/cluster restart-pools failed"
    # It may have stopped with a pool drained in HAProxy: put every pool back for the next tests.
    at_exit haproxy_ready_all
fi
took=$(awk -v a="$EPOCHREALTIME" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
sed 's/^/    /' "$E2E_TMP/restart.out"
note "restart-pools done in ${took}s"
running=0
for front in haproxy nginx lighttpd; do kill -0 "${LOAD_PIDS[$front]}" 2>/dev/null && running=$((running + 1)); done
assert_eq 3 "$running" "the three loads still run when restart-pools ends (they cover the whole restart)"
if grep -qi 'warning' "$E2E_TMP/restart.out"; then
    fail "restart-pools warned (see its output above)"
else
    pass "restart-pools drained every pool in time and saw each serve again everywhere"
fi
sleep "$LEAD_IN"
touch "$E2E_TMP/stop"

for front in haproxy nginx lighttpd; do
    if finish_front_load "$front"; then
        pass "$front: at most ${MAX_FAILURES[$front]} failed requests, every answer consistent with the ledger"
    else
        fail "$front: more than ${MAX_FAILURES[$front]} failed requests or an answer against the ledger (see above)"
    fi
done
note "loads ended"

# nginx says "no live upstreams" and lighttpd "all handlers ... are down" when they had taken every
# pool out at once (each keeps a pool that refused a connection out for 1-3 s).
declare -A NO_POOL=([nginx]='no live upstreams' [lighttpd]='all handlers for .* are down')
for front in nginx lighttpd; do
    lines=$(tail -c +"$((LOG_START[$front] + 1))" "${LOG_FILE[$front]}" 2>/dev/null | grep -c -- "${NO_POOL[$front]}")
    assert_eq 0 "${lines:-0}" "$front never had every pool out of its rotation ('${NO_POOL[$front]}' lines in its log)"
done

read -ra after <<<"$(pool_pids)"
for ((n = 1; n <= POOL_COUNT; n++)); do
    old=${before[n - 1]:-} new=${after[n - 1]:-}
    if [[ $new =~ ^[0-9]+$ ]] && [ "$new" != "$old" ]; then
        pass "pool $n restarted"
    else
        fail "pool $n was not restarted: pid $old before, $new after"
    fi
    # The process that answers on the pool's port is the new one.
    assert_match "$(pool_get "$n" /status)" "\"pid\":${new}[,}]" "pool $n's /status shows its new pid $new"
    if served_by_pool "$E2E_HAPROXY" "pool-$n"; then
        pass "HAProxy sends requests to pool $n again"
    else
        fail "HAProxy does not send requests to pool $n after the restart"
    fi
done

verify_ledger 15 "both nodes identical, every acknowledged write on both, visits = acknowledged GET /" \
    --ledger "$E2E_TMP/haproxy.json" --ledger "$E2E_TMP/nginx.json" --ledger "$E2E_TMP/lighttpd.json" \
    --manage "$E2E_HAPROXY" --sessions "$E2E_HAPROXY"

end_fault_test

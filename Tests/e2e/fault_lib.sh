# Tests/e2e/fault_lib.sh: sourced by every Tests/e2e/test_1*_fault_*.sh right after lib.sh and the
# test's own settings: the shared settings (T0, LIMIT, LEDGER, …) and helpers (timeline, cluster
# state, background load, ledger checks, pool logs, catch-up polling), in one copy.
#
# shellcheck shell=bash

CLUSTER_DIR=${CLUSTER_DIR:-$E2E_ROOT/.cluster}
POOL_BASE_PORT=${POOL_BASE_PORT:-9001}
export BIND_HOST NODE_A_PORT NODE_B_PORT NODE_A_DB NODE_B_DB CLUSTER_DB_USER CLUSTER_DB_PASSWORD SESSION_NAME
export E2E_HAPROXY CLUSTER_DIR
LEDGER=$E2E_DIR/ledger.py
LIMIT=$((${DB_CONNECT_TIMEOUT:-2} + ${DB_QUERY_TIMEOUT:-2} + 1))
T0=$EPOCHREALTIME
LOAD_PID=""
RESTORED=0

# note TEXT: a line of the test's timeline, seconds since it started.
note() { awk -v now="$EPOCHREALTIME" -v t0="$T0" -v text="$*" 'BEGIN { printf "  [%6.2fs] %s\n", now - t0, text }'; }

# cluster VERB...: deploy/cluster; its output only when it fails.
cluster() {
    if "$CLUSTER_SCRIPT" "$@" >"$E2E_TMP/cluster.out" 2>&1; then return 0; fi
    sed 's/^/    /' "$E2E_TMP/cluster.out"
    return 1
}

# part_state KIND NAME: up or down, as `deploy/cluster status` says.
part_state() { "$CLUSTER_SCRIPT" status 2>/dev/null | awk -v k="$1" -v n="$2" '$1 == k && $2 == n { print $3 }'; }

# pool_get N PATH: the body of GET PATH asked of pool N directly over FastCGI.
pool_get() {
    local port=$((POOL_BASE_PORT + $1 - 1))
    env -i REQUEST_METHOD=GET REQUEST_URI="$2" SCRIPT_NAME="$2" DOCUMENT_URI="$2" QUERY_STRING= \
        SERVER_NAME=localhost SERVER_PORT="$port" SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 \
        HTTP_HOST=localhost REMOTE_ADDR=127.0.0.1 timeout 5 cgi-fcgi -bind -connect "$BIND_HOST:$port" \
        </dev/null 2>/dev/null | tr -d '\r' | sed '1,/^$/d'
}

# pool_nodes N: "a=<state> b=<state>" as pool N's /status sees the nodes (catching_up included);
# one FastCGI call and a bash match, so that it stays quick on a busy machine.
pool_nodes() {
    local body out="" node re
    body=$(pool_get "$1" /status)
    for node in a b; do
        re="\"$node\":\\{[^}]*\"detail\":\"([a-z_]+)\""
        [[ $body =~ $re ]] || { echo no-answer; return; }
        out+="$node=${BASH_REMATCH[1]} "
    done
    echo "${out% }"
}

# cluster_healthy: every node, pool and front end up, and every pool sees both nodes up
# (caught up, not catching_up).
cluster_healthy() {
    local n
    "$CLUSTER_SCRIPT" status 2>/dev/null | awk '$3 != "up" { bad = 1 } END { exit bad || NR == 0 }' || return 1
    for ((n = 1; n <= POOL_COUNT; n++)); do
        [ "$(pool_nodes "$n")" = "a=up b=up" ] || return 1
    done
}

# unhealthy_parts: what cluster_healthy misses, for messages.
unhealthy_parts() {
    local n
    "$CLUSTER_SCRIPT" status 2>/dev/null | awk '$3 != "up" { printf "%s %s down; ", $1, $2 }'
    for ((n = 1; n <= POOL_COUNT; n++)); do printf 'pool %s sees %s; ' "$n" "$(pool_nodes "$n")"; done
}

# stop_load: ends the background load (if any) and waits for it.
stop_load() {
    if [ -n "$LOAD_PID" ] && kill -0 "$LOAD_PID" 2>/dev/null; then
        kill -TERM "$LOAD_PID" 2>/dev/null
        wait "$LOAD_PID" 2>/dev/null
    fi
    LOAD_PID=""
}

# restore_cluster: brings back whatever the test took away (hung processes, nodes, pools) and
# waits until the cluster is healthy and both nodes are identical. Runs at exit, however the
# test ends; `restore_cluster check` also records the outcome as checks.
restore_cluster() {
    ((RESTORED)) && return 0
    RESTORED=1
    local n pid
    stop_load
    for n in a b; do
        pid=$(head -n 1 "$CLUSTER_DIR/node-$n/postmaster.pid" 2>/dev/null)
        if [[ $pid =~ ^[0-9]+$ ]]; then
            pkill -CONT -P "$pid" 2>/dev/null
            kill -CONT "$pid" 2>/dev/null
        fi
    done
    for n in a b; do cluster start-node "$n" || echo "  restore: deploy/cluster start-node $n failed"; done
    for ((n = 1; n <= POOL_COUNT; n++)); do
        cluster start-pool "$n" || echo "  restore: deploy/cluster start-pool $n failed"
    done
    if poll 20 cluster_healthy; then
        [ "${1:-}" != check ] || pass "the cluster is healthy again"
    elif [ "${1:-}" = check ]; then
        fail "the cluster is not healthy 20 s after the restore: $(unhealthy_parts)"
    else
        echo "  restore: the cluster is not healthy after 20 s: $(unhealthy_parts)"
    fi
    if python3 "$LEDGER" verify --wait 15 --baseline "$BASELINE" >"$E2E_TMP/restore-verify.out" 2>&1; then
        [ "${1:-}" != check ] || pass "both nodes identical after the restore"
    else
        sed 's/^/    /' "$E2E_TMP/restore-verify.out"
        if [ "${1:-}" = check ]; then fail "the nodes differ after the restore"; else
            echo "  restore: the nodes differ after the restore"
        fi
    fi
}
at_exit restore_cluster

# start_load LEDGER-FILE ARGS...: ledger.py run in the background; waits until every worker
# holds its session (at most 10 s).
start_load() {
    local file=$1
    shift
    rm -f "$E2E_TMP/ready"
    python3 "$LEDGER" run --ledger "$file" --ready-file "$E2E_TMP/ready" "$@" >"$E2E_TMP/load.out" 2>&1 &
    LOAD_PID=$!
    poll 10 test -e "$E2E_TMP/ready" || fail "the load did not start within 10 s: $(tail -n 3 "$E2E_TMP/load.out")"
}

# wait_load WHAT: waits for the background load; its summary is shown and its exit status checked.
wait_load() {
    local rc=0
    wait "$LOAD_PID" || rc=$?
    LOAD_PID=""
    sed 's/^/    /' "$E2E_TMP/load.out"
    if ((rc == 0)); then pass "$1"; else fail "$1 (ledger.py run exit $rc: see its lines above)"; fi
}

# verify_ledger WAIT WHAT ARGS...: ledger.py verify; its report is shown and its exit status checked.
verify_ledger() {
    local wait=$1 what=$2 rc=0
    shift 2
    python3 "$LEDGER" verify --wait "$wait" --baseline "$BASELINE" "$@" >"$E2E_TMP/verify.out" 2>&1 || rc=$?
    sed 's/^/    /' "$E2E_TMP/verify.out"
    if ((rc == 0)); then pass "$what"; else fail "$what (ledger.py verify exit $rc: see its lines above)"; fi
}

# take_baseline: records the rows in which the nodes differ before the test. An earlier test that
# left them so has failed for it; here they are shown once and only a change of them counts.
BASELINE=$E2E_TMP/baseline.json
echo '{}' >"$BASELINE"
take_baseline() {
    if ! python3 "$LEDGER" diff --out "$BASELINE" >"$E2E_TMP/diff.out" 2>&1; then
        echo '{}' >"$BASELINE"
        fail "could not compare the nodes before the test: $(tail -n 1 "$E2E_TMP/diff.out")"
    elif ! grep -q ': 0 rows differ' "$E2E_TMP/diff.out"; then
        note "the nodes differ before this test (an earlier failure left them so; not held against this test):"
        sed 's/^/    /' "$E2E_TMP/diff.out"
    fi
}

# pool_log_excerpt: the pools' warnings and errors of this test, for the report.
pool_log_excerpt() {
    local f
    for f in "$CLUSTER_DIR"/logs/pool-*.log; do
        [ -f "$f" ] || continue
        awk -v since="$TEST_START_UTC" '$1 >= since && / (warning|error|critical|notice) /' "$f" |
            tail -n 8 | sed "s|^|    $(basename "$f"): |"
    done
}
TEST_START_UTC=$(date -u +%Y-%m-%dT%H:%M:%S)

# every_pool_sees NODE STATE: each pool's /status shows NODE in STATE.
every_pool_sees() {
    local n
    for ((n = 1; n <= POOL_COUNT; n++)); do
        [[ " $(pool_nodes "$n") " == *" $1=$2 "* ]] || return 1
    done
}

# caught_up_within NODE SECONDS: every pool sees NODE up again (caught up, no longer
# catching_up) within SECONDS from now. Each pool is asked until it says so (only those that have
# not yet); CAUGHT_UP_AFTER is when the last one did (seconds), CAUGHT_UP_PENDING who had not.
caught_up_within() {
    local node=$1 limit=$2 start=$EPOCHREALTIME n elapsed pending=() still=()
    for ((n = 1; n <= POOL_COUNT; n++)); do pending+=("$n"); done
    while :; do
        still=()
        for n in "${pending[@]}"; do
            [[ " $(pool_nodes "$n") " == *" $node=up "* ]] || still+=("$n")
        done
        elapsed=$(awk -v a="$EPOCHREALTIME" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
        CAUGHT_UP_AFTER=$elapsed
        CAUGHT_UP_PENDING="${still[*]}"
        if ((${#still[@]} == 0)); then
            awk -v e="$elapsed" -v l="$limit" 'BEGIN { exit !(e <= l) }'
            return
        fi
        awk -v e="$elapsed" -v l="$limit" 'BEGIN { exit !(e > l) }' && return 1
        pending=("${still[@]}")
        sleep 0.1
    done
}

# served_by_pool URL NAME: one of the next few requests to URL/health is served by NAME.
served_by_pool() {
    local k
    for ((k = 0; k < POOL_COUNT * 2; k++)); do
        do_curl "$1/health"
        [ "$(header X-Served-By)" = "$2" ] && return 0
    done
    return 1
}

# Loads running in the background, by front end (LOAD_PIDS[haproxy]=PID); stop_loads ends them
# (it also runs when the test ends) and leaves $E2E_TMP/stop for loads that watch for it.
declare -A LOAD_PIDS=()
stop_loads() {
    local front
    touch "$E2E_TMP/stop"
    for front in "${!LOAD_PIDS[@]}"; do
        kill -TERM "${LOAD_PIDS[$front]}" 2>/dev/null
        wait "${LOAD_PIDS[$front]}" 2>/dev/null
    done
    LOAD_PIDS=()
}
at_exit stop_loads

# begin_fault_test: the cluster must be healthy to begin (else the test ends here, failed);
# then the baseline of what a healthy cluster looks like is taken.
begin_fault_test() {
    if ! poll 10 cluster_healthy; then
        fail "the cluster is not healthy before the test: $(unhealthy_parts)"
        finish
    fi
    pass "the cluster is healthy before the test"
    take_baseline
}

# wait_loads_ready FRONT...: each front end's load (started with --ready-file
# $E2E_TMP/ready-FRONT, output in $E2E_TMP/load-FRONT.out) is running within 10 s.
wait_loads_ready() {
    local front
    for front in "$@"; do
        poll 10 test -e "$E2E_TMP/ready-$front" ||
            fail "the $front load did not start within 10 s: $(tail -n 3 "$E2E_TMP/load-$front.out")"
    done
}

# finish_front_load FRONT: waits for FRONT's background load (LOAD_PIDS, output in
# $E2E_TMP/load-FRONT.out), shows its summary, the failures in short and any answer against the
# ledger (not every failure's body), and returns the load's exit status.
finish_front_load() {
    local front=$1 rc=0 summary
    wait "${LOAD_PIDS[$front]}" || rc=$?
    unset "LOAD_PIDS[$front]"
    echo "    $front:"
    grep -E '^ledger: (run .* done|max latency|per pool|ledger: |FAIL|ANOMALY|  )' "$E2E_TMP/load-$front.out" |
        sed 's/^/      /'
    summary=$(grep -o '[0-9]* non-2xx.*' "$E2E_TMP/load-$front.out" | tail -n 1)
    note "$front load: ${summary:-no summary}"
    return "$rc"
}

# end_fault_test: the cluster back as it was (checked), the pools' logs shown when a check
# failed, and the summary.
end_fault_test() {
    restore_cluster check
    ((_failures == 0)) || pool_log_excerpt
    finish
}

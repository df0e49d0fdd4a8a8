# deploy/lib/pools.sh: the responder pools, each under spawn-fcgi on POOL_BASE_PORT + N - 1.
#
# shellcheck shell=bash

pool_check() {
    if ! [[ ${1:-} =~ ^[1-9][0-9]?$ ]] || (($1 > POOL_COUNT)); then die "name a pool: 1..$POOL_COUNT"; fi
}
pool_port() { printf '%s' $((POOL_BASE_PORT + $1 - 1)); }
pool_pidfile() { printf '%s' "$RUN/pool-$1.pid"; }
pool_running() { pid_alive "$(read_pid "$(pool_pidfile "$1")")" responder; }

# The pool's whole environment: spawn-fcgi hands its own to the child.
pool_env() {
    local n=$1 name
    printf '%s\n' \
        "PATH=/usr/local/bin:/usr/bin:/bin" "LANG=C.UTF-8" "HOME=$CLUSTER_DIR" \
        "DB1_HOST=$BIND_HOST" "DB1_PORT=$NODE_A_PORT" "DB1_NAME=$NODE_A_DB" \
        "DB1_USER=$CLUSTER_DB_USER" "DB1_PASSWORD=$CLUSTER_DB_PASSWORD" \
        "DB2_HOST=$BIND_HOST" "DB2_PORT=$NODE_B_PORT" "DB2_NAME=$NODE_B_DB" \
        "DB2_USER=$CLUSTER_DB_USER" "DB2_PASSWORD=$CLUSTER_DB_PASSWORD" \
        "RESPONDER_NAME=pool-$n" "LOG_FILE=$LOGS/pool-$n.log" "WORKERS=$WORKERS"
    while IFS= read -r name; do
        printf '%s=%s\n' "$name" "${!name}"
    done < <(compgen -e | grep -E '^(SESSION_[A-Z0-9_]+|MAX_[A-Z_]+|DB_[A-Z0-9_]+|REQUEST_[A-Z0-9_]+|TOMBSTONE_TTL|LD_LIBRARY_PATH)$' || true)
}

# True when the pool answers a FastCGI GET /health (whatever the status).
pool_answers() {
    local port out
    port=$(pool_port "$1")
    out=$(env -i REQUEST_METHOD=GET REQUEST_URI=/health SCRIPT_NAME=/health DOCUMENT_URI=/health \
        QUERY_STRING= SERVER_NAME=localhost SERVER_PORT="$port" SERVER_PROTOCOL=HTTP/1.1 \
        GATEWAY_INTERFACE=CGI/1.1 HTTP_HOST=localhost REMOTE_ADDR=127.0.0.1 \
        timeout 5 cgi-fcgi -bind -connect "$BIND_HOST:$port" </dev/null 2>/dev/null) || return 1
    [[ $out =~ ^[A-Za-z0-9-]+: ]]
}

pool_start() {
    local n=$1 port pidfile out
    pool_running "$n" && return 0
    [ -x "$BIN/responder" ] || die "no responder in $BIN; run deploy/cluster up"
    port=$(pool_port "$n")
    pidfile=$(pool_pidfile "$n")
    rm -f "$pidfile"
    ensure_port_free "$port" "pool $n" POOL_BASE_PORT
    local logfile="$LOGS/pool-$n.log" user=()
    [ -e "$logfile" ] || : >"$logfile"
    if ((IS_ROOT)); then
        chown "$POOL_USER:$POOL_USER" "$logfile"
        user=(-u "$POOL_USER" -g "$POOL_USER")
    fi
    local envs=()
    mapfile -t envs < <(pool_env "$n")
    if ! out=$(env -i "${envs[@]}" spawn-fcgi -a "$BIND_HOST" -p "$port" -P "$pidfile" -d "$CLUSTER_DIR" \
        "${user[@]}" -- "$BIN/responder" 2>&1); then
        warn "$out"
        pool_diagnose "$n"
        die "pool $n did not start"
    fi
}

# Waits until pool N answers /health; on failure shows its log and dies.
pool_wait() {
    local n=$1
    if ! wait_for 15 pool_answers "$n"; then
        if ! pool_running "$n"; then
            warn "pool $n exited; the end of $LOGS/pool-$n.log:"
        else
            warn "pool $n does not answer /health on port $(pool_port "$n"); the end of $LOGS/pool-$n.log:"
        fi
        tail -n 20 "$LOGS/pool-$n.log" >&2 || true
        pool_diagnose "$n"
        die "pool $n is not serving"
    fi
}

# spawn-fcgi sends the child's stderr to /dev/null: show what
# `responder --check-config` says in the pool's environment instead.
pool_diagnose() {
    local envs=() user=()
    mapfile -t envs < <(pool_env "$1")
    ((!IS_ROOT)) || user=(runuser -u "$POOL_USER" --)
    warn "responder --check-config with pool $1's settings says:"
    "${user[@]}" env -i "${envs[@]}" timeout 5 "$BIN/responder" --check-config </dev/null 2>&1 | tail -n 5 >&2 || true
}

# pool_stop N [SIGNAL [GRACE]]: SIGTERM (or SIGNAL), GRACE seconds (5), then SIGKILL.
pool_stop() {
    stop_pidfile "$(pool_pidfile "$1")" responder "${2:-TERM}" "${3:-5}"
}

# pools_stop: every pool; SIGTERM to all of them first, so that they drain in parallel.
pools_stop() {
    local n
    for ((n = 1; n <= POOL_COUNT; n++)); do
        if pool_running "$n"; then kill -TERM "$(read_pid "$(pool_pidfile "$n")")" 2>/dev/null || true; fi
    done
    for ((n = 1; n <= POOL_COUNT; n++)); do pool_stop "$n" TERM 5; done
}

# pool_kill N: SIGKILL to pool N (the fault the e2e tests inject); dies when it is not running.
pool_kill() {
    local pid
    pid=$(read_pid "$(pool_pidfile "$1")")
    pool_running "$1" || die "pool $1 is not running"
    kill -KILL "$pid"
    wait_for 5 not_alive "$pid" || die "pool $1 (pid $pid) survives SIGKILL"
    log "pool $1 (pid $pid) killed"
}


# deploy/lib/common.sh: the helpers every script of the project shares (deploy/cluster,
# deploy/run-tests, bench/run, Tests/e2e): messages, processes, ports, waiting.
#
# Only functions; nothing runs when it is sourced. A script sets, before it calls them:
#   LOG_TAG     the prefix of every message (default: the script's name)
#   LOG_FD      where log() writes (default 1; 2 keeps standard output for results)
#   DIE_STATUS  die()'s exit status (default 1)
#
# shellcheck shell=bash

# ---------------------------------------------------------------- messages

log() { printf '%s: %s\n' "${LOG_TAG:-${0##*/}}" "$*" >&"${LOG_FD:-1}"; }
warn() { printf '%s: warning: %s\n' "${LOG_TAG:-${0##*/}}" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "${LOG_TAG:-${0##*/}}" "$*" >&2
    exit "${DIE_STATUS:-1}"
}

# ---------------------------------------------------------------- processes

# pid_alive PID [NAME]: true when process PID lives and is not a zombie (PID 1 in a
# container may never reap one), and, when NAME is given, runs the program NAME.
#
# NAME is compared with the whole of /proc/PID/comm, which the kernel cuts to 15 characters
# (NAME is cut the same way). Exactly, not by prefix: a pid file outlives its process, the
# number comes round again, and the program that gets it must not be taken for ours (nor
# signalled) because its name starts the same way. comm is the name the program was started
# by (php-fpm8.2, redis-server), not the title it shows in ps; pass that name.
pid_alive() {
    local pid=$1 name=${2:-} state comm
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] || return 1
    [ -n "$name" ] || return 0
    { read -r comm <"/proc/$pid/comm"; } 2>/dev/null || return 1
    [ "$comm" = "${name:0:15}" ]
}

not_alive() { ! pid_alive "$@"; }

# read_pid FILE: the first line of a pid file; nothing when there is none.
read_pid() {
    local pid=""
    if [ -r "$1" ]; then read -r pid <"$1" 2>/dev/null || true; fi
    printf '%s' "$pid"
}

# stop_pid PID NAME [SIGNAL [GRACE]]: when PID runs NAME (pid_alive), sends SIGNAL (TERM),
# waits up to GRACE seconds (10) for it to end, then SIGKILL (and 5 s more). Warns when it
# had to kill, or when the process survives; always true (a stop goes on with the next part).
stop_pid() {
    local pid=$1 name=$2 sig=${3:-TERM} grace=${4:-10}
    pid_alive "$pid" "$name" || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    if ! wait_for "$grace" not_alive "$pid" "$name"; then
        warn "$name (pid $pid) still runs after ${grace}s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_for 5 not_alive "$pid" "$name" || warn "$name (pid $pid) survives SIGKILL"
    fi
    return 0
}

# stop_pidfile FILE NAME [SIGNAL [GRACE]]: stop_pid on the pid in FILE, then removes FILE.
stop_pidfile() {
    stop_pid "$(read_pid "$1")" "${@:2}"
    rm -f "$1"
}

# ---------------------------------------------------------------- ports

# port_listening PORT: true when something listens on TCP port PORT (any address), read
# from /proc: no connection is made, so no pool worker is bothered.
port_listening() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# busy_ports PORT...: prints those of the ports something listens on, each followed by a
# space (nothing when all are free).
busy_ports() {
    local port
    for port in "$@"; do
        if port_listening "$port"; then printf '%s ' "$port"; fi
    done
}

# cluster_ports: the ports a deploy/cluster with the current NODE_*_PORT, POOL_BASE_PORT,
# POOL_COUNT, HAPROXY_*PORT, NGINX_PORT and LIGHTTPD_PORT listens on, one a line.
cluster_ports() {
    local n
    printf '%s\n' "$NODE_A_PORT" "$NODE_B_PORT" "$HAPROXY_PORT" "$HAPROXY_STATS_PORT" "$NGINX_PORT" "$LIGHTTPD_PORT"
    for ((n = 0; n < POOL_COUNT; n++)); do printf '%s\n' $((POOL_BASE_PORT + n)); done
}

# ensure_port_free PORT WHAT VARIABLE: dies when PORT is taken, naming the variable that moves it.
ensure_port_free() {
    if port_listening "$1"; then
        die "port $1 ($2) is already in use by another process; set $3 to another port"
    fi
}

# ---------------------------------------------------------------- waiting

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds; false on time-out
# (after one last try).
wait_for() {
    local tries=$(($1 * 10))
    shift
    while ((tries-- > 0)); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}

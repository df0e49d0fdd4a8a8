# deploy/lib/nodes.sh: the two PostgreSQL nodes (node-a/, node-b/ under CLUSTER_DIR): initdb,
# the rendered settings, start, stop, the role, the database and schema.sql.
#
# shellcheck shell=bash

pg_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        [ -x "$PG_BINDIR/pg_ctl" ] || die "PG_BINDIR=$PG_BINDIR holds no pg_ctl"
        printf '%s\n' "$PG_BINDIR"
        return
    fi
    local dir
    dir=$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/pg_ctl' 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$dir" ]; then
        dirname "$dir"
    elif command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
    else
        die "no PostgreSQL server found (initdb, pg_ctl); install postgresql or set PG_BINDIR"
    fi
}

# as_pg COMMAND...: as postgres when root (PostgreSQL refuses to run as root).
as_pg() {
    if ((IS_ROOT)); then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

node_check() { [[ ${1:-} == a || ${1:-} == b ]] || die "name a node: a or b"; }
node_dir() { printf '%s' "$CLUSTER_DIR/node-$1"; }
node_port() { if [ "$1" = a ]; then printf '%s' "$NODE_A_PORT"; else printf '%s' "$NODE_B_PORT"; fi; }
node_db() { if [ "$1" = a ]; then printf '%s' "$NODE_A_DB"; else printf '%s' "$NODE_B_DB"; fi; }
node_pid() { read_pid "$(node_dir "$1")/postmaster.pid"; }
node_running() { pid_alive "$(node_pid "$1")" postgres; }

# write_node_file NODE NAME < content: a file in the data dir, owned by postgres.
write_node_file() {
    local path
    path=$(node_dir "$1")/$2
    cat >"$path"
    chmod 600 "$path"
    ((!IS_ROOT)) || chown "$PG_USER:$PG_USER" "$path"
}

node_init() {
    local n=$1 dir bindir
    dir=$(node_dir "$n")
    [ -s "$dir/PG_VERSION" ] && return 0
    if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
        die "$dir is not empty but holds no PostgreSQL data directory; move it away"
    fi
    bindir=$(pg_bindir)
    log "initdb node $n"
    mkdir -p "$dir"
    chmod 700 "$dir"
    ((!IS_ROOT)) || chown "$PG_USER:$PG_USER" "$dir"
    local initlog="$LOGS/node-$n-initdb.log"
    : >"$initlog"
    ((!IS_ROOT)) || chown "$PG_USER:$PG_USER" "$initlog"
    if ! as_pg "$bindir/initdb" -D "$dir" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >>"$initlog" 2>&1; then
        as_pg "$bindir/initdb" -D "$dir" -A trust -U postgres --encoding=UTF8 --locale=C >>"$initlog" 2>&1 ||
            die "initdb of node $n failed; see $initlog"
    fi
    printf "\n# Settings of deploy/cluster, rendered on every start.\ninclude_if_exists = 'cluster.conf'\n" \
        >>"$dir/postgresql.conf"
}

node_render() {
    local n=$1
    write_node_file "$n" cluster.conf <<EOF
# Rendered by deploy/cluster on every start; edit the script, not this file.
listen_addresses = '$BIND_HOST'
port = $(node_port "$n")
unix_socket_directories = '$RUN'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 64MB
work_mem = 4MB
maintenance_work_mem = 32MB
fsync = on
synchronous_commit = on
full_page_writes = on
timezone = 'UTC'
log_timezone = 'UTC'
password_encryption = 'scram-sha-256'
logging_collector = off
log_line_prefix = '%m [%p] node-$n %q%u@%d '
log_min_duration_statement = 1000
EOF
    write_node_file "$n" pg_hba.conf <<EOF
# Rendered by deploy/cluster on every start.
# TYPE  DATABASE  USER      ADDRESS          METHOD
local   all       postgres                   trust
host    all       all       127.0.0.1/32     scram-sha-256
host    all       all       ::1/128          scram-sha-256
host    all       all       $BIND_HOST/32    scram-sha-256
EOF
}

node_start() {
    local n=$1 dir port bindir
    node_running "$n" && return 0
    dir=$(node_dir "$n")
    port=$(node_port "$n")
    [ -s "$dir/PG_VERSION" ] || die "node $n has no data directory yet; run deploy/cluster up"
    # Lock files whose process is gone (or a zombie: PID 1 may never reap)
    # are stale: a crash left them, and PostgreSQL would take a zombie for a
    # live postmaster.
    rm -f "$dir/postmaster.pid"
    local lock="$RUN/.s.PGSQL.$port.lock"
    if [ -e "$lock" ] && ! pid_alive "$(read_pid "$lock")" postgres; then
        rm -f "$lock" "$RUN/.s.PGSQL.$port"
    fi
    ensure_port_free "$port" "node $n" "NODE_${n^^}_PORT"
    node_render "$n"
    bindir=$(pg_bindir)
    local logfile="$LOGS/node-$n.log"
    [ -e "$logfile" ] || : >"$logfile"
    ((!IS_ROOT)) || chown "$PG_USER:$PG_USER" "$logfile"
    log "starting node $n on $BIND_HOST:$port"
    if ! as_pg "$bindir/pg_ctl" -D "$dir" -l "$logfile" -w -t 60 start >/dev/null; then
        tail -n 20 "$logfile" >&2 || true
        die "node $n did not start; see $logfile"
    fi
}

node_stop() {
    local n=$1 bindir
    node_running "$n" || return 0
    bindir=$(pg_bindir)
    log "stopping node $n"
    as_pg "$bindir/pg_ctl" -D "$(node_dir "$n")" -m fast -w -t 60 stop >/dev/null ||
        die "node $n did not stop within 60 s"
}

psql_super() {
    local n=$1
    shift
    psql -X -q -h "$RUN" -p "$(node_port "$n")" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

node_setup() {
    local n=$1 db
    db=$(node_db "$n")
    psql_super "$n" -v role="$CLUSTER_DB_USER" -v pw="$CLUSTER_DB_PASSWORD" -v db="$db" >/dev/null <<'EOF' ||
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'role', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
EOF
        die "creating role $CLUSTER_DB_USER and database $db on node $n failed"
    local schema=$ROOT/schema.sql
    if [ ! -f "$schema" ]; then
        warn "$schema does not exist yet: node $n has no tables"
        return 0
    fi
    PGPASSWORD=$CLUSTER_DB_PASSWORD PGCONNECT_TIMEOUT=5 psql -X -q -h "$BIND_HOST" -p "$(node_port "$n")" \
        -U "$CLUSTER_DB_USER" -d "$db" -v ON_ERROR_STOP=1 -v node="$n" -f "$schema" >/dev/null ||
        die "applying schema.sql to node $n failed"
}


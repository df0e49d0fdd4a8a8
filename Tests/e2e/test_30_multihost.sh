#!/usr/bin/env bash
# The layout of docs/MULTIHOST.md with every host a network namespace on one bridge:
#
#   client ──HTTPS──► lb (HAProxy, TLS) ──FastCGI──► pool-1 (pools :9001 :9002) ──TLS──► db-a (node A)
#   mon ──:8404──────┘                          └──► pool-2 (pools :9001 :9002) ──TLS──► db-b (node B)
#
# It runs the example configs of deploy/multihost/ (addresses and paths rewritten) and checks
# that requests cross every host (X-Served-By names both pool hosts, visits rise across them, an
# item is on both nodes), that cookies are Secure over HTTPS, that the nodes take only the pool
# hosts and only over TLS, that /status is served to the monitoring network and loopback only,
# that deploy/multihost/rolling-restart restarts every pool under load without a failed request,
# and that the site keeps serving while node B is stopped, while node A is cut off the network
# (no RST: a host that vanished), and while a whole pool host is cut off.
#
# Every namespace, link and process is its own and goes at the end; the root namespace's network
# is never touched (the bridge lives in a namespace too). It needs root; it prints SKIP and exits 0
# when not root or when `ip netns add` is not permitted. It does not use the cluster deploy/run-tests
# started, only its binary: $RESPONDER_BIN if set, else ${CLUSTER_DIR:-.cluster}/bin/responder
# (where `deploy/cluster up` installs it). MULTIHOST_KEEP=1 keeps the temporary directory (configs,
# logs); the logs of a failed run are copied to Tests/artifacts/.
# shellcheck disable=SC2317 # functions called through poll and at_exit
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

MULTIHOST=$E2E_ROOT/deploy/multihost
# Namespaces: <prefix>-lb, -pool-1, -pool-2, -db-a, -db-b, -client, -mon, -sw (the bridge); the pid
# keeps two runs apart.
P=${MULTIHOST_NS_PREFIX:-scmh$$}
NET=10.231.0
# The monitoring network (10.0.1.0/24 in the examples): the monitoring host, and the LB's second
# address, on the same bridge.
MON_NET=10.231.1
declare -A IP=([lb]=$NET.2 [db-a]=$NET.11 [db-b]=$NET.12 [pool-1]=$NET.21 [pool-2]=$NET.22 [client]=$NET.100
    [mon]=$MON_NET.10)
HOSTS=(lb db-a db-b pool-1 pool-2 client mon)
LB_MON=$MON_NET.2
POOL_PORTS=(9001 9002)
DB_PASSWORD=change_me
LB=https://${IP[lb]}
# docs/REPLICATION.md: with a node away each request answers within DB_CONNECT_TIMEOUT +
# DB_QUERY_TIMEOUT + 1 seconds (2 + 2 + 1 with the example's settings).
LIMIT=5
T0=$EPOCHREALTIME

note() { awk -v now="$EPOCHREALTIME" -v t0="$T0" -v text="$*" 'BEGIN { printf "  [%6.2fs] %s\n", now - t0, text }'; }
skip() {
    printf '%s: SKIP: %s\n' "$TEST_NAME" "$*"
    exit 0
}
die() {
    fail "$*"
    finish
}

# ---------------------------------------------------------------- clean-up

# Stops what runs in the namespaces (by pid: the pid files, then whatever `ip netns pids` still
# finds in them, all started here), removes the namespaces (and with them every veth and the
# bridge) and the directory.
cleanup() {
    local ns pid pids=() n
    for pid in "${BACKGROUND[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    pid=$(cat "$MH/run/haproxy.pid" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null
    for pid in "$MH"/run/pool-*.pid; do [ -e "$pid" ] && kill -TERM "$(cat "$pid")" 2>/dev/null; done
    for n in a b; do
        [ -e "$MH/node-$n/postmaster.pid" ] &&
            runuser -u postgres -- "${PG_BIN:-}/pg_ctl" -D "$MH/node-$n" -m immediate -w -t 10 stop >/dev/null 2>&1
    done
    for ((n = 0; n < 50; n++)); do
        pids=()
        for ns in "${NAMESPACES[@]}"; do
            mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
        done
        ((${#pids[@]} == 0)) && break
        ((n < 30)) || kill -KILL "${pids[@]}" 2>/dev/null
        sleep 0.1
    done
    for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    if ((_failures > 0)) && [ -z "${MULTIHOST_KEEP:-}" ] && [ -n "$(ls -A "$MH/logs" 2>/dev/null)" ]; then
        local keep
        keep=$E2E_ROOT/Tests/artifacts/$TEST_NAME-$(date -u +%Y%m%dT%H%M%SZ)
        mkdir -p "$keep" && cp -r "$MH/logs/." "$keep/" 2>/dev/null && printf '  logs kept in %s\n' "$keep"
    fi
    [ -n "${MULTIHOST_KEEP:-}" ] && printf '  MULTIHOST_KEEP: %s kept\n' "$MH" && return 0
    rm -rf "$MH"
}

# ---------------------------------------------------------------- preconditions

[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip >/dev/null 2>&1 || die "ip (iproute2) is not installed"

MH=$(mktemp -d /tmp/scmh.XXXXXX)
chmod 755 "$MH"
NAMESPACES=()
BACKGROUND=() # subshells started with &
at_exit cleanup

if ! out=$(ip netns add "$P-sw" 2>&1); then
    case $out in
        *"not permitted"* | *"Permission denied"* | *"Read-only file system"*) skip "ip netns add is not permitted here: $out" ;;
        *) die "ip netns add $P-sw: $out" ;;
    esac
fi
NAMESPACES+=("$P-sw")

for tool in haproxy openssl spawn-fcgi cgi-fcgi psql socat runuser; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
PG_BIN=$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/pg_ctl' 2>/dev/null | sort -V | tail -n 1)
PG_BIN=${PG_BIN%/pg_ctl}
[ -n "$PG_BIN" ] || die "no PostgreSQL server (initdb, pg_ctl) under /usr/lib/postgresql"
RESPONDER=${RESPONDER_BIN:-${CLUSTER_DIR:-$E2E_ROOT/.cluster}/bin/responder}
[ -x "$RESPONDER" ] || die "no responder binary at $RESPONDER (set RESPONDER_BIN, or CLUSTER_DIR of a cluster that is up)"
runuser -u www-data -- test -x "$RESPONDER" || die "www-data cannot run $RESPONDER (a parent directory is not searchable)"

mkdir -p "$MH/run" "$MH/logs" "$MH/certs" "$MH/conf"
chown www-data:www-data "$MH/logs"
chmod 755 "$MH/run" "$MH/logs" "$MH/certs" "$MH/conf"

# on_host HOST COMMAND...: COMMAND on HOST.
on_host() {
    local host=$1
    shift
    ip netns exec "$P-$host" "$@"
}

# ---------------------------------------------------------------- the network

# A bridge in its own namespace, and for each host a namespace with eth0 (a veth whose other end
# is a port of the bridge) on $NET.0/24.
ip -n "$P-sw" link add br0 type bridge || die "cannot make a bridge"
ip -n "$P-sw" link set br0 up
ip -n "$P-sw" link set lo up
for host in "${HOSTS[@]}"; do
    ip netns add "$P-$host" || die "ip netns add $P-$host"
    NAMESPACES+=("$P-$host")
    ip -n "$P-$host" link set lo up
    ip -n "$P-sw" link add "h-$host" type veth peer name eth0 netns "$P-$host" || die "veth for $host"
    ip -n "$P-sw" link set "h-$host" master br0 up
    ip -n "$P-$host" addr add "${IP[$host]}/24" dev eth0
    ip -n "$P-$host" link set eth0 up
done
ip -n "$P-lb" addr add "$LB_MON/24" dev eth0
# cable HOST up|down: plugs HOST's cable in or pulls it (no RST, no ICMP: the host is just gone).
cable() { ip -n "$P-sw" link set "h-$1" "$2"; }
note "network: ${#HOSTS[@]} hosts on a bridge, $NET.0/24 and the monitoring network $MON_NET.0/24"

# ---------------------------------------------------------------- certificates

# A CA of the test; the LB and each node get a certificate naming their address.
certs=$MH/certs
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$certs/ca.key" -out "$certs/ca.crt" -days 2 \
    -subj "/CN=session-cluster multihost test CA" 2>"$MH/logs/openssl.log" || die "openssl: the CA"
for host in lb db-a db-b; do
    printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "${IP[$host]}" \
        >"$certs/$host.ext"
    if ! openssl req -new "${ec[@]}" -keyout "$certs/$host.key" -out "$certs/$host.csr" -subj "/CN=$host" \
        2>>"$MH/logs/openssl.log" ||
        ! openssl x509 -req -in "$certs/$host.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" -CAcreateserial \
            -days 2 -extfile "$certs/$host.ext" -out "$certs/$host.crt" 2>>"$MH/logs/openssl.log"; then
        die "openssl: the certificate of $host"
    fi
done
cat "$certs/lb.crt" "$certs/lb.key" >"$certs/lb.pem"
chmod 600 "$certs"/*.key "$certs/lb.pem"
chmod 644 "$certs/ca.crt"

# ---------------------------------------------------------------- the nodes

# The example settings with this node's address and the test's paths, plus the test's own.
for n in a b; do
    (
        dir=$MH/node-$n
        mkdir -p "$dir" "$MH/run-$n" "$MH/ssl-$n"
        chown postgres:postgres "$dir" "$MH/run-$n" "$MH/ssl-$n"
        chmod 700 "$dir" "$MH/ssl-$n"
        install -o postgres -g postgres -m 644 "$certs/db-$n.crt" "$MH/ssl-$n/node.crt"
        install -o postgres -g postgres -m 600 "$certs/db-$n.key" "$MH/ssl-$n/node.key"
        # Inside the node's namespace, so that the clean-up finds it there if the test is stopped.
        on_host "db-$n" runuser -u postgres -- "$PG_BIN/initdb" -D "$dir" -A trust -U postgres --encoding=UTF8 \
            --locale=C.UTF-8 >"$MH/logs/initdb-$n.log" 2>&1 ||
            on_host "db-$n" runuser -u postgres -- "$PG_BIN/initdb" -D "$dir" -A trust -U postgres --encoding=UTF8 \
                --locale=C >>"$MH/logs/initdb-$n.log" 2>&1
    ) &
    BACKGROUND+=($!)
done
wait
for n in a b; do
    [ -s "$MH/node-$n/PG_VERSION" ] || die "initdb of node $n failed: $(short "$(tail -n 3 "$MH/logs/initdb-$n.log")")"
done
for n in a b; do
    dir=$MH/node-$n
    sed -e "s/10\.0\.0\.11/${IP[db-$n]}/g" -e "s/10\.0\.0\./$NET./g" \
        -e "s#/etc/postgresql/ssl/#$MH/ssl-$n/#g" "$MULTIHOST/postgresql-node.conf" >"$dir/session-cluster.conf"
    cat >"$dir/test.conf" <<EOF
unix_socket_directories = '$MH/run-$n'
unix_socket_permissions = 0700
shared_buffers = 32MB
logging_collector = off
EOF
    printf "include 'session-cluster.conf'\ninclude 'test.conf'\n" >>"$dir/postgresql.conf"
    sed -e "s/10\.0\.0\./$NET./g" "$MULTIHOST/pg_hba.conf" >"$dir/pg_hba.conf"
    chown postgres:postgres "$dir"/*.conf
    : >"$MH/logs/node-$n.log"
    chown postgres:postgres "$MH/logs/node-$n.log"
done

node_start() {
    on_host "db-$1" runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$MH/node-$1" -l "$MH/logs/node-$1.log" -w -t 30 start \
        >/dev/null
}
node_stop() { runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$MH/node-$1" -m fast -w -t 30 stop >/dev/null; }
# db_sql a|b SQL: rows (-At) of SQL on node a or b, as postgres over the node's Unix socket, run
# on the node's own host.
db_sql() {
    on_host "db-$1" runuser -u postgres -- psql -X -At -q -h "$MH/run-$1" -p 5432 -d "cluster_session_$1" \
        -v ON_ERROR_STOP=1 -c "$2"
}
# webuser_psql FROM NODE SSLMODE ARGS...: psql as webuser from host FROM to node a|b over TCP.
webuser_psql() {
    local from=$1 n=$2 mode=$3
    shift 3
    on_host "$from" env PGPASSWORD=$DB_PASSWORD PGSSLMODE="$mode" PGSSLROOTCERT="$certs/ca.crt" PGCONNECT_TIMEOUT=3 \
        psql -X -At -q -h "${IP[db-$n]}" -p 5432 -U webuser -d "cluster_session_$n" -v ON_ERROR_STOP=1 "$@"
}

for n in a b; do
    node_start "$n" || die "node $n did not start: $(tail -n 5 "$MH/logs/node-$n.log")"
    # As the administrator does on the node host: the role and the database...
    on_host "db-$n" runuser -u postgres -- psql -X -q -h "$MH/run-$n" -p 5432 -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE webuser LOGIN PASSWORD '$DB_PASSWORD'" \
        -c "CREATE DATABASE cluster_session_$n OWNER webuser ENCODING 'UTF8' TEMPLATE template0" >/dev/null ||
        die "creating webuser and the database on node $n"
    # ...and schema.sql from a pool host, over TLS, as docs/MULTIHOST.md says.
    webuser_psql pool-1 "$n" verify-full -v node="$n" -f "$E2E_ROOT/schema.sql" >/dev/null ||
        die "applying schema.sql to node $n from pool-1"
done
note "nodes a and b up, schema applied from pool-1 over TLS"

# ---------------------------------------------------------------- the pools

# The example env file with the test's addresses and CA, as systemd's EnvironmentFile reads it.
pool_env=()
mapfile -t pool_env < <(sed -e "s/10\.0\.0\./$NET./g" -e "s#/etc/session-cluster/db-ca.crt#$certs/ca.crt#" \
    "$MULTIHOST/responder.env" | grep -E '^[A-Z][A-Z0-9_]*=')
pool_start() {
    local h=$1 port=$2
    on_host "pool-$h" env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME="$MH" "${pool_env[@]}" \
        RESPONDER_NAME="pool-host-$h:$port" LOG_FILE="$MH/logs/pool-$h-$port.log" \
        spawn-fcgi -a "${IP[pool-$h]}" -p "$port" -P "$MH/run/pool-$h-$port.pid" -d "$MH" -u www-data -g www-data \
        -- "$RESPONDER" >>"$MH/logs/spawn-fcgi.log" 2>&1
}
# fcgi_get FROM HOST PORT PATH [NAME=VALUE...]: GET PATH asked of a pool directly over FastCGI,
# from host FROM; the answer with its headers.
fcgi_get() {
    local from=$1 host=$2 port=$3 path=$4
    shift 4
    on_host "$from" env -i REQUEST_METHOD=GET REQUEST_URI="$path" SCRIPT_NAME="$path" DOCUMENT_URI="$path" \
        QUERY_STRING= SERVER_NAME=localhost SERVER_PORT="$port" SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 \
        HTTP_HOST=localhost REMOTE_ADDR="${IP[$from]}" "$@" \
        timeout 5 cgi-fcgi -bind -connect "${IP[$host]}:$port" </dev/null 2>/dev/null | tr -d '\r'
}
pool_healthy() { [[ $(fcgi_get lb "pool-$1" "$2" /health) == *'"status":"ok"'* ]]; }
# caught_up NODE: every pool's /status shows NODE up: caught up and confirmed to hold every
# acknowledged write (not catching_up). Only then may the other node fail alone.
caught_up() {
    local h port
    for h in 1 2; do
        for port in "${POOL_PORTS[@]}"; do
            [[ $(fcgi_get lb "pool-$h" "$port" /status) == *"\"$1\":{\"state\":\"up\",\"detail\":\"up\""* ]] || return 1
        done
    done
}

for h in 1 2; do
    for port in "${POOL_PORTS[@]}"; do
        pool_start "$h" "$port" || die "spawn-fcgi on pool-host-$h:$port: $(tail -n 2 "$MH/logs/spawn-fcgi.log")"
    done
done
for h in 1 2; do
    for port in "${POOL_PORTS[@]}"; do
        poll 15 pool_healthy "$h" "$port" ||
            die "pool-host-$h:$port does not answer /health from lb: $(tail -n 3 "$MH/logs/pool-$h-$port.log" 2>/dev/null)"
    done
done
note "pools up: ${#POOL_PORTS[@]} on each of pool-1 and pool-2"

# ---------------------------------------------------------------- HAProxy

sed -e "s/10\.0\.0\./$NET./g" -e "s/10\.0\.1\./$MON_NET./g" \
    -e "s#/etc/haproxy/certs/session-cluster.pem#$certs/lb.pem#" \
    -e "s#/etc/haproxy/errors/session-cluster-503.http#$MULTIHOST/haproxy-503.http#" \
    -e "s#/run/haproxy.pid#$MH/run/haproxy.pid#" \
    -e "s#/run/haproxy/admin.sock#$MH/run/haproxy.sock#" \
    -e "s#^\( *\)log /dev/log local0#\1log stdout format raw local0#" \
    "$MULTIHOST/haproxy.cfg" >"$MH/conf/haproxy.cfg"
haproxy -c -q -f "$MH/conf/haproxy.cfg" >"$MH/logs/haproxy-check.log" 2>&1 ||
    die "haproxy -c rejects the example config: $(short "$(cat "$MH/logs/haproxy-check.log")")"
on_host lb setsid haproxy -W -db -f "$MH/conf/haproxy.cfg" >>"$MH/logs/haproxy.log" 2>&1 </dev/null &
haproxy_cmd() { printf '%s\n' "$1" | timeout 5 socat -t 2 - "UNIX-CONNECT:$MH/run/haproxy.sock" 2>/dev/null; }
# haproxy_up_servers: the pools HAProxy sees UP, one a line (not the backend's own line, which
# says UP while any one is).
haproxy_up_servers() { haproxy_cmd "show stat" | awk -F, '$1 == "pools" && $2 != "BACKEND" && $18 == "UP" { print $2 }'; }
all_servers_up() { [ "$(haproxy_up_servers | wc -l)" -eq 4 ]; }
poll 15 all_servers_up || die "HAProxy does not see the 4 pools up: $(haproxy_up_servers | tr '\n' ' ')$(tail -n 3 "$MH/logs/haproxy.log")"
note "HAProxy up on lb, 4 pools UP"

# ---------------------------------------------------------------- the client

# Every request of the test comes from the client host and trusts the test's CA only.
curl() { ip netns exec "$P-client" curl --cacert "$certs/ca.crt" "$@"; }

# TIME <= LIMIT
in_time() { awk -v t="$TIME" -v l="$LIMIT" 'BEGIN { exit !(t <= l) }'; }

do_curl "http://${IP[lb]}/session"
assert_status 301 "plain HTTP on the LB redirects"
assert_eq "$LB/session" "$(header Location)" "the redirect goes to HTTPS"

# One browser: GET / (counts a visit), GET /session (reads the count) and GET /health, eight
# times: three requests a round over four pools in turn, so GET / meets every pool.
jar=$E2E_TMP/jar
declare -A served visit_hosts
for ((i = 1; i <= 8; i++)); do
    do_curl -b "$jar" -c "$jar" "$LB/"
    assert_status 200 "GET / #$i over HTTPS"
    by=$(header X-Served-By)
    served[$by]=1
    visit_hosts[$by]=1
    if ((i == 1)); then
        cookies=$(header_all Set-Cookie)
        assert_contains "$cookies" "PHPSESSID=" "the first answer sets the session cookie"
        while IFS= read -r line; do
            [ -n "$line" ] || continue
            assert_match "$line" '; *Secure(;|$)' "Set-Cookie ${line%%=*} is Secure over HTTPS"
        done <<<"$cookies"
        assert_match "$(header Strict-Transport-Security)" '^max-age=[0-9]+' "HSTS on HTTPS answers"
    fi
    do_curl -b "$jar" -c "$jar" "$LB/session"
    assert_status 200 "GET /session #$i"
    served[$(json_get served_by)]=1
    assert_eq "$i" "$(json_get visits)" "visits after $i visits (GET / by $by)"
    do_curl "$LB/health"
    assert_eq "200 up up" "$STATUS $(json_get nodes.a) $(json_get nodes.b)" "GET /health #$i: both nodes up"
done
sid=$(cookie_value "$jar" PHPSESSID)
expected_pools="pool-host-1:9001 pool-host-1:9002 pool-host-2:9001 pool-host-2:9002"
assert_eq "$expected_pools" "$(printf '%s\n' "${!served[@]}" | sort | xargs)" "X-Served-By named every pool on both hosts"
assert_eq "$expected_pools" "$(printf '%s\n' "${!visit_hosts[@]}" | sort | xargs)" \
    "the visits were counted by every pool on both hosts"
for n in a b; do
    assert_eq "visits|i:8;" "$(db_sql "$n" "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = '$sid'")" \
        "the session on node $n, read on db-$n"
done

# The control: the same pool asked directly, without TLS, does not mark its cookie Secure, and
# does with HTTPS=on: Secure comes from HAProxy's TLS termination.
answer=$(fcgi_get lb pool-1 9001 /session)
assert_match "$(grep -i '^Set-Cookie: PHPSESSID' <<<"$answer")" '^Set-Cookie: PHPSESSID=[^;]+;' "a pool asked directly sets a cookie"
if grep -i '^Set-Cookie:' <<<"$answer" | grep -qi 'secure'; then
    fail "a pool asked directly without HTTPS marks its cookie Secure"
else
    pass "no Secure without HTTPS"
fi
assert_contains "$(fcgi_get lb pool-1 9001 /session HTTPS=on | grep -i '^Set-Cookie: PHPSESSID')" "Secure" \
    "a pool asked directly with HTTPS=on marks its cookie Secure"
note "8 visits across both pool hosts, Secure cookies"

# An item made through the LB, with the page's own origin (https://<lb>): on both nodes.
create_item() {
    do_curl -H 'Content-Type: application/json' -H "Origin: $LB" \
        --data "{\"action\":\"create\",\"name\":\"$1\",\"content\":\"multihost\"}" "$LB/manage"
}
create_item "multihost $$ one"
assert_status 201 "create an item through the LB"
id1=$(json_get id)
[[ $id1 =~ ^[0-9]+$ ]] || id1=0
for n in a b; do
    assert_eq "multihost $$ one" "$(db_sql "$n" "SELECT name FROM items WHERE id = $id1")" \
        "item $id1 is on node $n, read on db-$n"
done
do_curl -H 'Content-Type: application/json' -H "Origin: http://${IP[lb]}" \
    --data '{"action":"create","name":"multihost cross-origin"}' "$LB/manage"
assert_status 403 "an http:// Origin is another origin than the https:// page"

# The nodes: the pools' connections come from both pool hosts, all over TLS; nobody else gets in.
for n in a b; do
    rows=$(db_sql "$n" "SELECT host(a.client_addr), count(*), bool_and(s.ssl) FROM pg_stat_activity a
        JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'webuser' GROUP BY 1 ORDER BY 1")
    assert_eq "${IP[pool-1]} ${IP[pool-2]}" "$(cut -d'|' -f1 <<<"$rows" | xargs)" "node $n is used by both pool hosts"
    assert_eq "t t" "$(cut -d'|' -f3 <<<"$rows" | xargs)" "every connection to node $n is TLS"
    [ -z "${E2E_VERBOSE:-}" ] || printf '  node %s connections (host|count|tls): %s\n' "$n" "$(xargs <<<"$rows")"
done
out=$(webuser_psql client a prefer -c 'SELECT 1' 2>&1)
assert_contains "$out" "no pg_hba.conf entry" "node a refuses webuser from the client host"
out=$(webuser_psql pool-1 a disable -c 'SELECT 1' 2>&1)
assert_contains "$out" "no pg_hba.conf entry" "node a refuses a pool host without TLS"
assert_eq 1 "$(webuser_psql pool-2 b verify-full -c 'SELECT 1' 2>&1)" "node b takes a pool host over verified TLS"

# ---------------------------------------------------------------- /status and the monitoring network

# /status names pids, start times and node states: the public front end answers it 404 for
# everyone (in every spelling the responder would route there); the monitoring listener serves it
# to the monitoring network and to the LB itself over loopback, and refuses anyone else.
for path in /status "/status?format=prometheus" /status.php "/status.php?format=prometheus" /stat%75s; do
    do_curl "$LB$path"
    assert_match "$STATUS" '^40[34]$' "the client gets 403 or 404 for $path through the LB"
    if [[ $BODY == *'"pid"'* || $BODY == *responder_start_time* ]]; then fail "the answer to $path shows /status: $(short "$BODY")"; fi
done
# mon_get FROM URL: GET URL from host FROM with curl; prints the status (000: no answer), the
# body goes to $E2E_TMP/mon-body.
mon_get() {
    ip netns exec "$P-$1" curl -sS --max-time 5 -o "$E2E_TMP/mon-body" -w '%{http_code}' "$2" 2>"$E2E_TMP/mon-error"
}
MON=http://$LB_MON:8404
for path in /status /status.php; do
    assert_eq 200 "$(mon_get mon "$MON$path")" "the monitoring host gets $path"
    assert_match "$(json_get pool "$(cat "$E2E_TMP/mon-body")")" '^pool-host-[12]:900[12]$' "$path from the monitoring host is a pool's"
done
assert_eq 200 "$(mon_get mon "$MON/status?format=prometheus")" "the monitoring host gets /status?format=prometheus"
assert_contains "$(cat "$E2E_TMP/mon-body")" "responder_start_time_seconds" "/status?format=prometheus is Prometheus text"
assert_eq 200 "$(mon_get mon "$MON/metrics")" "the monitoring host gets HAProxy's /metrics"
assert_eq 200 "$(mon_get mon "$MON/metrics/host2-9001")" "the monitoring host gets /metrics/host2-9001"
assert_contains "$(cat "$E2E_TMP/mon-body")" 'responder_accepted_requests_total{pool="pool-host-2:9001"}' \
    "/metrics/host2-9001 is that pool's own"
assert_eq 404 "$(mon_get mon "$MON/metrics/host3-9001")" "/metrics/ of no pool is 404"
assert_eq 200 "$(mon_get mon "$MON/")" "the monitoring host gets HAProxy's stats page"
assert_contains "$(cat "$E2E_TMP/mon-body")" "Statistics Report" "the stats page is HAProxy's"
assert_eq 200 "$(mon_get lb "http://127.0.0.1:8404/status")" "the LB itself gets /status over loopback"
assert_eq 000 "$(mon_get client "http://${IP[lb]}:8404/status")" "the monitoring listener is not on the LB's client-side address"
assert_eq 000 "$(mon_get client "$MON/status")" "the client has no way to the monitoring network"
# A client that routes itself onto the monitoring network meets the src check (the LB takes the
# packets: Linux answers for any of its addresses on any interface): HAProxy accepts the
# connection and closes it at once, and counts it denied (dcon of the stats frontend).
stats_denied() {
    haproxy_cmd "show stat" | awk -F, 'NR == 1 { sub(/^# */, ""); for (i = 1; i <= NF; i++) c[$i] = i; next }
        $1 == "stats" && $2 == "FRONTEND" { print $(c["dcon"]) }'
}
denied=$(stats_denied)
ip -n "$P-client" route add "$MON_NET.0/24" dev eth0
assert_eq 000 "$(mon_get client "$MON/status")" "the monitoring listener refuses a client that routes itself there"
assert_eq "$((${denied:-0} + 1))" "$(stats_denied)" "HAProxy's src check refused that connection ($(short "$(cat "$E2E_TMP/mon-error")"))"
ip -n "$P-client" route del "$MON_NET.0/24" dev eth0
note "/status: 404 through the LB, 200 on the monitoring network and loopback"

# ---------------------------------------------------------------- rolling restart under load

# The test's `systemctl restart responder@PORT` on the pool host at ADDR: stop the pool with
# SIGTERM (it finishes what it has in flight), wait until it is gone, start it as the test started
# it. rolling-restart runs it as RESTART_CMD.
{
    printf '#!/usr/bin/env bash\n# restart-pool ADDR PORT, written by %s\nset -u\n' "$TEST_NAME"
    declare -p P MH RESPONDER IP pool_env
    declare -f on_host pool_start
    cat <<'EOF'
addr=$1 port=$2
case $addr in
    "${IP[pool-1]}") h=1 ;;
    "${IP[pool-2]}") h=2 ;;
    *) echo "restart-pool: no pool host at $addr" >&2 && exit 2 ;;
esac
alive() { [ -e "/proc/$1" ] && awk '{ exit $3 == "Z" }' "/proc/$1/stat" 2>/dev/null; }
pid=$(cat "$MH/run/pool-$h-$port.pid") || exit 1
kill -TERM "$pid" || exit 1
for ((i = 0; i < 350; i++)); do alive "$pid" || break; sleep 0.1; done
if alive "$pid"; then echo "restart-pool: pool-host-$h:$port (pid $pid) still runs 35 s after SIGTERM" >&2 && exit 1; fi
pool_start "$h" "$port"
EOF
} >"$MH/restart-pool"
chmod 700 "$MH/restart-pool"
# rolling_restart ARGS...: deploy/multihost/rolling-restart run on the LB, as an operator would.
# RESTART_CMD may replace the test's restart command.
rolling_restart() {
    local restart="$MH/restart-pool {addr} {port}"
    on_host lb env HAPROXY_SOCKET="$MH/run/haproxy.sock" RESTART_CMD="${RESTART_CMD:-$restart}" \
        DRAIN_TIMEOUT=15 RESTART_TIMEOUT=40 READY_TIMEOUT=20 UP_TIMEOUT=10 \
        timeout 150 bash "$MULTIHOST/rolling-restart" "$@"
}
pool_pids() {
    local h port
    for h in 1 2; do
        for port in "${POOL_PORTS[@]}"; do
            printf 'pool-host-%s:%s=%s\n' "$h" "$port" "$(cat "$MH/run/pool-$h-$port.pid" 2>/dev/null)"
        done
    done
}

# A restart that fails puts the pool it drained back to ready, and says so.
out=$(RESTART_CMD=false rolling_restart host2-9002 2>&1)
rc=$?
assert_eq 1 "$rc" "rolling-restart exits 1 when a restart command fails"
assert_contains "$out" "host2-9002 set back to ready" "rolling-restart gives the pool back after a failed restart"
admin_state() { haproxy_cmd "show servers state pools" | awk -v s="$1" '$4 == s { print $7 }'; }
assert_eq 0 "$(admin_state host2-9002)" "host2-9002 is ready in HAProxy again (admin state 0)"
poll 10 all_servers_up || fail "not every pool is UP after the failed restart: $(haproxy_up_servers | xargs)"

# The load: three clients, each with a session of its own, GET / and GET /session in turn,
# twenty requests a connection, until told to stop; one line per request: status and time.
load_client() {
    local k urls=()
    for ((k = 0; k < 10; k++)); do urls+=(-o /dev/null "$LB/" -o /dev/null "$LB/session"); done
    until [ -e "$MH/load.stop" ]; do
        curl -sS --max-time 10 -b "$MH/load-$1.jar" -c "$MH/load-$1.jar" -w '%{http_code} %{time_total}\n' \
            "${urls[@]}" >>"$MH/logs/load-$1.log" 2>>"$MH/logs/load-$1.errors"
    done
}
load_log() { cat "$MH"/logs/load-[123].log 2>/dev/null; }
load_started() { (($(load_log | wc -l) >= 30)); }
pids_before=$(pool_pids)
rm -f "$MH/load.stop"
load_pids=()
for k in 1 2 3; do
    load_client "$k" &
    load_pids+=($!)
    BACKGROUND+=($!)
done
poll 20 load_started || fail "the load did not start: $(cat "$MH"/logs/load-*.errors 2>/dev/null | head -n 3 | xargs)"
note "load running; rolling-restart"
restart_started=$EPOCHREALTIME
rolling_restart >"$MH/logs/rolling-restart.log" 2>&1
rc=$?
restart_took=$(awk -v a="$restart_started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
sleep 2
touch "$MH/load.stop"
wait "${load_pids[@]}"
assert_eq 0 "$rc" "rolling-restart exits 0 ($(short "$(tail -n 2 "$MH/logs/rolling-restart.log")"))"
total=$(load_log | wc -l)
failures=$(load_log | awk '$1 !~ /^[23][0-9][0-9]$/ { print $1 }' | sort | uniq -c | xargs)
slowest=$(load_log | sort -k2 -g | tail -n 1 | cut -d' ' -f2)
note "rolling-restart took ${restart_took}s; load: $total requests, ${failures:-none} failed, slowest ${slowest}s"
if ((total >= 100)); then pass "the load sent $total requests"; else fail "the load sent only $total requests"; fi
assert_eq "" "$failures" "no request through the LB failed during the rolling restart (count and status)"
assert_eq "" "$(cat "$MH"/logs/load-[123].errors 2>/dev/null | head -n 3 | xargs)" "curl met no connection error during the rolling restart"
pids_after=$(pool_pids)
while IFS='=' read -r pool before; do
    after=$(grep "^$pool=" <<<"$pids_after" | cut -d= -f2)
    if [ -n "$before" ] && [ -n "$after" ] && [ "$before" != "$after" ]; then
        pass "$pool was restarted (pid $before, now $after)"
    else
        fail "$pool was not restarted: pid '$before' before, '$after' after"
    fi
done <<<"$pids_before"
assert_eq 4 "$(grep -c ': UP in HAProxy$' "$MH/logs/rolling-restart.log")" "rolling-restart saw each pool UP again"
if poll 10 all_servers_up; then pass "HAProxy sees the 4 pools UP after the rolling restart"; else fail "after the rolling restart: $(haproxy_up_servers | xargs)"; fi
[ -z "${E2E_VERBOSE:-}" ] || sed 's/^/  | /' "$MH/logs/rolling-restart.log"

# ---------------------------------------------------------------- failures

visits=8
# visit_round WHAT: GET / and GET /session once each; both in time, visits one up. (A failed
# round does not fail the next ones: visits follows what /session said.)
visit_round() {
    local expected=$((visits + 1))
    do_curl -b "$jar" -c "$jar" "$LB/"
    assert_status 200 "GET / $1 (${TIME}s)"
    in_time || fail "GET / $1 took ${TIME}s, over ${LIMIT}s"
    local counted=$STATUS
    do_curl -b "$jar" -c "$jar" "$LB/session"
    assert_status 200 "GET /session $1 (${TIME}s)"
    in_time || fail "GET /session $1 took ${TIME}s, over ${LIMIT}s"
    assert_eq "$expected" "$(json_get visits)" "visits $1"
    if [ "$STATUS" = 200 ]; then
        visits=$(json_get visits)
    elif [ "$counted" = 200 ]; then
        visits=$expected
    fi
}
# health_says NODE STATE: 4 /health answers in a row (one per pool) report NODE in STATE.
health_says() {
    local k
    for ((k = 0; k < 4; k++)); do
        do_curl "$LB/health"
        [ "$STATUS" = 200 ] && [ "$(json_get "nodes.$1")" = "$2" ] || return 1
    done
}
# on_node NODE ID NAME: item ID with NAME is on NODE.
on_node() { [ "$(db_sql "$1" "SELECT name FROM items WHERE id = $2" 2>/dev/null)" = "$3" ]; }
session_on() { db_sql "$1" "SELECT convert_from(data, 'UTF8') FROM php_session WHERE id = '$sid'" 2>/dev/null; }
sessions_equal() { [ "$(session_on a)" = "visits|i:$visits;" ] && [ "$(session_on b)" = "visits|i:$visits;" ]; }

# Node B stopped (pg_ctl -m fast: its connections are closed properly).
node_stop b || fail "pg_ctl stop on db-b"
note "node b stopped"
for ((k = 1; k <= 4; k++)); do visit_round "#$k with node b stopped"; done
create_item "multihost $$ two"
assert_status 201 "create an item with node b stopped (${TIME}s)"
in_time || fail "the create with node b stopped took ${TIME}s, over ${LIMIT}s"
id2=$(json_get id)
[[ $id2 =~ ^[0-9]+$ ]] || id2=0
assert_eq "multihost $$ two" "$(db_sql a "SELECT name FROM items WHERE id = $id2")" "item $id2 is on node a"
if poll 10 health_says b down; then pass "/health says node b is down"; else fail "/health does not say b down: $(short "$BODY")"; fi
node_start b || fail "node b does not start again"
note "node b started again"
if ((id2 == 0)); then fail "no item made with node b stopped to look for on node b"
elif poll 15 on_node b "$id2" "multihost $$ two"; then pass "node b caught up item $id2"; else fail "node b lacks item $id2 15 s after its start"; fi
if poll 10 sessions_equal; then pass "node b caught up the session"; else fail "the session differs: a '$(session_on a)' b '$(session_on b)'"; fi
if poll 15 health_says b up; then pass "/health says node b is up again"; else fail "/health does not say b up: $(short "$BODY")"; fi
# Until then node A stands alone and B may lack writes: losing A now would be a double failure.
if poll 10 caught_up b; then pass "every pool has node b caught up and confirmed"; else fail "node b is not caught up in every pool 10 s after its start"; fi
note "node b caught up"

# Node A's host cut off the network: its packets vanish, no connection is refused or reset.
cable db-a down
note "db-a cut off"
for ((k = 1; k <= 4; k++)); do visit_round "#$k with db-a cut off"; done
create_item "multihost $$ three"
assert_status 201 "create an item with db-a cut off (${TIME}s)"
in_time || fail "the create with db-a cut off took ${TIME}s, over ${LIMIT}s"
id3=$(json_get id)
[[ $id3 =~ ^[0-9]+$ ]] || id3=0
assert_eq "multihost $$ three" "$(db_sql b "SELECT name FROM items WHERE id = $id3")" "item $id3 is on node b"
if poll 10 health_says a down; then pass "/health says node a is down"; else fail "/health does not say a down: $(short "$BODY")"; fi
cable db-a up
note "db-a back on the network"
if ((id3 == 0)); then fail "no item made with db-a cut off to look for on node a"
elif poll 20 on_node a "$id3" "multihost $$ three"; then pass "node a caught up item $id3"; else fail "node a lacks item $id3 20 s after it came back"; fi
if poll 10 sessions_equal; then pass "node a caught up the session"; else fail "the session differs: a '$(session_on a)' b '$(session_on b)'"; fi
note "node a caught up"

# A whole pool host cut off: HAProxy's connects time out (timeout connect 2s), it retries on
# another pool and marks the host's pools down; every request is answered by pool-host-2.
cable pool-1 down
note "pool-1 cut off"
declare -A served_after=()
for ((k = 1; k <= 3; k++)); do
    visit_round "#$k with pool-1 cut off"
    served_after[$(json_get served_by)]=1
done
pool1_down() { [ "$(haproxy_up_servers | grep -c '^host1-')" = 0 ]; }
if poll 10 pool1_down; then pass "HAProxy marks pool-1's pools down"; else fail "HAProxy still sees pool-1's pools: $(haproxy_up_servers | xargs)"; fi
assert_eq "pool-host-2" "$(printf '%s\n' "${!served_after[@]}" | cut -d: -f1 | sort -u | xargs)" \
    "only pool-host-2 served while pool-1 was cut off"
cable pool-1 up
if poll 10 all_servers_up; then pass "HAProxy sees pool-1's pools up again"; else fail "pool-1's pools are not back"; fi
visit_round "with every host back"
note "done"

finish

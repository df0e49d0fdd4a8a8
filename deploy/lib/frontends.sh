# deploy/lib/frontends.sh: HAProxy, nginx and lighttpd in front of the pools (their
# configuration rendered from the templates on every `up`), and HAProxy's runtime API.
#
# shellcheck shell=bash


# render TEMPLATE OUTPUT KEY=VALUE...: replaces each @KEY@.
render() {
    local template=$1 output=$2 text pair key value
    shift 2
    text=$(<"$template")
    for pair in "$@"; do
        key=${pair%%=*}
        value=${pair#*=}
        text=${text//"@$key@"/"$value"}
    done
    if [[ $text =~ @[A-Z_]+@ ]]; then
        die "$template: no value for ${BASH_REMATCH[0]}"
    fi
    printf '%s\n' "$text" >"$output.new"
    mv -f "$output.new" "$output"
}

render_frontends() {
    local n port haproxy_servers="" nginx_servers="" lighttpd_servers="" haproxy_user="" nginx_user="" lighttpd_user=""
    local metrics_paths="" metrics_routes="" metrics_backends=""
    for ((n = 1; n <= POOL_COUNT; n++)); do
        port=$(pool_port "$n")
        haproxy_servers+="    server pool$n $BIND_HOST:$port maxconn $((10#$WORKERS))"$'\n'
        # /metrics/pool-N on the stats listener: pool N alone (haproxy.cfg.tmpl says why).
        metrics_paths+=" /metrics/pool-$n"
        metrics_routes+="    use_backend metrics-pool-$n if { path /metrics/pool-$n }"$'\n'
        metrics_backends+="backend metrics-pool-$n"$'\n'"    use-fcgi-app metrics"$'\n'"    http-reuse never"$'\n'
        metrics_backends+="    http-request del-header Proxy"$'\n'"    http-request set-path /status"$'\n'
        metrics_backends+="    http-request set-query format=prometheus"$'\n'
        metrics_backends+="    server pool$n $BIND_HOST:$port proto fcgi maxconn 1"$'\n\n'
        nginx_servers+="        server $BIND_HOST:$port max_fails=1 fail_timeout=2s;"$'\n'
        lighttpd_servers+="    \"pool$n\" => ( \"host\" => \"$BIND_HOST\", \"port\" => $port,"
        lighttpd_servers+=" \"check-local\" => \"disable\", \"fix-root-scriptname\" => \"enable\" ),"$'\n'
    done
    if ((IS_ROOT)); then
        id haproxy >/dev/null 2>&1 && haproxy_user="    user haproxy"$'\n'"    group haproxy"
        nginx_user="user $POOL_USER $POOL_USER;"
        lighttpd_user="server.username = \"$POOL_USER\""$'\n'"server.groupname = \"$POOL_USER\""
    fi
    local common=("RUN=$RUN" "LOGS=$LOGS" "CONF=$CONF" "WWW=$WWW" "BIND_HOST=$BIND_HOST")

    printf '%s\r\n' "HTTP/1.0 503 Service Unavailable" "Cache-Control: no-cache" "Connection: close" \
        "Content-Type: application/json" "Retry-After: 5" "" >"$CONF/haproxy-503.http"
    printf '%s\n' '{"error":"No pool is available to serve the request."}' >>"$CONF/haproxy-503.http"
    render "$ROOT/haproxy/haproxy.cfg.tmpl" "$CONF/haproxy.cfg" "${common[@]}" \
        "HAPROXY_PORT=$HAPROXY_PORT" "HAPROXY_STATS_PORT=$HAPROXY_STATS_PORT" \
        "HAPROXY_USER=$haproxy_user" "HAPROXY_SERVERS=${haproxy_servers%$'\n'}" \
        "HAPROXY_METRICS_PATHS=${metrics_paths# }" "HAPROXY_METRICS_ROUTES=${metrics_routes%$'\n'}" \
        "HAPROXY_METRICS_BACKENDS=${metrics_backends%$'\n\n'}"
    render "$SCRIPT_DIR/nginx.conf.tmpl" "$CONF/nginx.conf" "${common[@]}" \
        "NGINX_PORT=$NGINX_PORT" "NGINX_USER=$nginx_user" "NGINX_SERVERS=${nginx_servers%$'\n'}"
    render "$SCRIPT_DIR/lighttpd.conf.tmpl" "$CONF/lighttpd.conf" "${common[@]}" \
        "LIGHTTPD_PORT=$LIGHTTPD_PORT" "LIGHTTPD_USER=$lighttpd_user" \
        "LIGHTTPD_SERVERS=${lighttpd_servers%$'\n'}"
}

haproxy_running() { pid_alive "$(read_pid "$RUN/haproxy.pid")" haproxy; }
nginx_running() { pid_alive "$(read_pid "$RUN/nginx.pid")" nginx; }
lighttpd_running() { pid_alive "$(read_pid "$RUN/lighttpd.pid")" lighttpd; }

frontends_stop() {
    stop_pidfile "$RUN/haproxy.pid" haproxy TERM 5
    stop_pidfile "$RUN/nginx.pid" nginx TERM 5
    stop_pidfile "$RUN/lighttpd.pid" lighttpd TERM 5
}

start_haproxy() {
    haproxy_running && return 0
    ensure_port_free "$HAPROXY_PORT" haproxy HAPROXY_PORT
    ensure_port_free "$HAPROXY_STATS_PORT" "haproxy stats" HAPROXY_STATS_PORT
    haproxy -c -q -f "$CONF/haproxy.cfg" || die "haproxy -c -f $CONF/haproxy.cfg failed"
    rm -f "$RUN/haproxy.pid"
    log "starting haproxy on $BIND_HOST:$HAPROXY_PORT"
    # Master-worker in the foreground (-W -db) so that `log stdout` lands in
    # the log file; the master writes the pid file.
    setsid haproxy -W -db -f "$CONF/haproxy.cfg" >>"$LOGS/haproxy.log" 2>&1 </dev/null &
    if ! { wait_for 10 port_listening "$HAPROXY_PORT" && wait_for 5 haproxy_running; }; then
        die "haproxy did not start; see $LOGS/haproxy.log"
    fi
}

start_nginx() {
    nginx_running && return 0
    ensure_port_free "$NGINX_PORT" nginx NGINX_PORT
    local args=(-p "$CLUSTER_DIR" -c "$CONF/nginx.conf" -e "$LOGS/nginx-error.log")
    nginx -t -q "${args[@]}" || die "nginx -t -c $CONF/nginx.conf failed"
    rm -f "$RUN/nginx.pid"
    log "starting nginx on $BIND_HOST:$NGINX_PORT"
    nginx "${args[@]}" </dev/null || die "nginx did not start; see $LOGS/nginx-error.log"
    if ! { wait_for 10 port_listening "$NGINX_PORT" && wait_for 5 nginx_running; }; then
        die "nginx did not start; see $LOGS/nginx-error.log"
    fi
}

start_lighttpd() {
    lighttpd_running && return 0
    ensure_port_free "$LIGHTTPD_PORT" lighttpd LIGHTTPD_PORT
    lighttpd -tt -f "$CONF/lighttpd.conf" >/dev/null || die "lighttpd -tt -f $CONF/lighttpd.conf failed"
    rm -f "$RUN/lighttpd.pid"
    # lighttpd opens its logs after dropping to server.username.
    local f
    for f in "$LOGS/lighttpd-error.log" "$LOGS/lighttpd-access.log"; do
        [ -e "$f" ] || : >"$f"
        ((!IS_ROOT)) || chown "$POOL_USER:$POOL_USER" "$f"
    done
    log "starting lighttpd on $BIND_HOST:$LIGHTTPD_PORT"
    lighttpd -f "$CONF/lighttpd.conf" </dev/null >>"$LOGS/lighttpd-error.log" 2>&1 ||
        die "lighttpd did not start; see $LOGS/lighttpd-error.log"
    if ! { wait_for 10 port_listening "$LIGHTTPD_PORT" && wait_for 5 lighttpd_running; }; then
        die "lighttpd did not start; see $LOGS/lighttpd-error.log"
    fi
}

# ---------------------------------------------------------------- HAProxy runtime API

haproxy_cmd() {
    [ -S "$HAPROXY_SOCK" ] || return 1
    printf '%s\n' "$1" | timeout 5 socat -t 2 - "UNIX-CONNECT:$HAPROXY_SOCK"
}

# A field of pools/poolN in `show stat`: scur (current sessions) or status.
haproxy_server_field() {
    local n=$1 field=$2
    haproxy_cmd "show stat" | awk -F, -v s="pool$n" -v f="$field" '
        NR == 1 { for (i = 1; i <= NF; i++) { h = $i; sub(/^# /, "", h); col[h] = i }; next }
        $1 == "pools" && $2 == s { print $(col[f]) }'
}

haproxy_idle() { [ "$(haproxy_server_field "$1" scur)" = 0 ]; }
haproxy_up() { [ "$(haproxy_server_field "$1" status)" = UP ]; }

# front_serves_pool URL N: one of a few requests to URL/health is served by pool N (X-Served-By).
front_serves_pool() {
    local k
    for ((k = 0; k < POOL_COUNT; k++)); do
        curl -s -o /dev/null -D - --max-time 2 "$1/health" 2>/dev/null | tr -d '\r' |
            grep -qix "x-served-by: pool-$2" && return 0
    done
    return 1
}


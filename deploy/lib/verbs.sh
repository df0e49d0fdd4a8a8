# deploy/lib/verbs.sh: the verbs of deploy/cluster that span the parts: up, down, status,
# restart-pools.
#
# shellcheck shell=bash

cmd_up() {
    check_settings
    ensure_packages
    prepare_dirs
    install_responder
    local n
    for n in a b; do
        node_init "$n"
        node_start "$n"
        node_setup "$n"
    done
    for ((n = 1; n <= POOL_COUNT; n++)); do pool_start "$n"; done
    for ((n = 1; n <= POOL_COUNT; n++)); do pool_wait "$n"; done
    render_frontends
    start_haproxy
    start_nginx
    start_lighttpd
    cat <<EOF
cluster: up ($CLUSTER_DIR)
  HAProxy        http://$BIND_HOST:$HAPROXY_PORT/
  nginx          http://$BIND_HOST:$NGINX_PORT/
  lighttpd       http://$BIND_HOST:$LIGHTTPD_PORT/
  HAProxy stats  http://$BIND_HOST:$HAPROXY_STATS_PORT/  (Prometheus: /metrics, each pool: /metrics/pool-N)
  node a         postgresql://$CLUSTER_DB_USER@$BIND_HOST:$NODE_A_PORT/$NODE_A_DB
  node b         postgresql://$CLUSTER_DB_USER@$BIND_HOST:$NODE_B_PORT/$NODE_B_DB
  logs           $LOGS/
EOF
}

cmd_down() {
    local n
    frontends_stop
    pools_stop
    for n in a b; do
        if [ -d "$(node_dir "$n")" ]; then node_stop "$n"; fi
    done
    log "down (data kept in $CLUSTER_DIR)"
}

status_line() {
    local kind=$1 name=$2 pid=$3 port=$4 up=$5
    if ((up)); then
        printf '%s %s up pid=%s port=%s\n' "$kind" "$name" "$pid" "$port"
    else
        printf '%s %s down pid=- port=%s\n' "$kind" "$name" "$port"
    fi
}

cmd_status() {
    local n pid up
    for n in a b; do
        pid=$(node_pid "$n")
        up=0
        node_running "$n" && up=1
        status_line node "$n" "$pid" "$(node_port "$n")" "$up"
    done
    for ((n = 1; n <= POOL_COUNT; n++)); do
        pid=$(read_pid "$(pool_pidfile "$n")")
        up=0
        pool_running "$n" && port_listening "$(pool_port "$n")" && up=1
        status_line pool "$n" "$pid" "$(pool_port "$n")" "$up"
    done
    local front port
    for front in haproxy nginx lighttpd; do
        pid=$(read_pid "$RUN/$front.pid")
        up=0
        "${front}_running" && up=1
        case $front in
            haproxy) port=$HAPROXY_PORT ;;
            nginx) port=$NGINX_PORT ;;
            lighttpd) port=$LIGHTTPD_PORT ;;
        esac
        status_line "$front" "$front" "$pid" "$port" "$up"
    done
}

cmd_restart_pools() {
    [ -x "$BIN/responder" ] || die "no responder in $BIN; run deploy/cluster up"
    local n use_haproxy=0
    if haproxy_running && [ -S "$HAPROXY_SOCK" ]; then
        command -v socat >/dev/null 2>&1 || die "socat is needed to drain pools in HAProxy (apt-get install socat)"
        use_haproxy=1
    fi
    for ((n = 1; n <= POOL_COUNT; n++)); do
        if ((use_haproxy)); then
            haproxy_cmd "set server pools/pool$n state drain" >/dev/null || die "haproxy refused to drain pool$n"
            wait_for 5 haproxy_idle "$n" || warn "pool $n still has sessions after 5 s; restarting anyway"
        fi
        log "restarting pool $n"
        # The responder finishes in-flight requests (at most
        # REQUEST_TERMINATE_TIMEOUT, 30 s) before it exits.
        pool_stop "$n" TERM 35
        pool_start "$n"
        pool_wait "$n"
        if ((use_haproxy)); then
            haproxy_cmd "set server pools/pool$n state ready" >/dev/null || die "haproxy refused to ready pool$n"
            wait_for 10 haproxy_up "$n" || die "HAProxy does not see pool $n up after 10 s; stopping here"
        fi
        # nginx and lighttpd have no drain: they meet the stopped pool as a refused connection,
        # try another pool, and leave this one out for a while by their own clocks (nginx
        # fail_timeout 2s, lighttpd disable-time 1 s: up to 3 s). Stopping the next pool before
        # they take this one back would, pool after pool, leave them none: their own 503 for
        # every request. So the next pool waits until this one serves through both again.
        if nginx_running && ! wait_for 10 front_serves_pool "http://$BIND_HOST:$NGINX_PORT" "$n"; then
            warn "nginx does not send requests to pool $n 10 s after its restart"
        fi
        if lighttpd_running && ! wait_for 10 front_serves_pool "http://$BIND_HOST:$LIGHTTPD_PORT" "$n"; then
            warn "lighttpd does not send requests to pool $n 10 s after its restart"
        fi
    done
    log "all $POOL_COUNT pools restarted"
}


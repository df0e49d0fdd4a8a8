# deploy/lib/settings.sh: deploy/cluster's settings, from the environment (the defaults are in
# `deploy/cluster help` and docs/CONFIGURATION.md), and their check. CLUSTER_DIR and the
# paths under it are statedir.sh's.
#
# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings are read by the other files of deploy/lib

BIND_HOST=${BIND_HOST:-127.0.0.1}
NODE_A_PORT=${NODE_A_PORT:-54321}
NODE_B_PORT=${NODE_B_PORT:-54322}
NODE_A_DB=${NODE_A_DB:-cluster_session_a}
NODE_B_DB=${NODE_B_DB:-cluster_session_b}
CLUSTER_DB_USER=${CLUSTER_DB_USER:-webuser}
CLUSTER_DB_PASSWORD=${CLUSTER_DB_PASSWORD:-change_me}
POOL_BASE_PORT=${POOL_BASE_PORT:-9001}
POOL_COUNT=${POOL_COUNT:-4}
WORKERS=${WORKERS:-4}
HAPROXY_PORT=${HAPROXY_PORT:-8080}
HAPROXY_STATS_PORT=${HAPROXY_STATS_PORT:-8404}
NGINX_PORT=${NGINX_PORT:-8081}
LIGHTTPD_PORT=${LIGHTTPD_PORT:-8082}

# As root, PostgreSQL runs as PG_USER (it refuses root), the pools, nginx and lighttpd as
# POOL_USER, HAProxy as haproxy when that user exists.
IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
PG_USER=postgres
POOL_USER=www-data

check_settings() {
    local name value
    for name in NODE_A_PORT NODE_B_PORT POOL_BASE_PORT HAPROXY_PORT HAPROXY_STATS_PORT NGINX_PORT LIGHTTPD_PORT; do
        value=${!name}
        if ! [[ $value =~ ^[0-9]{1,5}$ ]] || ((10#$value < 1 || 10#$value > 65535)); then
            die "$name must be a port number, not '$value'"
        fi
    done
    if ! [[ $POOL_COUNT =~ ^[0-9]{1,2}$ ]] || ((10#$POOL_COUNT < 1 || 10#$POOL_COUNT > 64)); then
        die "POOL_COUNT must be 1..64, not '$POOL_COUNT'"
    fi
    ((POOL_BASE_PORT + POOL_COUNT - 1 <= 65535)) || die "POOL_BASE_PORT + POOL_COUNT passes 65535"
    # The responder's own range; HAProxy's maxconn per pool is this number too.
    if ! [[ $WORKERS =~ ^[0-9]{1,3}$ ]] || ((10#$WORKERS < 1 || 10#$WORKERS > 256)); then
        die "WORKERS must be 1..256, not '$WORKERS'"
    fi
    [[ $BIND_HOST =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "BIND_HOST must be an IPv4 address, not '$BIND_HOST'"
    local sock="$RUN/.s.PGSQL.$NODE_A_PORT"
    ((${#sock} < 100)) || die "the path $sock is too long for a Unix socket; set CLUSTER_DIR to a shorter path"
}

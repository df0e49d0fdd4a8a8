# deploy/lib/statedir.sh: where the cluster's state lives (CLUSTER_DIR) and its layout:
# node-a/ node-b/ run/ logs/ conf/ bin/ www/.
#
# shellcheck shell=bash
# shellcheck disable=SC2034 # the paths are read by the other files of deploy/lib

# Where a checkout the service users cannot reach keeps its state, when run as root.
STATE_BASE=/var/lib/session-cluster

# others_can_reach PATH: true when every directory on the way to PATH (PATH included, and as
# far as it exists) may be searched by "others", i.e. by a user such as postgres or www-data
# that owns none of them. Read from the mode bits alone: it needs neither those users nor
# the directory itself to exist yet, so the answer is the same before and after `up`
# installs the packages that bring the users.
others_can_reach() {
    local path=$1 mode
    while [ ! -e "$path" ]; do path=$(dirname "$path"); done
    path=$(cd "$path" 2>/dev/null && pwd -P) || return 1
    while :; do
        mode=$(stat -c %A "$path" 2>/dev/null) || return 1
        case ${mode:9:1} in x | t) ;; *) return 1 ;; esac
        [ "$path" != / ] || return 0
        path=$(dirname "$path")
    done
}

# private_state_dir CHECKOUT: $STATE_BASE/<name>-<hash>, the same for the same checkout on
# every call: its directory name (cut to 32 characters, made safe) and the first 8 hex digits
# of the SHA-256 of its absolute path (two checkouts of the same name stay apart).
private_state_dir() {
    local name hash
    name=$(basename "$1")
    name=${name//[^A-Za-z0-9._-]/_}
    name=${name#.}
    name=${name:0:32}
    hash=$(printf '%s' "$1" | sha256sum | cut -c 1-8)
    printf '%s/%s-%s' "$STATE_BASE" "${name:-checkout}" "$hash"
}

# choose_cluster_dir: sets CLUSTER_DIR (absolute, no trailing /) and the paths under it.
#   CLUSTER_DIR set       that directory (relative to the working directory);
#   else                  $ROOT/.cluster, except as root when the service users cannot reach
#                         it (a checkout under /root, or any mode-700 parent): then
#                         private_state_dir, and CLUSTER_DIR_NOTE says so.
# Every verb makes the same choice, so `down` and `status` find what `up` started.
CLUSTER_DIR_NOTE=""
choose_cluster_dir() {
    if [ -n "${CLUSTER_DIR:-}" ]; then
        case $CLUSTER_DIR in /*) ;; *) CLUSTER_DIR=$PWD/$CLUSTER_DIR ;; esac
    elif ((IS_ROOT)) && ! others_can_reach "$ROOT/.cluster"; then
        CLUSTER_DIR=$(private_state_dir "$ROOT")
        CLUSTER_DIR_NOTE="state directory: $CLUSTER_DIR ($PG_USER and $POOL_USER cannot reach $ROOT/.cluster; set CLUSTER_DIR to choose another)"
    else
        CLUSTER_DIR=$ROOT/.cluster
    fi
    CLUSTER_DIR=${CLUSTER_DIR%/}
    RUN=$CLUSTER_DIR/run
    LOGS=$CLUSTER_DIR/logs
    CONF=$CLUSTER_DIR/conf
    BIN=$CLUSTER_DIR/bin
    WWW=$CLUSTER_DIR/www
    HAPROXY_SOCK=$RUN/haproxy.sock
}

check_reach() {
    ((IS_ROOT)) || return 0
    local user
    for user in "$PG_USER" "$POOL_USER"; do
        id "$user" >/dev/null 2>&1 || die "user $user does not exist (it comes with the postgresql package / Debian)"
        if ! runuser -u "$user" -- test -x "$CLUSTER_DIR"; then
            die "user $user cannot reach $CLUSTER_DIR (a parent directory is not searchable); set CLUSTER_DIR to a directory it can reach, e.g. CLUSTER_DIR=/tmp/session-cluster"
        fi
    done
}

prepare_dirs() {
    # Made searchable whatever the umask (the parents under $STATE_BASE too).
    [ -d "$CLUSTER_DIR" ] || (umask 022 && mkdir -p "$CLUSTER_DIR")
    check_reach
    mkdir -p "$RUN" "$LOGS" "$CONF" "$BIN" "$WWW" "$RUN/nginx" "$RUN/lighttpd-upload"
    if ((IS_ROOT)); then
        chown "$PG_USER:$PG_USER" "$RUN"
        chown "$POOL_USER:$POOL_USER" "$LOGS" "$RUN/lighttpd-upload"
        chmod 755 "$RUN" "$LOGS" "$CONF" "$BIN" "$WWW"
    fi
}

# throwaway_state_dir PREFIX: makes and prints a new empty directory, mode 755, for a cluster
# that is torn down afterwards (deploy/run-tests, bench/run): /tmp/PREFIX.XXXXXX (never TMPDIR,
# which may be private), or, as root when others cannot reach /tmp, $STATE_BASE/PREFIX.XXXXXX.
throwaway_state_dir() {
    local parent=/tmp dir
    if [ "$(id -u)" -eq 0 ] && ! others_can_reach "$parent"; then
        parent=$STATE_BASE
        (umask 022 && mkdir -p "$parent")
    fi
    dir=$(mktemp -d "$parent/$1.XXXXXX")
    chmod 755 "$dir"
    printf '%s\n' "$dir"
}

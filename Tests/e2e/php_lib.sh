# Tests/e2e/php_lib.sh: sourced (after lib.sh) by the PHP interop tests (test_2x_php_*).
#
# Exports what their PHP scripts read (the nodes, the handler's path, the session settings),
# stops the test when php-cli lacks pgsql, and runs the test's PHP script as checks.
# shellcheck shell=bash

export BIND_HOST NODE_A_PORT NODE_B_PORT NODE_A_DB NODE_B_DB CLUSTER_DB_USER CLUSTER_DB_PASSWORD E2E_TMP
export PHP_HANDLER_FILE=$E2E_ROOT/contrib/php/ClusterSessionHandler.php
if ! php -r 'exit(extension_loaded("pgsql") ? 0 : 1);' 2>/dev/null; then
    fail "php-cli with the pgsql extension is needed (apt-get install php-cli php-pgsql)"
    finish
fi
export SESSION_LIFETIME=${SESSION_LIFETIME:-1440} SESSION_TOUCH_INTERVAL=${SESSION_TOUCH_INTERVAL:-60}

# run_php ARGS...: the test's PHP script ($E2E_TMP/t.php), bounded in time; its `ok …` and
# `FAIL …` lines become checks, `out …` sets PHP_OUT, `elapsed …` is for the script itself,
# anything else is printed. Not in a pipeline (the checks would be counted in a subshell).
# shellcheck disable=SC2034 # PHP_OUT is read by the tests
run_php() {
    local out rc line
    out=$(timeout 30 php -d display_errors=stderr "$E2E_TMP/t.php" "$@" 2>"$E2E_TMP/php-stderr")
    rc=$?
    PHP_OUT=""
    while IFS= read -r line; do
        case $line in
            "ok "*) pass "${line#ok }" ;;
            "FAIL "*) fail "${line#FAIL }" ;;
            "out "*) PHP_OUT=${line#out } ;;
            "elapsed "*) ;;
            *) [ -z "$line" ] || printf '  php: %s\n' "$line" ;;
        esac
    done <<<"$out"
    if ((rc != 0)); then
        fail "php $1 exited with $rc: $(short "$(cat "$E2E_TMP/php-stderr")")"
    elif [ -s "$E2E_TMP/php-stderr" ]; then
        fail "php $1 warned: $(short "$(cat "$E2E_TMP/php-stderr")")"
    fi
}

# session_row NODE ID: data (hex), hlc and origin of the session's live row; empty when there is
# none (php_session holds live rows only).
session_row() {
    psql_node "$1" "SELECT encode(data, 'hex'), hlc, origin FROM php_session WHERE id = $(quote_sql "$2")"
}

# tombstone_row NODE ID: hlc, origin and deleted_at of the session's tombstone; empty when there is
# none.
tombstone_row() {
    psql_node "$1" "SELECT hlc, origin, deleted_at FROM php_session_tombstone WHERE id = $(quote_sql "$2")"
}

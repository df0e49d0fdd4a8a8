#!/usr/bin/env bash
# `deploy/cluster up` as root from a checkout the service users cannot reach (a mode-700
# parent, as a fresh clone under /root): PostgreSQL runs as postgres and the pools as
# www-data, so the script keeps its state in /var/lib/session-cluster/<name>-<hash> by itself,
# says so in one line, and `status` and `down` find that directory again.
#
# A copy of the working tree (without .build, .cluster, .git) under a mode-700 directory in
# /tmp; a cluster of its own from there, on its own ports (one pool), next to the test
# cluster, which it leaves alone; `down`, then the copy and the state directory are removed.
# Needs root (as another user the cluster runs as that user and the question does not arise).
# The responder: RESPONDER_BIN, else the test cluster's ($CLUSTER_DIR/bin), else .build/.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=deploy/lib/common.sh
source "$E2E_ROOT/deploy/lib/common.sh"

if [ "$(id -u)" -ne 0 ]; then
    printf '  skipped: needs root\n'
    pass "skipped: needs root"
    finish
fi

BIN=""
for b in "${RESPONDER_BIN:-}" "${CLUSTER_DIR:+$CLUSTER_DIR/bin/responder}" \
    "$E2E_ROOT/.build/debug/responder" "$E2E_ROOT/.build/release/responder"; do
    if [ -n "$b" ] && [ -x "$b" ]; then
        BIN=$b
        break
    fi
done
if [ -z "$BIN" ]; then
    fail "no responder binary (set RESPONDER_BIN, or CLUSTER_DIR of a cluster that is up, or build)"
    finish
fi

# Ports of its own: the test cluster's are 15321/15322, 19001+, 18080-18082, 18404.
A_PORT=16321 B_PORT=16322 POOL_PORT=19101 H_PORT=18180 S_PORT=18504 N_PORT=18181 L_PORT=18182
PORTS=("$A_PORT" "$B_PORT" "$POOL_PORT" "$H_PORT" "$S_PORT" "$N_PORT" "$L_PORT")
busy=$(busy_ports "${PORTS[@]}")
if [ -n "$busy" ]; then
    fail "the ports of this test are in use: ${busy}(a cluster of an earlier run left behind?)"
    finish
fi

PRIV=$(mktemp -d /tmp/sc-private.XXXXXX)
chmod 700 "$PRIV"
REPO=$PRIV/repo
STATE=""
started=0
base_existed=0
[ ! -d /var/lib/session-cluster ] || base_existed=1

# private VERB...: deploy/cluster of the private checkout, with its own settings only.
private() {
    env -u CLUSTER_DIR BIND_HOST=127.0.0.1 RESPONDER_BIN="$BIN" POOL_COUNT=1 WORKERS=2 \
        NODE_A_PORT="$A_PORT" NODE_B_PORT="$B_PORT" POOL_BASE_PORT="$POOL_PORT" \
        HAPROXY_PORT="$H_PORT" HAPROXY_STATS_PORT="$S_PORT" NGINX_PORT="$N_PORT" LIGHTTPD_PORT="$L_PORT" \
        timeout 120 "$REPO/deploy/cluster" "$@"
}

# shellcheck disable=SC2317 # run by at_exit
cleanup_private() {
    if ((started)); then private down >/dev/null 2>&1 || true; fi
    case $STATE in /var/lib/session-cluster/?*) rm -rf "$STATE" ;; esac
    # The parent too when this test made it and nothing else is in it.
    ((base_existed)) || rmdir /var/lib/session-cluster 2>/dev/null || true
    rm -rf "$PRIV"
}
at_exit cleanup_private

# The test cluster answers before; it must after.
test_cluster_before=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$E2E_HAPROXY/health" 2>/dev/null)

mkdir "$REPO"
tar -C "$E2E_ROOT" --exclude=./.build --exclude='./.build[-_]*' --exclude=./.cluster --exclude=./.git \
    --exclude=./Tests/artifacts --exclude=./bench/results -cf - . | tar -C "$REPO" -xf -
if [ ! -x "$REPO/deploy/cluster" ]; then
    fail "copying the working tree to $REPO"
    finish
fi
if runuser -u postgres -- test -x "$REPO" 2>/dev/null; then
    fail "postgres can reach $REPO under a mode-700 directory: nothing to test"
    finish
fi
pass "postgres cannot reach the private checkout $REPO"

# status before up names the directory already (on standard error: standard output is its lines).
note=$(private status 2>&1 >/dev/null)
STATE=$(sed -n 's/^cluster: state directory: \([^ ]*\) .*/\1/p' <<<"$note")
assert_match "$STATE" '^/var/lib/session-cluster/repo-[0-9a-f]{8}$' "status names the state directory: $(short "$note")"
[ -n "$STATE" ] || finish
if [ -e "$STATE" ]; then
    fail "$STATE exists before up"
    STATE="" # someone else's: not removed
    finish
fi

started=1
start=$SECONDS
if out=$(private up 2>&1); then
    pass "deploy/cluster up from the private checkout ($((SECONDS - start)) s)"
else
    fail "deploy/cluster up from the private checkout: $(tail -n 5 <<<"$out" | tr '\n' ' ')"
fi
((SECONDS - start < 60)) || fail "up took $((SECONDS - start)) s"
assert_eq 1 "$(grep -c '^cluster: state directory: ' <<<"$out")" "up says where the state is, in one line"
assert_contains "$out" "cluster: state directory: $STATE " "up names the same directory as status"
assert_contains "$out" "cluster: up ($STATE)" "up runs in that directory"
if [ -s "$STATE/node-a/PG_VERSION" ] && [ -s "$STATE/node-b/PG_VERSION" ]; then
    pass "the nodes' data is under $STATE"
else
    fail "no node data under $STATE"
fi
if [ ! -e "$REPO/.cluster" ]; then pass "nothing under the checkout's .cluster"; else fail "$REPO/.cluster was made"; fi

for url in "http://127.0.0.1:$H_PORT" "http://127.0.0.1:$N_PORT" "http://127.0.0.1:$L_PORT"; do
    do_curl "$url/health"
    assert_status 200 "GET $url/health"
done

status=$(private status 2>/dev/null)
assert_eq 6 "$(awk '$3 == "up"' <<<"$status" | wc -l | tr -d ' ')" "status finds the 6 parts up: $(short "$status")"
mapfile -t pids < <(awk '{ sub(/^pid=/, "", $4); if ($4 != "-") print $4 }' <<<"$status")

if out=$(private down 2>&1); then pass "deploy/cluster down"; else fail "deploy/cluster down: $(short "$out")"; fi
started=0
assert_contains "$out" "cluster: down (data kept in $STATE)" "down finds the same directory"
status=$(private status 2>/dev/null)
assert_eq 6 "$(awk '$3 == "down"' <<<"$status" | wc -l | tr -d ' ')" "status shows the 6 parts down: $(short "$status")"
alive=""
for pid in "${pids[@]}"; do
    if pid_alive "$pid"; then alive+="$pid "; fi
done
assert_eq "" "$alive" "no process of the private cluster runs"
assert_eq "" "$(busy_ports "${PORTS[@]}")" "no port of the private cluster listens"

if [ "$test_cluster_before" = 200 ]; then
    do_curl "$E2E_HAPROXY/health"
    assert_status 200 "the test cluster still answers /health"
fi

finish

#!/usr/bin/env bash
# The Debian package (docs/OPERATIONS.md, "Installing from the package"): deploy/package/build-deb
# builds it (a release build with the Swift runtime linked in), lintian finds no error, it
# installs on this machine, the installed responder checks a configuration (and names what is
# missing from a bad one), `man responder` shows the page generated from --help, the files are
# where the package says, and it is removed (purged) without a trace. Needs root to install.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    pass "skipped: installing a package needs root"
    finish
fi
if dpkg -s session-cluster >/dev/null 2>&1; then
    fail "session-cluster is already installed here: the test would remove it"
    finish
fi

WORK=$(mktemp -d)
cleanup() {
    dpkg --purge session-cluster >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! deb=$("$E2E_ROOT/deploy/package/build-deb" --output "$WORK" 2>"$WORK/build.log" | tail -n 1) || [ ! -f "$deb" ]; then
    fail "deploy/package/build-deb failed: $(tail -n 5 "$WORK/build.log")"
    finish
fi
case $(basename "$deb") in
    session-cluster_*_amd64.deb) pass "built $(basename "$deb")" ;;
    *) fail "unexpected package name $(basename "$deb")" ;;
esac

lintian --tag-display-limit 0 "$deb" >"$WORK/lintian.log" 2>&1
errors=$(grep -c '^E: ' "$WORK/lintian.log")
if [ "$errors" -eq 0 ]; then
    pass "lintian reports no error ($(grep -c '^W: ' "$WORK/lintian.log") warnings)"
else
    fail "lintian reports $errors errors: $(grep '^E: ' "$WORK/lintian.log" | head -n 5 | tr '\n' ' ')"
fi

contents=$(dpkg-deb --contents "$deb")
for path in ./usr/bin/responder ./usr/share/man/man1/responder.1.gz ./lib/systemd/system/responder@.service \
    ./etc/logrotate.d/session-cluster ./usr/share/session-cluster/schema.sql \
    ./usr/share/session-cluster/contrib/php/ClusterSessionHandler.php ./usr/share/session-cluster/prometheus/alerts.yml \
    ./usr/share/session-cluster/grafana/session-cluster.json ./usr/share/doc/session-cluster/copyright; do
    if grep -q " $path\$" <<<"$contents"; then pass "the package holds $path"; else fail "the package lacks $path"; fi
done

if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >"$WORK/install.log" 2>&1; then
    pass "apt-get installs the package"
else
    fail "the package does not install: $(tail -n 5 "$WORK/install.log")"
    finish
fi

if ldd /usr/bin/responder | grep -q 'libswiftCore\|libFoundation'; then
    fail "the installed responder loads the Swift runtime from shared libraries"
else
    pass "the installed responder carries its Swift runtime"
fi

out=$(env -i PATH=/usr/bin:/bin DB1_HOST="$BIND_HOST" DB1_PORT="$NODE_A_PORT" DB1_NAME="$NODE_A_DB" \
    DB1_USER="$CLUSTER_DB_USER" DB1_PASSWORD="$CLUSTER_DB_PASSWORD" DB2_HOST="$BIND_HOST" DB2_PORT="$NODE_B_PORT" \
    DB2_NAME="$NODE_B_DB" DB2_USER="$CLUSTER_DB_USER" DB2_PASSWORD="$CLUSTER_DB_PASSWORD" \
    /usr/bin/responder --check-config 2>&1)
status=$?
if [ "$status" -eq 0 ]; then pass "/usr/bin/responder --check-config: $out"; else fail "--check-config ($status): $out"; fi
out=$(env -i PATH=/usr/bin:/bin /usr/bin/responder --check-config 2>&1)
status=$?
if [ "$status" -ne 0 ] && grep -q 'DB1_HOST' <<<"$out"; then
    pass "a configuration without DB1_HOST is refused, naming it"
else
    fail "a configuration without DB1_HOST: status $status, '$out'"
fi

page=$(MANPAGER=cat MANWIDTH=80 man responder 2>/dev/null)
if grep -q 'responder' <<<"$page" && grep -q -- '--check-config' <<<"$page" && grep -q 'DB1_HOST' <<<"$page"; then
    pass "man responder shows the page generated from --help"
else
    fail "man responder does not show the generated page"
fi
if grep -q '/usr/bin/responder' /lib/systemd/system/responder@.service; then
    pass "the installed unit runs /usr/bin/responder"
else
    fail "the installed unit does not run /usr/bin/responder"
fi

if dpkg --purge session-cluster >"$WORK/purge.log" 2>&1; then
    pass "dpkg --purge removes the package"
else
    fail "dpkg --purge failed: $(tail -n 3 "$WORK/purge.log")"
fi
left=""
for path in /usr/bin/responder /usr/share/man/man1/responder.1.gz /lib/systemd/system/responder@.service \
    /etc/logrotate.d/session-cluster /usr/share/session-cluster /usr/share/doc/session-cluster; do
    [ -e "$path" ] && left="$left $path"
done
if [ -z "$left" ] && ! dpkg -s session-cluster >/dev/null 2>&1; then
    pass "nothing of the package is left"
else
    fail "left after the purge:${left:- the package is still known to dpkg}"
fi

finish

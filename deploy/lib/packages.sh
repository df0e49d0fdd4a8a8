# deploy/lib/packages.sh: the Debian packages deploy/cluster needs; `up` and `packages`
# install the missing ones as root, and name them otherwise.
#
# shellcheck shell=bash

# Debian packages; "a|b" takes a when it can be had, else b. prometheus is there for its promtool
# (Tests/e2e/test_38_monitoring.sh checks deploy/prometheus/ with it); deploy/cluster runs no
# Prometheus server (on a host with systemd the package enables its own prometheus.service).
# php-fpm, phpunit and composer: the PHP handler's suite and test_37; logrotate, lintian and
# fakeroot: test_39 (log rotation) and deploy/package/build-deb with test_40; python3-matplotlib:
# bench/plot.py draws the sweep's plot, and bench/test_plot.py checks it in the test command.
PACKAGES=("postgresql-15|postgresql" haproxy "nginx-light|nginx" lighttpd spawn-fcgi libfcgi-dev
    libfcgi-bin libpq-dev pkg-config php-cli php-pgsql curl socat iproute2 openssl
    "php-fpm|php8.2-fpm" phpunit composer prometheus logrotate lintian fakeroot man-db
    python3-matplotlib)

pkg_installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q ' installed$'
}

# Prints, for each group of PACKAGES of which nothing is installed, the group.
missing_groups() {
    local group alt found
    for group in "${PACKAGES[@]}"; do
        found=0
        IFS='|' read -ra alts <<<"$group"
        for alt in "${alts[@]}"; do
            if pkg_installed "$alt"; then
                found=1
                break
            fi
        done
        ((found)) || printf '%s\n' "$group"
    done
}

# The first alternative of a group that apt knows, else the first one.
pick_package() {
    local alt
    IFS='|' read -ra alts <<<"$1"
    for alt in "${alts[@]}"; do
        if apt-cache show "$alt" >/dev/null 2>&1; then
            printf '%s\n' "$alt"
            return
        fi
    done
    printf '%s\n' "${alts[0]}"
}

ensure_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        warn "not a Debian system: make sure these are installed: ${PACKAGES[*]}"
        return 0
    fi
    local groups=() names=() group
    mapfile -t groups < <(missing_groups)
    ((${#groups[@]} == 0)) && return 0
    for group in "${groups[@]}"; do names+=("$(pick_package "$group")"); done
    if ((!IS_ROOT)); then
        printf 'cluster: missing packages; run: sudo apt-get install -y --no-install-recommends %s\n' "${names[*]}" >&2
        exit 1
    fi
    log "installing ${names[*]}"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${names[@]}"; then
        log "install failed; apt-get update and once more"
        apt-get update
        names=()
        for group in "${groups[@]}"; do names+=("$(pick_package "$group")"); done
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${names[@]}" ||
            die "apt-get install ${names[*]} failed"
    fi
}


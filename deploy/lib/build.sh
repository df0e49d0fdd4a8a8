# deploy/lib/build.sh: the responder binary under $BIN, built (swift build) or copied from
# RESPONDER_BIN.
#
# shellcheck shell=bash

install_responder() {
    local src cfg
    if [ -n "${RESPONDER_BIN:-}" ]; then
        src=$RESPONDER_BIN
        [[ $src == /* ]] || [ -e "$src" ] || src=$ROOT/$src
        [ -x "$src" ] || die "RESPONDER_BIN=$RESPONDER_BIN is not an executable file"
    else
        cfg=${BUILD_CONFIG:-release}
        command -v swift >/dev/null 2>&1 || die "swift is not on PATH; install a Swift toolchain or set RESPONDER_BIN"
        log "swift build -c $cfg --product responder"
        (cd "$ROOT" && swift build -c "$cfg" --product responder) || die "swift build failed"
        src=$ROOT/.build/$cfg/responder
    fi
    if [ -e "$BIN/responder" ] && cmp -s "$src" "$BIN/responder"; then
        return 0
    fi
    local missing
    missing=$(ldd "$src" 2>/dev/null | grep 'not found' || true)
    [ -z "$missing" ] || die "$src cannot load its libraries: $(printf '%s' "$missing" | tr -s ' \t\n' ' ')"
    install -m 755 "$src" "$BIN/responder.new"
    mv -f "$BIN/responder.new" "$BIN/responder"
    local n
    for ((n = 1; n <= POOL_COUNT; n++)); do
        if pool_running "$n"; then
            log "the responder binary changed: running pools keep the old one until 'deploy/cluster restart-pools'"
            break
        fi
    done
}

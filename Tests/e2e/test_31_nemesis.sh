#!/usr/bin/env bash
# Randomized faults (Tests/e2e/nemesis.py) for two fixed seeds of about 60 s each: node pauses
# (SIGSTOP), node stops, both nodes down, staggered double outages, pools killed and restarted,
# under 8 clients through HAProxy, nginx and lighttpd sharing 10 sessions. Each run must end with
# no violation: no 500 and no session swapped for another during the run; then, healed, both
# nodes identical within 30 s and holding every acknowledged write (items, session keys, visits),
# no rejected one, no create applied twice. Seed 7: stop B, pools killed (four times), pause A;
# seed 45: staggered outage, both nodes down, pause B, restart-pools. A long campaign: README,
# "Running the fault tests".
# Helpers run through poll and at_exit (SC2317).
# shellcheck source=Tests/e2e/lib.sh disable=SC2317
source "$(dirname "$0")/lib.sh"

SEEDS=(7 45)
SECONDS_PER_SEED=${NEMESIS_SECONDS:-60}

# The helpers and settings every fault test shares.
# shellcheck source=Tests/e2e/fault_lib.sh
source "$E2E_DIR/fault_lib.sh"
export CLUSTER_SCRIPT POOL_COUNT E2E_NGINX E2E_LIGHTTPD

# ---------------------------------------------------------------- the test

begin_fault_test

for seed in "${SEEDS[@]}"; do
    out=$E2E_TMP/nemesis-$seed.out
    note "nemesis seed $seed, ${SECONDS_PER_SEED}s"
    rc=0
    python3 "$E2E_DIR/nemesis.py" --seed "$seed" --duration "$SECONDS_PER_SEED" \
        --report "$E2E_TMP/nemesis-$seed.json" >"$out" 2>&1 || rc=$?
    # The schedule, the faults as they ran, the summary and examples of each kind of violation.
    head -n 150 "$out" | sed 's/^/    /'
    result=$(tail -n 1 "$out")
    if ((rc == 0)); then
        pass "seed $seed: $result"
    else
        fail "seed $seed: nemesis.py exit $rc: $result (see its violations above)"
    fi
    if poll 20 cluster_healthy; then
        pass "seed $seed: the cluster is healthy after the run"
    else
        fail "seed $seed: the cluster is not healthy 20 s after the run: $(unhealthy_parts)"
    fi
done

end_fault_test

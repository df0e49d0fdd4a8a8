#!/usr/bin/env bash
# Monitoring (docs/OPERATIONS.md, "Metrics and alerts"):
#
#  1. `promtool check config deploy/prometheus/prometheus.yml`, `promtool check rules
#     deploy/prometheus/alerts.yml`, `promtool test rules deploy/prometheus/alerts.test.yml`
#     (promtool: Debian's prometheus package, in deploy/lib/packages.sh);
#  2. on HAProxy's stats listener (HAPROXY_STATS_PORT), /metrics/pool-N answers 200 in the
#     Prometheus text format from pool N alone: `X-Served-By: pool-N`, every sample labelled
#     pool="pool-N"; 20 scrapes of /metrics/pool-2 (five at a time) all come from pool-2;
#     /metrics/pool-<POOL_COUNT+1> is 404; / is still the stats page and /metrics HAProxy's
#     exporter;
#  3. the scrapes are no traffic of backend `pools` (its servers' session totals and health
#     state do not move: HAProxy's runtime API), only of backend metrics-pool-2;
#  4. the Grafana dashboard parses, and every metric its PromQL expressions name is exported
#     by every pool's live scrape (responder_*) or HAProxy's /metrics (haproxy_*); the same for
#     the alert rules, but for Prometheus's own `up`;
#     prometheus.yml scrapes /metrics/pool-N as instance pool-N.
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

PROM_DIR=$E2E_ROOT/deploy/prometheus
DASHBOARD=$E2E_ROOT/deploy/grafana/session-cluster.json
STATS_URL=http://$BIND_HOST:${HAPROXY_STATS_PORT:-8404}

# ---------------------------------------------------------------- 1. promtool
if command -v promtool >/dev/null 2>&1; then
    for check in "check config $PROM_DIR/prometheus.yml" "check rules $PROM_DIR/alerts.yml" \
        "test rules $PROM_DIR/alerts.test.yml"; do
        # shellcheck disable=SC2086 # the words of $check
        if out=$(promtool $check 2>&1); then
            pass "promtool $check"
        else
            fail "promtool $check: $(printf '%s' "$out" | tail -n 30)"
        fi
    done
else
    fail "promtool is not installed (Debian's prometheus package: deploy/cluster packages)"
fi

# ---------------------------------------------------------------- 2. the per-pool routes
mkdir -p "$E2E_TMP/scrapes"
for ((n = 1; n <= POOL_COUNT; n++)); do
    do_curl "$STATS_URL/metrics/pool-$n"
    assert_status 200 "/metrics/pool-$n"
    assert_eq "pool-$n" "$(header X-Served-By)" "/metrics/pool-$n is served by pool-$n"
    assert_contains "$(header Content-Type)" "text/plain; version=0.0.4" "/metrics/pool-$n: Content-Type"
    others=$(grep -v '^#' <<<"$BODY" | grep -v "pool=\"pool-$n\"" | head -n 3)
    assert_eq "" "$others" "/metrics/pool-$n: every sample is labelled pool=\"pool-$n\""
    printf '%s\n' "$BODY" >"$E2E_TMP/scrapes/pool-$n.txt"
done

stat_field() { # stat_field PROXY SERVER COLUMN: one column of `show stat`
    haproxy_command "show stat" | awk -F, -v p="$1" -v s="$2" -v f="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) { h = $i; sub(/^# /, "", h); col[h] = i }; next }
        $1 == p && $2 == s { print $(col[f]) }'
}
api=0
if command -v socat >/dev/null 2>&1 && [ -S "${CLUSTER_DIR:-$E2E_ROOT/.cluster}/run/haproxy.sock" ]; then api=1; fi
if ((POOL_COUNT >= 2)); then
    if ((api)); then
        declare -A before
        for ((n = 1; n <= POOL_COUNT; n++)); do
            before[$n]="$(stat_field pools "pool$n" stot) $(stat_field pools "pool$n" status) $(stat_field pools "pool$n" chkfail)"
        done
        scraped_before=$(stat_field metrics-pool-2 pool2 stot)
    fi
    mkdir -p "$E2E_TMP/pool-2"
    seq 1 20 | xargs -P 5 -I{} curl -s --max-time "$E2E_CURL_TIMEOUT" -o /dev/null \
        -D "$E2E_TMP/pool-2/{}" "$STATS_URL/metrics/pool-2"
    served=$(cat "$E2E_TMP"/pool-2/* 2>/dev/null | tr -d '\r' | awk 'tolower($1) == "x-served-by:" { print $2 }' |
        sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }')
    assert_eq "pool-2=20" "$served" "20 scrapes of /metrics/pool-2 (5 at a time), all served by pool-2"
    statuses=$(cat "$E2E_TMP"/pool-2/* 2>/dev/null | tr -d '\r' | awk '/^HTTP\// { print $2 }' | sort | uniq -c |
        awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }')
    assert_eq "200=20" "$statuses" "20 scrapes of /metrics/pool-2 answered 200"
    if ((api)); then
        # ---------------------------------------------------------------- 3. pools untouched
        for ((n = 1; n <= POOL_COUNT; n++)); do
            after="$(stat_field pools "pool$n" stot) $(stat_field pools "pool$n" status) $(stat_field pools "pool$n" chkfail)"
            assert_eq "${before[$n]}" "$after" "pools/pool$n: sessions, state and failed checks (stot status chkfail) not moved by the scrapes"
        done
        scraped_after=$(stat_field metrics-pool-2 pool2 stot)
        assert_eq 20 "$((scraped_after - scraped_before))" "the 20 scrapes went through backend metrics-pool-2"
    else
        printf '  (no HAProxy runtime API: the pools backend'"'"'s counters are not compared)\n'
    fi
fi

do_curl "$STATS_URL/metrics/pool-$((POOL_COUNT + 1))"
assert_status 404 "/metrics/pool-$((POOL_COUNT + 1)) (no such pool)"
do_curl "$STATS_URL/"
assert_status 200 "the stats page"
assert_contains "$BODY" "Statistics Report for HAProxy" "/ is still HAProxy's stats page"
do_curl "$STATS_URL/metrics"
assert_status 200 "HAProxy's /metrics"
assert_contains "$BODY" "haproxy_process_" "/metrics is HAProxy's own exporter"
printf '%s\n' "$BODY" >"$E2E_TMP/scrapes/haproxy.txt"

# ---------------------------------------------------------------- 4. names in the dashboard and rules
checker_verdicts < <(python3 - "$E2E_TMP/scrapes" "$POOL_COUNT" "$DASHBOARD" "$PROM_DIR/alerts.yml" \
    "$PROM_DIR/prometheus.yml" <<'PY' 2>&1
import json
import re
import sys

scrapes, pool_count, dashboard_path, alerts_path, config_path = sys.argv[1:6]
pool_count = int(pool_count)

# Names a query may use that no scrape carries: Prometheus's own `up`.
SYNTHETIC = {"up"}
PROPOSED: set[str] = set()
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "atan2"}


def exported(path):
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                names.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
    return names


def metric_names(expr):
    """The metric names in a PromQL expression (Grafana's $variables allowed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"'(?:[^'\\]|\\.)*'", "''", e)
    e = re.sub(r"\{[^}]*\}", "", e)                       # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                      # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{?\w+\}?", " ", e)                    # $__rate_interval, $pool
    names = []
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", e):
        if e[m.end():].lstrip().startswith("(") or m.group(0) in KEYWORDS:
            continue                                      # a function or an aggregation
        names.append(m.group(0))
    return names


pools = {n: exported(f"{scrapes}/pool-{n}.txt") for n in range(1, pool_count + 1)}
haproxy = exported(f"{scrapes}/haproxy.txt")
print(f"PASS the pools export {len(set.union(*pools.values()))} names, HAProxy {len(haproxy)}")


def check(where, expr, allowed=frozenset()):
    names = metric_names(expr)
    if not names:
        print(f"FAIL {where}: no metric name in {expr!r}")
        return
    for name in names:
        if name in SYNTHETIC:
            continue
        if name in allowed:
            state = "exported" if all(name in have for have in pools.values()) else "not exported yet"
            print(f"PASS {where}: {name} is the name proposed for it ({state})")
            continue
        if name.startswith("haproxy_"):
            ok = name in haproxy
            whose = "HAProxy's /metrics"
        else:
            missing = [n for n, have in pools.items() if name not in have]
            ok = not missing
            whose = "the scrape of " + ", ".join(f"/metrics/pool-{n}" for n in missing)
        print(f"PASS {where}: {name} is exported" if ok else f"FAIL {where}: {name} is not in {whose}")


try:
    with open(dashboard_path, encoding="utf-8") as f:
        dashboard = json.load(f)
    print("PASS the dashboard is JSON")
except (OSError, ValueError) as error:
    print(f"FAIL the dashboard {dashboard_path}: {error}")
    dashboard = {}

exprs = 0
ids = []
for panel in dashboard.get("panels", []):
    ids.append(panel.get("id"))
    for p in [panel] + panel.get("panels", []):
        if p.get("type") == "row":
            continue
        targets = p.get("targets") or []
        if not targets:
            print(f"FAIL panel {p.get('title')!r} has no query")
        for t in targets:
            exprs += 1
            check(f"panel {p.get('title')!r} {t.get('refId')}", t.get("expr", ""))
for var in dashboard.get("templating", {}).get("list", []):
    if var.get("type") == "query":
        query = var.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", query)
        exprs += 1
        check(f"variable {var.get('name')}", m.group(1) if m else query)
if len(ids) != len(set(ids)):
    print("FAIL the dashboard's panel ids are not unique")
if dashboard and exprs < 10:
    print(f"FAIL the dashboard has only {exprs} queries")

# alerts.yml: every `expr:` (one line, or a `|` block).
rules = 0
with open(alerts_path, encoding="utf-8") as f:
    lines = f.read().split("\n")
alert = "?"
i = 0
while i < len(lines):
    line = lines[i]
    m = re.match(r"\s*- alert:\s*(\S+)", line)
    if m:
        alert = m.group(1)
    m = re.match(r"(\s*)expr:\s*(.*)$", line)
    if m:
        indent, text = len(m.group(1)), m.group(2)
        if text.strip() in ("|", ">", "|-", ">-"):
            block = []
            while i + 1 < len(lines) and (not lines[i + 1].strip() or
                                          len(lines[i + 1]) - len(lines[i + 1].lstrip()) > indent):
                i += 1
                block.append(lines[i])
            text = "\n".join(block)
        rules += 1
        check(f"alert {alert}", text, PROPOSED)
    i += 1
if rules < 10:
    print(f"FAIL alerts.yml has only {rules} rules")

# prometheus.yml: each /metrics/pool-N target is instance pool-N.
with open(config_path, encoding="utf-8") as f:
    config = f.read()
targets = re.findall(r"^\s*labels:\s*\{\s*__metrics_path__:\s*/metrics/(\S+?),\s*instance:\s*(\S+?)\s*\}", config, re.M)
if len(targets) < 1:
    print("FAIL prometheus.yml has no /metrics/pool-N target")
for path, instance in targets:
    if path == instance and re.fullmatch(r"pool-\d+", path):
        print(f"PASS prometheus.yml scrapes /metrics/{path} as instance {instance}")
    else:
        print(f"FAIL prometheus.yml scrapes /metrics/{path} as instance {instance}")
PY
)

finish

#!/usr/bin/env python3
"""bench/report.py: the figures and the report of bench/run (Python 3.11, standard library only).

bench/run orchestrates: it brings up the cluster and the references, runs wrk and pgbench, and
leaves their raw outputs in its results directory (bench/results/<time>/). This module reads
them back and computes every figure from them: each run's figures, the medians over rounds, the
ratios against the references measured in the same run (with rounds: the median of each round's
own ratio), and the report.

  report.py run-line WRK_OUTPUT        prints the progress line of one recorded wrk run (stderr)
  report.py pgbench-line OUTPUT        prints the progress line of one pgbench run (stderr);
                                       exit 1 when the output holds no tps
  report.py report RESULTS_DIR         prints the report and writes it to RESULTS_DIR/summary.txt,
                                       then the verdict (`smoke: ok`, `smoke: FAILED (…)`, or a
                                       note on errors); exit 1 when a --smoke run failed

What bench/run leaves in RESULTS_DIR and this module reads:

  wrk-TARGET-SCENARIO-cCONNS-rROUND.txt  wrk's output; wrk/bench.lua's done() adds the BENCH line
  wrk-TARGET-SCENARIO-cCONNS-rROUND.cpu  CPU clock ticks around that run (read_cpu)
  pgbench-write-NODE-rROUND.txt          pgbench's output (pgbench/write.sql on node a or b), and
                                         bench/run's count of the rows its writes changed
  mem.tsv                                lines TARGET (measured), TARGET PID VmRSS_kB Pss_kB
  status-PHASE-poolN.txt                 the FastCGI answer of pool N's /status (final,
                                         scale-before, scale-after, gc-before, gc-after)
  facts.tsv                              KEY<TAB>VALUE: settings, what came up, the machine
                                         (a later line of a key wins)
  sweep.png                              bench/plot.py's plot of the sweep (named when there)

Every number goes through the conversions of the awk and printf of bench/run's bash version, so
the figures stay the same digit for digit: awk turns a computed number into text with %.6g
(awk_str), and bash's printf reads its argument as an x86-64 long double (bash_f).
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

def labels(workers: int) -> dict[str, str]:
    """The targets' names, with the workers per pool of the run (`bench/run --workers`)."""
    return {
        "swift": f"Swift responder (4 pools x {workers} workers)",
        "php-pg": f"php-fpm 8.2, PDO sessions on both nodes ({4 * workers} workers)",
        "php-connect": "php-fpm 8.2, the same, new PDO connections per request",
        "php-redis": f"php-fpm 8.2, phpredis sessions ({4 * workers} workers)",
        "c": f"C libfcgi responder (4 x {workers} threads)",
        "swift-scale": "Swift responder, 1M sessions + 100k items",
        "swift-gc": "Swift responder, 1M sessions, during GC",
    }


def run_labels(b: "Bench") -> dict[str, str]:
    """The targets' names in this run."""
    return labels(int(b.fact("workers", "4") or "4"))
SCEN = {
    "index": "GET /",
    "session": "GET /session",
    "write": "POST /session",
    "create": "POST /manage",
    "health": "GET /health",
    "list": "GET /manage (JSON)",
}
WRK_FILE = re.compile(
    r"wrk-(?P<target>.+)-(?P<scen>" + "|".join(SCEN) + r")-c(?P<conns>\d+)-r(?P<round>\d+)\.txt"
)
PGBENCH_FILE = re.compile(r"pgbench-write-(?P<node>[ab])-r(?P<round>\d+)\.txt")
STATUS_FILE = re.compile(r"status-(?P<phase>.+)-pool(?P<pool>\d+)\.txt")
# Summed over the rounds; every other field: the median. processed and changed: pgbench's
# transactions and the rows their compare-and-sets changed.
COUNTS = ("errors", "lost", "requests", "processed", "changed")
POOL_COUNTERS = ("accepted_requests", "slow_requests", "session_cas_retries", "session_conflicts",
                 "decode_failures")
ROW = "%-56s %-18s %5s %9s %8s %8s %6s"
RATIO = "  %-58s"  # a ratio's name
CPU_ROW = "%-56s %-18s %5s %5s %7s %5s %5s %6s %5s %10s"


# ---------------------------------------------------------------- numbers as awk and bash print them

def awk_num(text: str) -> float:
    """The number awk reads from a text: its numeric prefix, 0 when it has none."""
    m = re.match(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text)
    return float(m.group(0)) if m else 0.0


def awk_str(x: float) -> str:
    """A computed number as awk turns it into text: an integral value as an integer, else %.6g."""
    if math.isfinite(x) and x == int(x) and abs(x) < 2**63:
        return str(int(x))
    return "%.6g" % x


LONG_DOUBLE_BITS = 64  # the significand of x86-64's 80-bit long double


def bash_f(text: str, digits: int) -> str:
    """bash's `printf '%.<digits>f' TEXT`: TEXT read as a long double, then rounded (ties to even).

    Not the same as Python's own %f: bash prints 3.85 as 3.8 with %.1f, Python as 3.9."""
    try:
        x = Fraction(text.strip() or "0")
    except (ValueError, ZeroDivisionError):
        x = Fraction(0)
    if x:
        magnitude = abs(x)
        exp = magnitude.numerator.bit_length() - magnitude.denominator.bit_length() - LONG_DOUBLE_BITS
        mant = magnitude / Fraction(2) ** exp
        while mant >= 2**LONG_DOUBLE_BITS:
            exp, mant = exp + 1, mant / 2
        while mant < 2 ** (LONG_DOUBLE_BITS - 1):
            exp, mant = exp - 1, mant * 2
        x = (1 if x > 0 else -1) * round(mant) * Fraction(2) ** exp
    with localcontext() as ctx:
        ctx.prec = 200
        value = Decimal(x.numerator) / Decimal(x.denominator)
        return f"{value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN):f}"


def median(values: list[str]) -> str | None:
    """The median as bench/run's awk computed it: the middle text itself for an odd count, the
    mean of the two middle values (as awk prints a number) for an even one; None when empty."""
    vals = sorted((v for v in values if v.strip()), key=awk_num)
    n = len(vals)
    if n == 0:
        return None
    if n % 2:
        return vals[n // 2]
    return awk_str((awk_num(vals[n // 2 - 1]) + awk_num(vals[n // 2])) / 2)


def total(values: list[str]) -> str:
    return awk_str(sum(awk_num(v) for v in values))


# ---------------------------------------------------------------- one wrk run

def bench_line(text: str) -> dict[str, str] | None:
    """The fields of the first `BENCH k=v …` line of wrk/bench.lua's done(); None without one."""
    for line in text.splitlines():
        if line.startswith("BENCH "):
            pairs = (field.partition("=") for field in line[len("BENCH "):].split())
            return {key: value for key, eq, value in pairs if eq}
    return None


def _int(text: str | None) -> int:
    return int(awk_num(text or ""))


@dataclass
class CpuSample:
    """Clock ticks (utime + stime) of each process per group, /proc/stat's cpu line, wall clock."""
    time: float = 0.0
    stat: list[int] = field(default_factory=list)
    ticks: dict[str, dict[str, int]] = field(default_factory=dict)  # group -> pid -> ticks


@dataclass
class Cpu:
    clk_tck: int
    begin: CpuSample
    end: CpuSample
    wrk_time: str  # "user system" seconds of wrk, from bash's `time`


def read_cpu(text: str) -> Cpu | None:
    """bench/run's cpu_snapshot lines:
         clk_tck HZ
         begin|end time EPOCHREALTIME
         begin|end stat USER NICE SYSTEM IDLE IOWAIT IRQ SOFTIRQ STEAL …   (/proc/stat's cpu)
         begin|end app|haproxy|db PID UTIME STIME
         wrk_time USER SYSTEM                                              (bash's `time`)"""
    clk = 0
    wrk = ""
    samples = {"begin": CpuSample(), "end": CpuSample()}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] == "clk_tck":
            clk = int(f[1])
        elif len(f) >= 3 and f[0] == "wrk_time":
            wrk = f"{f[1]} {f[2]}"
        elif len(f) >= 3 and f[0] in samples:
            s = samples[f[0]]
            if f[1] == "time":
                s.time = float(f[2])
            elif f[1] == "stat":
                s.stat = [int(v) for v in f[2:]]
            elif len(f) >= 5:
                s.ticks.setdefault(f[1], {})[f[2]] = int(f[3]) + int(f[4])
    if clk <= 0 or not samples["begin"].stat or not samples["end"].stat:
        return None
    return Cpu(clk, samples["begin"], samples["end"], wrk)


def _busy_total(stat: list[int]) -> tuple[int, int]:
    u, n, s, i, w, irq, sirq, st = (stat + [0] * 8)[:8]
    return u + n + s + irq + sirq + st, u + n + s + i + w + irq + sirq + st


def cpu_figures(cpu: Cpu, requests: int) -> dict[str, str]:
    """The cores each group used during the run (app, haproxy, db, wrk, other, idle) and the app's
    CPU milliseconds per request, as bench/run's cpu_end computed them."""
    out: dict[str, str] = {}
    elapsed = awk_num(awk_str(cpu.end.time - cpu.begin.time))
    used: dict[str, str] = {}
    for g in ("app", "haproxy", "db"):
        start = cpu.begin.ticks.get(g, {})
        ticks = sum(t - start.get(pid, 0) for pid, t in cpu.end.ticks.get(g, {}).items())
        used[g] = awk_str(ticks / cpu.clk_tck / elapsed)
        out[f"cpu_{g}"] = bash_f(used[g], 2)
    user, _, system = cpu.wrk_time.partition(" ")
    used["wrk"] = awk_str(awk_num(awk_str(awk_num(user) + awk_num(system))) / elapsed)
    out["cpu_wrk"] = bash_f(used["wrk"], 2)
    busy0, total0 = _busy_total(cpu.begin.stat)
    busy1, total1 = _busy_total(cpu.end.stat)
    busy, tot = busy1 - busy0, total1 - total0
    everything = awk_num(awk_str(busy / cpu.clk_tck / elapsed))
    other = everything
    for g in ("app", "haproxy", "db", "wrk"):  # in awk's order: all - a - h - d - w
        other -= awk_num(used[g])
    out["cpu_other"] = "%.2f" % (0 if other < 0 else other)
    out["cpu_idle"] = "%.2f" % ((tot - busy) / cpu.clk_tck / elapsed)
    if requests > 0:
        out["app_ms"] = bash_f(awk_str(awk_num(used["app"]) * elapsed * 1000 / requests), 2)
    return out


@dataclass
class Run:
    target: str
    scen: str
    conns: str
    round: int
    path: Path
    figures: dict[str, str]  # rps p50 p99 errors lost requests cpu_* app_ms
    failed: bool
    answered: bool  # the output has a BENCH line


def read_run(path: Path) -> Run | None:
    """One recorded wrk run from its output (and its .cpu file next to it); None when the file
    name is not that of a recorded run."""
    m = WRK_FILE.fullmatch(path.name)
    if not m:
        return None
    run = Run(m["target"], m["scen"], m["conns"], int(m["round"]), path, {}, True, False)
    f = bench_line(path.read_text(errors="replace"))
    if f is None:
        run.figures = {"rps": "0", "p50": "0", "p99": "0", "errors": "1"}
        return run
    errors = sum(_int(f.get(k)) for k in ("connect", "read", "write", "timeout", "non2xx"))
    run.answered = True
    run.figures = {
        "rps": f.get("rps", ""),
        "p50": bash_f(awk_str(awk_num(f.get("p50_us", "")) / 1000), 1),
        "p99": bash_f(awk_str(awk_num(f.get("p99_us", "")) / 1000), 1),
        "errors": str(errors),
        "lost": f.get("lost", ""),
        "requests": f.get("requests", ""),
    }
    cpu_path = path.with_suffix(".cpu")
    cpu = read_cpu(cpu_path.read_text()) if cpu_path.exists() else None
    if cpu is not None:
        run.figures.update(cpu_figures(cpu, _int(f.get("requests"))))
    run.failed = errors > 0 or _int(f.get("lost")) > 0 or _int(f.get("requests")) == 0
    return run


def run_line(run: Run) -> str:
    if not run.answered:
        return f"bench: wrk gave no result for {run.target} {SCEN[run.scen]} (see {run.path})"
    fig = run.figures
    lost = "" if _int(fig["lost"]) == 0 else f" (sessions lost: {fig['lost']})"
    return "bench:   %-12s %-18s c=%-3s %9s req/s  p50 %7s ms  p99 %7s ms  errors %s%s" % (
        run.target, SCEN[run.scen], run.conns, fig["rps"], fig["p50"], fig["p99"], fig["errors"], lost)


# ---------------------------------------------------------------- pgbench, /status, memory

def read_pgbench(text: str) -> tuple[str, str] | None:
    """(tps with one decimal, truncated; mean latency in ms) of pgbench's output; None without tps."""
    tps = lat = None
    for line in text.splitlines():
        if tps is None and (m := re.match(r"tps = ([0-9]*\.[0-9])", line)):
            tps = m[1]
        if lat is None and (m := re.match(r"latency average = ([0-9.]*) ms", line)):
            lat = m[1] + line[m.end():]
    return None if tps is None else (tps, lat or "")


def pgbench_writes(text: str) -> tuple[str, str]:
    """(transactions pgbench processed, rows their compare-and-sets changed, as bench/run counted
    them after the run) of a pgbench-write output; "" for a figure it does not hold."""
    processed = re.search(r"^number of transactions actually processed: (\d+)", text, re.M)
    changed = re.search(r"^bench: rows changed by the compare-and-sets: (\d+)", text, re.M)
    return (processed[1] if processed else "", changed[1] if changed else "")


def status_counter(text: str, name: str) -> int:
    """The first "name":N of a /status answer (0 when missing)."""
    m = re.search(r'"%s":([0-9]*)' % re.escape(name), text)
    return int(m[1]) if m and m[1] else 0


def gc_deleted(text: str) -> int:
    """gc.deleted_rows of a /status answer (0 when missing)."""
    gc = re.search(r'"gc":\{[^}]*\}', text)
    return status_counter(gc[0], "deleted_rows") if gc else 0


# ---------------------------------------------------------------- the results directory

@dataclass
class Bench:
    results: Path
    facts: dict[str, str]
    runs: list[Run]
    values: dict[str, dict[int, str]]  # "target|scenario|conns|field" -> round -> value
    figures: dict[str, str]            # the same keys -> the median (or sum) over the rounds
    mem: dict[str, tuple[int, int, int]]  # target -> (RSS kB, PSS kB, processes)
    status: dict[str, list[str]]       # phase -> the pools' /status answers

    def fact(self, key: str, default: str = "") -> str:
        return self.facts.get(key, default)

    def flag(self, key: str) -> bool:
        return self.facts.get(key, "0") not in ("", "0")

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.runs)

    def deleted(self, before: str, after: str) -> int | None:
        """How far gc.deleted_rows, summed over the pools, rose between two phases."""
        if before not in self.status or after not in self.status:
            return None
        return sum(map(gc_deleted, self.status[after])) - sum(map(gc_deleted, self.status[before]))


def read_facts(path: Path) -> dict[str, str]:
    facts: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("\t")
            if key:
                facts[key] = value
    return facts


def read_mem(path: Path) -> dict[str, tuple[int, int, int]]:
    mem: dict[str, tuple[int, int, int]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            f = line.split("\t")
            if len(f) == 1 and f[0]:
                mem.setdefault(f[0], (0, 0, 0))
            elif len(f) == 4:
                rss, pss, n = mem.get(f[0], (0, 0, 0))
                mem[f[0]] = (rss + _int(f[2]), pss + _int(f[3]), n + 1)
    return mem


def load(results: Path) -> Bench:
    facts = read_facts(results / "facts.tsv")
    runs = [r for p in sorted(results.glob("wrk-*.txt")) if (r := read_run(p)) is not None]
    values: dict[str, dict[int, str]] = {}
    for r in runs:
        for name, value in r.figures.items():
            values.setdefault(f"{r.target}|{r.scen}|{r.conns}|{name}", {})[r.round] = value
    for p in sorted(results.glob("pgbench-*.txt")):
        m = PGBENCH_FILE.fullmatch(p.name)
        text = p.read_text(errors="replace") if m else ""
        got = read_pgbench(text) if m else None
        if m and got:
            n = int(m["round"])
            for name, value in zip(("tps", "lat", "processed", "changed"), got + pgbench_writes(text)):
                if value:
                    values.setdefault(f"pgbench|write|{m['node']}|{name}", {})[n] = value
    # The reference of a round: the slower node's tps in that round (both nodes run at once).
    a, b = values.get("pgbench|write|a|tps", {}), values.get("pgbench|write|b|tps", {})
    for n in sorted(a.keys() & b.keys()):
        values.setdefault("pgbench|write|min|tps", {})[n] = a[n] if awk_num(a[n]) < awk_num(b[n]) else b[n]
    figures: dict[str, str] = {}
    for key, by_round in values.items():
        vals = [by_round[n] for n in sorted(by_round)]
        figures[key] = total(vals) if key.rsplit("|", 1)[1] in COUNTS else (median(vals) or "")
    status: dict[str, list[str]] = {}
    for p in sorted(results.glob("status-*.txt")):
        if m := STATUS_FILE.fullmatch(p.name):
            status.setdefault(m["phase"], []).append(p.read_text(errors="replace"))
    return Bench(results, facts, runs, values, figures, read_mem(results / "mem.tsv"), status)


# ---------------------------------------------------------------- the report

def meets(r: str, op: str, goal: str) -> bool:
    """Whether the ratio r meets the goal (op: ge or le)."""
    return awk_num(r) >= awk_num(goal) if op == "ge" else awk_num(r) <= awk_num(goal)


def goal_text(r: str, op: str, goal: str) -> str:
    """"; target >= 2x: met" (or MISSED), nothing for op info."""
    if op not in ("ge", "le"):
        return ""
    return "; target %s %sx: %s" % (">=" if op == "ge" else "<=", goal, "met" if meets(r, op, goal) else "MISSED")


def ratio(name: str, a: str, b: str, op: str, goal: str) -> str:
    """a / b and whether it meets the goal (op: ge, le, or info for none)."""
    if not a or not b or not awk_num(b) > 0:
        return RATIO % name + " n/a (not measured in this run)"
    r = awk_str(awk_num(a) / awk_num(b))
    return RATIO % name + " %7sx  (%s / %s%s)" % (bash_f(r, 2), a, b, goal_text(r, op, goal))


def round_ratios(b: Bench, ka: str, kb: str) -> list[str]:
    """The ratio of two figures in each round that measured both, with two decimals."""
    la, lb = b.values.get(ka, {}), b.values.get(kb, {})
    return ["%.2f" % (awk_num(la[n]) / awk_num(lb[n])) for n in sorted(la.keys() & lb.keys())
            if awk_num(la[n]) > 0 and awk_num(lb[n]) > 0]


def pratio(b: Bench, name: str, ka: str, kb: str, op: str, goal: str, count: bool = False) -> str:
    """Like ratio, for two figures measured in every round: the median of the rounds' own ratios
    (the two runs of a round are minutes apart at most). With count, also in how many rounds the
    round's own ratio met the goal."""
    per = round_ratios(b, ka, kb)

    def counted(met: int, rounds: int) -> str:
        if not count or not rounds or op not in ("ge", "le"):
            return ""
        return "; met in %d of %d round%s" % (met, rounds, "" if rounds == 1 else "s")

    if int(b.fact("rounds", "1")) == 1 or not b.values.get(ka) or not b.values.get(kb):
        a, c = b.figures.get(ka, ""), b.figures.get(kb, "")
        line = ratio(name, a, c, op, goal)
        if "n/a" in line:
            return line
        # One round: counted as its verdict is, on the ratio itself.
        return line[:-1] + counted(meets(awk_str(awk_num(a) / awk_num(c)), op, goal), 1) + ")"
    med = median(per)
    if med is None:
        return RATIO % name + " n/a (not measured in this run)"
    return RATIO % name + " %7sx  (rounds: %s%s%s)" % (bash_f(med, 2), " ".join(per), goal_text(med, op, goal),
                                                        counted(sum(meets(r, op, goal) for r in per), len(per)))


def report(b: Bench) -> list[str]:
    """The report's lines (summary.txt), as bench/run always printed it."""
    names = run_labels(b)
    R = b.figures
    c = b.fact("connections")
    rounds = int(b.fact("rounds", "1"))
    out: list[str] = [""]

    def row(t: str, s: str) -> None:
        k = f"{t}|{s}|{c}"
        if R.get(f"{k}|rps"):
            out.append(ROW % (names[t], SCEN[s], c, R[f"{k}|rps"], R.get(f"{k}|p50", ""),
                              R.get(f"{k}|p99", ""), R.get(f"{k}|errors", "")))

    def cpu_row(t: str, s: str) -> None:
        k = f"{t}|{s}|{c}"
        if R.get(f"{k}|cpu_app"):
            out.append(CPU_ROW % (names[t], SCEN[s], c, *(R.get(f"{k}|{f}", "") for f in (
                "cpu_app", "cpu_haproxy", "cpu_db", "cpu_wrk", "cpu_other", "cpu_idle", "app_ms"))))

    rounds_text = "1 run" if rounds == 1 else f"median of {rounds} rounds"
    out.append(f"== bench/run {b.fact('stamp')}: wrk -t{b.fact('threads')} -c{c}, {b.fact('duration')}s"
               f" per scenario ({rounds_text}), through HAProxy (fcgi-app)")
    out.append(ROW % ("target", "scenario", "conns", "req/s", "p50 ms", "p99 ms", "errors"))
    for t in ("swift", "php-pg", "php-connect", "php-redis", "c"):
        ref = b.fact(f"ref.{t}")
        if t != "swift" and ref != "ok":
            if ref:
                out.append("%-56s %s" % (names[t], ref))
            continue
        for s in ("index", "session", "write", "create", "health"):
            row(t, s)
    pgbench = b.fact("ref.pgbench")
    if pgbench == "ok":
        for node, label in (("a", "pgbench, one write's SQL on node A"),
                            ("b", "pgbench, one write's SQL on node B (at once)")):
            steps = "read + CAS" if b.fact(f"pgbench_reads.{node}", "1") == "1" else "CAS"
            out.append("%-56s %-18s %5s %9s   (tps; mean latency %s ms)" % (
                label, steps, b.fact("clients"), R.get(f"pgbench|write|{node}|tps", ""),
                R.get(f"pgbench|write|{node}|lat", "")))
    elif pgbench:
        out.append("%-56s %s" % ("pgbench", pgbench))
    for t in ("swift-scale", "swift-gc"):
        for s in ("index", "list"):
            row(t, s)
    out += notes(b)

    out.append("")
    out.append(f"where the CPU went (cores of {b.fact('nproc')}; app = the target's server processes,"
               " db = both PostgreSQL")
    out.append("nodes and Redis, other = everything outside this benchmark; app ms/req = app CPU per request)")
    out.append(CPU_ROW % ("target", "scenario", "conns", "app", "haproxy", "db", "wrk", "other", "idle",
                          "app ms/req"))
    for t in ("swift", "php-pg", "php-connect", "php-redis", "c", "swift-scale", "swift-gc"):
        for s in ("index", "session", "write", "create", "health", "list"):
            cpu_row(t, s)

    out.append("")
    out.append("memory after the runs (sum over the processes; PSS shares shared pages out between them)")
    for t in ("swift", "php-pg", "php-redis", "c"):
        if t in b.mem:
            rss, pss, n = b.mem[t]
            out.append("  %-56s %2s processes  RSS %7s MiB  PSS %7s MiB" % (
                names[t], n, bash_f(awk_str(rss / 1024), 1), bash_f(awk_str(pss / 1024), 1)))
    if "final" in b.status:
        counters = " ".join(f"{name}={sum(status_counter(s, name) for s in b.status['final'])}"
                            for name in POOL_COUNTERS)
        out.append(f"  responder /status after the runs: {counters}")

    out.append("")
    out.append("ratios (from this run" + ("" if rounds == 1 else
                                          "; with rounds, the median of the rounds' own ratios") + ")")
    k = f"|{c}"

    def mem_of(t: str, i: int) -> str:
        return str(b.mem[t][i]) if t in b.mem else ""

    out += [
        pratio(b, "GET / req/s, Swift / php-fpm(PG)", f"swift|index{k}|rps", f"php-pg|index{k}|rps", "ge", "2"),
        pratio(b, "GET / p99, Swift / php-fpm(PG)", f"swift|index{k}|p99", f"php-pg|index{k}|p99", "le", "0.5"),
        pratio(b, "GET /session req/s, Swift / php-fpm(PG)", f"swift|session{k}|rps", f"php-pg|session{k}|rps",
               "ge", "5"),
        pratio(b, "POST /session (write) req/s, Swift / php-fpm(Redis)", f"swift|write{k}|rps",
               f"php-redis|write{k}|rps", "ge", "1.5"),
        pratio(b, "GET /session req/s, Swift / php-fpm(Redis)", f"swift|session{k}|rps",
               f"php-redis|session{k}|rps", "ge", "2"),
        pratio(b, "POST /session (write) req/s, Swift / pgbench (min of A, B)", f"swift|write{k}|rps",
               "pgbench|write|min|tps", "ge", "0.85"),
        pratio(b, "POST /session (write) p99, Swift / php-fpm(Redis)", f"swift|write{k}|p99",
               f"php-redis|write{k}|p99", "le", "0.5", count=True),
        pratio(b, "GET /session p99, Swift / php-fpm(Redis)", f"swift|session{k}|p99", f"php-redis|session{k}|p99",
               "le", "0.5", count=True),
        pratio(b, "GET /health req/s, Swift / C responder", f"swift|health{k}|rps", f"c|health{k}|rps", "ge", "0.9"),
        ratio("pools' RSS, Swift / php-fpm(PG) workers", mem_of("swift", 0), mem_of("php-pg", 0), "le", "0.5"),
        ratio("pools' PSS, Swift / php-fpm(PG) workers", mem_of("swift", 1), mem_of("php-pg", 1), "info", "0"),
        pratio(b, "POST /manage req/s, Swift / php-fpm(PG)", f"swift|create{k}|rps", f"php-pg|create{k}|rps",
               "info", "0"),
        pratio(b, "POST /session (write) req/s, Swift / php-fpm(PG)", f"swift|write{k}|rps", f"php-pg|write{k}|rps",
               "info", "0"),
        pratio(b, "GET / req/s, Swift / php-fpm(Redis)", f"swift|index{k}|rps", f"php-redis|index{k}|rps",
               "info", "0"),
        pratio(b, "GET / req/s, Swift / pgbench write (min of A, B)", f"swift|index{k}|rps", "pgbench|write|min|tps",
               "info", "0"),
        pratio(b, "GET / req/s, Swift / php-fpm(PG, connect)", f"swift|index{k}|rps", f"php-connect|index{k}|rps",
               "info", "0"),
        pratio(b, "GET / app CPU per request, Swift / php-fpm(PG)", f"swift|index{k}|app_ms",
               f"php-pg|index{k}|app_ms", "info", "0"),
        pratio(b, "GET /session app CPU/request, Swift / php(PG)", f"swift|session{k}|app_ms",
               f"php-pg|session{k}|app_ms", "info", "0"),
        pratio(b, "GET /health app CPU per request, Swift / C", f"swift|health{k}|app_ms", f"c|health{k}|app_ms",
               "info", "0"),
    ]
    if b.flag("scale"):
        out += scale_lines(b, k)
    if b.flag("sweep"):
        out += sweep_lines(b)

    out.append("")
    out.append(f"machine: {b.fact('nproc')} cores, {b.fact('cpu_model')}, {b.fact('kernel')};"
               f" load average before: {b.fact('load_before')}, after: {b.fact('load_after')}")
    changed = " with uncommitted changes in Sources/" if b.flag("sources_changed") else ""
    out.append(f"responder: {b.fact('responder')} (built {b.fact('responder_built')});"
               f" checkout: {b.fact('commit', '?')}{changed}")
    out.append(f"raw outputs: {b.results}")
    return out


def notes(b: Bench) -> list[str]:
    """What makes a write figure doubtful: a target whose POST /session did not keep the value
    (bench/run's check_write), a pgbench node whose compare-and-sets did not all change their row."""
    out = []
    for t in ("swift", "php-pg", "php-redis"):
        if (verdict := b.fact(f"write_check.{t}")) not in ("", "ok"):
            out.append(f"  note: {run_labels(b)[t]}: {verdict}; its POST /session figures are not those of kept writes")
    for node in ("a", "b"):
        processed = b.figures.get(f"pgbench|write|{node}|processed", "")
        changed = b.figures.get(f"pgbench|write|{node}|changed", "")
        if processed and changed and processed != changed:
            out.append(f"  note: pgbench on node {node.upper()}: {changed} of {processed} compare-and-sets changed"
                       " their row (each should)")
    return out


def scale_lines(b: Bench, k: str) -> list[str]:
    R = b.figures
    out = [
        ratio("GET / req/s, 1M rows / empty tables", R.get(f"swift-scale|index{k}|rps", ""),
              R.get(f"swift|index{k}|rps", ""), "ge", "0.9"),
        ratio("GET / p99, during GC / 1M rows without GC", R.get(f"swift-gc|index{k}|p99", ""),
              R.get(f"swift-scale|index{k}|p99", ""), "info", "0"),
    ]
    left = [b.fact(f) for f in ("left_a0", "left_a", "left_b0", "left_b")]
    deleted = (str(_int(left[0]) - _int(left[1]) + _int(left[2]) - _int(left[3]))
               if all(left) else "")
    counter = b.deleted("gc-before", "gc-after")
    out.append(RATIO % "GC during the GC run" + " %s expired rows gone from the nodes in %s s"
               " (gc.deleted_rows of /status rose by %s);" % (
                   deleted or "?", b.fact("gc_seconds") or "?", "?" if counter is None else counter))
    out.append(RATIO % "" + " expired rows left afterwards: A %s, B %s" % (
        b.fact("left_a") or "?", b.fact("left_b") or "?"))
    out.append(RATIO % "tables at the 1M-row runs" + " %s rows in php_session, %s live items (node A)" % (
        b.fact("seed_rows_a") or "?", b.fact("seed_items_a") or "?"))
    notes = []
    if b.fact("seed_seconds"):
        notes.append(f"seeding both nodes (with VACUUM ANALYZE and CHECKPOINT) took {b.fact('seed_seconds')} s")
    early = b.deleted("scale-before", "scale-after")
    if early is not None and early > 0:
        notes.append(f"garbage collection already ran during the 1M-row GET / and GET /manage runs ({early} rows):"
                     " seeding took longer than planned")
    if b.fact("gc_seen") == "0":
        notes.append("no garbage-collection DELETE was seen within 30 s of the expiry")
    if deleted == "0":
        notes.append("no garbage collection ran during the GC run: its figure is not a GC figure")
    return out + [f"  note: {n}" for n in notes]


SWEEP_TARGETS = ("swift", "php-redis", "php-pg", "c")
SWEEP_SCENARIOS = ("write", "session", "index", "health", "create")


def sweep_series(b: Bench) -> list[tuple[str, str]]:
    """(target, scenario) of every line the sweep measured, in the order of the report."""
    return [(t, s) for t in SWEEP_TARGETS for s in SWEEP_SCENARIOS
            if any(key.startswith(f"sweep-{t}|{s}|") for key in b.figures)]


def sweep_lines(b: Bench) -> list[str]:
    R = b.figures
    conns = b.fact("sweep_conns").split()
    out = ["", f"sweep: req/s (p99 ms) by connections, {b.fact('sweep_duration')}s per point",
           "%-24s" % "" + "".join("%14s" % f"c={c}" for c in conns)]
    for t, s in sweep_series(b):
        cells = ("%s (%s)" % (bash_f(R.get(f"sweep-{t}|{s}|{c}|rps") or "0", 0),
                              bash_f(R.get(f"sweep-{t}|{s}|{c}|p99") or "0", 0)) for c in conns)
        out.append("%-24s" % f"{t} {SCEN[s]}" + "".join("%14s" % cell for cell in cells))
    limits = [f"{name} {b.fact(key)}" for name, key in (
        ("the cluster's HAProxy", "haproxy_limits"), ("the references' HAProxy", "haproxy_refs_limits"),
        ("ulimit -n", "ulimit_n")) if b.fact(key)]
    if limits:
        out.append("connection limits: " + "; ".join(limits))
        most = max((int(c) for c in conns if c.isdigit()), default=0)
        values = re.findall(r"=(\d+)", " ".join(limits)) + [b.fact("ulimit_n")]
        if low := [v for v in values if v.isdigit() and int(v) < most]:
            out.append(f"  note: a limit under {most} connections ({', '.join(low)}):"
                       " the sweep's last points are capped")
    if (b.results / "sweep.png").exists():
        out.append(f"plot: {b.results / 'sweep.png'}")
    return out


def verdict(b: Bench) -> tuple[str | None, int]:
    """The line after the report and bench/run's exit status."""
    if b.flag("smoke"):
        if b.failed or b.fact("ref.c") != "ok" or b.fact("write_check.swift") not in ("", "ok"):
            return "smoke: FAILED (errors, non-2xx answers, or a part that did not come up)", 1
        return "smoke: ok", 0
    if b.failed:
        return "note: some runs had errors or non-2xx answers (see the errors column)", 0
    return None, 0


# ---------------------------------------------------------------- command line

def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "run-line":
        run = read_run(Path(argv[1]))
        if run is None:
            print(f"report.py: {argv[1]} is not named as a recorded wrk run", file=sys.stderr)
            return 2
        print(run_line(run), file=sys.stderr)
        return 0
    if len(argv) == 2 and argv[0] == "pgbench-line":
        m = PGBENCH_FILE.fullmatch(Path(argv[1]).name)
        text = Path(argv[1]).read_text(errors="replace") if m else ""
        got = read_pgbench(text) if m else None
        if m is None or got is None:
            return 1
        processed, changed = pgbench_writes(text)
        kept = f", {changed} of {processed} compare-and-sets changed their row" if processed and changed else ""
        print(f"bench:   pgbench write, node {m['node']}: {got[0]} tps, mean latency {got[1]} ms{kept}",
              file=sys.stderr)
        return 0
    if len(argv) == 2 and argv[0] == "report":
        b = load(Path(argv[1]))
        text = "\n".join(report(b)) + "\n"
        (b.results / "summary.txt").write_text(text)
        sys.stdout.write(text)
        line, status = verdict(b)
        if line:
            print(line)
        return status
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

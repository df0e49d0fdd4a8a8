#!/usr/bin/env python3
"""bench/plot.py: the sweep of one bench/run as a PNG (matplotlib; Debian's python3-matplotlib).

  plot.py RESULTS_DIR [OUTPUT]   draws the sweep's runs of RESULTS_DIR (wrk-sweep-*.txt, read
                                 by report.py) into OUTPUT (RESULTS_DIR/sweep.png): req/s and p99
                                 against connections side by side, one line per target and
                                 scenario, runs with errors marked with a cross; exit 1 when the
                                 directory holds no sweep, 3 when matplotlib cannot be imported

bench/run calls it after a --sweep when python3 can import matplotlib, and says so when not.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402

TARGET = {"swift": "Swift", "php-redis": "php-fpm (Redis)", "php-pg": "php-fpm (PG)", "c": "C responder"}
COLOR = {"swift": "tab:blue", "php-redis": "tab:red", "php-pg": "tab:green", "c": "tab:gray"}
SCENARIO = {"write": "POST /session (write)", "session": "GET /session", "index": "GET /",
            "health": "GET /health", "create": "POST /manage"}
STYLE = {"write": ("-", "o"), "session": ("--", "s"), "index": (":", "^"), "health": ("-.", "D"),
         "create": ((0, (5, 1, 1, 1)), "v")}


@dataclass
class Series:
    """One line of the plot: a target's scenario at each number of connections it was run with."""
    target: str
    scen: str
    conns: list[int]
    rps: list[float]
    p99: list[float]  # ms; NaN where the run measured none (a log axis cannot show 0)
    failed: list[bool]  # the run had errors, non-2xx answers or lost sessions

    @property
    def label(self) -> str:
        return f"{TARGET.get(self.target, self.target)} {SCENARIO.get(self.scen, self.scen)}"


def sweep(results: Path) -> tuple[report.Bench, list[Series]]:
    """The sweep's lines of a results directory, in the report's order."""
    b = report.load(results)
    failed = {(r.target, r.scen, int(r.conns)) for r in b.runs if r.failed}
    out = []
    for t, s in report.sweep_series(b):
        prefix = f"sweep-{t}|{s}|"
        conns = sorted(int(key[len(prefix):].split("|")[0]) for key in b.figures
                       if key.startswith(prefix) and key.endswith("|rps"))
        rps = [report.awk_num(b.figures[f"{prefix}{c}|rps"]) for c in conns]
        p99 = [report.awk_num(b.figures.get(f"{prefix}{c}|p99", "")) or math.nan for c in conns]
        out.append(Series(t, s, conns, rps, p99, [(f"sweep-{t}", s, c) in failed for c in conns]))
    return b, out


def draw(b: report.Bench, lines: list[Series], output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (rate, tail) = plt.subplots(1, 2, figsize=(14, 6))
    ticks = sorted({c for line in lines for c in line.conns})
    for line in lines:
        style, marker = STYLE.get(line.scen, ("-", "o"))
        for ax, ys in ((rate, line.rps), (tail, line.p99)):
            ax.plot(line.conns, ys, linestyle=style, marker=marker, markersize=4, color=COLOR.get(line.target),
                    label=line.label)
            bad = [(c, y) for c, y, f in zip(line.conns, ys, line.failed) if f and not math.isnan(y)]
            if bad:
                ax.scatter(*zip(*bad), marker="x", s=60, color="black", zorder=3)
    for ax, ylabel in ((rate, "requests per second"), (tail, "p99 latency (ms, log scale)")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(c) for c in ticks])
        ax.set_xlabel("connections (one session each)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    rate.set_ylim(bottom=0)
    tail.set_yscale("log")
    rate.set_title("throughput")
    tail.set_title("p99 latency")
    handles, labels = rate.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize="small", frameon=False)
    errors = " (x: a run with errors)" if any(f for line in lines for f in line.failed) else ""
    fig.suptitle(f"bench/run {b.fact('stamp') or b.results.name}: sweep, wrk -t{b.fact('threads') or '2'},"
                 f" {b.fact('sweep_duration') or '?'} s per point, through HAProxy{errors}")
    fig.tight_layout(rect=(0, 0.04 + 0.03 * math.ceil(len(lines) / 3), 1, 0.97))
    fig.savefig(output, dpi=100)
    plt.close(fig)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or argv[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    results = Path(argv[0])
    output = Path(argv[1]) if len(argv) == 2 else results / "sweep.png"
    b, lines = sweep(results)
    if not lines:
        print(f"plot.py: {results} holds no sweep (wrk-sweep-*.txt)", file=sys.stderr)
        return 1
    try:
        draw(b, lines, output)
    except ImportError as e:
        print(f"plot.py: matplotlib cannot be imported ({e}); apt-get install python3-matplotlib", file=sys.stderr)
        return 3
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

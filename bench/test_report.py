#!/usr/bin/env python3
"""Unit tests of bench/report.py: `cd bench && python3 -m unittest test_report` (or
`python3 -m unittest discover -s bench -p 'test_*.py'` from the repository).

The fixtures under bench/fixtures/ are real outputs: smoke/ is the raw output of one
`bench/run --smoke` (every wrk run with its .cpu file, mem.tsv, facts.tsv, the pools' /status)
with the summary it printed; wrk-*.txt are wrk 4.1 runs with bench/wrk/bench.lua against a server
answering 404 (non-2xx answers and lost sessions), one closing every other connection (socket
errors) and a closed port (no BENCH line); pgbench-*.txt a run of pgbench 15 and a failed one;
pgbench-write.txt a run of pgbench/write.sql with the count bench/run adds to it; sweep/ the
facts and a few wrk runs of one `bench/run --sweep` (also test_plot.py's). The expected figures
are those the bash version of bench/run computed from the same inputs.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMOKE = FIXTURES / "smoke"
PGBENCH_WRITE_TPS = "2153.236801"  # the tps line of fixtures/pgbench-write.txt


class Scratch(unittest.TestCase):
    """A temporary results directory per test."""

    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-report-test."))
        self.addCleanup(shutil.rmtree, self.dir)

    def put(self, name: str, source: Path | str) -> Path:
        path = self.dir / name
        path.write_text(source.read_text() if isinstance(source, Path) else source)
        return path

    def facts(self, **facts: object) -> None:
        base = {"stamp": "20270101T000000Z", "threads": 2, "connections": 8, "duration": 2, "rounds": 1,
                "smoke": 0, "sweep": 0, "scale": 0, "clients": 16, "ref.c": "ok", "nproc": 2}
        base.update(facts)
        self.put("facts.tsv", "".join(f"{k}\t{v}\n" for k, v in base.items()))

    def wrk(self, target: str, scen: str, n: int, rps: str, p99_ms: int | None = None) -> Path:
        """A recorded run of round n: the smoke run's GET / with another rate (and p99)."""
        text = (SMOKE / "wrk-swift-index-c8-r1.txt").read_text().replace("rps=990.0", f"rps={rps}")
        if p99_ms is not None:
            text = text.replace("p99_us=18741", f"p99_us={p99_ms * 1000}")
        return self.put(f"wrk-{target}-{scen}-c8-r{n}.txt", text)

    def pgbench(self, node: str, n: int, tps: str) -> Path:
        """pgbench/write.sql's recorded run on a node in round n, with another tps."""
        text = (FIXTURES / "pgbench-write.txt").read_text()
        return self.put(f"pgbench-write-{node}-r{n}.txt", text.replace(f"tps = {PGBENCH_WRITE_TPS} ", f"tps = {tps} "))


class Numbers(unittest.TestCase):
    def test_awk_str_prints_integral_values_as_integers_and_others_with_6_digits(self) -> None:
        self.assertEqual(report.awk_str(2.0), "2")
        self.assertEqual(report.awk_str(1237.45), "1237.45")
        self.assertEqual(report.awk_str(17614.35), "17614.3")
        self.assertEqual(report.awk_str(1234567.5), "1.23457e+06")
        self.assertEqual(report.awk_str((2.45 + 2.27) / 2), "2.36")

    def test_awk_num_reads_the_numeric_prefix(self) -> None:
        self.assertEqual(report.awk_num("12.5"), 12.5)
        self.assertEqual(report.awk_num(" 3 "), 3.0)
        self.assertEqual(report.awk_num(""), 0.0)
        self.assertEqual(report.awk_num("n/a"), 0.0)

    def test_bash_f_rounds_as_bash_printf_does_through_a_long_double(self) -> None:
        # bash: printf '%.1f' 3.85 -> 3.8 (Python's own '%.1f' % 3.85 gives 3.9)
        self.assertEqual(report.bash_f("3.85", 1), "3.8")
        self.assertEqual(report.bash_f("22.35", 1), "22.4")
        self.assertEqual(report.bash_f("0.125", 2), "0.12")
        self.assertEqual(report.bash_f("0.145", 2), "0.14")
        self.assertEqual(report.bash_f("7.366", 1), "7.4")
        self.assertEqual(report.bash_f("12820.4", 0), "12820")
        self.assertEqual(report.bash_f("", 2), "0.00")

    def test_median_keeps_the_middle_text_and_averages_an_even_count(self) -> None:
        self.assertEqual(report.median(["9", "10", "2.0"]), "9")
        self.assertEqual(report.median(["2.0"]), "2.0")
        self.assertEqual(report.median(["1002.0", "990.0"]), "996")
        self.assertEqual(report.median(["0.39", "0.40"]), "0.395")
        self.assertEqual(report.median(["10", "9", "", " "]), "9.5")
        self.assertIsNone(report.median([]))
        self.assertIsNone(report.median(["", " "]))

    def test_total_sums_counts(self) -> None:
        self.assertEqual(report.total(["0", "3", ""]), "3")


class WrkRuns(Scratch):
    def test_the_bench_line_of_a_real_run(self) -> None:
        fields = report.bench_line((SMOKE / "wrk-swift-index-c8-r1.txt").read_text())
        assert fields is not None
        self.assertEqual(fields["requests"], "1990")
        self.assertEqual(fields["rps"], "990.0")
        self.assertEqual(fields["p99_us"], "18741")
        self.assertEqual(fields["sessions"], "8")
        self.assertIsNone(report.bench_line((FIXTURES / "wrk-refused.txt").read_text()))

    def test_a_recorded_run_with_its_cpu_file(self) -> None:
        run = report.read_run(SMOKE / "wrk-swift-index-c8-r1.txt")
        assert run is not None
        self.assertEqual((run.target, run.scen, run.conns, run.round), ("swift", "index", "8", 1))
        self.assertFalse(run.failed)
        # the figures bench/run's bash version computed from the same raw data
        self.assertEqual(run.figures, {
            "rps": "990.0", "p50": "7.5", "p99": "18.7", "errors": "0", "lost": "0", "requests": "1990",
            "cpu_app": "0.56", "cpu_haproxy": "0.10", "cpu_db": "0.72", "cpu_wrk": "0.06",
            "cpu_other": "0.42", "cpu_idle": "0.07", "app_ms": "0.57"})
        self.assertEqual(report.run_line(run),
                         "bench:   swift        GET /              c=8       990.0 req/s  p50     7.5 ms"
                         "  p99    18.7 ms  errors 0")

    def test_the_c_responder_run(self) -> None:
        run = report.read_run(SMOKE / "wrk-c-health-c8-r1.txt")
        assert run is not None
        self.assertEqual({k: run.figures[k] for k in ("rps", "p50", "p99", "cpu_app", "cpu_other", "app_ms")},
                         {"rps": "5273.1", "p50": "1.1", "p99": "6.9", "cpu_app": "0.29", "cpu_other": "1.10",
                          "app_ms": "0.06"})

    def test_non_2xx_answers_and_lost_sessions_are_errors(self) -> None:
        run = report.read_run(self.put("wrk-swift-session-c4-r1.txt", FIXTURES / "wrk-non2xx-lost.txt"))
        assert run is not None
        self.assertTrue(run.failed)
        self.assertEqual(run.figures["errors"], "2435")
        self.assertEqual(run.figures["lost"], "2435")
        self.assertNotIn("cpu_app", run.figures)  # no .cpu file: no CPU figures
        self.assertTrue(report.run_line(run).endswith("errors 2435 (sessions lost: 2435)"))

    def test_socket_errors_are_errors(self) -> None:
        run = report.read_run(self.put("wrk-swift-health-c2-r1.txt", FIXTURES / "wrk-socket-errors.txt"))
        assert run is not None
        self.assertTrue(run.failed)
        self.assertEqual((run.figures["errors"], run.figures["p50"], run.figures["p99"]), ("16405", "0.0", "0.3"))

    def test_a_run_without_a_bench_line(self) -> None:
        path = self.put("wrk-c-health-c8-r2.txt", FIXTURES / "wrk-refused.txt")
        run = report.read_run(path)
        assert run is not None
        self.assertTrue(run.failed)
        self.assertEqual(run.figures, {"rps": "0", "p50": "0", "p99": "0", "errors": "1"})
        self.assertEqual(report.run_line(run), f"bench: wrk gave no result for c GET /health (see {path})")

    def test_zero_requests_fail_and_have_no_cpu_per_request(self) -> None:
        text = (SMOKE / "wrk-swift-index-c8-r1.txt").read_text().replace("BENCH requests=1990", "BENCH requests=0")
        self.put("wrk-swift-index-c8-r1.cpu", SMOKE / "wrk-swift-index-c8-r1.cpu")
        run = report.read_run(self.put("wrk-swift-index-c8-r1.txt", text))
        assert run is not None
        self.assertTrue(run.failed)
        self.assertIn("cpu_app", run.figures)
        self.assertNotIn("app_ms", run.figures)

    def test_only_recorded_runs_count(self) -> None:
        self.assertIsNone(report.read_run(self.put("wrk-swift-index-c8-warm.txt", SMOKE / "wrk-swift-index-c8-r1.txt")))
        self.assertIsNone(report.read_run(self.put("wrk-swift-nothing-c8-r1.txt", SMOKE / "wrk-swift-index-c8-r1.txt")))
        run = report.read_run(self.put("wrk-sweep-php-pg-session-c64-r1.txt", SMOKE / "wrk-swift-index-c8-r1.txt"))
        assert run is not None
        self.assertEqual((run.target, run.scen, run.conns), ("sweep-php-pg", "session", "64"))


class OtherOutputs(unittest.TestCase):
    def test_pgbench(self) -> None:
        self.assertEqual(report.read_pgbench((FIXTURES / "pgbench-ok.txt").read_text()), ("12920.5", "1.238"))
        self.assertIsNone(report.read_pgbench((FIXTURES / "pgbench-failed.txt").read_text()))

    def test_status_counters(self) -> None:
        text = (SMOKE / "status-final-pool1.txt").read_text()
        self.assertEqual(report.status_counter(text, "accepted_requests"), 7408)
        self.assertEqual(report.status_counter(text, "session_cas_retries"), 0)
        self.assertEqual(report.status_counter(text, "missing"), 0)
        self.assertEqual(report.gc_deleted(text.replace('"deleted_rows":0', '"deleted_rows":1234')), 1234)
        self.assertEqual(report.gc_deleted(""), 0)


class Ratios(Scratch):
    def test_ratio(self) -> None:
        self.assertEqual(report.ratio("GET /health req/s, Swift / C responder", "9539.0", "5273.1", "ge", "0.9"),
                         "  GET /health req/s, Swift / C responder                        1.81x  (9539.0 / 5273.1;"
                         " target >= 0.9x: met)")
        self.assertEqual(report.ratio("p99", "40.1", "60", "le", "0.5"),
                         "  %-58s    0.67x  (40.1 / 60; target <= 0.5x: MISSED)" % "p99")
        self.assertEqual(report.ratio("info", "1", "3", "info", "0"), "  %-58s    0.33x  (1 / 3)" % "info")
        for a, b in (("", "1"), ("1", ""), ("1", "0")):
            self.assertEqual(report.ratio("x", a, b, "ge", "2"), "  %-58s n/a (not measured in this run)" % "x")

    def two_rounds(self, swift: list[str], php: list[str]) -> report.Bench:
        text = (SMOKE / "wrk-swift-index-c8-r1.txt").read_text()
        for target, rates in (("swift", swift), ("php-pg", php)):
            for n, rps in enumerate(rates, 1):
                if rps is not None:
                    self.put(f"wrk-{target}-index-c8-r{n}.txt", text.replace("rps=990.0", f"rps={rps}"))
        self.facts(rounds=len(swift))
        return report.load(self.dir)

    def test_rounds_give_medians_and_the_median_of_each_rounds_ratio(self) -> None:
        b = self.two_rounds(["1400.0", "1300.0", "1500.0"], ["600.0", "500.0", "700.0"])
        self.assertEqual(b.figures["swift|index|8|rps"], "1400.0")
        self.assertEqual(b.figures["swift|index|8|requests"], str(3 * 1990))  # counts add up
        self.assertEqual(report.pratio(b, "GET / req/s", "swift|index|8|rps", "php-pg|index|8|rps", "ge", "2"),
                         "  %-58s    2.33x  (rounds: 2.33 2.60 2.14; target >= 2x: met)" % "GET / req/s")

    def test_an_even_number_of_rounds_averages_the_middle_ratios(self) -> None:
        b = self.two_rounds(["1369.0", "1400.0"], ["579.0", "620.0"])
        self.assertEqual(b.figures["swift|index|8|rps"], "1384.5")
        self.assertEqual(report.pratio(b, "r", "swift|index|8|rps", "php-pg|index|8|rps", "ge", "2"),
                         "  %-58s    2.31x  (rounds: 2.36 2.26; target >= 2x: met)" % "r")

    def test_round_ratios_pair_the_runs_of_the_same_round(self) -> None:
        b = self.two_rounds(["1000.0", "2000.0", "3000.0"], [None, "1000.0", "1000.0"])
        self.assertEqual(report.pratio(b, "r", "swift|index|8|rps", "php-pg|index|8|rps", "info", "0"),
                         "  %-58s    2.50x  (rounds: 2.00 3.00)" % "r")

    def test_a_single_round_compares_the_figures(self) -> None:
        b = self.two_rounds(["1000.0"], ["400.0"])
        self.assertEqual(report.pratio(b, "r", "swift|index|8|rps", "php-pg|index|8|rps", "ge", "2"),
                         "  %-58s    2.50x  (1000.0 / 400.0; target >= 2x: met)" % "r")


class Reports(Scratch):
    def test_the_targets_are_named_with_the_runs_workers(self) -> None:
        for workers, swift, php in (("", "4 pools x 4 workers", "(16 workers)"),
                                    ("2", "4 pools x 2 workers", "(8 workers)")):
            with self.subTest(workers=workers):
                self.wrk("swift", "index", 1, "1000.0")
                self.wrk("php-redis", "index", 1, "900.0")
                self.facts(workers=workers, **{"ref.php-redis": "ok"})
                text = "\n".join(report.report(report.load(self.dir)))
                self.assertIn(f"Swift responder ({swift})", text)
                self.assertIn(f"phpredis sessions {php}", text)

    def smoke(self) -> None:
        for f in SMOKE.iterdir():
            if f.name != "expected-summary.txt":
                self.put(f.name, f)

    def run_main(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = report.main(list(args))
        return status, out.getvalue(), err.getvalue()

    def test_the_smoke_report_is_the_one_bench_run_printed(self) -> None:
        self.smoke()
        status, out, _ = self.run_main("report", str(self.dir))
        expected = (SMOKE / "expected-summary.txt").read_text().splitlines()
        lines = out.splitlines()
        self.assertEqual(status, 0)
        self.assertEqual(lines[:-2], expected[:-1])
        self.assertEqual(lines[-2], f"raw outputs: {self.dir}")
        self.assertEqual(lines[-1], "smoke: ok")
        self.assertEqual((self.dir / "summary.txt").read_text().splitlines(), lines[:-1])

    def test_a_smoke_run_with_errors_fails(self) -> None:
        self.smoke()
        self.put("wrk-swift-session-c8-r1.txt", FIXTURES / "wrk-non2xx-lost.txt")
        status, out, _ = self.run_main("report", str(self.dir))
        self.assertEqual(status, 1)
        self.assertIn("Swift responder (4 pools x 4 workers)                    GET /session           8    2214.6"
                      "      1.6      3.9   2435\n", out)
        self.assertTrue(out.endswith("\nsmoke: FAILED (errors, non-2xx answers, or a part that did not come up)\n"))

    def test_a_smoke_run_without_the_c_responder_fails(self) -> None:
        self.smoke()
        for f in self.dir.glob("wrk-c-*"):
            f.unlink()
        with open(self.dir / "facts.tsv", "a") as facts:
            facts.write("ref.c\tnot set up: cc failed (see c-build.log)\n")
        status, out, _ = self.run_main("report", str(self.dir))
        self.assertEqual(status, 1)
        self.assertIn("\nC libfcgi responder (4 x 4 threads)                      not set up: cc failed"
                      " (see c-build.log)\n", out)
        self.assertIn("GET /health req/s, Swift / C responder                     n/a (not measured in this run)", out)

    def test_errors_outside_smoke_are_a_note(self) -> None:
        self.facts()
        self.put("wrk-swift-index-c8-r1.txt", FIXTURES / "wrk-refused.txt")
        status, out, _ = self.run_main("report", str(self.dir))
        self.assertEqual(status, 0)
        self.assertTrue(out.endswith("\nnote: some runs had errors or non-2xx answers (see the errors column)\n"))

    def test_memory_lines(self) -> None:
        self.facts()
        self.put("mem.tsv", "swift\nswift\t1\t33856\t7667\nswift\t2\t33808\t7703\nphp-pg\nphp-pg\t3\t306000\t24900\nc\n")
        lines = report.report(report.load(self.dir))
        self.assertIn("  Swift responder (4 pools x 4 workers)                     2 processes  RSS    66.1 MiB"
                      "  PSS    15.0 MiB", lines)
        self.assertIn("  C libfcgi responder (4 x 4 threads)                       0 processes  RSS     0.0 MiB"
                      "  PSS     0.0 MiB", lines)
        self.assertIn("  %-58s    0.22x  (67664 / 306000; target <= 0.5x: met)"
                      % "pools' RSS, Swift / php-fpm(PG) workers", lines)

    def test_pgbench_rows_and_the_references(self) -> None:
        self.facts(**{"ref.pgbench": "ok", "pgbench_reads.a": 1, "pgbench_reads.b": 0})
        self.put("wrk-swift-index-c8-r1.txt", SMOKE / "wrk-swift-index-c8-r1.txt")
        self.wrk("swift", "write", 1, "600.0")
        self.put("pgbench-write-a-r1.txt", FIXTURES / "pgbench-ok.txt")
        self.put("pgbench-write-b-r1.txt", (FIXTURES / "pgbench-ok.txt").read_text().replace("12920.538213", "695.04"))
        lines = report.report(report.load(self.dir))
        self.assertIn("%-56s %-18s %5s %9s   (tps; mean latency 1.238 ms)"
                      % ("pgbench, one write's SQL on node B (at once)", "CAS", "16", "695.0"), lines)
        self.assertIn("%-56s %-18s %5s %9s   (tps; mean latency 1.238 ms)"
                      % ("pgbench, one write's SQL on node A", "read + CAS", "16", "12920.5"), lines)
        self.assertIn("  %-58s    0.86x  (600.0 / 695.0; target >= 0.85x: met)"
                      % "POST /session (write) req/s, Swift / pgbench (min of A, B)", lines)
        self.assertIn("  %-58s    1.42x  (990.0 / 695.0)" % "GET / req/s, Swift / pgbench write (min of A, B)", lines)

    def test_old_pgbench_outputs_are_not_the_write_reference(self) -> None:
        # pgbench-NODE-rN.txt: GET /'s statements of an older protocol, not one write's.
        self.facts(**{"ref.pgbench": "ok"})
        self.wrk("swift", "write", 1, "600.0")
        self.put("pgbench-a-r1.txt", FIXTURES / "pgbench-ok.txt")
        self.put("pgbench-b-r1.txt", FIXTURES / "pgbench-ok.txt")
        b = report.load(self.dir)
        self.assertNotIn("pgbench|write|min|tps", b.figures)
        self.assertIn("  %-58s n/a (not measured in this run)"
                      % "POST /session (write) req/s, Swift / pgbench (min of A, B)", report.report(b))

    def test_pgbench_that_failed_is_named(self) -> None:
        self.facts(**{"ref.pgbench": "not set up: pgbench failed (see pgbench-b-r1.txt)"})
        lines = report.report(report.load(self.dir))
        self.assertIn("%-56s not set up: pgbench failed (see pgbench-b-r1.txt)" % "pgbench", lines)

    def test_scale_lines(self) -> None:
        self.facts(scale=1, seed_seconds=61, seed_rows_a=1000000, seed_items_a=100000, gc_seen=1,
                   left_a0=500000, left_b0=500000, left_a=400000, left_b=410000, gc_seconds=10)
        status = (SMOKE / "status-final-pool1.txt").read_text()
        for phase, rows in (("scale-before", 0), ("scale-after", 5), ("gc-before", 5), ("gc-after", 95005)):
            self.put(f"status-{phase}-pool1.txt", status.replace('"deleted_rows":0', f'"deleted_rows":{rows}'))
        lines = report.report(report.load(self.dir))
        self.assertIn("  %-58s 190000 expired rows gone from the nodes in 10 s (gc.deleted_rows of /status rose by"
                      " 95000);" % "GC during the GC run", lines)
        self.assertIn("  %-58s expired rows left afterwards: A 400000, B 410000" % "", lines)
        self.assertIn("  note: seeding both nodes (with VACUUM ANALYZE and CHECKPOINT) took 61 s", lines)
        self.assertIn("  note: garbage collection already ran during the 1M-row GET / and GET /manage runs (5 rows):"
                      " seeding took longer than planned", lines)

    def test_sweep_lines(self) -> None:
        self.facts(sweep=1, sweep_duration=5, sweep_conns="1 2", haproxy_limits="maxconn=9984 web=9984",
                   haproxy_refs_limits="maxconn=9984 php_pg=9984", ulimit_n=20000)
        for c in (1, 2):
            self.put(f"wrk-sweep-swift-health-c{c}-r1.txt", SMOKE / "wrk-swift-health-c8-r1.txt")
            self.put(f"wrk-sweep-php-redis-write-c{c}-r1.txt", SMOKE / "wrk-swift-index-c8-r1.txt")
        self.put("sweep.png", "")
        lines = report.report(report.load(self.dir))
        i = lines.index("sweep: req/s (p99 ms) by connections, 5s per point")
        self.assertEqual(lines[i + 1:i + 6], [
            "%-24s%14s%14s" % ("", "c=1", "c=2"),
            "%-24s%14s%14s" % ("swift GET /health", "9539 (6)", "9539 (6)"),
            "%-24s%14s%14s" % ("php-redis POST /session", "990 (19)", "990 (19)"),
            "connection limits: the cluster's HAProxy maxconn=9984 web=9984; the references' HAProxy"
            " maxconn=9984 php_pg=9984; ulimit -n 20000",
            f"plot: {self.dir / 'sweep.png'}"])

    def test_a_connection_limit_under_the_sweep_is_named(self) -> None:
        self.facts(sweep=1, sweep_duration=5, sweep_conns="1 256", haproxy_limits="maxconn=9984 web=200", ulimit_n=1024)
        self.put("wrk-sweep-swift-write-c1-r1.txt", SMOKE / "wrk-swift-index-c8-r1.txt")
        lines = report.report(report.load(self.dir))
        self.assertIn("  note: a limit under 256 connections (200): the sweep's last points are capped", lines)

    def test_run_line_and_pgbench_line_commands(self) -> None:
        status, out, err = self.run_main("run-line", str(SMOKE / "wrk-c-health-c8-r1.txt"))
        self.assertEqual((status, out), (0, ""))
        self.assertEqual(err, "bench:   c            GET /health        c=8      5273.1 req/s  p50     1.1 ms"
                              "  p99     6.9 ms  errors 0\n")
        status, _, err = self.run_main("pgbench-line", str(self.put("pgbench-write-a-r1.txt",
                                                                    FIXTURES / "pgbench-ok.txt")))
        self.assertEqual((status, err), (0, "bench:   pgbench write, node a: 12920.5 tps, mean latency 1.238 ms\n"))
        status, _, err = self.run_main("pgbench-line", str(self.put("pgbench-write-a-r1.txt",
                                                                    FIXTURES / "pgbench-write.txt")))
        self.assertEqual((status, err), (0, "bench:   pgbench write, node a: 2153.2 tps, mean latency 7.431 ms,"
                                            " 6092 of 6092 compare-and-sets changed their row\n"))
        status, _, err = self.run_main("pgbench-line", str(self.put("pgbench-write-b-r1.txt",
                                                                    FIXTURES / "pgbench-failed.txt")))
        self.assertEqual((status, err), (1, ""))
        status, _, err = self.run_main("pgbench-line", str(self.put("pgbench-a-r1.txt", FIXTURES / "pgbench-ok.txt")))
        self.assertEqual((status, err), (1, ""))  # not named as a write run


class WriteScenario(Scratch):
    """POST /session (write): its rows, its ratios against php-fpm with Redis and against pgbench."""

    def test_the_write_rows_follow_get_session_in_both_tables(self) -> None:
        self.facts()
        for scen, recorded in (("session", "session"), ("write", "index")):
            for ext in ("txt", "cpu"):
                self.put(f"wrk-swift-{scen}-c8-r1.{ext}", SMOKE / f"wrk-swift-{recorded}-c8-r1.{ext}")
        lines = report.report(report.load(self.dir))
        row = "%-56s %-18s %5s" % ("Swift responder (4 pools x 4 workers)", "POST /session", "8")
        rows = [n for n, line in enumerate(lines) if line.startswith(row)]
        self.assertEqual(len(rows), 2)  # the table and the CPU table
        self.assertEqual(lines[rows[0]], row + "     990.0      7.5     18.7      0")
        self.assertEqual(lines[rows[1]], row + "  0.56    0.10  0.72  0.06   0.42  0.07       0.57")
        for n in rows:
            self.assertIn("GET /session", lines[n - 1])

    def test_rounds_give_the_write_ratios_against_redis_and_how_often_p99_met(self) -> None:
        self.facts(rounds=3, **{"ref.php-redis": "ok"})
        for n, (swift, redis, swift_p99, redis_p99) in enumerate(
                (("1500.0", "1000.0", 10, 20), ("1600.0", "1000.0", 12, 20), ("1400.0", "1000.0", 9, 20)), 1):
            self.wrk("swift", "write", n, swift, swift_p99)
            self.wrk("php-redis", "write", n, redis, redis_p99)
        lines = report.report(report.load(self.dir))
        self.assertIn("  %-58s    1.50x  (rounds: 1.50 1.60 1.40; target >= 1.5x: met)"
                      % "POST /session (write) req/s, Swift / php-fpm(Redis)", lines)
        self.assertIn("  %-58s    0.50x  (rounds: 0.50 0.60 0.45; target <= 0.5x: met; met in 2 of 3 rounds)"
                      % "POST /session (write) p99, Swift / php-fpm(Redis)", lines)

    def test_get_session_against_redis_in_one_round(self) -> None:
        self.facts(**{"ref.php-redis": "ok"})
        self.wrk("swift", "session", 1, "3000.0", 12)
        self.wrk("php-redis", "session", 1, "1400.0", 20)
        lines = report.report(report.load(self.dir))
        self.assertIn("  %-58s    2.14x  (3000.0 / 1400.0; target >= 2x: met)"
                      % "GET /session req/s, Swift / php-fpm(Redis)", lines)
        self.assertIn("  %-58s    0.60x  (12.0 / 20.0; target <= 0.5x: MISSED; met in 0 of 1 round)"
                      % "GET /session p99, Swift / php-fpm(Redis)", lines)

    def test_the_pgbench_reference_of_a_round_is_its_slower_node(self) -> None:
        self.facts(rounds=2, **{"ref.pgbench": "ok"})
        for n, (a, b, swift) in enumerate((("1000.0", "800.0", "720.0"), ("700.0", "900.0", "560.0")), 1):
            self.pgbench("a", n, a)
            self.pgbench("b", n, b)
            self.wrk("swift", "write", n, swift)
            self.wrk("swift", "index", n, swift)
        b = report.load(self.dir)
        self.assertEqual(b.values["pgbench|write|min|tps"], {1: "800.0", 2: "700.0"})
        self.assertEqual(b.figures["pgbench|write|min|tps"], "750")
        self.assertEqual(b.figures["pgbench|write|a|tps"], "850")
        lines = report.report(b)
        self.assertIn("  %-58s    0.85x  (rounds: 0.90 0.80; target >= 0.85x: met)"
                      % "POST /session (write) req/s, Swift / pgbench (min of A, B)", lines)
        self.assertIn("  %-58s    0.85x  (rounds: 0.90 0.80)" % "GET / req/s, Swift / pgbench write (min of A, B)",
                      lines)

    def test_the_pgbench_write_output(self) -> None:
        text = (FIXTURES / "pgbench-write.txt").read_text()
        self.assertEqual(report.read_pgbench(text), ("2153.2", "7.431"))
        self.assertEqual(report.pgbench_writes(text), ("6092", "6092"))
        self.assertEqual(report.pgbench_writes((FIXTURES / "pgbench-ok.txt").read_text()), ("25707", ""))

    def test_compare_and_sets_that_changed_nothing_are_named(self) -> None:
        self.facts(**{"ref.pgbench": "ok"})
        self.pgbench("a", 1, "900.0")
        self.put("pgbench-write-b-r1.txt", (FIXTURES / "pgbench-write.txt").read_text().replace(
            "compare-and-sets: 6092", "compare-and-sets: 12"))
        lines = report.report(report.load(self.dir))
        self.assertIn("  note: pgbench on node B: 12 of 6092 compare-and-sets changed their row (each should)",
                      lines)
        self.assertFalse(any("note: pgbench on node A" in line for line in lines))

    def test_a_write_that_was_not_kept_is_named_and_fails_a_smoke_run(self) -> None:
        self.facts(smoke=1, **{"write_check.swift": "GET /session does not show the value the last POST set"})
        self.put("wrk-c-health-c8-r1.txt", SMOKE / "wrk-c-health-c8-r1.txt")
        self.wrk("swift", "write", 1, "600.0")
        b = report.load(self.dir)
        self.assertIn("  note: Swift responder (4 pools x 4 workers): GET /session does not show the value the last"
                      " POST set; its POST /session figures are not those of kept writes", report.report(b))
        self.assertEqual(report.verdict(b)[1], 1)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Unit tests of bench/plot.py on fixtures/sweep/ (the facts and a few wrk runs of one
`bench/run --sweep`): the lines it draws, and the PNG itself, drawn by the first Python that
can import matplotlib (this one, or Debian's /usr/bin/python3, where python3-matplotlib
installs); that test is skipped, saying why, when none can.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import plot  # noqa: E402

SWEEP = HERE / "fixtures" / "sweep"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def python_with_matplotlib() -> str | None:
    """The first interpreter that imports matplotlib: this one, then Debian's."""
    for python in dict.fromkeys((sys.executable, "/usr/bin/python3")):
        try:
            if subprocess.run([python, "-c", "import matplotlib"], capture_output=True, timeout=60).returncode == 0:
                return python
        except OSError:
            continue
    return None


class Lines(unittest.TestCase):
    def test_one_line_per_target_and_scenario_in_the_reports_order(self) -> None:
        _, lines = plot.sweep(SWEEP)
        self.assertEqual([(line.target, line.scen) for line in lines],
                         [("swift", "write"), ("swift", "session"), ("php-redis", "write")])
        swift = lines[0]
        self.assertEqual(swift.label, "Swift POST /session (write)")
        self.assertEqual(swift.conns, [1, 16, 256])
        self.assertEqual(len(swift.rps), 3)
        self.assertTrue(all(r > 0 for r in swift.rps))
        self.assertTrue(all(p > 0 for p in swift.p99))
        self.assertEqual(swift.failed, [False, False, False])

    def test_a_directory_without_a_sweep_is_refused(self) -> None:
        empty = Path(tempfile.mkdtemp(prefix="bench-plot-test."))
        self.addCleanup(shutil.rmtree, empty)
        err = io.StringIO()
        with redirect_stderr(err):
            self.assertEqual(plot.main([str(empty)]), 1)
        self.assertEqual(err.getvalue(), f"plot.py: {empty} holds no sweep (wrk-sweep-*.txt)\n")


class Png(unittest.TestCase):
    def test_the_plot_is_a_png(self) -> None:
        python = python_with_matplotlib()
        if python is None:
            self.skipTest("matplotlib cannot be imported by this Python nor by /usr/bin/python3"
                          " (apt-get install python3-matplotlib)")
        out = Path(tempfile.mkdtemp(prefix="bench-plot-test.")) / "sweep.png"
        self.addCleanup(shutil.rmtree, out.parent)
        done = subprocess.run([python, str(HERE / "plot.py"), str(SWEEP), str(out)], capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, f"{out}\n")
        data = out.read_bytes()
        self.assertGreater(len(data), len(PNG_SIGNATURE))
        self.assertEqual(data[:8], PNG_SIGNATURE)


if __name__ == "__main__":
    unittest.main()

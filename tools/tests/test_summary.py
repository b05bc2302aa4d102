"""Tests of the main job's one-screen summary and of tables cut to a width."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import summary, ui  # noqa: E402
from mmtool.side_by_side import SideRow  # noqa: E402


def row(name, ours, linux):
    return SideRow(name, ours, linux)


class Summarise(unittest.TestCase):
    def test_geomean_better_best_and_worst(self):
        s = summary.summarise("icount", [row("a", 1, 4), row("b", 2, 2), row("c", 9, 3),
                                         row("no_linux", 5, None)])
        self.assertEqual(s.rows, 3)
        self.assertEqual(s.better, 1)
        self.assertAlmostEqual(s.geomean, (0.25 * 1 * 3) ** (1 / 3))
        self.assertEqual(s.best, ("a", 0.25))
        self.assertEqual(s.worst, ("c", 3.0))

    def test_one_summary_per_section(self):
        rows = [SideRow("s", 1, 2, section="system calls"), SideRow("l", 3, 1),
                SideRow("f", 1, 1, section="page faults"),
                SideRow("x", 1, None, section="library calls")]
        found = summary.summarise_sections("icount", rows)
        self.assertEqual([(s.section, s.rows) for s in found],
                         [("icount, system calls", 1), ("icount, page faults", 1),
                          ("icount, other", 1)])

    def test_nothing_to_compare(self):
        self.assertIsNone(summary.summarise("x", [row("a", 1, None)]))

    def test_render_and_json(self):
        s = summary.summarise("icount", [row("a", 1, 2)])
        text = summary.render([s], ["host: test"])
        self.assertIn("host: test", text)
        self.assertIn("1 of 1", text)
        self.assertIn("0.50", text)
        doc = summary.to_json([s], ["host: test"], "abc")
        self.assertEqual(doc["sections"][0]["best"], {"name": "a", "ratio": 0.5})
        self.assertIn("(no side-by-side rows", summary.render([], []))


class Ratios(unittest.TestCase):
    def test_small_ratios_keep_two_significant_digits(self):
        from mmtool import report
        self.assertEqual(report.fmt_ratio(0.5), "0.50")
        self.assertEqual(report.fmt_ratio(1.234), "1.23")
        self.assertEqual(report.fmt_ratio(0.0044), "0.0044")
        self.assertEqual(report.fmt_ratio(0.03), "0.03")
        s = summary.summarise("icount", [row("tiny", 1, 250)])
        self.assertIn("0.004  tiny", summary.render([s], []))


class Width(unittest.TestCase):
    def test_the_last_column_is_cut_to_fit(self):
        text = ui.table(["a", "note"], [["x", "n" * 200]], max_width=40)
        self.assertTrue(all(len(line) <= 40 for line in text.splitlines()))
        self.assertTrue(text.splitlines()[2].endswith("..."))
        self.assertIn("n" * 200, ui.table(["a", "note"], [["x", "n" * 200]]))


class ReportWidth(unittest.TestCase):
    def doc(self):
        from mmtool import report  # noqa: F401
        return {"benchmarks": [{"name": "BM_" + "x" * 60, "run_type": "iteration",
                                "real_time": 5.0, "cpu_time": 5.0, "time_unit": "ns",
                                "iterations": 10, **{f"counter_{i}": 1000.0 + i for i in range(8)}}]}

    def test_counters_go_before_the_table_is_too_wide(self):
        from mmtool import report
        text = report.render(self.doc())
        self.assertTrue(all(len(line) <= report.REPORT_WIDTH for line in text.splitlines()))
        self.assertIn("left out to fit", text)
        old, report.width = report.width, None
        try:
            self.assertIn("counter_7", report.render(self.doc()))
        finally:
            report.width = old

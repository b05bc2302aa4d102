"""Tests of tools/mm compare: samples from Google Benchmark JSON with repetitions, the verdict
per benchmark, and the exit status against the threshold."""
import argparse
import io
import json
import sys
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_compare, compare, compare_args  # noqa: E402


def rep(name, i, n, real, unit="ns", **counters):
    e = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": n,
         "repetition_index": i, "threads": 1, "iterations": 1000, "real_time": real,
         "cpu_time": real, "time_unit": unit}
    e.update(counters)
    return e


def agg(name, which, real, unit="ns"):
    return {"name": f"{name}_{which}", "run_name": name, "run_type": "aggregate",
            "aggregate_name": which, "repetitions": 3, "real_time": real, "cpu_time": real,
            "time_unit": unit, "iterations": 3}


def host_doc(times_by_name, unit="ns", **counters):
    benches = []
    for name, times in times_by_name.items():
        benches += [rep(name, i, len(times), t, unit, **counters) for i, t in enumerate(times)]
        benches += [agg(name, "mean", sum(times) / len(times), unit),
                    agg(name, "median", sorted(times)[len(times) // 2], unit)]
    return {"context": {"mm_run": {"accel": "none (host process)"}}, "benchmarks": benches}


def kernel_doc(p50_by_name):
    return {"context": {"mm_run": {"icount": "shift=0,sleep=off"}},
            "benchmarks": [dict(rep(n, 0, 1, v), p50_ns=v, p99_ns=v * 2)
                           for n, v in p50_by_name.items()]}


class Samples(unittest.TestCase):
    def test_repetitions_become_samples_and_aggregates_do_not(self):
        metric, series = compare.samples(host_doc({"BM_a": [10, 12, 11]}))
        self.assertEqual(metric, "real_time")
        self.assertEqual(series["BM_a"].values, [10, 12, 11])
        self.assertEqual(series["BM_a"].unit, "ns")

    def test_times_are_brought_to_ns(self):
        _, series = compare.samples(host_doc({"BM_fork": [1.5, 2.0]}, unit="us"))
        self.assertEqual(series["BM_fork"].values, [1500.0, 2000.0])

    def test_p50_where_measured_real_time_elsewhere(self):
        doc = host_doc({"BM_lat": [10, 20]}, p50_ns=7)
        doc["benchmarks"] += host_doc({"BM_plain": [3, 4]})["benchmarks"]
        metric, series = compare.samples(doc)
        self.assertEqual(series["BM_lat"].values, [7, 7])
        self.assertEqual(series["BM_lat"].metric, "p50_ns")
        self.assertEqual(series["BM_plain"].values, [3, 4])
        self.assertEqual(metric, "p50_ns or real_time")

    def test_an_explicit_counter(self):
        _, series = compare.samples(host_doc({"BM_a": [1, 2]}, items_per_second=5e6),
                                    "items_per_second")
        self.assertEqual(series["BM_a"].values, [5e6, 5e6])
        self.assertFalse(compare.lower_is_better("items_per_second"))

    def test_aggregates_only_give_the_median(self):
        doc = {"benchmarks": [agg("BM_a", "mean", 5.0), agg("BM_a", "median", 4.0)]}
        _, series = compare.samples(doc)
        self.assertEqual(series["BM_a"].values, [4.0])

    def test_errors_are_left_out_and_fixed_iteration_names_match(self):
        doc = {"benchmarks": [dict(rep("BM_x", 0, 1, 1.0), error_occurred=True),
                              rep("BM_y/iterations:50/real_time", 0, 1, 2.0)]}
        _, series = compare.samples(doc)
        self.assertEqual(list(series), ["BM_y/real_time"])

    def test_registration_order(self):
        doc = {"benchmarks": [dict(rep("BM_b", 0, 1, 1.0), family_index=1,
                                   per_family_instance_index=0),
                              dict(rep("BM_a", 0, 1, 1.0), family_index=0,
                                   per_family_instance_index=0)]}
        _, series = compare.samples(doc)
        self.assertEqual(list(series), ["BM_a", "BM_b"])

    def test_exactness(self):
        self.assertTrue(compare.is_exact(kernel_doc({"k": 1})))
        self.assertTrue(compare.is_exact({"context": {"mm_callgrind": {}}}))
        self.assertFalse(compare.is_exact(host_doc({"BM_a": [1]})))
        linux = kernel_doc({"k": 1})
        linux["context"]["linux"] = {"release": "6.1.0-56-amd64"}
        self.assertFalse(compare.is_exact(linux))


class Verdicts(unittest.TestCase):
    A = [100, 101, 99, 100, 102]

    def test_clearly_slower_is_a_regression(self):
        verdict, p, regression = compare.judge([100, 101, 99, 98, 102],
                                               [120, 121, 119, 122, 118], False, 0.05)
        self.assertEqual(verdict, "slower")
        self.assertAlmostEqual(p, 2 / 252)   # complete separation of 5 and 5, no ties: exact
        self.assertTrue(regression)

    def test_significant_but_within_the_threshold_is_no_regression(self):
        verdict, p, regression = compare.judge(self.A, [103, 104, 103.5, 104, 105], False, 0.05)
        self.assertEqual(verdict, "slower")
        self.assertLess(p, 0.05)
        self.assertFalse(regression)

    def test_faster_is_never_a_regression(self):
        verdict, _, regression = compare.judge(self.A, [50, 51, 49, 50, 52], False, 0.05)
        self.assertEqual((verdict, regression), ("faster", False))

    def test_overlapping_samples_are_no_change(self):
        verdict, p, regression = compare.judge(self.A, [101, 98, 100, 103, 99], False, 0.05)
        self.assertEqual((verdict, regression), ("no change", False))
        self.assertGreater(p, 0.05)

    def test_a_tsc_calibration_difference_is_no_change(self):
        a, b = [70.10470075] * 5, [70.10519281] * 5
        self.assertLess(compare.stats.mann_whitney(a, b).pvalue, 0.05)
        verdict, p, regression = compare.judge(a, b, False, 0.05)
        self.assertEqual((verdict, regression), ("no change", False))
        self.assertLess(p, 0.05)

    def test_three_repetitions_can_never_be_significant(self):
        verdict, p, _ = compare.judge([1, 2, 3], [10, 11, 12], False, 0.05)
        self.assertEqual((verdict, p), ("no change", 0.1))

    def test_one_repetition_gets_no_verdict(self):
        self.assertEqual(compare.judge([1], [2], False, 0.05), ("n/a", None, False))

    def test_exact_figures_any_difference_is_real(self):
        self.assertEqual(compare.judge([1000], [1001], True, 0.05), ("slower", None, False))
        self.assertEqual(compare.judge([1000], [1000], True, 0.05), ("no change", None, False))
        self.assertEqual(compare.judge([1000], [1100], True, 0.05), ("slower", None, True))
        self.assertEqual(compare.judge([1000], [900], True, 0.05), ("faster", None, False))

    def test_higher_is_better_for_rates(self):
        verdict, _, regression = compare.judge([10, 10.1, 9.9, 10, 10.2], [5, 5.1, 4.9, 5, 5],
                                               False, 0.05, lower_better=False)
        self.assertEqual((verdict, regression), ("slower", True))

    # Bursts from outside slow some repetitions of one run to about twice their time: the
    # sides differ by rank, but the fastest repetitions agree.
    A_QUIET = [8.5, 8.6, 8.5, 8.7, 8.6, 8.5, 9.0, 8.6, 8.5, 8.6]
    B_BURST = [8.6, 16.9, 17.0, 8.5, 16.8, 17.1, 8.7, 16.5, 12.0, 8.6]

    def test_a_burst_moves_the_median_not_the_fastest(self):
        verdict, p, regression = compare.judge(self.A_QUIET, self.B_BURST, False, 0.05)
        self.assertEqual((verdict, regression), ("slower", True))
        self.assertLess(p, 0.05)
        verdict, _, regression = compare.judge(self.A_QUIET, self.B_BURST, False, 0.05,
                                               estimator="fastest")
        self.assertEqual((verdict, regression), ("no change", False))

    def test_ranks_and_fastest_pointing_opposite_ways_is_no_verdict(self):
        # A mostly disturbed, B steady a little slower than A's best: B ranks faster while
        # its fastest repetition is slower.
        a, b = [8.5, 8.5] + [15.0] * 8, [9.0] * 10
        verdict, p, regression = compare.judge(a, b, False, 0.05, estimator="fastest")
        self.assertLess(p, 0.05)
        self.assertEqual((verdict, regression), ("no change", False))
        verdict, _, _ = compare.judge(a, b, False, 0.05)  # the medians agree with the ranks
        self.assertEqual(verdict, "faster")
        a, b = [8.5] * 10, [8.4] + [12.0] * 9
        self.assertEqual(compare.judge(a, b, False, 0.05, estimator="fastest")[0], "no change")
        self.assertEqual(compare.judge(a, b, False, 0.05)[0], "slower")

    def test_fastest_still_catches_a_real_slowdown(self):
        slower = [v * 1.2 for v in self.A_QUIET]
        verdict, _, regression = compare.judge(self.A_QUIET, slower, False, 0.05,
                                               estimator="fastest")
        self.assertEqual((verdict, regression), ("slower", True))
        # For rates the best repetition is the largest.
        self.assertEqual(compare.estimate([3.0, 5.0, 4.0], "fastest", lower_better=False), 5.0)
        self.assertEqual(compare.estimate([3.0, 5.0, 4.0], "fastest"), 3.0)
        with self.assertRaises(ValueError):
            compare.estimate([1.0], "mean")


class ExitStatus(unittest.TestCase):
    """cmd_compare on two result folders: no building, only reading and judging."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        for patched in (mock.patch.object(cmd_compare.deps, "ensure"),
                        mock.patch.object(cmd_compare.ui, "info")):
            patched.start()
            self.addCleanup(patched.stop)

    def folder(self, name, host, kernel):
        d = Path(self.dir.name) / name
        d.mkdir()
        (d / "host.json").write_text(json.dumps(host_doc(host)))
        (d / "kernel.json").write_text(json.dumps(kernel_doc(kernel)))
        return str(d)

    def run_compare(self, a, b, *options):
        p = argparse.ArgumentParser()
        compare_args.add_compare_args(p)
        args = p.parse_args([a, b, *options])
        out = io.StringIO()
        with redirect_stdout(out):
            status = cmd_compare.cmd_compare(args)
        return status, out.getvalue()

    def test_a_regression_beyond_the_threshold_exits_1(self):
        a = self.folder("a", {"BM_a": [100, 101, 99, 100, 102]}, {"k": 1000})
        b = self.folder("b", {"BM_a": [120, 121, 119, 122, 120]}, {"k": 1000})
        status, out = self.run_compare(a, b)
        self.assertEqual(status, 1)
        self.assertIn("slower !", out)
        self.assertIn("REGRESSION: 1 benchmark(s)", out)

    def test_a_higher_threshold_lets_it_pass(self):
        a = self.folder("a", {"BM_a": [100, 101, 99, 100, 102]}, {"k": 1000})
        b = self.folder("b", {"BM_a": [120, 121, 119, 122, 120]}, {"k": 1000})
        status, out = self.run_compare(a, b, "--threshold", "30")
        self.assertEqual(status, 0)
        self.assertIn("no regression beyond 30%", out)

    def test_an_exact_kernel_figure_regresses_without_statistics(self):
        a = self.folder("a", {"BM_a": [100, 101]}, {"k": 1000, "j": 50})
        b = self.folder("b", {"BM_a": [100, 101]}, {"k": 1100, "j": 50})
        status, out = self.run_compare(a, b)
        self.assertEqual(status, 1)
        self.assertIn("kernel: k +10.0%", out)
        self.assertRegex(out, r"j\s+50\s+50\s+ns\s+\+0\.00%\s+exact\s+no change")

    def test_noise_within_the_spread_passes(self):
        a = self.folder("a", {"BM_a": [100, 101, 99, 100, 102]}, {"k": 1000})
        b = self.folder("b", {"BM_a": [101, 98, 100, 103, 99]}, {"k": 1000})
        status, _ = self.run_compare(a, b)
        self.assertEqual(status, 0)

    def test_filter_limits_the_rows_and_the_verdict(self):
        a = self.folder("a", {"BM_a": [100, 101, 99, 98, 102], "BM_b": [1, 2]}, {"k": 1000})
        b = self.folder("b", {"BM_a": [120, 121, 119, 122, 118], "BM_b": [1, 2]}, {"k": 1000})
        status, out = self.run_compare(a, b, "--filter", "BM_b")
        self.assertEqual(status, 0)
        self.assertNotIn("BM_a", out)
        self.assertEqual(compare.name_matcher("pages:(1")("BM_x/pages:(1"), True)  # no regex
        self.assertFalse(compare.name_matcher("BM_.*")("BM_a"))  # a substring, not a pattern

    def test_the_fastest_repetitions_are_compared_by_default(self):
        a = self.folder("a", {"BM_a": Verdicts.A_QUIET}, {"k": 1000})
        b = self.folder("b", {"BM_a": Verdicts.B_BURST}, {"k": 1000})
        status, out = self.run_compare(a, b)
        self.assertEqual(status, 0)
        self.assertIn("of the fastest repetitions", out)
        self.assertRegex(out, r"BM_a\s+8\.5 ±0\.6%\s+8\.5 ±28\.9%")
        status, out = self.run_compare(a, b, "--estimate", "median")
        self.assertEqual(status, 1)
        self.assertIn("of the medians", out)

    def test_each_sides_machine_is_named(self):
        row = "BM_calibration_throughput/real_time/threads:1"
        a = self.folder("a", {row: [4.5, 4.5, 4.52, 4.51, 4.5]}, {"k": 1})
        b = self.folder("b", {row: [4.5, 5.7, 5.6, 5.8, 5.7]}, {"k": 1})
        _, out = self.run_compare(a, b)
        self.assertIn("A's machine: quiet", out)
        self.assertIn("B's machine: disturbed", out)

    def test_the_main_jobs_summary_is_passed_over_quietly(self):
        a = self.folder("a", {"BM_a": [1.0, 2.0]}, {"k": 1})
        (Path(a) / "summary.json").write_text(json.dumps({"sections": []}))
        with mock.patch.object(compare.ui, "warn") as warn:
            self.assertEqual(sorted(compare.load(Path(a))), ["host", "kernel"])
        warn.assert_not_called()
        only_summary = Path(self.dir.name) / "s"
        only_summary.mkdir()
        (only_summary / "summary.json").write_text("{}")
        self.assertFalse(cmd_compare.has_results(only_summary))  # not results: benchmark it
        self.assertTrue(cmd_compare.has_results(Path(a)))

    def test_nothing_to_compare_exits_2(self):
        with self.assertRaises(cmd_compare.ui.Fatal) as caught:
            self.run_compare(str(Path(self.dir.name) / "missing"), "no-such-commit-xyz")
        self.assertEqual(caught.exception.code, 2)

    def test_three_repetitions_are_called_out(self):
        a = self.folder("a", {"BM_a": [1, 2, 3]}, {"k": 1})
        b = self.folder("b", {"BM_a": [10, 11, 12]}, {"k": 1})
        status, out = self.run_compare(a, b)
        self.assertEqual(status, 0)
        self.assertIn("cannot go below p = 0.100", out)


if __name__ == "__main__":
    unittest.main()

"""Tests of the benchmark tables: which figure becomes the median, p99, unit and cycles."""
import argparse
import io
import json
import sys
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_extract, report  # noqa: E402


def entry(name, real, unit="ns", **extra):
    e = {"name": name, "run_name": name, "run_type": "iteration", "iterations": 10,
         "real_time": real, "cpu_time": real, "time_unit": unit}
    e.update(extra)
    return e


class Rows(unittest.TestCase):
    def test_kernel_percentiles_and_cycles(self):
        doc = {"benchmarks": [entry("map/4k", 1234.5, p50_ns=1200, p99_ns=1500,
                                    p50_cycles=2400, p99_cycles=3000, pages=1)]}
        (r,) = report.rows(doc)
        self.assertEqual((r.median, r.p99, r.unit), (1200, 1500, "ns"))
        self.assertEqual((r.cycles_p50, r.cycles_p99), (2400, 3000))
        self.assertEqual(r.counters, {"pages": 1})

    def test_mean_converted_to_ns_when_only_p99(self):
        (r,) = report.rows({"benchmarks": [entry("f", 5.5, "us", p99_ns=6000)]})
        self.assertEqual((r.median, r.p99, r.unit), (5500, 6000, "ns"))

    def test_plain_google_benchmark(self):
        (r,) = report.rows({"benchmarks": [entry("BM_x", 3.2, "us")]})
        self.assertEqual((r.median, r.p99, r.unit), (3.2, None, "us"))

    def test_median_aggregate_is_used(self):
        reps = [entry("BM_x", t, repetitions=3, repetition_index=i)
                for i, t in enumerate((1, 9, 5))]
        agg = dict(entry("BM_x", 4.0), name="BM_x_median", run_type="aggregate",
                   aggregate_name="median")
        mean = dict(entry("BM_x", 5.0), name="BM_x_mean", run_type="aggregate",
                    aggregate_name="mean")
        (r,) = report.rows({"benchmarks": reps + [mean, agg]})
        self.assertEqual((r.median, r.repetitions), (4.0, 3))

    def test_threaded_runs_show_the_cost_per_thread(self):
        one = entry("BM_p/threads:1", 10.0, threads=1)
        two = dict(entry("BM_p/threads:2", 6.0, threads=2), cpu_time=0.012, time_unit="us")
        r1, r2 = report.rows({"benchmarks": [one, two]})
        self.assertIsNone(r1.per_thread)
        self.assertAlmostEqual(r2.per_thread, 12.0)
        self.assertIn("ns/thread", report.render({"benchmarks": [one, two]}))

    def test_cost_per_thread_of_the_fastest_repetition(self):
        reps = [dict(entry("BM_p/threads:2", real, threads=2), cpu_time=cpu)
                for real, cpu in ((9.0, 18.0), (4.2, 8.4), (6.0, 12.0))]
        (r,) = report.rows({"benchmarks": reps})
        self.assertEqual((r.fastest, r.per_thread), (4.2, 8.4))

    def test_median_of_repetitions_without_aggregates(self):
        reps = [entry("BM_x", t, items_per_second=t) for t in (1, 9, 5)]
        (r,) = report.rows({"benchmarks": reps})
        self.assertEqual((r.median, r.repetitions, r.counters["items_per_second"]), (5, 3, 5))

    def test_spread_of_repetitions(self):
        reps = [entry("BM_x", t, repetitions=3, repetition_index=i)
                for i, t in enumerate((9.0, 10.0, 11.0))]
        (r,) = report.rows({"benchmarks": reps})
        self.assertAlmostEqual(r.spread, 20.0)
        text = report.render({"benchmarks": reps})
        self.assertIn("spread", text.splitlines()[0])
        self.assertIn("20.0%", text)
        (single,) = report.rows({"benchmarks": [entry("BM_y", 3.0)]})
        self.assertIsNone(single.spread)
        self.assertNotIn("spread", report.render({"benchmarks": [entry("BM_y", 3.0)]}))

    def test_fastest_repetition(self):
        reps = [entry("BM_x", t, repetitions=4, repetition_index=i)
                for i, t in enumerate((17.0, 8.5, 8.7, 16.9))]
        (r,) = report.rows({"benchmarks": reps})
        self.assertEqual(r.fastest, 8.5)
        self.assertAlmostEqual(r.median, 12.8)
        header = report.render({"benchmarks": reps}).splitlines()[0].split()
        self.assertEqual(header[:3], ["benchmark", "fastest", "median"])
        (single,) = report.rows({"benchmarks": [entry("BM_y", 3.0)]})
        self.assertIsNone(single.fastest)
        self.assertNotIn("fastest", report.render({"benchmarks": [entry("BM_y", 3.0)]}))

    def test_fastest_of_latencies_uses_p50(self):
        reps = [entry("BM_x", 100.0, p50_ns=p) for p in (40.0, 50.0, 60.0)]
        (r,) = report.rows({"benchmarks": reps})
        self.assertEqual(r.fastest, 40.0)

    def test_merged_runs_show_how_far_apart_they_lie(self):
        def run(*times):
            reps = [entry("BM_x", t, repetitions=len(times), repetition_index=i)
                    for i, t in enumerate(times)]
            median = dict(entry("BM_x", 99.0), name="BM_x_median", run_type="aggregate",
                          aggregate_name="median")
            return {"context": {"n": 1}, "benchmarks": reps + [median]}
        merged = report.merge_runs([run(10.0, 16.0), run(11.0, 12.0), run(10.5, 17.0)])
        self.assertEqual(merged["context"], {"n": 1})
        self.assertEqual([e["repetition_index"] for e in merged["benchmarks"]], list(range(6)))
        self.assertEqual({e["repetitions"] for e in merged["benchmarks"]}, {6})
        (r,) = report.rows(merged)
        # The runs' own medians (99) are gone: the median is over all six repetitions.
        self.assertEqual((r.median, r.fastest, r.repetitions), (11.5, 10.0, 6))
        self.assertAlmostEqual(r.runs_spread, 100 / 10.5)  # fastest per run 10, 11, 10.5
        self.assertEqual(r.counters, {})  # the run marker is no counter
        self.assertIn("runs apart", report.render(merged))
        self.assertIsNone(report.rows(run(10.0, 16.0))[0].runs_spread)

    def test_a_failed_repetition_is_left_out(self):
        def run(*times, failed=False):
            reps = [entry("BM_x", t) for t in times]
            if failed:
                reps.insert(0, {"name": "BM_x", "run_name": "BM_x", "run_type": "iteration",
                                "error_occurred": True, "error_message": "out of frames",
                                "real_time": 0.0, "cpu_time": 0.0, "time_unit": "ns"})
            return {"benchmarks": reps}
        merged = report.merge_runs([run(10.0, 12.0, failed=True), run(11.0, 13.0)])
        (r,) = report.rows(merged)
        self.assertEqual((r.error, r.fastest, r.median, r.repetitions), ("", 10.0, 11.5, 4))
        self.assertAlmostEqual(r.runs_spread, 100 / 10.5)
        (only,) = report.rows(run(failed=True))
        self.assertEqual(only.error, "out of frames")

    def test_disturbance_line(self):
        def doc(*times):
            return {"benchmarks": [entry(report.DISTURBANCE_ROW, t) for t in times]}
        self.assertEqual(report.disturbance_line(doc(4.5, 4.52, 4.51)).split(" (")[0],
                         "machine: quiet")
        line = report.disturbance_line(doc(4.5, 5.7, 5.6))
        self.assertTrue(line.startswith("machine: disturbed"), line)
        self.assertIn("24.4% above", line)
        self.assertEqual(report.disturbance_line(doc(4.5)), "")  # one repetition: no telling
        self.assertEqual(report.disturbance_line({"benchmarks": [entry("BM_x", 1.0)]}), "")

    def test_spread_of_latencies_uses_p50(self):
        reps = [entry("BM_x", 100.0, p50_ns=p) for p in (40.0, 50.0, 60.0)]
        (r,) = report.rows({"benchmarks": reps})
        self.assertAlmostEqual(r.spread, 40.0)

    def test_error_entry(self):
        doc = {"benchmarks": [{"name": "bad", "error_occurred": True, "error_message": "oom"}]}
        (r,) = report.rows(doc)
        self.assertEqual(r.error, "oom")
        self.assertIn("ERROR", report.render(doc))


class Render(unittest.TestCase):
    def test_columns_follow_content(self):
        plain = report.render({"benchmarks": [entry("BM_x", 3.2)]})
        self.assertNotIn("cycles", plain)
        self.assertNotIn("reps", plain)
        text = report.render({"benchmarks": [entry("a/1", 1, p50_cycles=7, hits=2)]})
        header = text.splitlines()[0].split()
        self.assertEqual(header[:4], ["benchmark", "median", "p99", "unit"])
        self.assertIn("hits", header)
        self.assertIn("cycles", header)

    def test_families_grouped_in_first_seen_order(self):
        doc = {"benchmarks": [entry("map/1", 1), entry("fault/1", 2), entry("map/2", 3)]}
        names = [l.split()[0] for l in report.render(doc).splitlines()[2:] if l.strip()]
        self.assertEqual(names, ["map/1", "map/2", "fault/1"])

    def test_registration_order_over_run_order(self):
        doc = {"benchmarks": [entry("b/2", 1, family_index=1, per_family_instance_index=1),
                              entry("a/1", 1, family_index=0, per_family_instance_index=0),
                              entry("b/1", 1, family_index=1, per_family_instance_index=0),
                              entry("c", 1)]}
        self.assertEqual([r.name for r in report.rows(doc)], ["a/1", "b/1", "b/2", "c"])

    def test_number_format(self):
        self.assertEqual(report.fmt(None), "-")
        self.assertEqual(report.fmt(1234.0), "1,234")
        self.assertEqual(report.fmt(12.34), "12.3")
        self.assertEqual(report.fmt(1.2345), "1.23")
        self.assertEqual(report.fmt(2.5e9), "2,500,000,000")
        self.assertEqual(report.fmt(2.5e9, compact=True), "2.50G")

    def test_label_column(self):
        text = report.render({"benchmarks": [entry("a", 1, label="per-CPU cache"), entry("b", 2)]})
        self.assertIn("label", text.splitlines()[0])
        self.assertIn("per-CPU cache", text)

    def test_context_line(self):
        doc = {"context": {"machine": "host (simulated)", "num_cpus": 2, "mhz_per_cpu": 2596,
                           "library_build_type": "debug"}}
        self.assertEqual(report.context_line(doc), "host (simulated), 2 CPUs, 2596 MHz")


class ReportCommand(unittest.TestCase):
    def test_a_results_folder_with_its_summary(self):
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            reps = [entry(report.DISTURBANCE_ROW, t) for t in (4.5, 5.7, 5.6)]
            (folder / "host.json").write_text(json.dumps({"benchmarks": reps}))
            (folder / "summary.json").write_text(json.dumps({"sections": []}))
            out = io.StringIO()
            with redirect_stdout(out):
                status = cmd_extract.cmd_report(argparse.Namespace(target=d, html=False))
        self.assertEqual(status, 0)
        self.assertIn("host.json", out.getvalue())
        self.assertNotIn("summary.json", out.getvalue())
        self.assertIn("machine: disturbed", out.getvalue())


if __name__ == "__main__":
    unittest.main()

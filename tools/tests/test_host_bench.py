"""Tests of how `tools/mm bench` runs the host benchmark program: its arguments, and several
runs held in one document that shows how far apart they lie."""
import argparse
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_bench, report  # noqa: E402

# Stands in for out/host_bench: writes two repetitions of one benchmark to --benchmark_out,
# the n-th run (counted in a file beside it) 10 + n ns and 20 + n ns, and its arguments.
FAKE = """#!/usr/bin/env python3
import json, sys
from pathlib import Path
count = Path(sys.argv[0]).with_name("runs")
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
out = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--benchmark_out="))
reps = [{"name": "BM_x", "run_name": "BM_x", "run_type": "iteration", "repetitions": 2,
         "repetition_index": i, "iterations": 5, "real_time": t + n, "cpu_time": t + n,
         "time_unit": "ns"} for i, t in enumerate((10.0, 20.0))]
median = dict(reps[0], name="BM_x_median", run_type="aggregate", aggregate_name="median")
Path(out).write_text(json.dumps({"context": {"argv": sys.argv[1:]},
                                 "benchmarks": reps + [median]}))
"""


class HostBench(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.out = Path(self.dir.name)
        binary = self.out / "host_bench"
        binary.write_text(FAKE)
        binary.chmod(0o755)
        patcher = mock.patch.dict(os.environ, {"MM_OUT": str(self.out)})
        patcher.start()
        self.addCleanup(patcher.stop)
        quiet = mock.patch.object(cmd_bench.ui, "detail")  # no command lines among test output
        quiet.start()
        self.addCleanup(quiet.stop)
        self.results = self.out / "results"
        self.results.mkdir()

    def args(self, **overrides):
        a = dict(repetitions=cmd_bench.HOST_REPETITIONS, host_min_time=cmd_bench.HOST_MIN_TIME,
                 filter=None, host_timeout=30, verbose=False, perf=False, host_runs=1)
        a.update(overrides)
        return argparse.Namespace(**a)

    def test_short_repetitions_interleaved(self):
        argv = cmd_bench.host_bench_argv(Path("hb"), Path("o.json"), 10, None, 0.1)
        self.assertIn("--benchmark_min_time=0.1", argv)
        self.assertIn("--benchmark_repetitions=10", argv)
        self.assertIn("--benchmark_enable_random_interleaving=true", argv)
        once = cmd_bench.host_bench_argv(Path("hb"), Path("o.json"), 1, None, 0.5)
        self.assertEqual([a for a in once if "repetitions" in a or "interleav" in a], [])

    def test_one_run_is_stored_as_it_came(self):
        ok, doc = cmd_bench.run_host(self.args(), {}, "abc", self.results)
        self.assertTrue(ok)
        stored = json.loads((self.results / "host.json").read_text())
        self.assertEqual(stored["context"]["mm_run"]["host_runs"], 1)
        self.assertIn("--benchmark_repetitions=10", stored["context"]["argv"])
        (row,) = report.rows(doc)
        self.assertEqual((row.fastest, row.runs_spread), (10.0, None))
        self.assertFalse((self.results / "host-runs").exists())

    def test_several_runs_merge_into_host_json(self):
        ok, doc = cmd_bench.run_host(self.args(host_runs=3), {}, "abc", self.results)
        self.assertTrue(ok)
        # Each run's own file is one folder down, where compare does not look for results.
        self.assertEqual(sorted(p.name for p in (self.results / "host-runs").glob("*.json")),
                         ["run1.json", "run2.json", "run3.json"])
        self.assertEqual(sorted(p.name for p in self.results.glob("*.json")), ["host.json"])
        (row,) = report.rows(json.loads((self.results / "host.json").read_text()))
        self.assertEqual((row.repetitions, row.fastest), (6, 10.0))
        self.assertAlmostEqual(row.runs_spread, 2 / 11 * 100)  # fastest 10, 11, 12
        self.assertEqual(doc["context"]["mm_run"]["host_runs"], 3)

    def test_a_failed_run_leaves_no_stale_host_json(self):
        (self.results / "host.json").write_text('{"benchmarks": []}')
        (self.out / "host_bench").write_text("#!/bin/sh\nexit 3\n")
        with mock.patch.object(cmd_bench.ui, "warn") as warn:
            ok, doc = cmd_bench.run_host(self.args(host_runs=2), {}, "abc", self.results)
        self.assertEqual((ok, doc), (False, None))
        self.assertIn("exit status 3", warn.call_args[0][0])
        self.assertFalse((self.results / "host.json").exists())


if __name__ == "__main__":
    unittest.main()

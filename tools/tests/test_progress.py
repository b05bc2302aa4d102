"""Tests of the main job's progress lines: one line as a stage starts and one as it ends,
with the time left from the previous run's durations, and the stages the options make."""
import argparse
import io
import sys
import unittest
from contextlib import redirect_stderr
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_bench, ui  # noqa: E402


class Progress(unittest.TestCase):
    def lines(self, previous, names=("build", "kernel", "host")):
        err = io.StringIO()
        p = ui.Progress(list(names), previous)
        with redirect_stderr(err), mock.patch.object(ui.time, "monotonic", side_effect=[0, 5, 5, 7]):
            with p.stage("build"):
                pass
            with p.stage("kernel", "TCG -icount"):
                pass
        return err.getvalue().splitlines(), p

    def test_two_lines_per_stage_and_the_time_left(self):
        out, p = self.lines({"build": 4, "kernel": 3, "host": 65})
        self.assertEqual(out[0], "[1/3] build, about 4 s ...")
        self.assertEqual(out[1], "[1/3] build: 5 s; about 1 min 08 s left")
        self.assertEqual(out[2], "[2/3] kernel (TCG -icount), about 3 s ...")
        self.assertEqual(out[3], "[2/3] kernel: 2 s; about 1 min 05 s left")
        self.assertEqual(p.durations, {"build": 5, "kernel": 2})

    def test_no_estimate_without_a_previous_run(self):
        out, _ = self.lines({})
        self.assertEqual(out[0], "[1/3] build ...")
        self.assertEqual(out[1], "[1/3] build: 5 s")


class Stages(unittest.TestCase):
    def args(self, **kw):
        base = dict(no_kernel=False, no_host=False, callgrind=False, no_linux=False,
                    realtime=False, no_smp=False, filter=None)
        base.update(kw)
        return argparse.Namespace(**base)

    def test_the_default_main_job(self):
        self.assertEqual(cmd_bench.stages(self.args()),
                         ["packages and build", "kernel benchmarks", "host benchmarks",
                          "Linux side by side", "cross-CPU benchmarks"])

    def test_options_leave_stages_out(self):
        self.assertEqual(cmd_bench.stages(self.args(no_linux=True, no_host=True, realtime=True)),
                         ["packages and build", "kernel benchmarks"])
        self.assertIn("callgrind", cmd_bench.stages(self.args(callgrind=True)))
        # A filter that leaves the cross-CPU pass nothing drops it.
        self.assertNotIn("cross-CPU benchmarks", cmd_bench.stages(self.args(filter="BM_fork")))


if __name__ == "__main__":
    unittest.main()

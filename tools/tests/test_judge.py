"""Tests of how `tools/mm test` judges a run and sums up the final line."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_test  # noqa: E402
from mmtool.cmd_test import Outcome  # noqa: E402


class Judge(unittest.TestCase):
    def test_clean_pass(self):
        ok, p, f, note = cmd_test.judge_test_output(["a ok", "2 passed, 0 failed"], True, "")
        self.assertEqual((ok, p, f, note), (True, 2, 0, ""))

    def test_failures_reported(self):
        ok, p, f, note = cmd_test.judge_test_output(["1 passed, 1 failed"], False, "exit 1")
        self.assertEqual((ok, p, f), (False, 1, 1))
        self.assertIn("1 test(s) failed", note)

    def test_pass_status_without_summary_fails(self):
        ok, p, f, note = cmd_test.judge_test_output(["booted"], True, "")
        self.assertEqual((ok, p, f), (False, None, None))
        self.assertIn("no 'N passed, N failed' line", note)

    def test_summary_with_failures_overrides_pass_status(self):
        self.assertFalse(cmd_test.judge_test_output(["3 passed, 1 failed"], True, "")[0])

    def test_sanitizer_report_fails_a_clean_summary(self):
        lines = ["x.c:3:1: runtime error: shift exponent 70", "4 passed, 0 failed"]
        ok, _, _, note = cmd_test.judge_test_output(lines, True, "", sanitizers=True)
        self.assertFalse(ok)
        self.assertIn("sanitizer report", note)
        # Without sanitizers the same text is only output.
        self.assertTrue(cmd_test.judge_test_output(lines, True, "")[0])


class Total(unittest.TestCase):
    def test_crashed_run_counts_as_one_failure(self):
        runs = [Outcome("host", "", True, 10, 0), Outcome("kernel", "", False, 4, None),
                Outcome("asan", "", False, 3, 2), Outcome("build", "", False)]
        self.assertEqual(cmd_test.total(runs), (17, 4))


if __name__ == "__main__":
    unittest.main()

"""Tests of running a program under a time limit with its output logged."""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import runner  # noqa: E402


class Run(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.log = Path(self.dir.name) / "logs" / "x.log"

    def tearDown(self):
        self.dir.cleanup()

    def test_status_and_log(self):
        r = runner.run(["sh", "-c", "echo one; printf 'two\\r\\n'; echo err >&2; exit 3"],
                       self.log, timeout=10, echo=False)
        self.assertEqual((r.status, r.timed_out), (3, False))
        self.assertEqual(sorted(r.lines), ["err", "one", "two"])
        self.assertEqual(sorted(self.log.read_text().split()), ["err", "one", "two"])

    def test_separate_stderr(self):
        r = runner.run(["sh", "-c", "echo out; echo err >&2"], self.log, timeout=10,
                       echo=False, separate_stderr=True)
        self.assertEqual((r.lines, r.stderr), (["out"], "err"))

    def test_timeout_kills_and_keeps_output(self):
        # The child sleeps in a grandchild process: the whole group must go.
        r = runner.run(["sh", "-c", "echo before; sleep 30; echo after"], self.log,
                       timeout=0.5, echo=False)
        self.assertTrue(r.timed_out)
        self.assertEqual(r.status, runner.TIMEOUT_STATUS)
        self.assertEqual(r.lines, ["before"])
        self.assertLess(r.seconds, 10)
        self.assertIn("before", self.log.read_text())

    def test_partial_last_line_kept(self):
        r = runner.run(["printf", "no newline"], self.log, timeout=10, echo=False)
        self.assertEqual(r.lines, ["no newline"])


if __name__ == "__main__":
    unittest.main()

"""Tests of how `tools/mm test` runs the host test program: arguments, logs, the two-node run."""
import os
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_test  # noqa: E402

# Stands in for out/host_tests: prints its arguments, then a summary that depends on them.
FAKE = """#!/bin/sh
echo "args: $*"
case "$*" in
  *nodes=2*) echo "7 passed, 0 failed" ;;
  *) echo "5 passed, 1 failed"; exit 1 ;;
esac
"""


class HostRuns(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.out = Path(self.dir.name)
        self.binary = self.out / "host_tests"
        self.binary.write_text(FAKE)
        self.binary.chmod(0o755)
        patcher = mock.patch.dict(os.environ, {"MM_OUT": str(self.out)})
        patcher.start()
        self.addCleanup(patcher.stop)
        quiet = mock.patch.object(cmd_test.ui, "step")  # no progress lines among test output
        quiet.start()
        self.addCleanup(quiet.stop)
        self.addCleanup(self.dir.cleanup)

    def test_two_node_run_is_known_and_skippable(self):
        self.assertIn("host-numa2", cmd_test.RUNS)
        self.assertEqual(cmd_test.HOST_NUMA2_ARGS, ["--topology=nodes=2,cpus=4,distance=21"])

    def test_pcid_off_run_is_known_and_runs_the_smp_tests(self):
        self.assertIn("host-nopcid", cmd_test.RUNS)
        self.assertEqual(cmd_test.HOST_NOPCID_ARGS, ["--pcid=off", "smp"])
        cmd_test.run_host_tests(self.binary, "host-nopcid", "how", 30, False,
                                cmd_test.HOST_NOPCID_ARGS)
        self.assertIn("args: --pcid=off smp", (self.out / "logs" / "host-nopcid.log").read_text())

    def test_arguments_reach_the_program_and_its_log(self):
        o = cmd_test.run_host_tests(self.binary, "host-numa2", "how", 30, False,
                                    cmd_test.HOST_NUMA2_ARGS)
        self.assertEqual((o.ok, o.passed, o.failed, o.how), (True, 7, 0, "how"))
        log = (self.out / "logs" / "host-numa2.log").read_text()
        self.assertIn("args: --topology=nodes=2,cpus=4,distance=21", log)

    def test_plain_run_gets_no_arguments(self):
        o = cmd_test.run_host_tests(self.binary, "host", "how", 30, False)
        self.assertEqual((o.ok, o.passed, o.failed), (False, 5, 1))
        self.assertNotIn("--topology", (self.out / "logs" / "host.log").read_text())

    def test_missing_binary_fails_the_run(self):
        o = cmd_test.run_host_tests(self.out / "nothing", "host-numa2", "how", 30, False,
                                    cmd_test.HOST_NUMA2_ARGS)
        self.assertFalse(o.ok)
        self.assertEqual(o.counted(), (0, 1))


if __name__ == "__main__":
    unittest.main()

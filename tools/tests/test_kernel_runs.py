"""Tests of the kernel boots `tools/mm test` makes: which machines, and their time limits."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_test, qemu  # noqa: E402
from mmtool.accel import Accel  # noqa: E402

TCG = Accel("tcg", "test")


def by_id():
    return {r.run_id: r for r in cmd_test.kernel_runs(TCG, 1024)}


class KernelRuns(unittest.TestCase):
    def test_every_boot_has_a_skip_name(self):
        runs = cmd_test.kernel_runs(TCG, 1024)
        self.assertEqual([r.run_id for r in runs],
                         ["kernel", "smp2", "smp4", "numa2", "ipxe", "debug", "uefi", "uefi-ipxe"])
        for r in runs:
            self.assertIn(r.run_id, cmd_test.RUNS)
        self.assertEqual(len({r.name for r in runs}), len(runs))  # one log each

    def test_machines(self):
        runs = by_id()
        self.assertEqual(runs["kernel"].machine.smp, 1)
        self.assertEqual(runs["smp2"].machine.smp, 2)
        self.assertEqual(runs["smp4"].machine.smp, 4)
        self.assertEqual((runs["numa2"].machine.smp, runs["numa2"].machine.numa), (2, 2))
        self.assertTrue(runs["ipxe"].ipxe)
        self.assertEqual(runs["debug"].machine.smp, 2)
        self.assertTrue(runs["debug"].debug)
        self.assertFalse(any(r.debug for r in runs.values() if r.run_id != "debug"))
        self.assertEqual({i for i, r in runs.items() if r.machine.uefi}, {"uefi", "uefi-ipxe"})
        self.assertTrue(runs["uefi-ipxe"].ipxe)
        for r in runs.values():
            want = cmd_test.HUGE_PAGES_MEM_MIB if r.run_id == "kernel" else 1024
            self.assertEqual(r.machine.mem_mib, want, r.run_id)
            r.machine.check()

    def test_smp_boots_are_multi_threaded_tcg(self):
        for run_id, r in by_id().items():
            argv = qemu.build_argv(r.machine, kernel=Path("k"), esp_dir=Path("esp"),
                                   vars_file=Path("vars.fd"))
            want = "tcg,thread=multi" if r.machine.smp > 1 else "tcg"
            self.assertIn(want, argv, run_id)

    def test_timeouts_grow_with_vcpus_and_ipxe(self):
        runs = by_id()
        self.assertEqual(cmd_test.kernel_timeout(300, runs["kernel"]), 300)
        self.assertEqual(cmd_test.kernel_timeout(300, runs["smp2"]), 300)
        self.assertEqual(cmd_test.kernel_timeout(300, runs["numa2"]), 300)
        self.assertEqual(cmd_test.kernel_timeout(300, runs["smp4"]), 600)
        self.assertEqual(cmd_test.kernel_timeout(300, runs["ipxe"]), 360)


if __name__ == "__main__":
    unittest.main()

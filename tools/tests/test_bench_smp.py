"""The main job's cross-CPU pass: which filter it runs with, and on what machine."""
import sys
import unittest
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_bench  # noqa: E402


class SmpPass(unittest.TestCase):
    def test_no_filter_runs_every_cross_cpu_benchmark(self):
        self.assertEqual(cmd_bench.smp_filter(None), "BM_tlb_")
        self.assertEqual(cmd_bench.smp_filter(""), "BM_tlb_")

    def test_a_narrower_filter_is_kept(self):
        self.assertEqual(cmd_bench.smp_filter("BM_tlb_shootdown"), "BM_tlb_shootdown")

    def test_a_wider_prefix_runs_the_pass_whole(self):
        self.assertEqual(cmd_bench.smp_filter("BM_"), "BM_tlb_")

    def test_an_unrelated_filter_skips_the_pass(self):
        self.assertIsNone(cmd_bench.smp_filter("BM_fork"))

    def test_machine_has_two_vcpus_and_no_icount(self):
        args = SimpleNamespace(accel="tcg", mem="1024M")
        m, stem = cmd_bench.smp_machine(args)
        self.assertEqual((m.smp, m.icount, stem), (2, False, "kernel-smp2"))


if __name__ == "__main__":
    unittest.main()

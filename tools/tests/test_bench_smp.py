"""The main job's cross-CPU pass: which filter it runs with, and on what machine."""
import os
import sys
import unittest
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_bench  # noqa: E402


class SmpPass(unittest.TestCase):
    def test_no_filter_runs_every_cross_cpu_benchmark(self):
        every = "BM_tlb_,BM_sys_munmap_active"
        self.assertEqual(cmd_bench.smp_filter(None), every)
        self.assertEqual(cmd_bench.smp_filter(""), every)
        self.assertEqual(cmd_bench.smp_filter("-BM_tlb_ipi"), every + ",-BM_tlb_ipi")

    def test_a_narrower_filter_is_kept(self):
        self.assertEqual(cmd_bench.smp_filter("BM_tlb_shootdown"), "BM_tlb_shootdown")

    def test_a_wider_prefix_runs_the_pass_whole(self):
        self.assertEqual(cmd_bench.smp_filter("BM_"), "BM_tlb_,BM_sys_munmap_active")
        self.assertEqual(cmd_bench.smp_filter("BM_sys"), "BM_sys_munmap_active")
        self.assertEqual(cmd_bench.smp_filter("BM_fork,BM_tlb_ipi,-x"), "BM_tlb_ipi,-x")

    def test_an_unrelated_filter_skips_the_pass(self):
        self.assertIsNone(cmd_bench.smp_filter("BM_fork"))

    def test_machine_has_two_vcpus_and_no_icount(self):
        args = SimpleNamespace(accel="tcg", mem="1024M")
        m, stem = cmd_bench.smp_machine(args)
        self.assertEqual((m.smp, m.icount, stem), (2, False, "kernel-smp2"))


class HostLine(unittest.TestCase):
    def test_names_cpu_memory_numa_and_virtualisation(self):
        from mmtool import machine
        cpuinfo = "model name\t: Test CPU\nflags\t\t: fpu sse2 svm\n"
        self.assertEqual(machine.virtualisation(cpuinfo), "hardware virtualisation (KVM possible)")
        self.assertEqual(machine.virtualisation("flags : fpu sse2\n"),
                         "no hardware virtualisation (TCG)")
        host = {"cpu_model": "Test CPU", "cpus": 16, "memory_mib": 1024, "numa_nodes": 2,
                "virtualisation": "no hardware virtualisation (TCG)"}
        self.assertEqual(cmd_bench.host_line(host),
                         "Test CPU, 16 CPUs, 1024 MiB, 2 NUMA nodes, no hardware virtualisation (TCG)")

    def test_counts_numa_nodes_from_sysfs(self):
        import tempfile
        from mmtool import machine
        with tempfile.TemporaryDirectory() as d:
            for name in ("node0", "node1", "possible", "power"):
                os.mkdir(os.path.join(d, name))
            self.assertEqual(machine.numa_nodes(d), 2)
        self.assertEqual(machine.numa_nodes("/nonexistent"), 1)


if __name__ == "__main__":
    unittest.main()

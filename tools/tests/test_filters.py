"""Tests of the one filter language (filters.py, the mirror of lib/filter.h)."""
import subprocess
import sys
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import filters  # noqa: E402


class Matcher(unittest.TestCase):
    """The same cases as tests/suites/harness_test.c's, for the C side."""

    def test_as_the_kernel_selects(self):
        cases = [(None, "vmm.map", True), ("", "vmm.map", True), ("vmm.", "vmm.map", True),
                 ("smp", "vmm.map", False), ("smp,vmm.", "vmm.map", True),
                 ("vmm.,-map", "vmm.map", False), ("-smp", "vmm.map", True),
                 ("-smp", "smp.switch", False), (",,vmm.,", "vmm.map", True),
                 ("-", "vmm.map", True)]
        for text, name, selected in cases:
            self.assertEqual(filters.matcher(text)(name), selected, (text, name))


class HostArgument(unittest.TestCase):
    binary = Path("/nonexistent/host_bench")

    def test_plain_terms_are_an_escaped_alternation(self):
        self.assertEqual(filters.host_argument("BM_a/x:1,BM_b", self.binary),
                         "--benchmark_filter=BM_a/x:1|BM_b")
        self.assertEqual(filters.host_argument("BM_a.b", self.binary),
                         "--benchmark_filter=BM_a\\.b")

    def test_left_out_terms_alone_use_the_programs_dash(self):
        self.assertEqual(filters.host_argument("-BM_a,-BM_b", self.binary),
                         "--benchmark_filter=-(BM_a|BM_b)")

    def test_both_become_the_exact_names_the_program_lists(self):
        listed = subprocess.CompletedProcess([], 0, "BM_a/1\nBM_a/2\nBM_b/1\n")
        with mock.patch.object(subprocess, "run", return_value=listed):
            self.assertEqual(filters.host_argument("BM_a,-/2", self.binary),
                             "--benchmark_filter=^(BM_a/1)$")
            self.assertEqual(filters.host_argument("BM_c,-/2", self.binary),
                             "--benchmark_filter=^(no benchmark is selected)$")


if __name__ == "__main__":
    unittest.main()

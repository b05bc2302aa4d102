"""Tests of reading perf's output: perf stat -x, counts of KVM's tracepoints, perf kvm stat's
exits by reason, perf report's top symbols, and what the report says under TCG."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import perf  # noqa: E402

# perf stat -x , -e 'kvm:*' as perf 6.1 writes it (value,unit,event,run time,percent,,).
STAT_KVM = """# started on Sat Nov 21 16:22:14 2026

1204331,,kvm:kvm_entry,286092013,100.00,,
1204330,,kvm:kvm_exit,286092013,100.00,,
0,,kvm:kvm_hv_send_ipi,286092013,100.00,,
5120,,kvm:kvm_apic_ipi,286092013,100.00,,
<not supported>,,kvm:kvm_avic_doorbell,0,100.00,,
0,,kvm:kvm_age_hva,286092013,100.00,,
"""

STAT_TCG = """# started on Sat Nov 21 16:22:14 2026

0,,kvm:kvm_entry,286092013,100.00,,
0,,kvm:kvm_exit,286092013,100.00,,
0,,kvm:kvm_apic_ipi,286092013,100.00,,
"""

KVM_REPORT = """

Analyze events for all VMs, all VCPUs:

             VM-EXIT    Samples  Samples%     Time%    Min Time    Max Time         Avg time

           MSR_WRITE     600000    49.82%     2.10%      0.35us    105.22us      0.60us ( +-   0.12% )
  EXTERNAL_INTERRUPT     400000    33.21%     5.44%      0.40us   1200.00us      2.31us ( +-   3.01% )
            HLT            4330     0.36%    90.00%      1.00us  99999.00us   3500.00us ( +-  10.00% )

Total Samples:1204330, Total events handled time:12345.67us.
"""

REPORT = """# Samples: 25K of event 'cpu-clock'
#
# Overhead  Shared Object          Symbol
# ........  .....................  ......
#
    38.58%  host_bench             [.] x86_zero_rep_stosb
     9.04%  host_bench             [.] BM_fault
     3.06%  libc.so.6              [.] __memmove_avx512_unaligned_erms
"""


class Stat(unittest.TestCase):
    def test_counts_by_event(self):
        c = perf.parse_stat_csv(STAT_KVM)
        self.assertEqual(c["kvm:kvm_exit"], 1204330)
        self.assertEqual(c["kvm:kvm_apic_ipi"], 5120)
        self.assertIsNone(c["kvm:kvm_avic_doorbell"])
        self.assertNotIn("started on Sat Nov 21 16:22:14 2026", c)

    def test_kvm_summary(self):
        s = perf.summarize("kvm", perf.parse_stat_csv(STAT_KVM), perf.parse_kvm_report(KVM_REPORT))
        self.assertEqual((s.exits, s.entries), (1204330, 1204331))
        self.assertEqual(s.ipis, {"kvm:kvm_apic_ipi": 5120})
        self.assertEqual(s.by_reason, {"MSR_WRITE": 600000, "EXTERNAL_INTERRUPT": 400000,
                                       "HLT": 4330})
        lines = s.lines()
        self.assertEqual(lines[0], "KVM: 1,204,330 VM exits, 1,204,331 entries")
        self.assertIn("kvm_apic_ipi 5,120", lines[1])
        self.assertTrue(lines[2].startswith("exits by reason: MSR_WRITE 600,000, "
                                            "EXTERNAL_INTERRUPT 400,000"))

    def test_tcg_says_no_vm_exits_instead_of_zeros(self):
        s = perf.summarize("tcg", perf.parse_stat_csv(STAT_TCG))
        (line,) = s.lines()
        self.assertTrue(line.startswith("TCG: no VM exits"))
        self.assertNotIn("0", line)
        self.assertEqual(s.to_json()["accel"], "tcg")
        lines = perf.report_lines({"context": {"mm_perf": s.to_json()}})
        self.assertEqual(lines, [f"perf stat -e 'kvm:*': {line}"])

    def test_report_lines_round_trip_under_kvm(self):
        s = perf.summarize("kvm", perf.parse_stat_csv(STAT_KVM), perf.parse_kvm_report(KVM_REPORT))
        lines = perf.report_lines({"context": {"mm_perf": s.to_json()}})
        self.assertIn("1,204,330 VM exits", lines[0])
        self.assertEqual(perf.report_lines({"context": {}}), [])

    def test_prefix_runs_perf_kvm_stat_only_under_kvm(self):
        tcg = perf.KvmFiles(Path("/r/kernel-perf-stat.csv"), None)
        self.assertEqual(perf.stat_prefix(tcg), ["perf", "stat", "-x", ",", "-o",
                                                 "/r/kernel-perf-stat.csv", "-e", "kvm:*", "--"])


class Record(unittest.TestCase):
    def test_top_symbols(self):
        self.assertEqual(perf.top_symbols(REPORT, 2),
                         ["38.58% host_bench [.] x86_zero_rep_stosb",
                          "9.04% host_bench [.] BM_fault"])


if __name__ == "__main__":
    unittest.main()

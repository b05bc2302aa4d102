"""Tests of the Bochs runs: the GRUB menu, the bochsrc, how a run's end is read, and the rows
`tools/mm test` makes."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import bochs, cmd_test, runner  # noqa: E402


def result(stderr: str, timed_out: bool = False, status: int = 1) -> runner.Result:
    return runner.Result(argv=["bochs"], status=status, timed_out=timed_out, seconds=1.0,
                         lines=[], stderr=stderr)


class Config(unittest.TestCase):
    def test_grub_boots_the_kernel_with_its_line_and_the_power_off(self):
        cfg = bochs.grub_config("tests=smp nopcid")
        self.assertIn("multiboot /boot/mmkernel.elf tests=smp nopcid poweroff", cfg)
        self.assertIn("set timeout=0", cfg)
        self.assertEqual(bochs.grub_config("tests poweroff").count("poweroff"), 1)

    def test_bochsrc_has_the_cpu_the_memory_and_the_serial_on_stdout(self):
        rc = bochs.config(bochs.Machine(cpus=4, mem_mib=3072), Path("/x/mm.iso"))
        self.assertIn("cpu: model=corei7_skylake_x, count=4", rc)
        self.assertIn(f"memory: guest=3072, host={bochs.HOST_MEM_MAX_MIB}", rc)
        self.assertIn("com1: enabled=1, mode=file, dev=/dev/stdout", rc)
        self.assertIn("path=/x/mm.iso", rc)
        self.assertIn('options="timeout=0"', rc)  # no display client to wait for


class Interpret(unittest.TestCase):
    def test_the_power_off_is_the_planned_end(self):
        ok, text = bochs.interpret(result("...\n[ACPI  ] >>PANIC<< ACPI control: soft power off\n"))
        self.assertTrue(ok)
        self.assertIn("S5", text)

    def test_any_other_end_fails_and_says_why(self):
        ok, text = bochs.interpret(result("00p[CPU0  ] >>PANIC<< exception(): 3rd (13) exception\n"))
        self.assertFalse(ok)
        self.assertIn("3rd (13) exception", text)
        ok, text = bochs.interpret(result("", timed_out=True, status=runner.TIMEOUT_STATUS))
        self.assertFalse(ok)
        self.assertIn("time limit", text)


class Rows(unittest.TestCase):
    def test_one_row_per_cpu_count_and_one_without_pcid(self):
        runs = cmd_test.bochs_runs()
        self.assertEqual([r.run_id for r in runs], ["bochs1", "bochs2", "bochs4", "bochs-nopcid"])
        self.assertEqual([r.machine.cpus for r in runs], [1, 2, 4, 2])
        for r in runs:
            self.assertIn(r.run_id, cmd_test.RUNS)
            self.assertGreaterEqual(r.machine.mem_mib, 2048)
            self.assertTrue(r.cmdline.startswith("tests="))
        self.assertIn("nopcid", runs[-1].cmdline.split())
        self.assertEqual(len({r.name for r in runs}), len(runs))  # one log each

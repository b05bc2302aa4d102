"""Tests of the KVM/TCG choice, given fake /proc/cpuinfo text and module states."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import accel, ui  # noqa: E402

INTEL = "processor\t: 0\nmodel name\t: Intel Xeon\nflags\t\t: fpu vme de pse vmx ept sse2\n"
AMD = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu svm npt sse2\n"
NO_VIRT = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 hypervisor\n"
# A flag that merely contains "vmx" must not count.
LOOKALIKE = "flags\t\t: fpu vmx_foo svmx\n"


def facts(cpuinfo, pvm=False, hw_module=False, dev=True):
    return accel.HostFacts(cpuinfo, pvm, hw_module, dev)


class Choose(unittest.TestCase):
    def test_hardware_virtualisation_gives_kvm(self):
        for text in (INTEL, AMD):
            self.assertEqual(accel.choose("auto", facts(text)).name, "kvm")

    def test_no_vmx_or_svm_gives_tcg(self):
        self.assertEqual(accel.choose("auto", facts(NO_VIRT)).name, "tcg")
        self.assertEqual(accel.choose("auto", facts(LOOKALIKE)).name, "tcg")

    def test_hw_module_counts_as_virtualisation(self):
        self.assertEqual(accel.choose("auto", facts(NO_VIRT, hw_module=True)).name, "kvm")

    def test_kvm_pvm_gives_tcg_even_with_vmx(self):
        choice = accel.choose("auto", facts(INTEL, pvm=True))
        self.assertEqual(choice.name, "tcg")
        self.assertIn("kvm_pvm", choice.reason)

    def test_unusable_dev_kvm_gives_tcg(self):
        self.assertEqual(accel.choose("auto", facts(INTEL, dev=False)).name, "tcg")

    def test_icount_forces_tcg(self):
        self.assertEqual(accel.choose("auto", facts(INTEL), icount=True).name, "tcg")
        with self.assertRaises(ui.Fatal):
            accel.choose("kvm", facts(INTEL), icount=True)

    def test_explicit_requests(self):
        self.assertEqual(accel.choose("tcg", facts(INTEL)).name, "tcg")
        self.assertEqual(accel.choose("kvm", facts(NO_VIRT)).name, "kvm")
        with self.assertRaisesRegex(ui.Fatal, "/dev/kvm"):
            accel.choose("kvm", facts(INTEL, dev=False))
        with self.assertRaises(ui.Fatal):
            accel.choose("hvf", facts(INTEL))

    def test_qemu_args(self):
        self.assertEqual(accel.Accel("tcg", "").qemu_args(), ["-accel", "tcg", "-cpu", "max"])
        self.assertEqual(accel.Accel("kvm", "").qemu_args(),
                         ["-enable-kvm", "-cpu", "host,-arch-capabilities"])


if __name__ == "__main__":
    unittest.main()

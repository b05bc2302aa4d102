"""Tests of the QEMU command line and of the exit-status meaning."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import qemu, ui  # noqa: E402
from mmtool.accel import Accel  # noqa: E402

TCG = Accel("tcg", "test")
KVM = Accel("kvm", "test")


def after(argv, flag):
    """Values that follow each occurrence of flag."""
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


class Status(unittest.TestCase):
    def test_pass_is_33_only(self):
        self.assertEqual(qemu.interpret_status(33), (True, "pass (isa-debug-exit 33)"))
        for status in (35, 0, 1, 124, 3, 2, -9, 255):
            ok, text = qemu.interpret_status(status)
            self.assertFalse(ok, status)
            self.assertTrue(text.startswith("fail"), text)

    def test_explanations(self):
        self.assertIn("reported failure", qemu.interpret_status(35)[1])
        self.assertIn("triple fault", qemu.interpret_status(0)[1])
        self.assertIn("time limit", qemu.interpret_status(124)[1])
        self.assertIn("could not start", qemu.interpret_status(1)[1])
        self.assertIn("signal 9", qemu.interpret_status(-9)[1])
        self.assertIn("0x1", qemu.interpret_status(3)[1])


class Size(unittest.TestCase):
    def test_sizes(self):
        self.assertEqual(qemu.parse_size_mib("512M"), 512)
        self.assertEqual(qemu.parse_size_mib("2G"), 2048)
        self.assertEqual(qemu.parse_size_mib("2GiB"), 2048)
        self.assertEqual(qemu.parse_size_mib("1024"), 1024)

    def test_bad_sizes(self):
        for text in ("lots", "1.5G", "8M", "100K"):
            with self.assertRaises(ui.Fatal, msg=text):
                qemu.parse_size_mib(text)


class Argv(unittest.TestCase):
    def test_common_flags(self):
        argv = qemu.build_argv(qemu.Machine(TCG), kernel=Path("k.elf"), cmdline="tests")
        for flag in ("-nodefaults", "-no-reboot"):
            self.assertIn(flag, argv)
        self.assertEqual(after(argv, "-machine"), ["pc"])
        self.assertEqual(after(argv, "-display"), ["none"])
        self.assertEqual(after(argv, "-serial"), ["stdio"])
        self.assertIn("isa-debug-exit,iobase=0xf4,iosize=0x04", after(argv, "-device"))
        self.assertEqual(after(argv, "-kernel"), ["k.elf"])
        self.assertEqual(after(argv, "-append"), ["tests"])
        self.assertEqual(after(argv, "-cpu"), ["max"])
        self.assertNotIn("-enable-kvm", argv)

    def test_kvm_flags(self):
        argv = qemu.build_argv(qemu.Machine(KVM), kernel=Path("k"))
        self.assertIn("-enable-kvm", argv)
        self.assertEqual(after(argv, "-cpu"), ["host,-arch-capabilities"])

    def test_icount(self):
        argv = qemu.build_argv(qemu.Machine(TCG, icount=True), kernel=Path("k"))
        self.assertEqual(after(argv, "-icount"), ["shift=0,sleep=off"])
        self.assertEqual(after(argv, "-smp"), ["1"])

    def test_icount_refuses_smp(self):
        with self.assertRaisesRegex(ui.Fatal, "one vCPU"):
            qemu.build_argv(qemu.Machine(TCG, icount=True, smp=2), kernel=Path("k"))

    def test_numa2(self):
        argv = qemu.build_argv(qemu.Machine(TCG, smp=2, mem_mib=1024, numa=2), kernel=Path("k"))
        self.assertEqual(after(argv, "-object"), ["memory-backend-ram,id=m0,size=512M",
                                                  "memory-backend-ram,id=m1,size=512M"])
        self.assertEqual(after(argv, "-numa"), ["node,nodeid=0,cpus=0,memdev=m0",
                                                "node,nodeid=1,cpus=1,memdev=m1",
                                                "dist,src=0,dst=1,val=21"])
        self.assertEqual(after(argv, "-m"), ["1024M"])

    def test_numa_splits_cpus(self):
        args = qemu.numa_args(2, 4, 2048)
        self.assertIn("node,nodeid=0,cpus=0-1,memdev=m0", args)
        self.assertIn("node,nodeid=1,cpus=2-3,memdev=m1", args)

    def test_numa_needs_cpus(self):
        with self.assertRaisesRegex(ui.Fatal, "needs --smp 2"):
            qemu.Machine(TCG, smp=1, numa=2).check()

    def test_ipxe(self):
        argv = qemu.build_argv(qemu.Machine(TCG), tftp_dir=Path("/t"), sercon_file=Path("/s"))
        self.assertEqual(after(argv, "-netdev"), ["user,id=n0,tftp=/t,bootfile=boot.ipxe"])
        self.assertIn("virtio-net-pci,netdev=n0", after(argv, "-device"))
        self.assertEqual(after(argv, "-boot"), ["n"])
        self.assertEqual(after(argv, "-fw_cfg"), ["name=etc/sercon-port,file=/s"])
        self.assertNotIn("-kernel", argv)
        # romfile= makes SeaBIOS skip the NIC's option ROM ("No bootable device").
        self.assertFalse(any("romfile" in a for a in argv))

    def test_uefi_disk(self):
        argv = qemu.build_argv(qemu.Machine(TCG, uefi=True), esp_dir=Path("/e"),
                               vars_file=Path("/v.fd"))
        self.assertEqual(after(argv, "-machine"), ["q35"])
        self.assertEqual(after(argv, "-drive"),
                         [f"if=pflash,format=raw,readonly=on,file={qemu.OVMF_CODE}",
                          "if=pflash,format=raw,file=/v.fd", "format=raw,file=fat:rw:/e"])
        self.assertNotIn("-kernel", argv)
        self.assertIn("isa-debug-exit,iobase=0xf4,iosize=0x04", after(argv, "-device"))

    def test_uefi_ipxe_uses_the_efi_rom(self):
        argv = qemu.build_argv(qemu.Machine(TCG, uefi=True), tftp_dir=Path("/t"),
                               vars_file=Path("/v.fd"))
        self.assertIn(f"virtio-net-pci,netdev=n0,romfile={qemu.EFI_IPXE_ROM}",
                      after(argv, "-device"))
        self.assertEqual(after(argv, "-netdev"), ["user,id=n0,tftp=/t,bootfile=boot.ipxe"])

    def test_uefi_needs_its_own_variable_store(self):
        with self.assertRaises(ValueError):
            qemu.build_argv(qemu.Machine(TCG, uefi=True), esp_dir=Path("/e"))


class MultiThreadedTcg(unittest.TestCase):
    def test_several_vcpus_get_a_thread_each(self):
        for smp in (2, 4):
            m = qemu.Machine(TCG, smp=smp)
            argv = qemu.build_argv(m, kernel=Path("k"))
            self.assertEqual(after(argv, "-accel"), ["tcg,thread=multi"])
            self.assertEqual(after(argv, "-smp"), [str(smp)])
            self.assertIn("multi-threaded", m.describe())

    def test_numa_boot_is_multi_threaded(self):
        argv = qemu.build_argv(qemu.Machine(TCG, smp=2, numa=2), kernel=Path("k"))
        self.assertEqual(after(argv, "-accel"), ["tcg,thread=multi"])

    def test_one_vcpu_keeps_plain_tcg(self):
        m = qemu.Machine(TCG, smp=1)
        self.assertEqual(after(qemu.build_argv(m, kernel=Path("k")), "-accel"), ["tcg"])
        self.assertNotIn("multi-threaded", m.describe())

    def test_icount_keeps_plain_tcg(self):
        argv = qemu.build_argv(qemu.Machine(TCG, icount=True), kernel=Path("k"))
        self.assertEqual(after(argv, "-accel"), ["tcg"])

    def test_kvm_is_untouched(self):
        argv = qemu.build_argv(qemu.Machine(KVM, smp=4), kernel=Path("k"))
        self.assertNotIn("-accel", argv)
        self.assertIn("-enable-kvm", argv)


if __name__ == "__main__":
    unittest.main()

"""Tests of the netboot files and of the Multiboot header check."""
import struct
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import multiboot, netboot, ui  # noqa: E402


def header(flags):
    return struct.pack("<III", multiboot.MAGIC, flags, (-(multiboot.MAGIC + flags)) & 0xFFFFFFFF)


class Script(unittest.TestCase):
    def test_script(self):
        self.assertEqual(netboot.ipxe_script("bench=map"),
                         "#!ipxe\nkernel mmkernel.elf bench=map\nboot\n")
        self.assertEqual(netboot.ipxe_script("", "http://h/mmkernel.elf"),
                         "#!ipxe\nkernel http://h/mmkernel.elf\nboot\n")

    def test_one_script_for_bios_and_uefi_clients(self):
        script = netboot.ipxe_script("tests", "mmkernel.elf", "mmkernel.efi")
        self.assertEqual(script, "#!ipxe\niseq ${platform} efi && goto uefi ||\n"
                         "kernel mmkernel.elf tests\nboot\n:uefi\nkernel mmkernel.efi tests\nboot\n")

    def test_refuses_what_ipxe_would_change(self):
        for bad in ("a\nb", "x=${net0/ip}"):
            with self.assertRaises(ui.Fatal):
                netboot.ipxe_script(bad)

    def test_write_dir(self):
        with tempfile.TemporaryDirectory() as d:
            kernel = Path(d) / "k.elf"
            kernel.write_bytes(b"kernel bytes")
            out = Path(d) / "srv"
            written = netboot.write_dir(out, kernel, "tests", base_url="http://10.0.0.1/mm/")
            self.assertEqual(sorted(p.name for p in written), ["boot.ipxe", "mmkernel.elf"])
            self.assertEqual((out / "mmkernel.elf").read_bytes(), b"kernel bytes")
            self.assertIn("kernel http://10.0.0.1/mm/mmkernel.elf tests",
                          (out / "boot.ipxe").read_text())
            efi = Path(d) / "k.efi"
            efi.write_bytes(b"efi bytes")
            written = netboot.write_dir(out, kernel, "tests", efi_kernel=efi)
            self.assertEqual(sorted(p.name for p in written),
                             ["boot.ipxe", "mmkernel.efi", "mmkernel.elf"])
            self.assertEqual((out / "mmkernel.efi").read_bytes(), b"efi bytes")
            self.assertIn("kernel mmkernel.efi tests", (out / "boot.ipxe").read_text())


class Multiboot(unittest.TestCase):
    def test_elf32_with_header(self):
        data = b"\x7fELF\x01" + b"\0" * 4091 + header(0)
        self.assertEqual(multiboot.problems(data), [])

    def test_elf64_needs_aout_kludge(self):
        body = b"\x7fELF\x02" + b"\0" * 59
        self.assertIn("a.out-kludge", multiboot.problems(body + header(0x3))[0])
        self.assertEqual(multiboot.problems(body[:64] + header(0x10003)), [])

    def test_no_header(self):
        self.assertIn("no Multiboot", multiboot.problems(b"\0" * 9000)[0])
        # A header past the first 8 KiB does not count.
        self.assertIn("no Multiboot", multiboot.problems(b"\0" * 8192 + header(0))[0])
        # Nor does the magic with a wrong checksum.
        bad = struct.pack("<III", multiboot.MAGIC, 0, 0)
        self.assertIn("no Multiboot", multiboot.problems(bad)[0])


if __name__ == "__main__":
    unittest.main()

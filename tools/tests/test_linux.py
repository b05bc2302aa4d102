"""Tests of the Linux side-by-side run's pieces: the cpio writer, the kernel package's name
from apt's output, the cache, the boot's verdict and command line."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import linux  # noqa: E402


def header(ino, mode, nlink, size, namesize, rdev=(0, 0)):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], namesize, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)


class Cpio(unittest.TestCase):
    def test_known_bytes(self):
        data = linux.cpio_newc([linux.CpioEntry("a", 0o100644, b"hi")])
        expected = (
            # header (110) + "a\0" = 112: no name padding; data "hi" padded to 4
            header(1, 0o100644, 1, 2, 2) + b"a\0" + b"hi\0\0"
            # the trailer: 110 + 11 = 121, padded to 124; no data
            + header(0, 0, 1, 0, 11) + b"TRAILER!!!\0" + b"\0\0\0")
        self.assertEqual(data, expected)
        self.assertEqual(len(data) % 4, 0)

    def test_directory_and_device_fields(self):
        data = linux.cpio_newc([linux.CpioEntry("dev", 0o040755),
                                linux.CpioEntry("dev/console", 0o020600, rdev=(5, 1))])
        # "dev\0": 110 + 4 = 114 -> 2 bytes of padding; a directory has nlink 2.
        self.assertTrue(data.startswith(header(1, 0o040755, 2, 0, 4) + b"dev\0\0\0"))
        second = data[116:116 + 110]
        self.assertEqual(second, header(2, 0o020600, 1, 0, 12, rdev=(5, 1)))

    def test_parse_back(self):
        entries = linux.initramfs_entries(b"\x7fELF" + bytes(range(256)) * 3 + b"x")
        back = linux.parse_cpio_newc(linux.cpio_newc(entries))
        self.assertEqual(back, entries)
        self.assertEqual([e.name for e in back], ["dev", "dev/console", "proc", "sys", "init"])
        init = back[-1]
        self.assertEqual(init.mode, 0o100755)
        console = back[1]
        self.assertEqual((console.mode & 0o170000, console.rdev), (0o020000, (5, 1)))

    def test_same_input_same_bytes(self):
        a = linux.cpio_newc(linux.initramfs_entries(b"abc"))
        b = linux.cpio_newc(linux.initramfs_entries(b"abc"))
        self.assertEqual(a, b)

    def test_parse_rejects_garbage(self):
        with self.assertRaises(ValueError):
            linux.parse_cpio_newc(b"070707" + b"0" * 200)

    @unittest.skipUnless(shutil.which("cpio"), "the cpio tool is not installed")
    def test_gnu_cpio_lists_it(self):
        data = linux.cpio_newc(linux.initramfs_entries(b"abc"))
        out = subprocess.run(["cpio", "-it", "--quiet"], input=data, stdout=subprocess.PIPE,
                             check=True).stdout.decode().split()
        self.assertEqual(out, ["dev", "dev/console", "proc", "sys", "init"])


APT_CACHE_DEPENDS = """linux-image-amd64
  Depends: linux-image-6.1.0-56-amd64
"""


class PackageName(unittest.TestCase):
    def test_depends_field_with_version(self):
        self.assertEqual(linux.image_package("linux-image-6.1.0-56-amd64 (= 6.1.192-2)"),
                         ("linux-image-6.1.0-56-amd64", "6.1.192-2"))

    def test_apt_cache_depends_output(self):
        self.assertEqual(linux.image_package(APT_CACHE_DEPENDS),
                         ("linux-image-6.1.0-56-amd64", None))

    def test_other_flavours_and_alternatives(self):
        text = ("linux-image-6.1.0-56-amd64-unsigned | linux-image-6.1.0-56-cloud-amd64 | "
                "linux-image-6.12.38+deb13-amd64 (= 6.12.38-1), initramfs-tools")
        self.assertEqual(linux.image_package(text), ("linux-image-6.12.38+deb13-amd64",
                                                     "6.12.38-1"))

    def test_none(self):
        with self.assertRaises(linux.Unavailable):
            linux.image_package("linux-image-amd64, linux-image-6.1.0-56-rt-amd64")


class Cache(unittest.TestCase):
    def test_pinned_kernel_needs_no_network(self):
        with tempfile.TemporaryDirectory() as d:
            cache = Path(d)
            (cache / "vmlinuz-6.1.0-9-amd64").write_bytes(b"kernel")
            (cache / "kernel.json").write_text(
                '{"package": "linux-image-6.1.0-9-amd64", "version": "6.1.1-1", '
                '"vmlinuz": "vmlinuz-6.1.0-9-amd64"}')
            with mock.patch.object(linux, "_apt_download", side_effect=AssertionError):
                k = linux.fetch_kernel(cache)
            self.assertEqual((k.vmlinuz, k.version), (cache / "vmlinuz-6.1.0-9-amd64", "6.1.1-1"))

    def test_download_failure_is_unavailable(self):
        with tempfile.TemporaryDirectory() as d:
            with mock.patch.object(linux, "_apt_download",
                                   side_effect=linux.Unavailable("no network")), \
                    mock.patch.object(linux.ui, "step"):
                with self.assertRaises(linux.Unavailable):
                    linux.fetch_kernel(Path(d) / "linux")

    @unittest.skipUnless(shutil.which("dpkg-deb"), "dpkg-deb is not installed")
    def test_boot_files_taken_from_a_package(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d) / "pkg"
            (root / "DEBIAN").mkdir(parents=True)
            (root / "DEBIAN" / "control").write_text(
                "Package: linux-image-9.9.9-1-amd64\nVersion: 9.9.9-1\nArchitecture: amd64\n"
                "Maintainer: test <t@example.org>\nDepends: kmod\nDescription: test\n")
            (root / "boot").mkdir()
            (root / "boot" / "vmlinuz-9.9.9-1-amd64").write_bytes(b"bzImage")
            (root / "boot" / "config-9.9.9-1-amd64").write_text("CONFIG_X=y\n")
            (root / "lib" / "modules").mkdir(parents=True)
            (root / "lib" / "modules" / "a.ko").write_bytes(b"module")
            deb = Path(d) / "k.deb"
            subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root),
                            str(deb)], check=True, stdout=subprocess.DEVNULL)
            dest = Path(d) / "out"
            dest.mkdir()
            vmlinuz = linux._extract_boot_files(deb, dest)
            self.assertEqual(vmlinuz.read_bytes(), b"bzImage")
            self.assertEqual(sorted(p.name for p in dest.iterdir()),
                             ["config-9.9.9-1-amd64", "vmlinuz-9.9.9-1-amd64"])
            self.assertEqual(linux._deb_field(deb, "Version"), "9.9.9-1")


class Boot(unittest.TestCase):
    def test_verdicts(self):
        self.assertTrue(linux.judge(33, [])[0])
        ok, text = linux.judge(35, [])
        self.assertFalse(ok)
        self.assertIn("Linux case failed", text)
        self.assertTrue(linux.judge(0, ["x", linux.DONE_LINE])[0])
        ok, text = linux.judge(0, ["Kernel panic - not syncing"])
        self.assertFalse(ok)
        self.assertIn("panic", text)
        self.assertFalse(linux.judge(124, [linux.DONE_LINE])[0])

    def test_cmdline(self):
        self.assertEqual(linux.kernel_cmdline(None), "console=ttyS0 quiet panic=-1")
        self.assertTrue(linux.kernel_cmdline("fork").endswith(" mmbench=fork"))

    def test_cache_follows_the_build_folder(self):
        with mock.patch.dict(os.environ, {"MM_OUT": "/tmp/some-out"}):
            self.assertEqual(linux.cache_dir(), Path("/tmp/some-out/linux"))
            self.assertEqual(linux.program(), Path("/tmp/some-out/mmbench_linux"))


if __name__ == "__main__":
    unittest.main()

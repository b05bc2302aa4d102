"""Tests of the package list and of reading dpkg-query's answer."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import deps, ui  # noqa: E402


class Packages(unittest.TestCase):
    def test_list_file_has_the_required_packages(self):
        names = deps.read_packages()
        for name in ("generate-ninja", "ninja-build", "clang", "lld", "llvm", "qemu-system-x86",
                     "ipxe-qemu", "libhwloc-dev", "hwloc", "libbenchmark-dev", "python3"):
            self.assertIn(name, names)

    def test_comments_and_blanks(self):
        self.assertEqual(deps.read_packages("# c\n\nclang  # compiler\n lld\n"), ["clang", "lld"])

    def test_parse_dpkg_query(self):
        out = ("clang\tii \nlld\tun \nllvm\trc \nlibfoo:amd64\tii \nqemu-system-x86\tiU \n")
        self.assertEqual(deps.parse_dpkg_query(out), {"clang", "libfoo"})

    def test_no_recommends(self):
        listed = deps.read_package_list("clang\nlava-dispatcher  no-recommends  # large\n")
        self.assertEqual([(p.name, p.recommends) for p in listed],
                         [("clang", True), ("lava-dispatcher", False)])
        self.assertEqual(deps.install_commands(listed),
                         [["apt-get", "install", "-y", "clang"],
                          ["apt-get", "install", "-y", "--no-install-recommends",
                           "lava-dispatcher"]])
        self.assertEqual(deps.install_line(listed[1:], root=True),
                         "apt-get update && apt-get install -y --no-install-recommends "
                         "lava-dispatcher")
        for bad in ("clang lld\n", "clang no-recommends extra\n"):
            with self.assertRaises(ui.Fatal):
                deps.read_package_list(bad)

    def test_lava_without_recommends(self):
        bare = [p.name for p in deps.read_package_list() if not p.recommends]
        self.assertIn("lava-dispatcher", bare)

    def test_install_line(self):
        self.assertEqual(deps.install_line(["a", "b"], root=True),
                         "apt-get update && apt-get install -y a b")
        self.assertTrue(deps.install_line(["a"], root=False).startswith("sudo apt-get update"))


if __name__ == "__main__":
    unittest.main()

"""Tests of the `format` run of `tools/mm test`: the files it checks and reading clang-format's
report."""
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import format_check

REPORT = """\
vmm/map.c:12:3: error: code should be clang-formatted [-Wclang-format-violations]
        x = 1;
          ^
vmm/map.c:40:9: error: code should be clang-formatted [-Wclang-format-violations]
pmm/slab.c:1:1: error: code should be clang-formatted [-Wclang-format-violations]
"""


class UnformattedTest(unittest.TestCase):
    def test_names_each_file_once_in_order(self):
        self.assertEqual(format_check.unformatted(REPORT), ["vmm/map.c", "pmm/slab.c"])

    def test_a_clean_report_names_nothing(self):
        self.assertEqual(format_check.unformatted(""), [])


class SourcesTest(unittest.TestCase):
    def test_outside_git_the_build_folder_is_left_out(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            (root / "vmm").mkdir()
            (root / "out" / "gen").mkdir(parents=True)
            (root / "vmm" / "map.c").write_text("int x;\n")
            (root / "vmm" / "notes.md").write_text("")
            (root / "out" / "gen" / "made.c").write_text("int y;\n")
            self.assertEqual([p.relative_to(root).as_posix() for p in format_check.sources(root)],
                             ["vmm/map.c"])


@unittest.skipUnless(subprocess.run(["which", "clang-format"], capture_output=True).returncode == 0,
                     "clang-format is not installed")
class CheckTest(unittest.TestCase):
    def test_finds_a_file_clang_format_would_change(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            (root / ".clang-format").write_text("BasedOnStyle: LLVM\n")
            (root / "good.c").write_text("int x;\n")
            (root / "bad.c").write_text("int   y ;\n")
            checked, bad, _ = format_check.check(root)
            self.assertEqual(checked, 2)
            self.assertEqual(bad, ["bad.c"])

"""Tests of the machine description and of the commit name results are stored under."""
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import machine, paths  # noqa: E402


class Describe(unittest.TestCase):
    def test_cpu_model(self):
        text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
        self.assertEqual(machine.cpu_model(text), "AMD EPYC 7B13")
        self.assertEqual(machine.cpu_model(""), "unknown CPU")

    def test_memory(self):
        self.assertEqual(machine.memory_mib("MemTotal:       24684032 kB\nMemFree: 1 kB\n"), 24105)


@unittest.skipIf(shutil.which("git") is None, "git is not installed")
class CommitId(unittest.TestCase):
    def git(self, *args):
        subprocess.run(["git", "-C", self.dir, "-c", "user.name=t", "-c", "user.email=t@t",
                        *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.git("init", "-q")
        self.patch = mock.patch.object(paths, "ROOT", Path(self.dir))
        self.patch.start()

    def tearDown(self):
        self.patch.stop()
        self.tmp.cleanup()

    def test_states(self):
        self.assertEqual(machine.commit_id(), "nocommit-dirty")
        (Path(self.dir) / ".gitignore").write_text("/results/\n")
        (Path(self.dir) / "a.c").write_text("int a;\n")
        self.git("add", ".")
        self.git("commit", "-q", "-m", "first")
        clean = machine.commit_id()
        self.assertRegex(clean, r"^[0-9a-f]{7,}$")
        (Path(self.dir) / "results").mkdir()
        (Path(self.dir) / "results" / "x.json").write_text("{}")
        self.assertEqual(machine.commit_id(), clean)  # ignored files do not count
        (Path(self.dir) / "b.c").write_text("int b;\n")
        self.assertEqual(machine.commit_id(), clean + "-dirty")  # a new source file does


if __name__ == "__main__":
    unittest.main()

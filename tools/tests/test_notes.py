"""Tests of the results carried in git notes: stored per machine on a commit, read back into
the results cache, and carried to another clone by fetch."""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import notes  # noqa: E402


def git(root, *args):
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


class Notes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name) / "repo"
        self.root.mkdir()
        git(self.root, "init", "-q")
        git(self.root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
            "--allow-empty", "-m", "first")
        self.commit = git(self.root, "rev-parse", "--short", "HEAD")
        self.results = Path(self.tmp.name) / "results"
        self.results.mkdir()
        (self.results / "kernel.json").write_text(json.dumps({"benchmarks": [{"name": "a"}]}))
        (self.results / "kernel.log").write_text("not stored: only JSON travels")

    def tearDown(self):
        self.tmp.cleanup()

    def test_a_run_is_stored_per_machine_and_read_back(self):
        self.assertTrue(notes.write_run(self.commit, "server-1", {"cpus": 64}, self.results,
                                        self.root))
        self.assertTrue(notes.write_run(self.commit, "laptop", {"cpus": 8}, self.results,
                                        self.root))
        self.assertEqual(notes.machines(self.commit, self.root), ["laptop", "server-1"])
        cache = Path(self.tmp.name) / "cache"
        self.assertTrue(notes.restore(self.commit, "server-1", cache, self.root))
        self.assertEqual(json.loads((cache / "kernel.json").read_text()),
                         {"benchmarks": [{"name": "a"}]})
        self.assertFalse((cache / "kernel.log").exists())
        self.assertFalse(notes.restore(self.commit, "nobody", cache, self.root))

    def test_the_notes_travel_to_another_clone(self):
        notes.write_run(self.commit, "server-1", {}, self.results, self.root)
        clone = Path(self.tmp.name) / "clone"
        subprocess.run(["git", "clone", "-q", str(self.root), str(clone)], check=True)
        self.assertEqual(notes.machines(self.commit, clone), [])  # clone does not fetch notes
        git(clone, "fetch", "-q", "origin", f"{notes.REF}:{notes.REF}")
        self.assertEqual(notes.machines(self.commit, clone), ["server-1"])

    def test_no_note_is_an_empty_document(self):
        self.assertEqual(notes.read(self.commit, self.root)["machines"], {})

    def test_noted_commits_are_listed_with_their_short_ids(self):
        notes.write_run(self.commit, "m", {}, self.results, self.root)
        (full,) = notes.noted_commits(self.root)
        self.assertTrue(full.startswith(self.commit))
        self.assertEqual(notes.short(full, self.root), self.commit)


class PlotAnotherMachine(unittest.TestCase):
    def test_its_runs_come_from_the_notes_in_history_order(self):
        from unittest import mock
        from mmtool import cmd_plot
        doc = {"benchmarks": [{"name": "BM_a", "run_type": "iteration", "real_time": 5,
                               "time_unit": "ns", "p50_ns": 5}]}

        def restore(commit, machine, folder, root=None):
            if machine != "server-1" or commit == "cccc0003ff":
                return False
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "kernel.json").write_text(json.dumps(doc))
            return True

        with tempfile.TemporaryDirectory() as d, \
                mock.patch.object(notes, "noted_commits", return_value=["bbbb0002ff", "aaaa0001ff",
                                                                         "cccc0003ff"]), \
                mock.patch.object(notes, "short", side_effect=lambda c, root=None: c[:8]), \
                mock.patch.object(notes, "restore", side_effect=restore), \
                mock.patch.object(cmd_plot, "history", return_value=["aaaa0001ff", "bbbb0002ff", "cccc0003ff"]):
            columns = cmd_plot.machine_columns(Path(d), "server-1", "auto")
            self.assertEqual([c.label for c in columns], ["aaaa0001", "bbbb0002"])
            self.assertTrue((Path(d) / "aaaa0001" / "machines" / "server-1" / "kernel.json").exists())
            self.assertEqual(cmd_plot.machine_columns(Path(d), "nobody", "auto"), [])

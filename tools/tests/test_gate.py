"""Tests of the gate on exact counts: the verdict against a baseline, and the baseline file."""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import gate  # noqa: E402

ENV = {"compiler": "Debian clang version 14.0.6", "qemu": "QEMU 7.2.15", "icount": "shift=0,sleep=off"}


def doc(**medians):
    return {"benchmarks": [{"name": n, "p50_ns": v, "real_time": v} for n, v in medians.items()]}


def baseline(**medians):
    return gate.baseline_doc(doc(**medians), ENV)


class Compare(unittest.TestCase):
    def test_the_same_counts_pass(self):
        v = gate.compare(baseline(a=1000, b=2000), doc(a=1000, b=2000), ENV)
        self.assertTrue(v.ok)
        self.assertEqual(v.within, ["a", "b"])
        self.assertIn("2 of 2 rows within 0.5 %", v.note)

    def test_a_one_percent_slowdown_fails_and_half_a_percent_does_not(self):
        v = gate.compare(baseline(a=1000, b=2000), doc(a=1010, b=2000), ENV)
        self.assertFalse(v.ok)
        self.assertEqual(v.slower, [("a", 1000.0, 1010.0)])
        self.assertIn("+1.00 %", v.lines()[0])
        self.assertTrue(gate.compare(baseline(a=1000), doc(a=1005), ENV).ok)

    def test_cheaper_rows_pass_with_a_word_about_the_baseline(self):
        v = gate.compare(baseline(a=1000), doc(a=900), ENV)
        self.assertTrue(v.ok)
        self.assertEqual(v.faster, [("a", 1000.0, 900.0)])
        self.assertIn("--update-baseline", v.note)

    def test_rows_must_match_the_baseline(self):
        v = gate.compare(baseline(a=1, b=2), doc(a=1, c=3), ENV)
        self.assertFalse(v.ok)
        self.assertEqual(v.missing, ["b"])
        self.assertEqual(v.new, ["c"])

    def test_another_compiler_or_qemu_skips(self):
        for key in ("compiler", "qemu"):
            other = dict(ENV, **{key: "something else"})
            v = gate.compare(baseline(a=1000), doc(a=2000), other)
            self.assertTrue(v.ok)
            self.assertTrue(v.skipped)
            self.assertIn(key, v.note)

    def test_no_baseline_fails(self):
        v = gate.compare(None, doc(a=1), ENV)
        self.assertFalse(v.ok)
        self.assertIn("--update-baseline", v.note)


class BaselineFile(unittest.TestCase):
    def test_written_and_read_back(self):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "b.json"
            gate.write_baseline(doc(z=3, a=1), ENV, path)
            back = gate.read_baseline(path)
            self.assertEqual(back["environment"], ENV)
            self.assertEqual(list(back["rows"]), ["a", "z"])
            self.assertTrue(gate.compare(back, doc(a=1, z=3), ENV).ok)

    def test_the_committed_baseline_is_readable(self):
        b = gate.read_baseline()
        self.assertIsNotNone(b, f"{gate.BASELINE} is missing or not JSON")
        self.assertGreater(len(b["rows"]), 0)
        self.assertEqual(set(b["environment"]), {"compiler", "qemu", "icount"})

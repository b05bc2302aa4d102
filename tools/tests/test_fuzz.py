"""Tests of the `fuzz` run of `tools/mm test`: reading libFuzzer's output, the corpus copy, the
command line, the verdict, and the fuzzer's corpus generator staying in step with the C side."""
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_test, fuzz, paths  # noqa: E402

CLEAN = """INFO: Seed: 1234
INFO: Loaded 1 modules   (40000 inline 8-bit counters): 40000 [0x1, 0x2),
#12	INITED cov: 2272 ft: 4753 corp: 11/1496b exec/s: 0 rss: 45Mb
#512	pulse  cov: 2500 ft: 6000 corp: 80/9Kb lim: 48 exec/s: 256 rss: 60Mb
#152415	DONE   cov: 2982 ft: 14831 corp: 1934/233Kb lim: 176 exec/s: 506 rss: 483Mb
Done 152415 runs in 301 second(s)
stat::number_of_executed_units: 152415
stat::average_exec_per_sec:     506
stat::new_units_added:          3686
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              483
""".splitlines()

CRASH = """#12	INITED cov: 2245 ft: 4699 corp: 11/1496b exec/s: 0 rss: 45Mb
#70	NEW    cov: 2300 ft: 4800 corp: 12/1600b lim: 48 exec/s: 0 rss: 46Mb L: 40/48 MS: 1 CopyPart-
api_fuzz: operation 7 (region_map): failed mm_region_map changed the counts: free frames 65011 -> 65009
==11162== ERROR: libFuzzer: deadly signal
SUMMARY: libFuzzer: deadly signal
MS: 2 CopyPart-CrossOver-; base unit: 18382e890f6ebed95c090661d77664e521c05e00
artifact_prefix='/w/out/logs/fuzz-'; Test unit written to /w/out/logs/fuzz-crash-f252640b
Base64: 9/zoARz8qfw=
stat::number_of_executed_units: 86
stat::average_exec_per_sec:     0
""".splitlines()


class ParseOutput(unittest.TestCase):
    def test_clean_run(self):
        r = fuzz.parse_output(CLEAN)
        self.assertTrue(r.done)
        self.assertEqual((r.runs, r.exec_per_s, r.cov, r.ft, r.corpus),
                         (152415, 506, 2982, 14831, 1934))
        self.assertIsNone(r.artifact)
        self.assertIsNone(r.error)
        self.assertEqual(r.summary(), "152415 runs, 506 exec/s, cov 2982, ft 14831, corpus 1934")

    def test_crash(self):
        r = fuzz.parse_output(CRASH)
        self.assertFalse(r.done)
        self.assertEqual(r.artifact, "/w/out/logs/fuzz-crash-f252640b")
        self.assertTrue(r.error.startswith("api_fuzz: operation 7 (region_map)"))
        self.assertEqual((r.runs, r.cov), (86, 2300))

    def test_sanitizer_report_is_the_error(self):
        r = fuzz.parse_output(["#5 INITED cov: 1 ft: 1 corp: 1/8b exec/s: 0 rss: 1Mb",
                               "==1==ERROR: AddressSanitizer: heap-use-after-free on address"])
        self.assertIn("AddressSanitizer", r.error)

    def test_nothing_recognised(self):
        r = fuzz.parse_output(["hello"])
        self.assertEqual((r.done, r.runs, r.artifact, r.error), (False, None, None, None))
        self.assertEqual(r.summary(), "no statistics")


class Judge(unittest.TestCase):
    def test_clean_run_passes(self):
        self.assertEqual(fuzz.judge(fuzz.parse_output(CLEAN), 0, False, 150), (True, ""))

    def test_crash_fails_with_the_error_and_the_input(self):
        ok, note = fuzz.judge(fuzz.parse_output(CRASH), 1, False, 150)
        self.assertFalse(ok)
        self.assertIn("operation 7 (region_map)", note)
        self.assertIn("fuzz-crash-f252640b", note)

    def test_failure_without_a_message_names_the_status(self):
        ok, note = fuzz.judge(fuzz.FuzzReport(done=False), 77, False, 150)
        self.assertFalse(ok)
        self.assertIn("exit status 77", note)

    def test_time_limit(self):
        ok, note = fuzz.judge(fuzz.parse_output(CLEAN), 124, True, 150)
        self.assertFalse(ok)
        self.assertIn("150 s", note)

    def test_early_stop_without_done_fails(self):
        self.assertFalse(fuzz.judge(fuzz.parse_output(CLEAN[:3]), 0, False, 150)[0])


class Corpus(unittest.TestCase):
    def test_seeds_copied_once_and_grown_corpus_kept(self):
        with tempfile.TemporaryDirectory() as d:
            seeds, corpus = Path(d) / "seeds", Path(d) / "out" / "corpus"
            seeds.mkdir()
            (seeds / "a").write_bytes(b"A" * 8)
            (seeds / "b").write_bytes(b"B" * 8)
            self.assertEqual(fuzz.prepare_corpus(seeds, corpus), 2)
            (corpus / "a").write_bytes(b"changed")
            (corpus / "grown").write_bytes(b"new input")
            self.assertEqual(fuzz.prepare_corpus(seeds, corpus), 0)
            self.assertEqual((corpus / "a").read_bytes(), b"changed")
            self.assertEqual(sorted(p.name for p in corpus.iterdir()), ["a", "b", "grown"])
            self.assertEqual((seeds / "a").read_bytes(), b"A" * 8)

    def test_grown_corpus_unpacked_once_by_base_name(self):
        import io
        import tarfile
        with tempfile.TemporaryDirectory() as d:
            archive, corpus = Path(d) / "grown.tar.gz", Path(d) / "out" / "corpus"
            with tarfile.open(archive, "w:gz") as tf:
                for name, data in (("x", b"X"), ("sub/y", b"Y")):
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tf.addfile(info, io.BytesIO(data))
            self.assertEqual(fuzz.prepare_grown(archive, corpus), 2)
            self.assertEqual(sorted(p.name for p in corpus.iterdir()), ["x", "y"])
            (corpus / "x").write_bytes(b"changed")
            self.assertEqual(fuzz.prepare_grown(archive, corpus), 0)
            self.assertEqual((corpus / "x").read_bytes(), b"changed")
            self.assertEqual(fuzz.prepare_grown(Path(d) / "none.tar.gz", corpus), 0)

    def test_the_committed_grown_corpus_is_inputs(self):
        import tarfile
        from mmtool import paths
        with tarfile.open(paths.fuzz_grown_corpus(), "r:gz") as tf:
            members = tf.getmembers()
        self.assertGreater(len(members), 100)
        self.assertTrue(all(m.isfile() and "/" not in m.name for m in members))

    def test_missing_seed_folder(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(fuzz.prepare_corpus(Path(d) / "none", Path(d) / "c"), 0)

    def test_command_line(self):
        with tempfile.TemporaryDirectory() as d:
            reg = Path(d) / "regressions"
            argv = fuzz.command(Path("/b/api_fuzz"), 30.0, Path("/c"), reg, Path("/l/fuzz-"))
            self.assertEqual(argv[0], "/b/api_fuzz")
            self.assertIn("-max_total_time=30", argv)
            self.assertIn("-rss_limit_mb=2048", argv)
            self.assertIn("-artifact_prefix=/l/fuzz-", argv)
            self.assertEqual(argv[-1], "/c")  # no regressions folder: not passed
            reg.mkdir()
            argv = fuzz.command(Path("/b/api_fuzz"), 30.0, Path("/c"), reg, Path("/l/fuzz-"))
            # The corpus first: libFuzzer writes new inputs to the first folder only.
            self.assertEqual(argv[-2:], ["/c", str(reg)])


# Stands in for the fuzzer: records its arguments, then finishes cleanly or crashes.
FAKE = """#!/bin/sh
echo "$*" > "$(dirname "$0")/args"
if [ -n "$FAKE_CRASH" ]; then
  echo "api_fuzz: operation 3 (write): a program write failed"
  prefix=$(echo "$*" | sed -n 's/.*-artifact_prefix=\\([^ ]*\\).*/\\1/p')
  echo "x" > "${prefix}crash-abc"
  echo "artifact_prefix='$prefix'; Test unit written to ${prefix}crash-abc"
  exit 1
fi
echo "#100	DONE   cov: 10 ft: 20 corp: 3/24b lim: 8 exec/s: 50 rss: 40Mb"
echo "Done 100 runs in 2 second(s)"
"""


class RunFuzz(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.out = Path(self.dir.name)
        binary = self.out / "host_fuzz" / "api_fuzz"
        binary.parent.mkdir()
        binary.write_text(FAKE)
        binary.chmod(0o755)
        for patcher in (mock.patch.dict(os.environ, {"MM_OUT": str(self.out)}),
                        mock.patch.object(cmd_test.ui, "step"),
                        mock.patch.object(cmd_test.ui, "info")):
            patcher.start()
            self.addCleanup(patcher.stop)

    def test_clean_run_is_one_pass(self):
        o = cmd_test.run_fuzz(7)
        self.assertEqual((o.ok, o.passed, o.failed), (True, 1, 0))
        args = (self.out / "host_fuzz" / "args").read_text()
        self.assertIn("-max_total_time=7", args)
        self.assertIn(str(self.out / "fuzz-corpus"), args)
        # The seeds were copied into the working corpus, not used in place; a short run
        # leaves the grown corpus out.
        seeds = {p.name for p in paths.fuzz_seed_corpus().iterdir()}
        self.assertEqual({p.name for p in (self.out / "fuzz-corpus").iterdir()}, seeds)

    def test_a_long_run_starts_from_the_grown_corpus(self):
        import tarfile
        o = cmd_test.run_fuzz(fuzz.GROWN_CORPUS_SECONDS)
        self.assertTrue(o.ok)
        with tarfile.open(paths.fuzz_grown_corpus(), "r:gz") as tf:
            grown = {m.name for m in tf.getmembers()}
        seeds = {p.name for p in paths.fuzz_seed_corpus().iterdir()}
        self.assertEqual({p.name for p in (self.out / "fuzz-corpus").iterdir()}, seeds | grown)
        self.assertTrue((self.out / "logs" / "fuzz.log").exists())

    def test_crash_is_one_failure_with_its_input_in_the_logs(self):
        with mock.patch.dict(os.environ, {"FAKE_CRASH": "1"}):
            o = cmd_test.run_fuzz(7)
        self.assertEqual(o.counted(), (0, 1))
        self.assertIn("operation 3 (write)", o.note)
        self.assertIn("logs/fuzz-crash-abc", o.note)
        self.assertTrue((self.out / "logs" / "fuzz-crash-abc").exists())

    def test_missing_binary_fails(self):
        (self.out / "host_fuzz" / "api_fuzz").unlink()
        o = cmd_test.run_fuzz(7)
        self.assertFalse(o.ok)
        self.assertIn("not built", o.note)

    def test_run_is_known_and_skippable(self):
        self.assertIn("fuzz", cmd_test.RUNS)


class CorpusGenerator(unittest.TestCase):
    """tests/fuzz/make_corpus.py writes inputs by operation name: its table must be the C
    table's, and the committed corpus what it writes."""

    def test_operation_tables_agree(self):
        sys.path.insert(0, str(paths.ROOT / "tests" / "fuzz"))
        try:
            import make_corpus
        finally:
            sys.path.pop(0)
        source = (paths.ROOT / "tests" / "fuzz" / "api_fuzz.c").read_text()
        table = source[source.index("static const struct op ops[]"):]
        table = table[:table.index("};")]
        self.assertEqual(re.findall(r'\{"(\w+)", op_\w+\}', table), make_corpus.OPS)

    def test_committed_corpus_is_current(self):
        script = paths.ROOT / "tests" / "fuzz" / "make_corpus.py"
        r = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                           text=True, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()

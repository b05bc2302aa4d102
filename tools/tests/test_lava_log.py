"""Tests of reading LAVA job logs: the records' YAML, the console inside them, the verdict on
a test job, and the commit in a job definition."""
import contextlib
import io
import sys
import tempfile
import unittest
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import cmd_extract, extract, lava_log, lava_server  # noqa: E402


def record(lvl, msg):
    """A record whose message is a line of text, as the dispatcher writes a console line:
    quotes escaped once for the console, then the record as YAML in double-quoted flow style."""
    text = msg.replace('"', '\\"').replace("\\", "\\\\").replace('"', '\\"')
    return f'{{"dt": "2026-12-07T07:08:02.5", "lvl": "{lvl}", "msg": "{text}"}}'


def results_record(flow):
    """A results record; flow is its message in YAML flow style."""
    return f'{{"dt": "2026-12-07T07:08:02.5", "lvl": "results", "msg": {flow}}}'


def case(name, result):
    case_id = name.replace(".", "_")
    return results_record(f'{{"case": "{case_id}", "definition": "mm-tests", "extra": '
                  f'{{"test_case_id": "{name}"}}, "level": "3.1", "result": "{result}"}}')


JOB_PASS = results_record('{"case": "job", "definition": "lava", "result": "pass"}')


def log(*lines):
    return "\n".join(lines) + "\n"


class Values(unittest.TestCase):
    def test_tags_and_escapes(self):
        value = lava_log.parse_value(
            '{"a": !!int "3", "b": [!!float "5.5", ! "5254.0"], "c": !!null "", '
            '"d": !!bool "true", "e": "x\\x1by\\e\\U0001f600\\"q\\\\", \'f\': \'it\'\'s\', '
            '"g": plain, "h": 12}')
        self.assertEqual(value, {"a": 3, "b": [5.5, "5254.0"], "c": None, "d": True,
                                 "e": 'x\x1by\x1b\U0001f600"q\\', "f": "it's", "g": "plain",
                                 "h": 12})

    def test_bad_text(self):
        for bad in ('{"a": "open', '{"a" "b"}', '{"a": "\\q"}', '{"a": 1} extra'):
            with self.assertRaises(lava_log.ParseError):
                lava_log.parse_value(bad)

    def test_records(self):
        text = log("lava-run: something else", "- " + record("info", "start: 0 validate"),
                   record("target", "hello"), "", '{"not": "a record"}')
        records = lava_log.read_records(text)
        self.assertEqual([(r.lvl, r.msg) for r in records],
                         [("info", "start: 0 validate"), ("target", "hello")])
        self.assertFalse(lava_log.is_lava_log(text))  # its first line is not a record
        self.assertTrue(lava_log.is_lava_log(log(record("info", "x"))))
        self.assertFalse(lava_log.is_lava_log("mmkernel: x86_64\n"))

    def test_console_gives_back_the_json(self):
        doc = '{"context": {}, "benchmarks": [{"name": "BM_a", "real_time": 1.0}]}'
        records = lava_log.read_records(log(
            record("target", "boot: ready"), record("target", extract.BEGIN),
            record("target", doc), record("target", extract.END)))
        lines = lava_log.console_lines(records)
        self.assertEqual(lines[2], doc)
        self.assertEqual(extract.parse_bench_json(lines)["benchmarks"][0]["name"], "BM_a")


class JudgeTests(unittest.TestCase):
    def judge(self, *lines):
        return lava_log.judge_tests(lava_log.read_records(log(*lines)), "mm-tests")

    def test_every_case_passed_and_counted(self):
        v = self.judge(case("avl.a", "pass"), case("avl.b", "pass"),
                       record("target", "2 passed, 0 failed"), JOB_PASS)
        self.assertEqual((v.ok, v.passed, v.failed, v.note), (True, 2, 0, ""))

    def test_a_failed_case_fails_a_passing_job(self):
        # lava-run's job result is pass: only the case's record tells.
        v = self.judge(case("avl.a", "pass"), case("avl.b", "fail"),
                       record("target", "1 passed, 1 failed"), JOB_PASS)
        self.assertFalse(v.ok)
        self.assertEqual((v.passed, v.failed), (1, 1))
        self.assertIn("avl.b", v.note)

    def test_count_must_match_the_kernel(self):
        v = self.judge(case("avl.a", "pass"), record("target", "3 passed, 0 failed"), JOB_PASS)
        self.assertFalse(v.ok)
        self.assertIn("recorded 1 test case(s), the kernel ran 3", v.note)

    def test_no_summary_or_no_job_result(self):
        v = self.judge(case("avl.a", "pass"), JOB_PASS)
        self.assertIn("no 'N passed, N failed' line", v.note)
        v = self.judge(case("avl.a", "pass"), record("target", "1 passed, 0 failed"))
        self.assertIn("no result for the job", v.note)

    def test_failed_job(self):
        v = self.judge(case("avl.a", "pass"), record("target", "1 passed, 0 failed"),
                       results_record('{"case": "job", "definition": "lava", "error_msg": '
                                      '"lava test monitoring has timed out", "result": "fail"}'))
        self.assertFalse(v.ok)
        self.assertIn("timed out", v.note)


class ExtractCommand(unittest.TestCase):
    """tools/mm extract on a LAVA job's log: the console inside the records, and LAVA's own
    verdict."""

    def extract(self, text):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "job.yaml"
            path.write_text(text, encoding="utf-8")
            args = SimpleNamespace(log=str(path), lava_job=None, identity=None, store=None,
                                   machine=None, output=None, json=False)
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = cmd_extract.cmd_extract(args)
            return rc, out.getvalue() + err.getvalue()

    def test_passing_and_failing_test_jobs(self):
        rc, text = self.extract(log(case("avl.a", "pass"), record("target", "1 passed, 0 failed"),
                                    JOB_PASS))
        self.assertEqual(rc, 0)
        self.assertIn("1 passed, 0 failed", text)
        rc, text = self.extract(log(case("avl.a", "fail"), record("target", "0 passed, 1 failed"),
                                    JOB_PASS))
        self.assertEqual(rc, 1)
        self.assertIn("avl.a", text)

    def test_benchmark_job(self):
        doc = '{"context": {}, "benchmarks": [{"name": "BM_a", "real_time": 1.0}]}'
        rc, text = self.extract(log(record("target", extract.BEGIN), record("target", doc),
                                    record("target", extract.END), JOB_PASS))
        self.assertEqual(rc, 0)
        self.assertIn("BM_a", text)


class Definition(unittest.TestCase):
    def test_commit_from_metadata(self):
        text = "device_type: x86\nmetadata:\n  mm.commit: 3380e32\n  mm.kind: bench\n"
        self.assertEqual(lava_server.commit_of_definition(text), "3380e32")
        quoted = "metadata:\n  mm.commit: '3380e32-dirty'\n"
        self.assertEqual(lava_server.commit_of_definition(quoted), "3380e32-dirty")
        self.assertIsNone(lava_server.commit_of_definition("device_type: x86\n"))


if __name__ == "__main__":
    unittest.main()

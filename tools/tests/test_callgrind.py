"""Tests of reading callgrind's output: totals, the call edges into the benchmark functions,
the measuring code taken out, and the matching of counts to Google Benchmark's runs."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import callgrind, ui  # noqa: E402

# The shape of one dump as valgrind 3.19 writes it with --compress-strings=no
# --compress-pos=no: the benchmark called from libbenchmark, and inside it the latency
# recorder (whose cost depends on the order of the TSC samples it sorts).
DUMP = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 1075
cmd:  host_bench --benchmark_filter=^(BM_fault/kind:0/iterations:20)$
part: 3

desc: Trigger: --dump-before=BM_fault(benchmark::State&)

positions: line
events: Ir
summary: 1916547


ob=/usr/lib/x86_64-linux-gnu/libbenchmark.so.1.7.1
fl=???
fn=0x000000000002d130
0 10
cob=/work/out/host_bench
cfi=???
cfn=BM_vmm_map_unmap(benchmark::State&)
calls=1 0 
0 1734419
fn=BM_vmm_map_unmap(benchmark::State&)
0 253
cfn=LatencyRecorder::Report(double)
calls=1 0 
0 2444
cfn=mm_map_range
calls=20 0 
0 900000
"""

TOTALS_ONLY = """events: Ir
totals: 4242
"""


class Parse(unittest.TestCase):
    def test_summary_line_then_totals(self):
        self.assertEqual(callgrind.parse_summary(DUMP), 1916547)
        self.assertEqual(callgrind.parse_summary(TOTALS_ONLY), 4242)
        self.assertIsNone(callgrind.parse_summary("events: Ir\n"))

    def test_call_edges_into_benchmark_functions(self):
        pattern = callgrind._glob_to_regex(callgrind.BENCH_FUNCTION)
        (call,) = callgrind.parse_calls(DUMP, pattern)
        self.assertEqual(call.function, "BM_vmm_map_unmap(benchmark::State&)")
        self.assertEqual((call.instructions, call.part), (1734419, 3))

    def test_measuring_code_is_taken_out(self):
        (call,) = callgrind.own_costs(DUMP)
        self.assertEqual(call.instructions, 1734419 - 2444)

    def test_two_events_and_instruction_positions(self):
        text = ("positions: instr line\nevents: Ir Dr\npart: 1\n"
                "cfn=(anonymous namespace)::BM_x(benchmark::State&)\ncalls=1 0x10 5\n"
                "0x20 7 999 111\n")
        (call,) = callgrind.parse_calls(text, callgrind._glob_to_regex(callgrind.BENCH_FUNCTION))
        self.assertEqual(call.instructions, 999)
        self.assertEqual(callgrind.function_family(call.function), "BM_x")

    def test_a_call_dearer_than_its_dump_is_refused(self):
        with self.assertRaisesRegex(ui.Fatal, "misread"):
            callgrind.own_costs(DUMP.replace("summary: 1916547", "summary: 1000"))

    def test_a_benchmark_that_starts_a_thread_is_marked(self):
        (call,) = callgrind.own_costs(DUMP)
        self.assertFalse(call.threaded)
        threaded = DUMP + "cfn=pthread_create@@GLIBC_2.34\ncalls=1 0\n0 900\n"
        (call,) = callgrind.own_costs(threaded)
        self.assertTrue(call.threaded)

    def test_no_benchmark_call_in_the_first_dump(self):
        self.assertEqual(callgrind.own_costs("part: 1\nevents: Ir\nfn=main\n0 5\n"), [])


def run(name, iterations):
    return {"name": name, "run_name": name, "run_type": "iteration", "iterations": iterations}


class Document(unittest.TestCase):
    CALLS = [callgrind.Call("BM_fault(benchmark::State&)", 5000, 2),
             callgrind.Call("(anonymous namespace)::BM_pmm(benchmark::State&)", 300, 3)]

    def test_counts_per_iteration_by_run(self):
        doc = callgrind.to_document(
            self.CALLS, [run("BM_fault/kind:0/iterations:50", 50),
                         run("BM_pmm/cache:1/iterations:50/real_time/threads:1", 50)], 50, {})
        a, b = doc["benchmarks"]
        self.assertEqual((a["name"], a["instructions_per_iteration"]), ("BM_fault/kind:0", 100))
        self.assertEqual(b["name"], "BM_pmm/cache:1/real_time/threads:1")
        self.assertEqual(b["instructions_per_iteration"], 6)

    def test_threaded_benchmarks_are_left_out_and_listed(self):
        calls = [self.CALLS[0], callgrind.Call("BM_shootdown_unmap(benchmark::State&)", 9, 4,
                                               threaded=True)]
        doc = callgrind.to_document(calls, [run("BM_fault/iterations:50", 50),
                                            run("BM_shootdown_unmap/active:2/iterations:50", 50)],
                                    50, {"mm_callgrind": {"iterations": 50}})
        self.assertEqual([b["name"] for b in doc["benchmarks"]], ["BM_fault"])
        self.assertEqual(doc["context"]["mm_callgrind"]["left_out_threaded"],
                         ["BM_shootdown_unmap/active:2"])

    def test_a_program_that_ignored_the_fixed_count_is_refused(self):
        with self.assertRaisesRegex(ui.Fatal, "MM_BENCH_ITERATIONS"):
            callgrind.to_document(self.CALLS[:1], [run("BM_fault/kind:0", 123456)], 50, {})

    def test_counts_and_runs_must_pair_up(self):
        with self.assertRaises(ui.Fatal):
            callgrind.to_document(self.CALLS, [run("BM_fault/kind:0/iterations:50", 50)], 50, {})
        with self.assertRaisesRegex(ui.Fatal, "does not belong"):
            callgrind.to_document(self.CALLS[1:], [run("BM_fault/iterations:50", 50)], 50, {})


class Selection(unittest.TestCase):
    def test_single_thread_and_not_too_slow(self):
        names = ["BM_a/iterations:9/real_time/threads:1", "BM_a/iterations:9/real_time/threads:2",
                 "BM_fork/MiB:256/iterations:9", "BM_zero_page/iterations:9"]
        measured = {"benchmarks": [{"run_name": "BM_fork/MiB:256", "real_time": 3.0,
                                    "time_unit": "ms"},
                                   {"run_name": "BM_zero_page", "real_time": 30,
                                    "time_unit": "ns"}]}
        self.assertEqual(callgrind.select(names, measured),
                         ["BM_a/iterations:9/real_time/threads:1", "BM_zero_page/iterations:9"])
        self.assertEqual(len(callgrind.select(names, None)), 3)

    def test_a_burst_in_one_repetition_does_not_leave_a_benchmark_out(self):
        names = ["BM_contiguous/frames:512/iterations:9"]
        reps = [{"run_name": "BM_contiguous/frames:512", "run_type": "iteration",
                 "real_time": t, "time_unit": "ms"} for t in (1.2, 2.5, 1.3)]
        self.assertEqual(callgrind.select(names, {"benchmarks": reps}), names)
        slow = [dict(r, real_time=r["real_time"] + 1) for r in reps]
        self.assertEqual(callgrind.select(names, {"benchmarks": slow}), [])


if __name__ == "__main__":
    unittest.main()

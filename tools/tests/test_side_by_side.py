"""Tests of the side-by-side table: which benchmarks pair, the ratio, the rendering, and the
report sections around a Linux run."""
import json
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import accel, linux, qemu, side_by_side  # noqa: E402


def kbench(name, p50, p99=None):
    """An entry as bench/kernel/runner.c (and mmbench_linux.c) print it."""
    return {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
            "iterations": 1000, "real_time": p50, "cpu_time": p50, "time_unit": "ns",
            "p50_ns": p50, "p99_ns": p99 or p50, "p50_cycles": p50, "p99_cycles": p99 or p50}


def failed(name):
    return {"name": name, "run_name": name, "error_occurred": True, "error_message": "oom"}


OURS = {"benchmarks": [
    kbench("BM_vmm_map_unmap/pages:1", 20000),
    kbench("BM_fork/MiB:0", 825),
    kbench("BM_user_fault/zero_page_read:1000", 938),
    kbench("BM_pmm_alloc_free_page/cache:1", 235),  # ours only: not in the table
    kbench("BM_extra/x:1", 300),                    # same name on both sides, not listed
    failed("BM_user_fault/cow_write_copy:1000"),
]}
LINUX = {"benchmarks": [
    kbench("BM_vmm_map_unmap/pages:1", 40000),
    kbench("BM_fork/MiB:0", 133000),
    kbench("BM_user_fault/cow_write_copy:1000", 11228),
    kbench("BM_tlb_shootdown_unmap_active2/pages:1", 50000),
    kbench("BM_extra/x:1", 600),
    kbench("BM_linux_only/x:1", 7),                 # Linux only, not listed: left out
]}


class Pairing(unittest.TestCase):
    def rows(self):
        return {r.name: r for r in side_by_side.pair_rows(OURS, LINUX)}

    def test_rows_and_order(self):
        names = [r.name for r in side_by_side.pair_rows(OURS, LINUX)]
        self.assertEqual(names, [
            "BM_vmm_map_unmap/pages:1", "BM_fork/MiB:0", "BM_user_fault/zero_page_read:1000",
            "BM_user_fault/cow_write_copy:1000",
            # Paired with Linux's copy-on-write fault as well; ours is missing here.
            "BM_user_fault/cow_first_write_after_fork:1",
            "BM_tlb_shootdown_unmap_active2/pages:1", "BM_extra/x:1"])

    def test_ratio_is_ours_over_linux(self):
        rows = self.rows()
        r = rows["BM_vmm_map_unmap/pages:1"]
        self.assertEqual((r.ours, r.linux), (20000, 40000))
        self.assertAlmostEqual(r.ratio, 0.5)
        self.assertAlmostEqual(rows["BM_extra/x:1"].ratio, 0.5)
        self.assertAlmostEqual(rows["BM_fork/MiB:0"].ratio, 825 / 133000)

    def test_one_sided_rows_have_no_ratio(self):
        rows = self.rows()
        self.assertIsNone(rows["BM_user_fault/zero_page_read:1000"].linux)
        self.assertIsNone(rows["BM_user_fault/zero_page_read:1000"].ratio)
        remote = rows["BM_tlb_shootdown_unmap_active2/pages:1"]
        self.assertEqual((remote.ours, remote.linux, remote.ratio), (None, 50000, None))
        self.assertNotIn("BM_pmm_alloc_free_page/cache:1", rows)
        self.assertNotIn("BM_linux_only/x:1", rows)

    def test_pair_with_no_counterpart_yet(self):
        pairs = (side_by_side.Pair(None, "BM_linux_only/x:1", "Linux only"),)
        r, *same_names = side_by_side.pair_rows(OURS, LINUX, pairs)
        self.assertEqual((r.name, r.ours, r.linux, r.ratio), ("BM_linux_only/x:1", None, 7, None))
        # Not in this table, but the same name on both sides: still paired, no note.
        self.assertEqual([(x.name, x.differs) for x in same_names],
                         [("BM_vmm_map_unmap/pages:1", ""), ("BM_fork/MiB:0", ""),
                          ("BM_user_fault/cow_write_copy:1000", ""), ("BM_extra/x:1", "")])

    def test_error_on_one_side(self):
        r = self.rows()["BM_user_fault/cow_write_copy:1000"]
        self.assertEqual((r.ours, r.ours_error, r.linux), (None, "oom", 11228))
        self.assertIsNone(r.ratio)

    def test_renamed_pair(self):
        pairs = (side_by_side.Pair("BM_a:1", "BM_linux_a:1", "differs"),)
        (r,) = side_by_side.pair_rows({"benchmarks": [kbench("BM_a:1", 30)]},
                                      {"benchmarks": [kbench("BM_linux_a:1", 10)]}, pairs)
        self.assertEqual((r.name, r.ratio, r.differs), ("BM_a:1", 3.0, "differs"))

    def test_microseconds_are_brought_to_ns(self):
        ours = {"benchmarks": [dict(kbench("BM_fork/MiB:0", 0), time_unit="us",
                                    real_time=2.0, p50_ns=None)]}
        del ours["benchmarks"][0]["p50_ns"], ours["benchmarks"][0]["p99_ns"]
        (r,) = side_by_side.pair_rows(ours, {"benchmarks": [kbench("BM_fork/MiB:0", 1000)]})
        self.assertEqual((r.ours, r.ratio), (2000.0, 2.0))

    def test_rendered_table(self):
        text = side_by_side.render(side_by_side.pair_rows(OURS, LINUX))
        lines = text.splitlines()
        self.assertEqual(lines[0].split(), ["benchmark", "ours", "p50", "Linux", "p50",
                                            "ours/Linux", "what", "differs"])
        row = next(l for l in lines if l.startswith("BM_vmm_map_unmap/pages:1 "))
        self.assertEqual(row.split()[:4], ["BM_vmm_map_unmap/pages:1", "20,000", "40,000",
                                           "0.50"])
        cow = next(l for l in lines if l.startswith("BM_user_fault/cow_write_copy"))
        self.assertEqual(cow.split()[1:4], ["ERROR", "11,228", "-"])
        self.assertEqual(side_by_side.render([]), "   (no benchmark pairs)")

    def test_a_shared_note_is_said_once(self):
        ours = {"benchmarks": [kbench(f"BM_vmm_map_unmap/pages:{n}", 10) for n in (1, 16)]}
        lines = side_by_side.render(side_by_side.pair_rows(ours, ours)).splitlines()[2:]
        self.assertIn("VMA work", lines[0])
        self.assertEqual(lines[1].split(), ["BM_vmm_map_unmap/pages:16", "10", "10", "1.00"])


class BySection(unittest.TestCase):
    def test_sections_in_table_order(self):
        ours = {"benchmarks": [kbench("BM_vmm_map_unmap/pages:1", 2),
                               kbench("BM_user_fault/zero_page_read:1000", 3),
                               kbench("BM_sys_null:0", 1), kbench("BM_extra/x:1", 4)]}
        groups = side_by_side.by_section(side_by_side.pair_rows(ours, ours))
        self.assertEqual([(name, [r.name for r in rows]) for name, rows in groups], [
            (side_by_side.SYSCALLS, ["BM_sys_null:0"]),
            (side_by_side.FAULTS, ["BM_user_fault/zero_page_read:1000"]),
            (side_by_side.LIBRARY, ["BM_vmm_map_unmap/pages:1"]),
            (side_by_side.OTHER, ["BM_extra/x:1"])])

    def test_every_system_call_row_is_listed_in_its_section(self):
        """Each row of bench/syscall's MMB_SYS_WORKLOADS pairs in "system calls"."""
        header = (Path(__file__).resolve().parents[2] / "bench/syscall/include/mmbench/"
                  "sys_workloads.h").read_text(encoding="utf-8")
        import re
        rows = re.findall(r'X\("(BM_sys_[^"]+)", \w+, (\d+),', header)
        self.assertGreaterEqual(len(rows), 12)
        listed = {p.ours: p.section for p in side_by_side.PAIRS}
        for name, arg in rows:
            self.assertEqual(listed.get(f"{name}:{arg}"), side_by_side.SYSCALLS, name)


class Sections(unittest.TestCase):
    def machine(self):
        return qemu.Machine(accel.Accel("tcg", "test"), icount=True)

    def test_stored_kernel_document_is_used(self):
        with tempfile.TemporaryDirectory() as d:
            outdir = Path(d)
            (outdir / "kernel.json").write_text(json.dumps(OURS))
            outcome = linux.Outcome(True, LINUX, "Debian test kernel")
            with mock.patch.object(linux, "run", return_value=outcome) as run:
                ok, sections, pairs = side_by_side.run_sections(
                    self.machine(), "kernel", None, outdir, "abc", {}, 10, False, None)
            self.assertEqual(run.call_args.args[1], "linux")
            self.assertTrue(ok)
            self.assertEqual([p.name for p in pairs],
                             [r.name for r in side_by_side.pair_rows(OURS, LINUX)])
            # Linux's own table, then one per section: faults, library calls, other.
            self.assertEqual([title.split(":")[0] for title, _, _ in sections[1:]], [
                "side by side, page faults", "side by side, library calls",
                "side by side, other"])
            title, note, table = sections[2]
            self.assertIn("kernel.json", title)
            self.assertIn("lower is better", note)
            self.assertIn("embedder", note)
            self.assertIn("0.50", table)

    def test_realtime_stem(self):
        outcome = linux.Outcome(True, LINUX, "x")
        with mock.patch.object(linux, "run", return_value=outcome) as run:
            side_by_side.run_sections(self.machine(), "kernel-kvm", None, Path("/nonexistent"),
                                      "abc", {}, 10, False, OURS)
        self.assertEqual(run.call_args.args[1], "linux-kvm")

    def test_unavailable_kernel_does_not_fail_the_run(self):
        outcome = linux.Outcome(False, None, "not run: no network", unavailable=True)
        with mock.patch.object(linux, "run", return_value=outcome):
            ok, sections, pairs = side_by_side.run_sections(self.machine(), "kernel", None,
                                                            Path("/nonexistent"), "abc", {}, 10,
                                                            False, OURS)
        self.assertTrue(ok)
        self.assertEqual(pairs, [])
        self.assertEqual(len(sections), 1)
        self.assertIn("not run: no network", sections[0][0])
        self.assertIsNone(sections[0][2])

    def test_failed_boot_fails_the_run(self):
        outcome = linux.Outcome(False, None, "Debian test kernel")
        with mock.patch.object(linux, "run", return_value=outcome):
            ok, _, _ = side_by_side.run_sections(self.machine(), "kernel", None,
                                                 Path("/nonexistent"), "abc", {}, 10, False,
                                                 OURS)
        self.assertFalse(ok)


if __name__ == "__main__":
    unittest.main()

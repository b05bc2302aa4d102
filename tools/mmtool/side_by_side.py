"""Our kernel and Linux side by side: which benchmark of one pairs with which of the other,
what differs inside each pair, the section each pair belongs to, and the tables `tools/mm
bench` prints (our p50, Linux's p50, the ratio ours/Linux), one per section:

- system calls: the same workload source on both sides (bench/syscall/), each call through
  a real `syscall` instruction into the kernel;
- page faults: the same ring-3 timing loop on both sides;
- library calls: ours calls the mm_* API inside the kernel (what an embedder pays), Linux
  runs its system call.

PAIRS is the one mapping table. bench/linux/mmbench_linux.c uses the kernel's own names
where the workload is the same, so most pairs are one name twice; a name present in both
documents but missing here still pairs (with no note, in "other"), and a benchmark only one
side has is shown with "-" on the other.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import linux, paths, qemu, report, ui


SYSCALLS = "system calls"
FAULTS = "page faults"
LIBRARY = "library calls"
OTHER = "other"
# The tables' order, and what each section compares.
SECTIONS: dict[str, str] = {
    SYSCALLS: "the same workload source on both sides (bench/syscall/), through a real "
              "syscall instruction",
    FAULTS: "the same ring-3 timing loop on both sides",
    LIBRARY: "ours: the mm_* call inside the kernel, what an embedder pays; Linux: its "
             "system call",
    OTHER: "same-named benchmarks no pair lists",
}


@dataclass(frozen=True)
class Pair:
    ours: str | None    # name in our kernel's document (None: no counterpart yet)
    linux: str | None   # name in Linux's document
    differs: str        # what is not the same, in a few words (docs/benchmarks.md has more)
    section: str = LIBRARY


_MAP = "Linux: mmap(MAP_POPULATE)+munmap syscalls, VMA work, a GUP fault per page"
_FORK = "ours: on-demand fork (leaf tables shared); Linux: whole fork(): task, files, every VMA"
_FAULT = "same ring-3 timing loop"
_UNMAP = "Linux: munmap syscall and VMA work"

_SYS_FORK = "ours: the space copied, never run; Linux: a process, scheduled, that exits"
_SYS_ACTIVE = "2+ vCPUs: ours runs the program on the other, Linux a thread"


def _sys(name: str, differs: str = "") -> Pair:
    return Pair(name, name, differs, SYSCALLS)


PAIRS: tuple[Pair, ...] = (
    _sys("BM_sys_null:0", "Linux: getppid"),
    *(_sys(f"BM_sys_mmap_populate_munmap/pages:{n}") for n in (1, 16, 256, 4096)),
    *(_sys(f"BM_sys_mprotect/pages:{n}") for n in (1, 256)),
    *(_sys(f"BM_sys_fork_wait/MiB:{n}", _SYS_FORK) for n in (0, 16, 256)),
    *(_sys(f"BM_sys_munmap_active2/pages:{n}", _SYS_ACTIVE) for n in (1, 512)),
    *(Pair(f"BM_vmm_map_unmap/pages:{n}", f"BM_vmm_map_unmap/pages:{n}", _MAP)
      for n in (1, 16, 256, 4096)),
    *(Pair(f"BM_fork/MiB:{n}", f"BM_fork/MiB:{n}", _FORK) for n in (0, 16, 256)),
    Pair("BM_user_fault/demand_zero_write:1000", "BM_user_fault/demand_zero_write:1000",
         _FAULT, FAULTS),
    Pair("BM_user_fault/zero_page_read:1000", "BM_user_fault/zero_page_read:1000", _FAULT,
         FAULTS),
    Pair("BM_user_fault/cow_write_copy:1000", "BM_user_fault/cow_write_copy:1000",
         _FAULT + "; the child writes; Linux zeroes the new frame first (init_on_alloc)",
         FAULTS),
    Pair("BM_user_fault/cow_first_write_after_fork:1", "BM_user_fault/cow_write_copy:1000",
         "the first write after fork: ours also copies the span's shared leaf table", FAULTS),
    Pair("BM_user_fault/cow_write_sole_owner:1000", "BM_user_fault/cow_write_sole_owner:1000",
         _FAULT + "; after the child's exit; ours: on-demand fork never marked the parent's "
         "pages, one fault per 2 MiB takes its table back", FAULTS),
    Pair("BM_user_fault/mapped_write_no_fault:1000",
         "BM_user_fault/mapped_write_no_fault:1000", "no fault: the timing's own cost", FAULTS),
    *(Pair(f"BM_tlb_shootdown_unmap_active{cpus}/pages:{n}",
           f"BM_tlb_shootdown_unmap_active{cpus}/pages:{n}", _UNMAP + extra)
      for cpus, extra in (("1", ""), ("2", "; 2+ vCPUs, a thread spins"),
                            ("_all", "; 3+ vCPUs, threads spin"))
      for n in (1, 512)),
)


@dataclass
class SideRow:
    name: str
    ours: float | None      # p50 (ns; under icount, instructions)
    linux: float | None
    differs: str = ""
    ours_error: str = ""
    linux_error: str = ""
    section: str = OTHER

    @property
    def ratio(self) -> float | None:
        """ours / Linux: below 1 our kernel is cheaper (every figure is a cost)."""
        if self.ours is None or self.linux is None or self.linux <= 0:
            return None
        return self.ours / self.linux


def _by_name(doc: dict | None) -> dict[str, report.Row]:
    return {r.name: r for r in report.rows(doc)} if doc else {}


def _median_ns(row: report.Row | None) -> float | None:
    if row is None or row.error or row.median is None:
        return None
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}.get(row.unit, 1.0)
    return row.median * scale


def pair_rows(ours_doc: dict | None, linux_doc: dict | None,
              pairs: tuple[Pair, ...] = PAIRS) -> list[SideRow]:
    """One row per pair that either document has, in the table's order, then the
    same-named benchmarks the table does not list."""
    ours, lin = _by_name(ours_doc), _by_name(linux_doc)
    out: list[SideRow] = []
    listed_ours, listed_linux = set(), set()
    for p in pairs:
        o = ours.get(p.ours) if p.ours else None
        l = lin.get(p.linux) if p.linux else None
        listed_ours.add(p.ours)
        listed_linux.add(p.linux)
        if o is None and l is None:
            continue
        out.append(SideRow(p.ours or p.linux or "?", _median_ns(o), _median_ns(l), p.differs,
                           o.error if o else "", l.error if l else "", p.section))
    for name, l in lin.items():
        if name in ours and name not in listed_ours and name not in listed_linux:
            o = ours[name]
            out.append(SideRow(name, _median_ns(o), _median_ns(l), "", o.error, l.error, OTHER))
    return out


def by_section(rows: list[SideRow]) -> list[tuple[str, list[SideRow]]]:
    """The rows grouped by section, in SECTIONS order; sections without rows left out."""
    return [(name, [r for r in rows if r.section == name]) for name in SECTIONS
            if any(r.section == name for r in rows)]


def _cell(value: float | None, error: str) -> str:
    return "ERROR" if error else report.fmt(value)


# The report's width unless --wide: the notes are cut to fit (docs/benchmarks.md has them
# whole).
REPORT_WIDTH = 120
width: int | None = REPORT_WIDTH


def render(rows: list[SideRow]) -> str:
    """One table of side-by-side rows (one section's, as by_section gives them)."""
    if not rows:
        return "   (no benchmark pairs)"
    table, previous = [], None
    for r in rows:
        # A note is said once for the rows under it that share it (a family).
        note = r.differs if r.differs != previous else ""
        previous = r.differs
        table.append([r.name, _cell(r.ours, r.ours_error), _cell(r.linux, r.linux_error),
                      report.fmt_ratio(r.ratio) if r.ratio is not None else "-", note])
    return ui.table(["benchmark", "ours p50", "Linux p50", "ours/Linux", "what differs"],
                    table, [False, True, True, True, False], max_width=width)


def legend(icount: bool) -> str:
    unit = ("guest instructions (icount: 1 ns = 1 instruction)" if icount
            else "ns of wall-clock time")
    return (f"p50 in {unit}; every figure is a cost, lower is better: ours/Linux below 1 "
            "means our kernel is cheaper.\n   docs/benchmarks.md, \"Linux side by side\", "
            "says what is comparable and what is not.")


def run_sections(machine: qemu.Machine, kernel_stem: str, filter_text: str | None,
                 outdir: Path, commit: str, host: dict, timeout: float, echo: bool,
                 ours_doc: dict | None
                 ) -> tuple[bool, list[tuple[str, str, object]], list[SideRow]]:
    """Boots Linux on `machine` (linux.run) and returns (ok, report sections, the
    side-by-side rows): Linux's own table, then one side-by-side table per section. Linux's files are named like ours, "linux" for
    "kernel" (linux.json beside kernel.json). Without our document from this run, the one
    stored beside (results/<commit>/<kernel_stem>.json) is used. An unavailable Debian
    kernel is said in the report but does not fail the run."""
    stem = "linux" + kernel_stem[len("kernel"):]
    run_info = {"commit": commit, "host": host, "qemu": qemu.version(),
                "accel": machine.accel.name, "accel_reason": machine.accel.reason,
                "icount": qemu.ICOUNT if machine.icount else None, "vcpus": machine.smp,
                "memory_mib": machine.mem_mib}
    try:
        outcome = linux.run(machine, stem, filter_text, outdir, run_info, timeout, echo)
    except ui.Fatal as e:  # e.g. the program not built: the rest of the report still comes
        ui.warn(f"Linux benchmarks: {e.message}")
        return False, [("Linux (did not run)", e.message, None)], []
    title = f"Linux ({'' if outcome.unavailable else 'in QEMU: '}{outcome.desc})"
    if outcome.doc is None:
        return outcome.unavailable, [(title, "", None)], []
    note = "the kernel section's workloads, same QEMU settings"
    ctx = report.context_line(outcome.doc)
    if ctx:
        note += f"\n   Linux measured: {ctx}"
    sections: list[tuple[str, str, object]] = [(title, note, outcome.doc)]
    source = "this run"
    if ours_doc is None:
        stored = outdir / f"{kernel_stem}.json"
        ours_doc = _load(stored)
        source = paths.rel(stored) if ours_doc else "no results"
    pairs = pair_rows(ours_doc, outcome.doc)
    for name, rows in by_section(pairs) or [(OTHER, [])]:
        sections.append((f"side by side, {name}: our kernel ({source}) / Linux",
                         f"{SECTIONS[name]}\n   {legend(machine.icount)}", render(rows)))
    return outcome.ok, sections, pairs


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None

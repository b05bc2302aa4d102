"""Readable tables from benchmark result documents (Google Benchmark's JSON schema, which
the kernel's benchmarks use too).

Per benchmark it shows the median and p99 latency, their unit, cycles when the benchmark
counted them, and every other counter present. Where repetitions were run it uses the
"median" aggregate, or computes the median of the repetitions itself, and shows their
spread: (largest - smallest) / median of the repetitions' figure, in percent, and the
fastest repetition's figure: on a shared machine interference only ever adds time, so the
fastest of many short repetitions is the figure that repeats from one run to the next
(docs/benchmarks.md, "Host figures that repeat").
"""
from __future__ import annotations

import textwrap

import statistics
from dataclasses import dataclass, field

from . import ui

# Keys of Google Benchmark's schema that are not user counters.
SCHEMA_KEYS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
    "time_unit", "aggregate_name", "aggregate_unit", "label", "error_occurred",
    "error_message", "big_o", "rms", "complexity", "time_unit_multiplier",
    "mm_host_run",  # RUN_KEY: which run of several measured a repetition (merge_runs)
}
# Counters that have their own columns.
SHOWN_KEYS = {"p50_ns", "p99_ns", "p50_cycles", "p99_cycles", "cycles"}

_TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


@dataclass
class Row:
    name: str
    median: float | None
    p99: float | None
    unit: str
    cycles_p50: float | None = None
    cycles_p99: float | None = None
    repetitions: int = 1
    counters: dict = field(default_factory=dict)
    error: str = ""
    label: str = ""
    threads: int = 1
    per_thread: float | None = None  # CPU time per iteration of one thread (threads > 1)
    spread: float | None = None  # (max - min) / median of the repetitions, in percent
    fastest: float | None = None  # the smallest repetition's figure (repetitions > 1)
    # Over separate runs (tools/mm bench --host-runs): (max - min) / median of the runs'
    # fastest figures, in percent: how far repeated runs of the same binary lie apart.
    runs_spread: float | None = None

    @property
    def family(self) -> str:
        return self.name.split("/", 1)[0]


def _is_counter(key: str, value: object) -> bool:
    return (key not in SCHEMA_KEYS and isinstance(value, (int, float))
            and not isinstance(value, bool))


def _median_entry(entries: list[dict]) -> dict:
    """One entry whose numbers are the medians over repetitions."""
    merged = dict(entries[0])
    for key, value in entries[0].items():
        if key in ("real_time", "cpu_time") or _is_counter(key, value):
            values = [e[key] for e in entries if isinstance(e.get(key), (int, float))]
            merged[key] = statistics.median(values)
    return merged


def _representative(entries: list[dict]) -> tuple[dict, int]:
    aggregates = {e.get("aggregate_name"): e for e in entries if e.get("run_type") == "aggregate"}
    runs = [e for e in entries if e.get("run_type") != "aggregate"]
    reps = max(len(runs), int(entries[0].get("repetitions", 1) or 1))
    if "median" in aggregates:
        return aggregates["median"], reps
    if len(runs) > 1:
        return _median_entry(runs), reps
    return (runs or entries)[0], reps


def _figure(entry: dict) -> float | None:
    """The figure a row's median stands for, of one repetition: p50_ns where the benchmark
    counts latencies, else real_time."""
    value = entry.get("p50_ns", entry.get("real_time"))
    return float(value) if isinstance(value, (int, float)) else None


# The key merge_runs gives each repetition: which run (process) measured it.
RUN_KEY = "mm_host_run"


def merge_runs(docs: list[dict]) -> dict:
    """One document holding the repetitions of several runs of the same benchmark program,
    each marked with its run (RUN_KEY). The runs' own aggregates are left out: the median
    over every repetition is computed from them all."""
    merged = dict(docs[0])
    entries = []
    counts: dict[str, int] = {}
    for run, doc in enumerate(docs):
        for e in doc.get("benchmarks", []):
            if e.get("run_type") == "aggregate":
                continue
            e = dict(e, **{RUN_KEY: run})
            key = e.get("run_name") or e.get("name", "?")
            e["repetition_index"] = counts.get(key, 0)
            # Failed repetitions are kept (a row that only failed shows its error) but not
            # counted: rows() leaves them out where any repetition succeeded.
            counts[key] = e["repetition_index"] + (0 if e.get("error_occurred") else 1)
            entries.append(e)
    for e in entries:
        e["repetitions"] = counts[e.get("run_name") or e.get("name", "?")]
    merged["benchmarks"] = entries
    return merged


def _runs_spread(repetitions: list[tuple[dict, float]]) -> float | None:
    """repetitions: (entry, figure) of one benchmark."""
    fastest: dict[int, float] = {}
    for e, v in repetitions:
        if isinstance(e.get(RUN_KEY), int):
            fastest[e[RUN_KEY]] = min(v, fastest.get(e[RUN_KEY], v))
    return _spread(list(fastest.values())) if len(fastest) > 1 else None


def _spread(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle * 100 if middle > 0 else None


def registration_key(entry: dict) -> tuple[int, int]:
    """Where a benchmark's entry sorts in the order its program registered them (Google
    Benchmark's family_index, per_family_instance_index): repetitions run interleaved in
    random order. Entries without them (the kernel's) sort after, keeping their order in a
    stable sort."""
    family, instance = entry.get("family_index"), entry.get("per_family_instance_index")
    if isinstance(family, int) and isinstance(instance, int):
        return family, instance
    return 1 << 30, 0


def rows(doc: dict) -> list[Row]:
    """One row per benchmark (repetitions and aggregates folded), in the order the program
    registered them where it says (Google Benchmark's family_index and
    per_family_instance_index: repetitions run interleaved in random order), else in
    first-seen order."""
    groups: dict[str, list[dict]] = {}
    for entry in doc.get("benchmarks", []):
        key = entry.get("run_name") or entry.get("name", "?")
        groups.setdefault(key, []).append(entry)

    result = []
    for name, entries in sorted(groups.items(), key=lambda g: registration_key(g[1][0])):
        # A repetition that failed (SkipWithError) has no figure: the row is an error only
        # when every one of them failed, as Google Benchmark's own aggregates leave it out.
        good = [e for e in entries if not e.get("error_occurred")]
        entries = good or entries
        rep, reps = _representative(entries)
        if rep.get("error_occurred"):
            result.append(Row(name, None, None, "", error=str(rep.get("error_message", "error"))))
            continue
        unit = rep.get("time_unit", "ns")
        real = rep.get("real_time")
        if "p50_ns" in rep or "p99_ns" in rep:
            # Latency percentiles are in ns; bring the mean to ns too when it stands in.
            real_ns = real * _TO_NS.get(unit, 1.0) if isinstance(real, (int, float)) else None
            median, p99, unit = rep.get("p50_ns", real_ns), rep.get("p99_ns"), "ns"
        else:
            median, p99 = real, None
        counters = {k: v for k, v in rep.items() if _is_counter(k, v) and k not in SHOWN_KEYS}
        threads = int(rep.get("threads", 1) or 1)
        # With several threads Google Benchmark divides wall time by the iterations of all
        # threads (a throughput); what one thread paid per iteration is its CPU time, taken
        # from the fastest repetition where there were several (as the fastest figure is).
        figured = ((e, _figure(e)) for e in entries if e.get("run_type") != "aggregate")
        repetitions = [(e, v) for e, v in figured if v is not None]
        fastest = min(repetitions, key=lambda ev: ev[1]) if len(repetitions) > 1 else None
        source = fastest[0] if fastest else rep
        cpu = source.get("cpu_time")
        per_thread = (cpu * _TO_NS.get(source.get("time_unit", "ns"), 1.0)
                      if threads > 1 and isinstance(cpu, (int, float)) else None)
        result.append(Row(name, median, p99, unit, rep.get("p50_cycles", rep.get("cycles")),
                          rep.get("p99_cycles"), reps, counters, label=str(rep.get("label", "")),
                          threads=threads, per_thread=per_thread,
                          spread=_spread([v for _, v in repetitions]),
                          fastest=fastest[1] if fastest else None,
                          runs_spread=_runs_spread(repetitions)))
    return result


def fmt(value: float | None, compact: bool = False) -> str:
    """A number for a table cell; compact uses k-free SI suffixes (M, G, T) for counters such
    as items_per_second, whose digits beyond the third do not matter."""
    if value is None:
        return "-"
    a = abs(value)
    if compact and a >= 1e6:
        for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
            if a >= div:
                return f"{value / div:.2f}{suffix}"
    if a >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def fmt_pct(value: float | None) -> str:
    """A percentage (spread, runs apart) for a table cell."""
    return "-" if value is None else f"{value:.1f}%"


# The widest a table may be unless the caller asks for every column (tools/mm bench --wide):
# counter columns are left out from the right until it fits, and a line says which.
REPORT_WIDTH = 120
width: int | None = REPORT_WIDTH


def render(doc: dict) -> str:
    """The table for one document; families are separated by a blank line."""
    all_rows = rows(doc)
    if not all_rows:
        return "(no benchmarks in this document)"
    counter_names: list[str] = []
    for r in all_rows:
        for k in r.counters:
            if k not in counter_names:
                counter_names.append(k)
    show_cycles = any(r.cycles_p50 is not None or r.cycles_p99 is not None for r in all_rows)
    show_reps = any(r.repetitions > 1 for r in all_rows)
    show_error = any(r.error for r in all_rows)
    show_label = any(r.label for r in all_rows)
    show_per_thread = any(r.per_thread is not None for r in all_rows)
    show_spread = any(r.spread is not None for r in all_rows)
    show_fastest = any(r.fastest is not None for r in all_rows)
    show_runs = any(r.runs_spread is not None for r in all_rows)

    # Documents without times (callgrind.json: counters only) get no empty time columns.
    show_time = any(r.median is not None or r.p99 is not None or r.error for r in all_rows)
    headers = ["benchmark"] + (["fastest"] if show_fastest else []) + (
        ["median", "p99", "unit"] if show_time else [])
    if show_spread:
        headers += ["spread"]
    if show_runs:
        headers += ["runs apart"]
    if show_per_thread:
        headers += ["ns/thread"]
    if show_cycles:
        headers += ["cycles p50", "cycles p99"]
    if show_reps:
        headers += ["reps"]
    headers += counter_names
    right = [False] + [True] * (len(headers) - 1)
    if show_label:
        headers.append("label")
        right.append(False)
    if show_error:
        headers.append("error")
        right.append(False)

    table_rows: list[list[str]] = []
    family = None
    order = _family_order(all_rows)
    for r in sorted(all_rows, key=lambda r: order[r.family]):
        if family is not None and r.family != family:
            table_rows.append([""] * len(headers))
        family = r.family
        cells = [r.name] + ([fmt(r.fastest)] if show_fastest else []) + (
            [fmt(r.median) if not r.error else "ERROR", fmt(r.p99), r.unit] if show_time else [])
        if show_spread:
            cells += [fmt_pct(r.spread)]
        if show_runs:
            cells += [fmt_pct(r.runs_spread)]
        if show_per_thread:
            cells += [fmt(r.per_thread)]
        if show_cycles:
            cells += [fmt(r.cycles_p50), fmt(r.cycles_p99)]
        if show_reps:
            cells += [str(r.repetitions)]
        # Rates (items_per_second...) read best as 1.23G; counts and times in full.
        cells += [fmt(r.counters.get(k), compact=k.endswith("per_second")) for k in counter_names]
        if show_label:
            cells += [r.label]
        if show_error:
            cells += [r.error]
        table_rows.append(cells)
    # Only a text column (label, error) may be cut short to fit; numbers never are.
    cut = width if headers[-1] in ("label", "error") else None
    text = ui.table(headers, table_rows, right, max_width=cut)
    if show_per_thread:
        notes_after = ("   threads:N rows: median is Google Benchmark's real_time, wall time over "
                       "every thread's iterations (an aggregate);\n   ns/thread is one thread's CPU "
                       "time per iteration, of the fastest repetition where there were several\n"
                       "   (about N times the aggregate when they ran at once)")
    else:
        notes_after = ""
    if show_fastest:
        notes_after += ("\n" if notes_after else "") + (
            "   fastest: the quickest repetition, the figure that repeats from run to run "
            "(interference only adds time);\n   median and spread show what this run met")
    if show_spread:
        notes_after += ("\n" if notes_after else "") + (
            "   spread: (largest - smallest) / median of the repetitions")
    if show_runs:
        notes_after += ("\n" if notes_after else "") + (
            "   runs apart: (largest - smallest) / median of the fastest figures of the "
            "separate runs")
    left_out: list[str] = []
    # The counters first (right to left), then the repetition count and the cycle columns:
    # the median, p99 and per-thread figures stay.
    droppable = counter_names[::-1] + [h for h in ("reps", "cycles p99", "cycles p50")
                                       if h in headers]
    while width is not None and max(map(len, text.splitlines())) > width and droppable:
        name = droppable.pop(0)
        i = headers.index(name)
        left_out.insert(0, name)
        for cells in [headers, right] + table_rows:
            del cells[i]
        text = ui.table(headers, table_rows, right, max_width=cut)
    if notes_after:
        text += "\n" + notes_after
    if left_out:
        note = (f"({len(left_out)} column{'s' if len(left_out) > 1 else ''} left out to fit "
                f"{width}: {', '.join(left_out)}; --wide shows them)")
        text += "\n" + textwrap.fill(note, width or 120, initial_indent="   ",
                                     subsequent_indent="   ")
    return text


# The host row that shows a disturbed machine (bench/host/pmm_bench.cc): wide arithmetic
# that a busy sibling hyperthread slows and nothing in the memory manager touches.
DISTURBANCE_ROW = "BM_calibration_throughput/real_time/threads:1"
# Its median this much above its fastest repetition: a quiet run (the same kind of loop in
# quiet moments: 0.3 to 0.7 %; in disturbed ones 25 to 37 %).
QUIET_PERCENT = 3.0


def disturbance_line(doc: dict) -> str:
    """One line on how disturbed the machine was during a run with repetitions, or ""."""
    entries = [e for e in doc.get("benchmarks", [])
               if (e.get("run_name") or e.get("name")) == DISTURBANCE_ROW]
    row = next(iter(rows({"benchmarks": entries})), None)
    if row is None or not row.fastest or row.median is None:
        return ""
    above = (row.median - row.fastest) / row.fastest * 100
    verdict = ("quiet" if above <= QUIET_PERCENT else
               "disturbed: medians are inflated, compare the fastest figures")
    return (f"machine: {verdict} (the throughput calibration's median is {above:.1f}% above "
            f"its fastest repetition; quiet is {QUIET_PERCENT:g}% or less)")


def _family_order(all_rows: list[Row]) -> dict[str, int]:
    order: dict[str, int] = {}
    for r in all_rows:
        order.setdefault(r.family, len(order))
    return order


def context_line(doc: dict) -> str:
    """What the document says about the machine it ran on (Google Benchmark's context, plus
    the free-text "machine" our benchmarks add)."""
    ctx = doc.get("context") if isinstance(doc.get("context"), dict) else {}
    parts = []
    if isinstance(ctx.get("machine"), str):
        parts.append(ctx["machine"])
    if "num_cpus" in ctx:
        parts.append(f"{ctx['num_cpus']} CPU{'' if ctx['num_cpus'] == 1 else 's'}")
    if "mhz_per_cpu" in ctx:
        parts.append(f"{ctx['mhz_per_cpu']} MHz")
    return ", ".join(parts)


def fmt_ratio(x: float) -> str:
    """A ratio ours/Linux: two decimals, or two significant digits below 0.1, so that a row
    far below Linux does not read 0.00."""
    return f"{x:.2f}" if x >= 0.1 else f"{x:.2g}"

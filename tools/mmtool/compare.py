"""Comparing two sets of benchmark results: the samples each result file holds, the verdict
per benchmark, and the table `tools/mm compare` prints.

Two kinds of figures, judged differently:

- noisy ones (host benchmarks, kernel runs in real time): one value per repetition on each
  side, compared by the two-sided Mann-Whitney U test (stats.mann_whitney). The verdict is
  "faster" or "slower" only when p < alpha; otherwise "no change".
- exact ones (kernel benchmarks under icount, callgrind instruction counts): the same
  commit gives the same figure every time, so there is nothing to test: any difference is a
  real one, and no difference is no change.

Either way a benchmark is a regression when it got slower by more than the threshold (and,
for noisy figures, with p < alpha); `tools/mm compare` exits 1 when there is one.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import extract, filters, paths, report, stats, ui

_TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Fixed-iteration runs (MM_BENCH_ITERATIONS, callgrind) carry the count in their name.
_ITERATIONS_IN_NAME = re.compile(r"/iterations:\d+")


@dataclass
class Series:
    """One benchmark's figures from one result file: one value per repetition."""
    name: str
    values: list[float]
    unit: str
    metric: str = "real_time"


@dataclass
class ResultSet:
    """One result file (host.json, kernel.json, callgrind.json...)."""
    key: str                 # the file's stem: "host", "kernel", "callgrind"
    path: Path
    exact: bool              # figures repeat exactly: no statistics needed
    metric: str              # what the values are
    series: dict[str, Series] = field(default_factory=dict)
    context: dict = field(default_factory=dict)
    machine: str = ""        # report.disturbance_line: was the machine quiet while it ran


def is_exact(doc: dict) -> bool:
    """Our kernel's runs under icount and callgrind counts repeat exactly; everything else is
    a measurement with noise in it. Linux under the same icount settings (linux.json, whose
    context has "linux") is not exact: it randomises its layout and takes timer interrupts
    (docs/benchmarks.md, Linux side by side)."""
    ctx = doc.get("context") if isinstance(doc.get("context"), dict) else {}
    run = ctx.get("mm_run") if isinstance(ctx.get("mm_run"), dict) else {}
    if "linux" in ctx:
        return False
    return bool(run.get("icount")) or "mm_callgrind" in ctx


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def pick_metric(entries: list[dict], metric: str) -> str:
    """The figure to compare for one benchmark's entries. "auto": instructions per iteration
    where callgrind counted them, else the median latency p50_ns where the benchmark
    measured one (what `tools/mm report` shows as its median), else Google Benchmark's
    real_time per iteration."""
    if metric != "auto":
        return metric
    keys = set().union(*(e.keys() for e in entries)) if entries else set()
    for candidate in ("instructions_per_iteration", "p50_ns"):
        if candidate in keys:
            return candidate
    return "real_time"


def _value(entry: dict, metric: str) -> tuple[float, str] | None:
    v = entry.get(metric)
    if not _number(v):
        return None
    if metric in ("real_time", "cpu_time"):
        return float(v) * _TO_NS.get(entry.get("time_unit", "ns"), 1.0), "ns"
    if metric.endswith("_ns"):
        return float(v), "ns"
    if metric.startswith("instructions"):
        return float(v), "instr"
    return float(v), ""


def samples(doc: dict, metric: str = "auto") -> tuple[str, dict[str, Series]]:
    """(metric used, {benchmark: Series}) from a Google Benchmark document: every repetition
    of a benchmark (run_type "iteration") is one value. Aggregates (mean, median, stddev...)
    are not samples and are left out, except that a benchmark reported by its aggregates
    alone (--benchmark_report_aggregates_only) gives its median as its one value. Runs that
    failed are left out. Names lose "/iterations:N", so fixed-iteration runs match. Benchmarks
    come in the order their program registered them where it says (report.registration_key)."""
    groups: dict[str, list[dict]] = {}
    for e in doc.get("benchmarks", []):
        if not isinstance(e, dict) or e.get("error_occurred"):
            continue
        name = _ITERATIONS_IN_NAME.sub("", str(e.get("run_name") or e.get("name", "?")))
        groups.setdefault(name, []).append(e)
    result: dict[str, Series] = {}
    used: list[str] = []
    # In the order the program registered them: interleaved repetitions come out shuffled.
    for name, entries in sorted(groups.items(), key=lambda g: report.registration_key(g[1][0])):
        chosen = [e for e in entries if e.get("run_type") != "aggregate"]
        if not chosen:
            chosen = [e for e in entries if e.get("aggregate_name") == "median"]
        which = pick_metric(chosen, metric)  # per benchmark: not all measure p50_ns
        values = [v for v in (_value(e, which) for e in chosen) if v is not None]
        if values:
            result[name] = Series(name, [v for v, _ in values], values[0][1], which)
            if which not in used:
                used.append(which)
    return " or ".join(used) or metric, result


def load_file(path: Path, metric: str = "auto") -> ResultSet:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ui.Fatal(f"{path}: cannot read benchmark results: {e}") from None
    problem = extract.check_schema(doc)
    if problem:
        raise ui.Fatal(f"{path}: {problem}")
    used, series = samples(doc, metric)
    ctx = doc.get("context") if isinstance(doc.get("context"), dict) else {}
    return ResultSet(path.stem, path, is_exact(doc), used, series, ctx,
                     report.disturbance_line(doc))


def load(target: Path, metric: str = "auto") -> dict[str, ResultSet]:
    """Every result file in a results folder (or the one file given), by key. Files that are
    not benchmark results in Google Benchmark's schema are passed over with a warning."""
    if target.is_file():
        return {target.stem: load_file(target, metric)}
    sets = {}
    for path in sorted(target.glob("*.json")):
        if path.name == paths.SUMMARY_FILE:
            continue
        try:
            sets[path.stem] = load_file(path, metric)
        except ui.Fatal as e:
            ui.warn(f"skipped: {e.message}")
    return sets


# ---------------------------------------------------------------------------------------
# Verdicts

@dataclass
class Row:
    name: str
    a: stats.Summary
    b: stats.Summary
    unit: str
    figure_a: float            # each side's figure, by the estimator (estimate())
    figure_b: float
    change: float | None       # (figure_b - figure_a) / |figure_a|
    pvalue: float | None       # None: exact figures, or too few repetitions for the test
    verdict: str               # "faster", "slower", "no change", "n/a"
    regression: bool           # slower beyond the threshold (with p < alpha if noisy)
    metric: str = ""


# Measured medians closer than this are the same: each host run measures the TSC frequency
# afresh, so the same tick count converts to ns differing in the fifth digit (182 ticks were
# 70.1047 ns in one run and 70.1052 in the next), which the U test calls significant.
RESOLUTION = 0.001


def lower_is_better(metric: str) -> bool:
    """Times and instruction counts; rates (items_per_second...) are the other way round."""
    return not metric.endswith("per_second")


# How one side's repetitions become the figure compared. "median": the middle repetition.
# "fastest": the best one (the smallest time, the largest rate): on a shared machine
# interference only ever adds time, in bursts that can double a figure for seconds, so the
# best of many short repetitions is what repeats between runs while the median moves with
# the share of the run the bursts covered (docs/benchmarks.md, "Host figures that repeat").
# Exact figures are the same either way.
ESTIMATORS = ("fastest", "median")


def estimate(values: list[float], estimator: str, lower_better: bool = True) -> float:
    if estimator == "median":
        return stats.median(values)
    if estimator == "fastest":
        return float(min(values) if lower_better else max(values))
    raise ValueError(f"unknown estimator {estimator!r}")


def judge(a: list[float], b: list[float], exact: bool, threshold: float,
          alpha: float = stats.ALPHA, lower_better: bool = True,
          estimator: str = "median") -> tuple[str, float | None, bool]:
    """(verdict, p-value, regression) for one benchmark; threshold is a fraction (0.05).
    The direction and size of the change are the estimator's; the U test, over every
    repetition, says whether the sides differ at all."""
    ma, mb = estimate(a, estimator, lower_better), estimate(b, estimator, lower_better)
    change = stats.relative_change(ma, mb)
    worse = (mb > ma) if lower_better else (mb < ma)
    direction = "slower" if worse else "faster"
    beyond = change is None or abs(change) > threshold
    if exact:
        if ma == mb:
            return "no change", None, False
        return direction, None, worse and beyond
    test = stats.mann_whitney(a, b)
    if test is None:
        return "n/a", None, False
    if change is not None and abs(change) < RESOLUTION:
        return "no change", test.pvalue, False
    if test.pvalue < alpha and ma != mb:
        # The estimator gives the direction, the ranks of every repetition the evidence; a
        # verdict needs both to agree. Bursts on one side can make the ranks differ one way
        # while the fastest repetitions differ the other (U1 is A's count of pairs in which
        # A is the larger: above half of them, A ranks slower).
        a_ranks_larger = test.u > len(a) * len(b) / 2
        b_ranks_worse = not a_ranks_larger if lower_better else a_ranks_larger
        if b_ranks_worse != worse:
            return "no change", test.pvalue, False
        return direction, test.pvalue, worse and beyond
    return "no change", test.pvalue, False


def name_matcher(name_filter: str | None):
    """The names --filter selects (filters.py: one language everywhere)."""
    return filters.matcher(name_filter)


def compare_sets(a: ResultSet, b: ResultSet, threshold: float,
                 alpha: float = stats.ALPHA, name_filter: str | None = None,
                 estimator: str = "median") -> list[Row]:
    """One row per benchmark present on both sides (and matching name_filter), in A's
    order."""
    exact = a.exact and b.exact
    wanted = name_matcher(name_filter)
    rows = []
    for name, sa in a.series.items():
        sb = b.series.get(name)
        if sb is None or sb.metric != sa.metric or not wanted(name):
            continue
        lower = lower_is_better(sa.metric)
        verdict, p, regression = judge(sa.values, sb.values, exact, threshold, alpha, lower,
                                       estimator)
        fa, fb = estimate(sa.values, estimator, lower), estimate(sb.values, estimator, lower)
        rows.append(Row(name, stats.summarize(sa.values), stats.summarize(sb.values),
                        sa.unit, fa, fb, stats.relative_change(fa, fb), p, verdict, regression,
                        sa.metric))
    return rows


# ---------------------------------------------------------------------------------------
# The table

def _cell(figure: float, s: stats.Summary, exact: bool) -> str:
    text = report.fmt(figure)
    if not exact and s.n > 1 and s.iqr_rel is not None:
        text += f" ±{s.iqr_rel * 50:.1f}%"  # half the interquartile range, around the median
    return text


def _pct(change: float | None) -> str:
    if change is None:
        return "-"
    return f"{change * 100:+.2f}%"


def render(rows: list[Row], exact: bool) -> str:
    show_metric = len({r.metric for r in rows}) > 1
    headers = ["benchmark", "A", "B", "unit"] + (["figure"] if show_metric else []) + [
        "change", "p-value", "verdict"]
    right = [False, True, True, False] + ([False] if show_metric else []) + [True, True, False]
    cells = []
    for r in rows:
        p = "exact" if exact else ("-" if r.pvalue is None else f"{r.pvalue:.4f}")
        verdict = r.verdict + (" !" if r.regression else "")
        cells.append([r.name, _cell(r.figure_a, r.a, exact), _cell(r.figure_b, r.b, exact),
                      r.unit]
                     + ([r.metric] if show_metric else []) + [_pct(r.change), p, verdict])
    return ui.table(headers, cells, right)


def describe_set(a: ResultSet, b: ResultSet, alpha: float, threshold: float,
                 estimator: str = "median") -> str:
    """The line above a table: what is compared and how to read it."""
    if a.exact and b.exact:
        text = (f"{a.metric}: exact figures (the same build gives the same count every "
                f"run): any difference is real; ! marks more than {threshold * 100:g}% worse")
        its = [s.context.get("mm_callgrind", {}).get("iterations") for s in (a, b)]
        if its[0] != its[1]:
            text += (f"\n   warning: counted with {its[0]} and {its[1]} iterations: each "
                     "benchmark's setup is divided by different numbers")
        return text
    n_a = min((len(s.values) for s in a.series.values()), default=0)
    n_b = min((len(s.values) for s in b.series.values()), default=0)
    figure = ("fastest repetition" if estimator == "fastest"
              else "median of the repetitions")
    # (the ± is the repetitions' spread, around their median, whichever figure is shown)
    text = (f"{a.metric}: {figure} ±half the interquartile range of the repetitions; "
            f"Mann-Whitney U two-sided over every repetition, alpha {alpha:g}; ! marks p < "
            f"alpha and the {figure} more than {threshold * 100:g}% worse")
    if a.exact != b.exact:
        text += "\n   (one side is exact, the other measured: compared as measured)"
    for side, result in (("A", a), ("B", b)):
        if result.machine:
            text += f"\n   {side}'s {result.machine}"
    if n_a >= stats.UTEST_MIN and n_b >= stats.UTEST_MIN:
        reachable = stats.min_pvalue(n_a, n_b)
        if reachable >= alpha:
            text += (f"\n   warning: with {n_a} and {n_b} repetitions the U test cannot go "
                     f"below p = {reachable:.3f}: nothing can be significant; re-run with "
                     f"more (tools/mm compare --rerun --repetitions {stats.UTEST_OPTIMAL})")
        elif min(n_a, n_b) < stats.UTEST_OPTIMAL:
            text += (f"\n   {n_a} and {n_b} repetitions: Google Benchmark calls "
                     f"{stats.UTEST_OPTIMAL} the lowest reasonable number")
    elif a.series and b.series:
        text += "\n   a single run on one side: no U test possible (verdict n/a)"
    return text

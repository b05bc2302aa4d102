"""Instructions per iteration of the host benchmarks, counted by valgrind's callgrind: the one
host figure that does not move with machine noise. `tools/mm bench --callgrind` stores it as
results/<commit>/callgrind.json (Google Benchmark's schema, so `tools/mm report` shows it and
`tools/mm compare` compares it as an exact figure).

How:
- A fixed iteration count. A count divided by iterations repeats only if the iterations do,
  and Google Benchmark picks them by timing. Debian 12's libbenchmark 1.7.1 has no
  --benchmark_min_time=Nx (1.8 has), so the benchmark program honours MM_BENCH_ITERATIONS=N
  (bench/host/fixed_iterations.cc). A build from before that file ignores the variable; that
  shows in its JSON (iterations != N) and its counts are refused.
- A subset: the single-thread benchmarks (threads on valgrind run one at a time, in an order
  that is not repeatable), less those whose iteration took longer than SLOW_NS in the
  measured run beside it (under callgrind everything runs some 50 times slower).
- Each benchmark function's own cost. callgrind dumps its counters on entry to every
  function named BM_*(benchmark::State&) (--dump-before); the dump after holds that call's
  inclusive cost on the call edge into the function, which is read from the file
  (parse_calls), not the dump's total, so Google Benchmark's own work between runs stays out.
  The count includes the function's setup before its timing loop, divided by N with the rest.
- Debian 12's valgrind 3.19 cannot read the DWARF 5 that clang 14 writes; it runs a copy of
  the program without debug information (llvm-objcopy --strip-debug), which has the same code.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import filters, paths, runner, ui

DEFAULT_ITERATIONS = 100
SLOW_NS = 2e6         # per iteration, in the measured run: above it a benchmark is left out
# Our benchmark functions; one call is one run of one benchmark with N iterations.
BENCH_FUNCTION = "*BM_*(benchmark::State&)"
# Measuring code inside them whose work depends on the figures measured: sorting the TSC
# samples (bench/host/latency.h) takes more or fewer steps with their order. Its inclusive
# cost is taken out of the count, which otherwise moved by a few hundred instructions.
EXCLUDED = "LatencyRecorder::*"
# A benchmark that starts a thread of its own (BM_shootdown_unmap's "active:2") waits for it
# by spinning, and how long depends on how valgrind schedules the two: its count moved by
# 2.7x between two runs. Such benchmarks are left out (and listed in the context).
THREAD_START = "*pthread_create*"
_THREADS = re.compile(r"/threads:(\d+)")
_ITERATIONS = re.compile(r"/iterations:\d+")


@dataclass
class Call:
    """A call edge into a benchmark function found in one dump file."""
    function: str      # as callgrind names it: "(anonymous namespace)::BM_x(benchmark::State&)"
    instructions: int  # inclusive Ir of the call
    part: int          # the dump's part number (order of the dumps)
    threaded: bool = False  # started a thread: the count is not repeatable


def function_family(function: str) -> str:
    """"(anonymous namespace)::BM_x(benchmark::State&)" -> "BM_x"."""
    return function.split("(benchmark::State&)")[0].split("::")[-1]


def parse_summary(text: str) -> int | None:
    """The first event's total (Ir) of a callgrind output file: its `summary:` line, or
    `totals:` where summary is missing."""
    for key in ("summary:", "totals:"):
        for line in text.splitlines():
            if line.startswith(key):
                fields = line[len(key):].split()
                return int(fields[0]) if fields else None
    return None


def parse_calls(text: str, pattern: re.Pattern[str]) -> list[Call]:
    """Call edges into functions whose name matches `pattern`, with their inclusive Ir.

    Expects the file written with --compress-strings=no (names in full on every line). In
    callgrind's format a call is three lines: `cfn=NAME`, `calls=COUNT TARGET`, then the
    call-site position(s) followed by the inclusive costs, the first being Ir (`events:`
    says which comes first; only Ir is collected here)."""
    part = 0
    events: list[str] = []
    lines = text.splitlines()
    calls: list[Call] = []
    for i, line in enumerate(lines):
        if line.startswith("part:"):
            part = int(line.split()[1])
        elif line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith("cfn="):
            name = line[4:].strip()
            name = re.sub(r"^\(\d+\)\s*", "", name)  # tolerate compressed "(id) name"
            if not pattern.search(name):
                continue
            if i + 2 >= len(lines) or not lines[i + 1].startswith("calls="):
                continue
            cost = lines[i + 2].split()
            # Positions come first: one per position kind ("line", or "instr line").
            npos = len(cost) - max(len(events), 1)
            index = npos + (events.index("Ir") if "Ir" in events else 0)
            if 0 <= index < len(cost):
                calls.append(Call(name, int(cost[index]), part))
    return calls


def own_costs(text: str) -> list[Call]:
    """The benchmark call of one dump file, less what EXCLUDED functions cost in it. A file
    holds at most one: each dump starts as a benchmark function is entered."""
    calls = parse_calls(text, _glob_to_regex(BENCH_FUNCTION))
    if len(calls) > 1:
        raise ui.Fatal(f"callgrind: one dump holds {len(calls)} benchmark calls "
                       f"({', '.join(c.function for c in calls)}); expected one")
    excluded = sum(c.instructions for c in parse_calls(text, _glob_to_regex(EXCLUDED)))
    total = parse_summary(text)
    for c in calls:
        if total is not None and c.instructions > total:
            raise ui.Fatal(f"callgrind: the call to {c.function} costs {c.instructions} "
                           f"instructions in a dump whose total is {total}: misread file")
    threaded = bool(parse_calls(text, _glob_to_regex(THREAD_START)))
    return [Call(c.function, c.instructions - excluded, c.part, threaded) for c in calls]


def strip_iterations(name: str) -> str:
    return _ITERATIONS.sub("", name)


def _glob_to_regex(glob: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in glob.split("*")) + "$")


def select(names: list[str], measured: dict | None) -> list[str]:
    """The single-thread benchmarks, less those slower than SLOW_NS per iteration in the
    measured run `measured` (host.json) when there is one, by their fastest repetition (a
    burst on a shared machine can double one)."""
    slow = set()
    if measured:
        unit = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
        fastest: dict[str, float] = {}
        for e in measured.get("benchmarks", []):
            t = e.get("real_time")
            if isinstance(t, (int, float)) and e.get("run_type") != "aggregate":
                name = strip_iterations(str(e.get("run_name") or e.get("name")))
                ns = t * unit.get(e.get("time_unit", "ns"), 1)
                fastest[name] = min(ns, fastest.get(name, ns))
        slow = {name for name, ns in fastest.items() if ns > SLOW_NS}
    chosen = []
    for n in names:
        m = _THREADS.search(n)
        if m and int(m.group(1)) != 1:
            continue
        if strip_iterations(n) in slow:
            continue
        chosen.append(n)
    return chosen


def list_benchmarks(binary: Path, filter_text: str | None, env: dict) -> list[str]:
    """The names as the program runs them under `env` (with "/iterations:N" in them)."""
    argv = [str(binary), "--benchmark_list_tests"]
    if filter_text:
        argv.append(filters.host_argument(filter_text, binary, env))
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          check=False, env=env)
    if proc.returncode != 0:
        raise ui.Fatal(f"{binary} --benchmark_list_tests failed: {proc.stderr.strip()[-300:]}")
    return [l.strip() for l in proc.stdout.splitlines() if l.strip()]


def to_document(calls: list[Call], runs: list[dict], iterations: int, context: dict) -> dict:
    """callgrind.json: one entry per benchmark, calls and runs matched in order (Google
    Benchmark runs them in the order it lists them, one call each)."""
    if len(calls) != len(runs):
        raise ui.Fatal(f"callgrind: {len(calls)} benchmark calls counted but {len(runs)} "
                       "runs reported; cannot tell which count is whose")
    benchmarks = []
    left_out = []
    for call, run in zip(calls, runs):
        name = run.get("run_name") or run.get("name")
        family = str(name).split("/")[0]
        if function_family(call.function) != family:
            raise ui.Fatal(f"callgrind: the call to {call.function} does not belong to {name}")
        if int(run.get("iterations", 0)) != iterations:
            raise ui.Fatal(f"callgrind: {name} ran {run.get('iterations')} iterations, not "
                           f"{iterations}: this build of the host benchmarks does not honour "
                           "MM_BENCH_ITERATIONS (bench/host/fixed_iterations.cc)")
        name = strip_iterations(str(name))
        if call.threaded:
            left_out.append(name)
            continue
        benchmarks.append({
            "name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
            "repetition_index": 0, "threads": 1, "iterations": iterations,
            "instructions": call.instructions,
            "instructions_per_iteration": call.instructions / iterations,
        })
    if left_out:
        context = dict(context, mm_callgrind=dict(context.get("mm_callgrind", {}),
                                                  left_out_threaded=left_out))
    return {"context": context, "benchmarks": benchmarks}


def run(binary: Path, outdir: Path, iterations: int = DEFAULT_ITERATIONS,
        filter_text: str | None = None, measured: dict | None = None, commit: str = "",
        timeout: float = 3600, echo: bool = False) -> dict:
    """Counts, writes outdir/callgrind.json and returns its document. Raises ui.Fatal."""
    if shutil.which("valgrind") is None:
        raise ui.Fatal("valgrind not found: run tools/mm deps")
    env = dict(os.environ, MM_BENCH_ITERATIONS=str(iterations))
    names = select(list_benchmarks(binary, filter_text, env), measured)
    if not names:
        raise ui.Fatal("callgrind: no single-thread benchmark to count")
    if not all(_ITERATIONS.search(n) for n in names):
        raise ui.Fatal(f"callgrind: {paths.rel(binary)} does not honour MM_BENCH_ITERATIONS "
                       "(bench/host/fixed_iterations.cc, missing in builds before it): its "
                       "iteration counts, and so its counts per iteration, would not repeat")
    work = paths.out_dir() / "callgrind" / (commit or "run")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    copy = work / binary.name
    r = subprocess.run(["llvm-objcopy", "--strip-debug", str(binary), str(copy)],
                       stderr=subprocess.PIPE, text=True, check=False)
    if r.returncode != 0:
        raise ui.Fatal(f"llvm-objcopy --strip-debug {binary} failed: {r.stderr.strip()}")
    pattern = "|".join(re.escape(n) for n in names)
    out_json = work / "runs.json"
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={work}/callgrind.out",
            "--compress-strings=no", "--compress-pos=no", f"--dump-before={BENCH_FUNCTION}",
            str(copy), f"--benchmark_filter=^({pattern})$", "--benchmark_repetitions=1",
            f"--benchmark_out={out_json}", "--benchmark_out_format=json"]
    log = outdir / "callgrind.log"
    ui.step(f"callgrind: {len(names)} single-thread benchmarks, {iterations} iterations each; "
            f"log {paths.rel(log)}")
    res = runner.run(argv, log, timeout, echo=echo, env=env)
    if res.status != 0 or not out_json.exists():
        why = "time limit reached" if res.timed_out else f"exit status {res.status}"
        raise ui.Fatal(f"callgrind run failed ({why}); see {paths.rel(log)}")
    runs = [e for e in json.loads(out_json.read_text(encoding="utf-8"))["benchmarks"]
            if e.get("run_type") != "aggregate"]
    calls = sorted((c for f in work.glob("callgrind.out*")
                    for c in own_costs(f.read_text(encoding="utf-8", errors="replace"))),
                   key=lambda c: c.part)
    context = {"mm_callgrind": {
        "commit": commit, "iterations": iterations, "tool": _valgrind_version(),
        "counts": "instructions executed (Ir) in each benchmark function, its setup included, "
                  "divided by the fixed iteration count",
    }}
    doc = to_document(calls, runs, iterations, context)
    (outdir / "callgrind.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return doc


def _valgrind_version() -> str:
    try:
        return subprocess.run(["valgrind", "--version"], stdout=subprocess.PIPE, text=True,
                              check=False).stdout.strip()
    except FileNotFoundError:
        return "valgrind (not found)"


def bench_section(args, commit: str, outdir: Path) -> tuple[bool, tuple[str, str, dict | None]]:
    """`tools/mm bench --callgrind`: (ok, report section). Uses host.json of the same run,
    when there is one, to leave out the slowest benchmarks."""
    measured = None
    try:
        measured = json.loads((outdir / "host.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        pass
    title = f"callgrind (instructions per iteration, {args.callgrind_iterations} iterations)"
    try:
        doc = run(paths.host_bench(), outdir, args.callgrind_iterations, args.filter, measured,
                  commit, echo=not args.quiet)
    except ui.Fatal as e:
        ui.warn(f"callgrind: {e.message}")
        return False, (title, "", None)
    note = ("exact: the same build counts the same every run; each benchmark function's "
            "setup is divided in;\n   a rep-prefixed instruction counts once per iteration "
            "(rep stosb: once per byte)")
    left_out = doc["context"]["mm_callgrind"].get("left_out_threaded")
    if left_out:
        note += f"\n   left out, they start threads of their own: {', '.join(left_out)}"
    return True, (title, note, doc)

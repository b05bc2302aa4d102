"""`tools/mm compare [A] [B]`: benchmark results of two commits side by side, with a verdict
per benchmark (compare.py) and exit status 1 when one got slower beyond the threshold.

A and B are commits (anything `git rev-parse` accepts; default HEAD~1 and HEAD) or result
files or folders. A commit whose results/<commit>/ holds nothing yet is checked out in a
worktree of its own (<build folder>/worktrees/<commit>) and benchmarked there by that
commit's own `tools/mm bench`, with enough repetitions for the U test; its results are
stored in this checkout's results/<commit>/ (MM_RESULTS; a commit whose tools predate that
variable leaves them in the worktree, and they are copied over).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import callgrind, cmd_bench, compare, deps, notes, paths, runner, ui

# What tools/mm bench runs by default: enough for the U test (5 against 5 can reach
# p = 0.008; 3 against 3 never below 0.1) and for the fastest repetition to miss the bursts.
DEFAULT_REPETITIONS = cmd_bench.HOST_REPETITIONS


@dataclass
class Side:
    spec: str              # as given
    commit: str | None     # short commit, when spec named one
    path: Path             # results folder or file

    @property
    def label(self) -> str:
        if self.commit is None:
            return paths.rel(self.path)
        return self.commit if self.spec == self.commit else f"{self.spec} = {self.commit}"


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(paths.ROOT), *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=False)


def resolve(spec: str) -> Side:
    """A result file or folder when one exists at that path; otherwise a commit."""
    p = Path(spec)
    if p.exists():
        return Side(spec, None, p.resolve())
    r = _git("rev-parse", "--verify", "--quiet", "--short", f"{spec}^{{commit}}")
    if r.returncode != 0 or not r.stdout.strip():
        raise ui.Fatal(f"{spec!r} is neither a result file or folder nor a commit "
                       "(git rev-parse does not know it)")
    commit = r.stdout.strip()
    return Side(spec, commit, paths.results_dir() / commit)


def has_results(folder: Path) -> bool:
    return folder.is_dir() and any(p.name != paths.SUMMARY_FILE for p in folder.glob("*.json"))


def worktree_dir(commit: str) -> Path:
    return paths.out_dir() / "worktrees" / commit


def ensure_worktree(commit: str) -> Path:
    wt = worktree_dir(commit)
    if (wt / ".git").exists():
        return wt
    _git("worktree", "prune")  # forget worktrees whose folders were deleted
    wt.parent.mkdir(parents=True, exist_ok=True)
    ui.step(f"git worktree add {paths.rel(wt)} {commit}")
    r = _git("worktree", "add", "--detach", "--force", str(wt), commit)
    if r.returncode != 0:
        raise ui.Fatal(f"git worktree add failed: {r.stderr.strip()}")
    return wt


def _child_env() -> dict:
    """The worktree's tools/mm must build in its own out/ (not ours: MM_OUT goes) and store
    into our results/."""
    env = {k: v for k, v in os.environ.items() if k not in ("MM_OUT", "MM_RESULTS")}
    env["MM_RESULTS"] = str(paths.results_dir())
    return env


def bench_commit(commit: str, args) -> None:
    """Runs `tools/mm bench` of the commit in its worktree; its results end up in ours."""
    wt = ensure_worktree(commit)
    argv = [str(wt / "tools" / "mm"), "bench", "--repetitions", str(args.repetitions)]
    if args.filter:
        argv += ["--filter", args.filter]
    if args.no_kernel:
        argv.append("--no-kernel")
    if args.no_host:
        argv.append("--no-host")
    argv += getattr(args, "bench_args", None) or []
    log = paths.logs_dir() / f"compare-bench-{commit}.log"
    ui.step(f"benchmarking {commit} in {paths.rel(wt)}: {' '.join(argv[1:])} "
            f"(log {paths.rel(log)})")
    r = runner.run(argv, log, args.bench_timeout, echo=not args.quiet, env=_child_env())
    if r.status != 0:
        ui.warn(f"{commit}: tools/mm bench exited with {r.status}; see {paths.rel(log)}")
    collect(commit, wt)


def collect(commit: str, wt: Path) -> None:
    """Copies the worktree's own results/<commit>/ into ours when its tools stored them
    there (tools from before MM_RESULTS)."""
    dest = paths.results_dir() / commit
    if has_results(dest):
        return
    for name in (commit, f"{commit}-dirty"):
        src = wt / "results" / name
        if has_results(src):
            if name != commit:
                ui.warn(f"{commit}: its worktree reported itself as {name}")
            shutil.copytree(src, dest, dirs_exist_ok=True)
            return
    raise ui.Fatal(f"{commit}: tools/mm bench left no results (looked in {paths.rel(dest)} "
                   f"and {paths.rel(wt / 'results')})")


def built_host_bench(commit: str, args) -> Path:
    """The commit's host benchmark program, built in its worktree by its own tools."""
    wt = ensure_worktree(commit)
    binary = wt / "out" / "host_bench"
    if not binary.exists():
        log = paths.logs_dir() / f"compare-build-{commit}.log"
        ui.step(f"building {commit} in {paths.rel(wt)} (log {paths.rel(log)})")
        r = runner.run([str(wt / "tools" / "mm"), "build"], log, args.bench_timeout,
                       echo=not args.quiet, env=_child_env())
        if r.status != 0 or not binary.exists():
            raise ui.Fatal(f"{commit}: the build failed; see {paths.rel(log)}")
    return binary


def ensure(side: Side, args) -> None:
    """Benchmarks a commit that has no stored results (or all of them, with --rerun); adds
    callgrind counts with --callgrind."""
    if side.commit is None:
        if not side.path.exists():
            raise ui.Fatal(f"no results at {side.path}")
        return
    if args.machine and args.machine != notes.this_machine():
        # Another machine's results: from the notes, into a cache folder of their own, never
        # measured here.
        side.path = paths.results_dir() / side.commit / "machines" / args.machine
        if notes.restore(side.commit, args.machine, side.path):
            ui.info(f"{side.commit}: results of machine {args.machine} from git notes {notes.REF}")
        elif not has_results(side.path):
            raise ui.Fatal(f"{side.commit}: git notes {notes.REF} hold no results of machine "
                           f"{args.machine} (they have: "
                           f"{', '.join(notes.machines(side.commit)) or 'none'})")
        return
    if not args.rerun and not has_results(side.path):
        # Another clone of this machine's may have measured it: the notes travel.
        if notes.restore(side.commit, notes.this_machine(), side.path):
            ui.info(f"{side.commit}: results of this machine from git notes {notes.REF}")
    rerun = args.rerun or not has_results(side.path)
    if rerun:
        bench_commit(side.commit, args)
    if args.callgrind and (rerun or not (side.path / "callgrind.json").exists()):
        try:
            binary = built_host_bench(side.commit, args)
            measured = None
            if (side.path / "host.json").exists():
                measured = json.loads((side.path / "host.json").read_text(encoding="utf-8"))
            callgrind.run(binary, side.path, args.callgrind_iterations, args.filter, measured,
                          side.commit, echo=not args.quiet)
        except ui.Fatal as e:
            ui.warn(f"{side.commit}: no callgrind counts: {e.message}")


def cmd_compare(args) -> int:
    """Exit status 0: no regression; 1: a regression; 2: no comparison could be made."""
    try:
        return _compare(args)
    except ui.Fatal as e:
        raise ui.Fatal(e.message, code=2) from None


def _compare(args) -> int:
    if not 0 <= args.threshold < 100:
        raise ui.Fatal("--threshold is a percentage between 0 and 100")
    a, b = resolve(args.a), resolve(args.b)
    deps.ensure()  # SciPy for the U test; valgrind for --callgrind
    for side in (a, b):
        ensure(side, args)
    sets_a = compare.load(a.path, args.metric)
    sets_b = compare.load(b.path, args.metric)
    threshold = args.threshold / 100.0
    ui.out(f"== compare A: {a.label}  B: {b.label}")
    figures = ("fastest repetitions" if args.estimate == "fastest" else "medians")
    ui.out(f"   change = (B - A) / A of the {figures}; threshold {args.threshold:g}%")
    regressions: list[str] = []
    common = [k for k in sets_a if k in sets_b]
    if not common:
        raise ui.Fatal(f"no result file in common: A has {sorted(sets_a) or 'none'}, "
                       f"B has {sorted(sets_b) or 'none'}")
    for key in common:
        sa, sb = sets_a[key], sets_b[key]
        rows = compare.compare_sets(sa, sb, threshold, args.alpha, args.filter, args.estimate)
        ui.out()
        ui.out(f"-- {key} ({sa.path.name})")
        ui.out(f"   {compare.describe_set(sa, sb, args.alpha, threshold, args.estimate)}")
        if not rows:
            ui.out("   (no benchmark in common)")
            continue
        ui.out(compare.render(rows, sa.exact and sb.exact))
        wanted = compare.name_matcher(args.filter)
        only_a = [n for n in sa.series if n not in sb.series and wanted(n)]
        only_b = [n for n in sb.series if n not in sa.series and wanted(n)]
        if only_a or only_b:
            ui.out(f"   only in A: {len(only_a)}, only in B: {len(only_b)} (not compared)")
        regressions += [f"{key}: {r.name} {r.change * 100:+.1f}%" if r.change is not None
                        else f"{key}: {r.name}" for r in rows if r.regression]
    for key in sorted(set(sets_a) ^ set(sets_b)):
        where = "A" if key in sets_a else "B"
        ui.out(f"\n-- {key}: only {where} has it (not compared)")
    if args.plot:
        from . import plots
        for path in plots.distribution(a, b, sets_a, sets_b, paths.out_dir() / "plots",
                                       args.filter):
            ui.info(f"plot: {paths.rel(path)}")
    ui.out()
    if regressions:
        ui.out(f"REGRESSION: {len(regressions)} benchmark(s) slower than the "
               f"{args.threshold:g}% threshold: " + "; ".join(regressions))
        return 1
    ui.out(f"no regression beyond {args.threshold:g}%")
    return 0

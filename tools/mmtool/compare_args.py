"""The command-line options of `tools/mm compare` and `tools/mm plot`, and the ones
`tools/mm bench` gains for callgrind and perf (kept here so that tools/mm.py only wires).
"""
from __future__ import annotations

from . import callgrind, stats


def add_bench_args(s) -> None:
    s.add_argument("--callgrind", action="store_true",
                   help="also count instructions per iteration of the single-thread host "
                   "benchmarks under valgrind (results/<commit>/callgrind.json; minutes)")
    s.add_argument("--callgrind-iterations", type=int, default=callgrind.DEFAULT_ITERATIONS,
                   metavar="N", help="iterations per benchmark under callgrind "
                   "(default: %(default)s)")
    s.add_argument("--perf", action="store_true",
                   help="host benchmarks under perf record (cpu-clock), QEMU under perf stat "
                   "-e 'kvm:*'; reports kept in results/<commit>/")


def add_compare_args(s) -> None:
    from .cmd_compare import DEFAULT_REPETITIONS
    from .compare import ESTIMATORS
    s.add_argument("a", nargs="?", default="HEAD~1", metavar="A",
                   help="commit, result folder or file (default: %(default)s)")
    s.add_argument("b", nargs="?", default="HEAD", metavar="B",
                   help="commit, result folder or file (default: %(default)s)")
    s.add_argument("--threshold", type=float, default=5.0, metavar="PCT",
                   help="a benchmark slower by more than this (and, if measured, with p < "
                   "alpha) is a regression: exit status 1 (default: %(default)s%%)")
    s.add_argument("--alpha", type=float, default=stats.ALPHA,
                   help="significance level of the U test (default: %(default)s)")
    s.add_argument("--metric", default="auto",
                   help="figure to compare: auto (instructions_per_iteration, else p50_ns, "
                   "else real_time), real_time, cpu_time or a counter name")
    s.add_argument("--estimate", choices=ESTIMATORS, default="fastest",
                   help="each side's figure: its fastest repetition (what repeats on a shared "
                   "machine) or its median (default: %(default)s)")
    s.add_argument("--repetitions", type=int, default=DEFAULT_REPETITIONS,
                   help="host repetitions when a commit must be benchmarked "
                   "(default: %(default)s)")
    s.add_argument("--rerun", action="store_true",
                   help="benchmark commits again even when results/<commit>/ has results")
    s.add_argument("--filter", help="only the benchmarks the filter selects (comma-separated "
                   "substrings, '-' to leave out): passed to tools/mm bench when benchmarking a "
                   "commit, and the rows shown")
    s.add_argument("--no-kernel", action="store_true",
                   help="when benchmarking a commit: skip the kernel benchmarks")
    s.add_argument("--no-host", action="store_true",
                   help="when benchmarking a commit: skip the host benchmarks")
    s.add_argument("--bench-arg", action="append", dest="bench_args", metavar="OPTION",
                   help="pass OPTION to the commit's tools/mm bench (repeatable), e.g. "
                   "--bench-arg=--no-linux")
    s.add_argument("--callgrind", action="store_true",
                   help="count instructions under callgrind for a commit that has no "
                   "callgrind.json yet (builds it in its worktree when needed)")
    s.add_argument("--callgrind-iterations", type=int, default=callgrind.DEFAULT_ITERATIONS,
                   metavar="N", help="iterations per benchmark under callgrind "
                   "(default: %(default)s; both sides must use the same)")
    s.add_argument("--plot", action="store_true",
                   help="also draw both sides per benchmark (PNG in <build folder>/plots/)")
    s.add_argument("--bench-timeout", type=float, default=7200,
                   help="seconds for benchmarking one commit (default: %(default)s)")
    s.add_argument("--machine", metavar="NAME",
                   help="take a commit's results from git notes refs/notes/mm-bench as this "
                   "machine stored them (default: this machine; MM_MACHINE or the host name)")
    s.add_argument("-q", "--quiet", action="store_true",
                   help="do not echo the benchmark runs (their logs keep it)")


def add_plot_args(s) -> None:
    s.add_argument("commits", nargs="*", metavar="COMMIT",
                   help="commits, result folders or files (default: every results/<commit>/, "
                   "in git order)")
    s.add_argument("--filter", help="only the benchmarks the filter selects (comma-separated "
                   "substrings, '-' to leave out)")
    s.add_argument("--metric", default="auto", help="as for tools/mm compare")
    s.add_argument("--machine", metavar="NAME",
                   help="plot the runs another machine stored in git notes refs/notes/mm-bench "
                   "(default: this machine; MM_MACHINE or the host name)")
    s.add_argument("-o", "--output", metavar="DIR",
                   help="folder for the PNG files (default: <build folder>/plots/)")

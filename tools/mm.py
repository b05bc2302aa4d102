"""tools/mm: the project's one front-end (build, test, boot, bench, netboot, extract).

Started by the tools/mm bash bootstrap. Python 3.11 standard library only, so that it runs
on a fresh Debian 12 machine before anything else is installed. Each subcommand NAME lives in
tools/mmtool/cmd_NAME.py as cmd_NAME(args); this file is the command line alone.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mmtool import boot, compare_args, fuzz, ui  # noqa: E402
# Every subcommand is a cmd_<name>.py module with a cmd_<name>(args) function.
from mmtool import (cmd_bench, cmd_boot, cmd_build, cmd_compare, cmd_deps,  # noqa: E402
                    cmd_extract, cmd_lava, cmd_netboot, cmd_plot, cmd_test)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tools/mm", description="Build, test, boot, benchmark and netboot the "
        "virtual-memory manager. Every subcommand but extract and report first checks (and "
        "as root installs) the Debian packages it needs.")
    p.add_argument("--out", help="build folder (default: out/, or $MM_OUT)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("deps", help="check and install the Debian packages")
    s.add_argument("--check", action="store_true", help="only check; never install")
    s.set_defaults(func=cmd_deps.cmd_deps)

    s = sub.add_parser("build", help="gn gen (when needed) and ninja")
    s.set_defaults(func=cmd_build.cmd_build)

    s = sub.add_parser("test", help="every test; last line: N passed, N failed")
    boot.add_machine_args(s)
    s.add_argument("--timeout", type=float, default=300,
                   help="seconds per kernel boot of up to 2 vCPUs (default: %(default)s; "
                   "4 vCPUs get twice that, iPXE 60 more)")
    s.add_argument("--host-timeout", type=float, default=900,
                   help="seconds per host test binary (default: %(default)s)")
    s.add_argument("--skip", action="append", choices=cmd_test.RUNS, metavar="RUN",
                   help=f"leave a run out (repeatable): {', '.join(cmd_test.RUNS)}")
    s.add_argument("--fuzz-seconds", type=float, default=fuzz.DEFAULT_SECONDS, metavar="N",
                   help="seconds of API fuzzing (default: %(default)s; 0 skips it)")
    s.add_argument("--no-build", action="store_true", help="use what out/ holds")
    s.add_argument("-q", "--quiet", action="store_true",
                   help="do not echo test output (the logs in out/logs/ still have it)")
    s.set_defaults(func=cmd_test.cmd_test)

    s = sub.add_parser("boot", help="boot the kernel under QEMU or Bochs",
                       usage="tools/mm boot [options] [-- CMDLINE...]")
    boot.add_machine_args(s)
    s.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu",
                   help="bochs: a CPU with PCID, INVPCID and x2APIC (corei7_skylake_x), booted "
                   "by GRUB from an ISO, --mem 2G unless given (default: %(default)s)")
    s.add_argument("--ipxe", action="store_true", help="boot by iPXE netboot, not -kernel")
    s.add_argument("--uefi", action="store_true",
                   help="UEFI firmware (OVMF) boots mmkernel.efi: from a FAT disk, or with "
                   "--ipxe by iPXE's EFI build")
    s.add_argument("--icount", action="store_true",
                   help="deterministic time: TCG with -icount shift=0,sleep=off, one vCPU")
    s.add_argument("--smp", type=int, help="vCPUs (default 1; with --numa N, N)")
    s.add_argument("--numa", type=int, default=1, help="NUMA nodes (default: 1)")
    s.add_argument("--timeout", type=float, default=120,
                   help="seconds before QEMU is killed (default: %(default)s)")
    s.add_argument("--name", help="log name: out/logs/NAME.log (default: boot or boot-ipxe)")
    s.add_argument("--no-build", action="store_true", help="use what out/ holds")
    s.add_argument("-q", "--quiet", action="store_true", help="do not echo the serial output")
    s.add_argument("cmdline", nargs="*", metavar="CMDLINE",
                   help="kernel command line after --, e.g. -- tests=pmm (default: tests)")
    s.set_defaults(func=cmd_boot.cmd_boot)

    s = sub.add_parser("bench", help="the main job: kernel and host benchmarks, stored and "
                       "reported")
    boot.add_machine_args(s)
    s.add_argument("--realtime", action="store_true",
                   help="boot the kernel without icount, with --accel's choice (KVM on "
                   "hardware virtualisation): wall-clock figures")
    s.add_argument("--smp", type=int, default=1, help="vCPUs with --realtime (default: 1)")
    s.add_argument("--filter", help="only the benchmarks whose name contains this text "
                   "(kernel and host alike)")
    s.add_argument("--repetitions", type=int, default=cmd_bench.HOST_REPETITIONS,
                   help="host benchmark repetitions (default: %(default)s)")
    s.add_argument("--host-min-time", type=float, default=cmd_bench.HOST_MIN_TIME,
                   metavar="SECONDS", help="least time per host repetition (default: "
                   "%(default)s; MM_BENCH_ITERATIONS=N fixes the iterations instead)")
    s.add_argument("--host-runs", type=int, default=1, metavar="N",
                   help="run the host benchmarks N times, as separate processes, and show how "
                   "far the runs' fastest figures lie apart (default: %(default)s)")
    s.add_argument("--timeout", type=float, default=900,
                   help="seconds per kernel boot, ours and Linux's (default: %(default)s)")
    s.add_argument("--host-timeout", type=float, default=1800,
                   help="seconds for out/host_bench (default: %(default)s)")
    s.add_argument("--no-kernel", action="store_true", help="skip the kernel benchmarks")
    s.add_argument("--update-baseline", action="store_true",
                   help="write the kernel's deterministic figures as the baseline that "
                   "tools/mm test's gate compares with (bench/baseline/kernel-icount.json)")
    s.add_argument("--no-host", action="store_true", help="skip the host benchmarks")
    s.add_argument("--no-smp", action="store_true",
                   help="skip the cross-CPU pass (shootdown, IPI) on 2 vCPUs in wall-clock time")
    s.add_argument("--no-linux", action="store_true",
                   help="skip Linux side by side (Debian's kernel, same QEMU settings)")
    s.add_argument("--no-build", action="store_true", help="use what out/ holds")
    s.add_argument("-v", "--verbose", action="store_true",
                   help="echo every step: apt, the build, each boot's serial console and the "
                   "host benchmarks' output (by default they go to out/logs/ and the terminal "
                   "gets one line per stage)")
    s.add_argument("-q", "--quiet", action="store_true",
                   help="the default: kept for scripts that pass it")
    s.add_argument("--wide", action="store_true",
                   help="every column whole (by default tables are cut to 120 columns)")
    s.add_argument("--json", action="store_true",
                   help="print the summary as JSON instead of the report (it is also written "
                   "to results/<commit>/summary.json)")
    compare_args.add_bench_args(s)
    s.set_defaults(func=cmd_bench.cmd_bench)

    s = sub.add_parser("compare", help="two commits' (or result folders') benchmarks: change, "
                       "U test, verdict; exit 1 on a regression",
                       description=cmd_compare.__doc__.split("\n\n")[0])
    compare_args.add_compare_args(s)
    s.set_defaults(func=cmd_compare.cmd_compare)

    s = sub.add_parser("plot", help="PNG plots: every stored commit's repetitions per "
                       "benchmark, in git order")
    compare_args.add_plot_args(s)
    s.set_defaults(func=cmd_plot.cmd_plot)

    s = sub.add_parser("netboot", help="write boot.ipxe and the kernel into DIR",
                       usage="tools/mm netboot DIR [--base-url URL] [-- CMDLINE...]")
    s.add_argument("dir", metavar="DIR")
    s.add_argument("--base-url", help="fetch the kernel from this URL's folder (e.g. "
                   "http://10.0.0.1/mm) instead of beside boot.ipxe")
    s.add_argument("--no-build", action="store_true", help="use what out/ holds")
    s.add_argument("cmdline", nargs="*", metavar="CMDLINE",
                   help="kernel command line after -- (default: tests)")
    s.set_defaults(func=cmd_netboot.cmd_netboot)

    s = sub.add_parser("lava", help="LAVA jobs for a lab's servers: the tests or benchmarks "
                       "by iPXE, BIOS or UEFI (docs/fleet.md)",
                       usage="tools/mm lava DIR [options] [-- CMDLINE...]\n"
                       "       tools/mm lava --qemu [--kind tests|bench] [-- CMDLINE...]")
    s.add_argument("dir", nargs="?", metavar="DIR",
                   help="write DIR/<commit>/: the kernels for the file server and one job per "
                   "kind and boot mode (tests-bios.yaml, bench-uefi.yaml, ...)")
    s.add_argument("--server", metavar="URL",
                   help="the file server's URL of DIR: jobs fetch URL/<commit>/mmkernel.elf "
                   "(default: DIR as a file:// URL, for a worker on this machine)")
    s.add_argument("--kind", choices=["tests", "bench", "all"], default="all",
                   help="the kernel's tests, its benchmarks, or both (default: %(default)s)")
    s.add_argument("--boot", choices=["bios", "uefi", "all"], default="all",
                   help="BIOS servers get mmkernel.elf, UEFI ones mmkernel.efi "
                   "(default: %(default)s)")
    s.add_argument("--device-type", default="x86",
                   help="the LAVA device type of the servers (default: %(default)s)")
    s.add_argument("--tag", action="append", metavar="TAG",
                   help="a device tag the job asks for (repeatable): picks servers within "
                   "the device type")
    s.add_argument("--validate", action="store_true",
                   help="check every written job with lava-run --validate (an http:// kernel "
                   "URL must then be served)")
    s.add_argument("--qemu", action="store_true",
                   help="run one job here with lava-run on a QEMU device instead (the "
                   "benchmarks deterministic, as tools/mm bench runs them); log "
                   "out/logs/lava-qemu-<kind>.log")
    boot.add_machine_args(s)
    s.add_argument("--timeout", type=float, default=300,
                   help="seconds for --qemu's lava-run (default: %(default)s)")
    s.add_argument("--no-build", action="store_true", help="use what out/ holds")
    s.add_argument("-v", "--verbose", action="store_true",
                   help="show each lava-run command line")
    s.add_argument("cmdline", nargs="*", metavar="CMDLINE",
                   help="kernel command line after -- (default: tests or bench)")
    s.set_defaults(func=cmd_lava.cmd_lava)

    s = sub.add_parser("extract", help="cut benchmark JSON and test summary out of a log "
                       "(a console capture, or a LAVA job's log)")
    s.add_argument("log", metavar="LOG", nargs="?",
                   help="console log file or LAVA job log (lava-run's output, or lavacli jobs "
                   "logs ID --raw), or - for stdin")
    s.add_argument("--lava-job", metavar="ID",
                   help="instead of LOG, fetch LAVA job ID's log with lavacli; --store and "
                   "--machine default to its commit (the job's metadata) and device")
    s.add_argument("--identity", metavar="NAME",
                   help="with --lava-job: the lavacli identity (lavacli -i NAME) of the server")
    s.add_argument("-o", "--output", metavar="FILE", help="save the benchmark JSON here")
    s.add_argument("--json", action="store_true",
                   help="print the JSON itself instead of a table")
    s.add_argument("--store", metavar="COMMIT",
                   help="also store the log's benchmarks as COMMIT's results of a machine "
                   "(--machine): in results/<commit>/ and in git notes refs/notes/mm-bench")
    s.add_argument("--machine", metavar="NAME",
                   help="with --store: the machine that ran them, e.g. the server's name "
                   "(default: this machine)")
    s.set_defaults(func=cmd_extract.cmd_extract)

    s = sub.add_parser("report", help="print stored benchmark results as tables")
    s.add_argument("target", nargs="?", metavar="DIR|FILE",
                   help="results folder or JSON file (default: results/<this commit>/)")
    s.add_argument("--html", action="store_true",
                   help="(re)write the folder's report.html: one self-contained page with the "
                   "summary, every table and the plots")
    s.set_defaults(func=cmd_extract.cmd_report)
    return p


def _terminate(signum, frame):
    # CI's time limit sends SIGTERM: turn it into the same path as Ctrl-C, so the QEMU or
    # test process group running at that moment is killed rather than left behind.
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    # Everything after the first "--" is the kernel command line. Split it off before
    # argparse, which cannot place words after options into a positional already matched
    # ("netboot DIR --no-build -- tests" would fail).
    rest: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1:]
    args = parser().parse_args(argv)
    if rest:
        if not hasattr(args, "cmdline"):
            parser().error(f"{args.command} takes no kernel command line after --")
        args.cmdline = list(args.cmdline or []) + rest
    if args.out:
        os.environ["MM_OUT"] = str(Path(args.out).resolve())
    try:
        return args.func(args)
    except ui.Fatal as e:
        ui.info(f"error: {e.message}")
        return e.code
    except KeyboardInterrupt:
        ui.info("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

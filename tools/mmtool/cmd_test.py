"""`tools/mm test`: every test, one summary.

Runs the tool's own unit tests, checks every source against .clang-format, builds, runs the
host tests (plain, ASan+UBSan, and plain on a synthetic two-node machine), the API fuzzer for a bounded time (one test: no crash), boots the
kernel's test suites under QEMU (-kernel with 1 vCPU, 2 vCPUs, 4 vCPUs, 2 vCPUs on 2 NUMA nodes,
an iPXE netboot, and mmkernel.efi under UEFI firmware from a disk and by iPXE; several vCPUs
run as multi-threaded TCG, each its own host thread) and
under Bochs (a CPU with PCID, INVPCID and x2APIC: 1, 2 and 4 CPUs, and 2 with nopcid), runs
the kernel's tests as the LAVA job a lab runs (lava.py: lava-run on a QEMU device, every test
case counted) and validates the iPXE jobs for servers, gates
the kernel benchmarks' exact instruction counts on the committed baseline (gate.py), prints
a table and, as its very last line, `N passed, N failed` summed over
every run. A run that fails without reporting a failed
test (crash, time limit, build error, missing binary) adds one to the failed count, so that
the last line alone tells CI the truth.
"""
from __future__ import annotations

import concurrent.futures
import io
import os
import time
import traceback
import unittest
from dataclasses import dataclass
from typing import Callable
from pathlib import Path

from . import accel as accel_mod
from . import (bochs, boot, build, deps, extract, format_check, fuzz, gate, lava, lava_local,
               lava_log, machine, paths, qemu, runner, ui)

RUNS = ["tool", "format", "host", "asan", "host-numa2", "host-nopcid", "fuzz", "kernel", "smp2", "smp4",
        "numa2", "ipxe", "debug", "uefi", "uefi-ipxe", "lava", "gate", "bochs1", "bochs2",
        "bochs4", "bochs-nopcid"]

# The host test program again on a synthetic machine of two nodes, so that every generic test
# also runs with two zones, remote frees and fallback between nodes, on any host.
HOST_NUMA2_ARGS = ["--topology=nodes=2,cpus=4,distance=21"]

# The cross-CPU TLB tests again with simulated CPUs that lack PCID: the scheme must give the
# same results when every switch flushes (the kernel under TCG runs that way too).
HOST_NOPCID_ARGS = ["--pcid=off", "smp"]

# Lines that mean a sanitizer fired even if the test binary went on and exited 0.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


@dataclass
class Outcome:
    suite: str
    how: str
    ok: bool
    passed: int | None = None
    failed: int | None = None
    seconds: float = 0.0
    note: str = ""
    log: str = ""

    def counted(self) -> tuple[int, int]:
        passed, failed = self.passed or 0, self.failed or 0
        if not self.ok and failed == 0:
            failed = 1  # the run itself failed
        return passed, failed


def total(outcomes: list[Outcome]) -> tuple[int, int]:
    counts = [o.counted() for o in outcomes]
    return sum(p for p, _ in counts), sum(f for _, f in counts)


def judge_test_output(lines: list[str], status_ok: bool, status_text: str,
                      sanitizers: bool = False) -> tuple[bool, int | None, int | None, str]:
    """(ok, passed, failed, note) for a run of a test suite given its output lines."""
    summary = extract.find_summary(lines)
    notes = []
    if sanitizers:
        marks = [l for l in lines if any(m in l for m in SANITIZER_MARKS)]
        if marks:
            notes.append(f"sanitizer report: {marks[0].strip()[:100]}")
    if not status_ok:
        notes.append(status_text)
    if summary is None:
        notes.append("no 'N passed, N failed' line in the output")
    elif summary.failed:
        notes.append(f"{summary.failed} test(s) failed")
    ok = status_ok and summary is not None and summary.failed == 0 and not (
        sanitizers and any("sanitizer report" in n for n in notes))
    return (ok, summary.passed if summary else None, summary.failed if summary else None,
            "; ".join(notes))


def run_tool_tests() -> Outcome:
    start = time.monotonic()
    stream = io.StringIO()
    suite = unittest.defaultTestLoader.discover(str(paths.TOOLS / "tests"),
                                                top_level_dir=str(paths.TOOLS / "tests"))
    result = unittest.TextTestRunner(stream=stream, verbosity=1).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    if failed:
        print(stream.getvalue())
    return Outcome("tool", "python3 -m unittest discover -s tools/tests", failed == 0, passed,
                   failed, time.monotonic() - start,
                   "" if failed == 0 else "see the unittest output above")


def run_format_check() -> Outcome:
    start = time.monotonic()
    ui.step("format: clang-format --dry-run -Werror on every C and C++ source")
    checked, bad, report = format_check.check()
    log = paths.logs_dir() / "format.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(report)
    note = ""
    if bad:
        note = (f"{len(bad)} file(s) differ from .clang-format, first {bad[0]}: "
                "run clang-format -i on them")
    return Outcome("format", "clang-format --dry-run -Werror (.clang-format)", not bad,
                   checked - len(bad), len(bad), time.monotonic() - start, note, paths.rel(log))


def run_host_tests(binary, suite: str, how: str, timeout: float, echo: bool,
                   args: list[str] | None = None) -> Outcome:
    if not binary.exists():
        return Outcome(suite, how, False, note=f"not built: {paths.rel(binary)} is missing "
                       "(is it in the root BUILD.gn's default group?)")
    env = dict(os.environ)
    # A UBSan report must fail the run, not only print; a user's own setting wins.
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    log = paths.logs_dir() / f"{suite}.log"
    argv = [str(binary), *(args or [])]
    ui.step(f"{suite}: {' '.join([paths.rel(binary), *argv[1:]])}, log {paths.rel(log)}")
    r = runner.run(argv, log, timeout, echo=echo, env=env)
    if r.timed_out:
        status_ok, text = False, f"time limit of {timeout:g} s reached"
    else:
        status_ok, text = r.status == 0, f"exit status {r.status}"
    ok, passed, failed, note = judge_test_output(r.lines, status_ok, text, sanitizers=True)
    return Outcome(suite, how, ok, passed, failed, r.seconds, note, paths.rel(log))


def run_fuzz(seconds: float) -> Outcome:
    """The API fuzzer for `seconds` over out/fuzz-corpus, the regression inputs first."""
    binary = paths.api_fuzz()
    how = f"{paths.rel(binary)} -max_total_time={int(seconds)} (libFuzzer, ASan+UBSan)"
    if not binary.exists():
        return Outcome("fuzz", how, False, note=f"not built: {paths.rel(binary)} is missing "
                       "(is it in the root BUILD.gn's default group?)")
    corpus = paths.fuzz_corpus()
    fuzz.prepare_corpus(paths.fuzz_seed_corpus(), corpus)
    # Replaying the grown corpus takes about as long as the default run itself: long runs
    # start from it, the default one from the seeds (and what earlier runs here grew).
    if seconds >= fuzz.GROWN_CORPUS_SECONDS:
        fuzz.prepare_grown(paths.fuzz_grown_corpus(), corpus)
    log = paths.logs_dir() / "fuzz.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = fuzz.command(binary, seconds, corpus, paths.fuzz_regressions(),
                        paths.logs_dir() / "fuzz-")
    env = dict(os.environ)
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    ui.step(f"fuzz: {paths.rel(binary)} for {seconds:g} s over {paths.rel(corpus)} and "
            f"{paths.rel(paths.fuzz_regressions())}, log {paths.rel(log)}")
    limit = seconds + fuzz.SLACK_S
    # libFuzzer prints a line per new input: the log keeps them, the console gets a summary.
    r = runner.run(argv, log, limit, echo=False, env=env)
    report = fuzz.parse_output(r.lines)
    ok, note = fuzz.judge(report, r.status, r.timed_out, limit)
    ui.info(f"fuzz: {report.summary()}")
    if report.artifact:
        crash = paths.rel(Path(report.artifact))
        ui.info(f"fuzz: crash input kept in {crash}; reproduce with {paths.rel(binary)} {crash}")
    return Outcome("fuzz", how, ok, 1 if ok else 0, 0 if ok else 1, r.seconds, note,
                   paths.rel(log))


@dataclass
class KernelRun:
    run_id: str
    machine: qemu.Machine
    name: str   # the log's name: out/logs/<name>.log
    ipxe: bool
    debug: bool = False  # the kernel built with the debug checks (lock and invariant asserts)


# The 1-vCPU row's memory: two free, aligned 1 GiB blocks, so that every 1 GiB page path runs
# (mapping one, and a fork's copy of one). The other rows keep the default; there the 1 GiB
# tests check the fallbacks and say in the log that they did not map a 1 GiB page.
HUGE_PAGES_MEM_MIB = 4096


def kernel_runs(acc: accel_mod.Accel, mem_mib: int) -> list[KernelRun]:
    """The kernel boots of `tools/mm test`, in order."""
    return [
        KernelRun("kernel", qemu.Machine(acc, smp=1, mem_mib=max(mem_mib, HUGE_PAGES_MEM_MIB)),
                  "tests-kernel-1cpu", False),
        KernelRun("smp2", qemu.Machine(acc, smp=2, mem_mib=mem_mib), "tests-kernel-smp2", False),
        KernelRun("smp4", qemu.Machine(acc, smp=4, mem_mib=mem_mib), "tests-kernel-smp4", False),
        KernelRun("numa2", qemu.Machine(acc, smp=2, mem_mib=mem_mib, numa=2),
                  "tests-kernel-numa2", False),
        KernelRun("ipxe", qemu.Machine(acc, smp=1, mem_mib=mem_mib), "tests-ipxe", True),
        # Two CPUs, so that the lock assertions see cross-CPU calls and shootdowns.
        KernelRun("debug", qemu.Machine(acc, smp=2, mem_mib=mem_mib), "tests-kernel-debug",
                  False, debug=True),
        # mmkernel.efi under OVMF: from a FAT disk, and fetched by iPXE's EFI build.
        KernelRun("uefi", qemu.Machine(acc, smp=2, mem_mib=mem_mib, uefi=True),
                  "tests-uefi-disk", False),
        KernelRun("uefi-ipxe", qemu.Machine(acc, smp=1, mem_mib=mem_mib, uefi=True),
                  "tests-uefi-ipxe", True),
    ]


@dataclass
class BochsRun:
    run_id: str
    machine: bochs.Machine
    name: str
    cmdline: str


# Under Bochs the kernel runs the whole suite but the tests that zero or copy a whole 1 GiB
# page (a minute or more each there; the 4 GiB QEMU row runs them) and the one that zeroes all
# of memory. 3 GiB (Bochs's most without a PCI hole) leaves one free 1 GiB block, so the
# other 1 GiB page tests map real 1 GiB pages.
BOCHS_TESTS = "tests=-vmm.map_until_memory_is_really_gone,-huge.map_translate,-huge.fork"
BOCHS_MEM_MIB = 3072


def bochs_runs() -> list[BochsRun]:
    """The Bochs boots of `tools/mm test`: PCID, INVPCID and x2APIC on 1, 2 and 4 CPUs, and
    once more with PCID refused, so that both TLB schemes run on a CPU that has PCIDs."""
    return [
        BochsRun("bochs1", bochs.Machine(1, BOCHS_MEM_MIB), "tests-bochs-1cpu", BOCHS_TESTS),
        BochsRun("bochs2", bochs.Machine(2, BOCHS_MEM_MIB), "tests-bochs-2cpu", BOCHS_TESTS),
        BochsRun("bochs4", bochs.Machine(4, BOCHS_MEM_MIB), "tests-bochs-4cpu", BOCHS_TESTS),
        BochsRun("bochs-nopcid", bochs.Machine(2, BOCHS_MEM_MIB), "tests-bochs-nopcid",
                 BOCHS_TESTS + " nopcid"),
    ]


def boot_outcome(suite: str, how: str, start: Callable[[], boot.Boot]) -> Outcome:
    """The row of one boot that runs the kernel's tests: start() boots it."""
    try:
        b = start()
    except ui.Fatal as e:
        return Outcome(suite, how, False, note=e.message)
    ok, passed, failed, note = judge_test_output(b.result.lines, b.ok, b.status_text)
    return Outcome(suite, how, ok, passed, failed, b.result.seconds, note,
                   paths.rel(b.result.log))


def run_bochs_tests(run: BochsRun, timeout: float, echo: bool) -> Outcome:
    return boot_outcome(
        "bochs", f"Bochs, {run.machine.describe()}, [{run.cmdline}]",
        lambda: boot.boot_bochs(run.machine, run.cmdline, run.name, timeout, echo=echo))


def run_gate(acc_facts, timeout: float, echo: bool) -> Outcome:
    """The kernel's benchmarks in the deterministic mode against the committed baseline
    (gate.py): one test per baseline row."""
    how = f"kernel benchmarks, TCG -icount, against {paths.rel(gate.BASELINE)}"
    acc = accel_mod.choose("tcg", acc_facts, icount=True)
    machine = qemu.Machine(acc, smp=1, mem_mib=gate.MEM_MIB, icount=True)
    try:
        b = boot.boot_kernel(machine, "bench", "gate-bench", timeout, echo=echo)
        doc = extract.parse_bench_json(b.result.lines)
    except (ui.Fatal, extract.ExtractError) as e:
        return Outcome("gate", how, False, note=str(getattr(e, "message", e)))
    if doc is None or not b.ok:
        return Outcome("gate", how, False, seconds=b.result.seconds,
                       note=f"no benchmark results ({b.status_text})", log=paths.rel(b.result.log))
    v = gate.compare(gate.read_baseline(), doc, gate.environment())
    for line in v.lines():
        ui.info(line)
    ui.info(f"gate: {v.note}")
    if v.skipped:
        return Outcome("gate", how + " (skipped: other compiler or QEMU)", True,
                       seconds=b.result.seconds, note=v.note, log=paths.rel(b.result.log))
    failed = len(v.slower) + len(v.missing) + len(v.new)
    return Outcome("gate", how, v.ok, len(v.within), failed, b.result.seconds, v.note,
                   paths.rel(b.result.log))


def run_lava(acc: accel_mod.Accel, mem_mib: int, timeout: float) -> list[Outcome]:
    """The LAVA job of the kernel's tests, as tools/mm lava writes it for a lab, run by
    lava-run on a QEMU device (this machine's QEMU flags): every test case LAVA's monitor
    recorded must pass, and there must be as many as the kernel ran. Then the iPXE jobs for
    BIOS and UEFI servers, validated by lava-run against an x86 device and the TFTP folder."""
    m = qemu.Machine(acc, smp=1, mem_mib=mem_mib)
    how = f"lava-run, QEMU device ({m.describe()}), monitors"
    outcomes = []
    try:
        kernel = build.require(paths.kernel(), "kernel")
        efi = build.require(paths.kernel_efi(), "UEFI kernel")
        lava_local.require()
    except ui.Fatal as e:
        return [Outcome("lava", how, False, note=e.message)]
    commit = machine.commit_id()
    job = lava.Job("tests", "bios", commit, kernel.as_uri(), timeouts=lava.QEMU_TIMEOUTS)
    ui.step(f"lava: {how}, [{job.command_line()}], log out/logs/tests-lava.log")
    r = lava_local.run(lava.qemu_job(job), lava.qemu_device(m), "tests-lava", timeout)
    v = lava_log.judge_tests(r.records, lava.TESTS_SUITE)
    note = v.note
    if r.result.timed_out:
        note = "; ".join(n for n in (f"time limit of {timeout:g} s reached", note) if n)
    outcomes.append(Outcome("lava", how, v.ok and not r.result.timed_out, v.passed, v.failed,
                            r.result.seconds, note, paths.rel(r.log)))
    how = "lava-run --validate, x86 device, iPXE jobs (BIOS, UEFI)"
    start = time.monotonic()
    refused = []
    for boot_mode, image in (("bios", kernel), ("uefi", efi)):
        name = f"tests-lava-validate-{boot_mode}"
        job = lava.Job("tests", boot_mode, commit, image.as_uri())
        device = lava.x86_device(lava.STAND_IN_CONNECT, lava.STAND_IN_POWER,
                                 lava.STAND_IN_POWER, lava.STAND_IN_POWER)
        vr = lava_local.run(lava.server_job(job), device, name, 120, validate=True)
        lava_local.clean_tftp(name)
        problems = lava_local.validation_errors(vr)
        if problems:
            refused.append(f"{boot_mode} (log {paths.rel(vr.log)}): {'; '.join(problems)}")
    outcomes.append(Outcome("lava", how, not refused, 2 - len(refused), len(refused),
                            time.monotonic() - start, "; ".join(refused)[:400]))
    return outcomes


def run_bochs_rows(runs: list[BochsRun], timeout: float) -> list[Outcome]:
    """The Bochs rows, HOST_CORES_ASSUMED at a time: Bochs runs a whole machine on one host
    thread, so two at once use both cores. Their serial output goes to their logs only (two
    consoles at once would interleave)."""
    def one(run: BochsRun) -> Outcome:
        # Bochs runs its CPUs in turn on one thread: time grows with them.
        return run_bochs_tests(run, timeout * max(1.0, run.machine.cpus / HOST_CORES_ASSUMED),
                               echo=False)

    with concurrent.futures.ThreadPoolExecutor(max_workers=HOST_CORES_ASSUMED) as pool:
        return list(pool.map(one, runs))


# The machines these runs are made for have 2 cores, shared with other work.
HOST_CORES_ASSUMED = 2


def kernel_timeout(base: float, run: KernelRun) -> float:
    """A boot's time limit: `base` for up to HOST_CORES_ASSUMED vCPUs, scaled up with more
    (4 vCPUs on 2 cores take turns), plus a minute for iPXE's firmware and DHCP (about 5 s
    when all goes well)."""
    scale = max(1.0, run.machine.smp / HOST_CORES_ASSUMED)
    return base * scale + (60 if run.ipxe else 0)


def run_kernel_tests(machine: qemu.Machine, name: str, ipxe: bool, timeout: float,
                     echo: bool, debug: bool = False) -> Outcome:
    how = f"{boot.way(machine, ipxe)}, {machine.describe()}"
    if debug:
        how += ", debug checks"
    return boot_outcome(
        "kernel", how,
        lambda: boot.boot_kernel(machine, "tests", name, timeout, ipxe=ipxe, echo=echo,
                                 debug=debug))


def print_summary(outcomes: list[Outcome], acc: accel_mod.Accel | None) -> None:
    ui.out()
    ui.out("== test summary")
    if acc is not None:
        ui.out(f"accelerator: {acc.label} ({acc.reason})")
    rows = []
    for o in outcomes:
        rows.append([o.suite, o.how, "pass" if o.ok else "FAIL",
                     "-" if o.passed is None else o.passed,
                     "-" if o.failed is None else o.failed, f"{o.seconds:.1f}"])
    ui.out(ui.table(["suite", "how", "result", "passed", "failed", "seconds"], rows,
                    [False, False, False, True, True, True]))
    for o in outcomes:
        if not o.ok:
            where = f" (log: {o.log})" if o.log else ""
            ui.out(f"FAIL {o.suite} [{o.how}]: {o.note}{where}")
    passed, failed = total(outcomes)
    ui.out(f"{passed} passed, {failed} failed")


def cmd_test(args) -> int:
    skip = set(args.skip or [])
    echo = not args.quiet
    outcomes: list[Outcome] = []
    acc = None
    try:
        if "tool" not in skip:
            ui.step("tool unit tests (tools/tests)")
            outcomes.append(run_tool_tests())
        deps.ensure()
        if "format" not in skip:
            outcomes.append(run_format_check())
        if not args.no_build:
            start = time.monotonic()
            try:
                build.run()
            except ui.Fatal as e:
                outcomes.append(Outcome("build", "gn gen + ninja", False,
                                        seconds=time.monotonic() - start, note=e.message))
                return _finish(outcomes, acc)
        if "host" not in skip:
            outcomes.append(run_host_tests(paths.host_tests(), "host",
                                           paths.rel(paths.host_tests()), args.host_timeout, echo))
        if "asan" not in skip:
            outcomes.append(run_host_tests(paths.host_asan_tests(), "host-asan",
                                           f"{paths.rel(paths.host_asan_tests())} (ASan+UBSan)",
                                           args.host_timeout, echo))
        if "host-numa2" not in skip:
            how = " ".join([paths.rel(paths.host_tests()), *HOST_NUMA2_ARGS])
            outcomes.append(run_host_tests(paths.host_tests(), "host-numa2", how,
                                           args.host_timeout, echo, HOST_NUMA2_ARGS))
        if "host-nopcid" not in skip:
            how = " ".join([paths.rel(paths.host_tests()), *HOST_NOPCID_ARGS])
            outcomes.append(run_host_tests(paths.host_tests(), "host-nopcid", how,
                                           args.host_timeout, echo, HOST_NOPCID_ARGS))
        if "fuzz" not in skip and args.fuzz_seconds > 0:
            outcomes.append(run_fuzz(args.fuzz_seconds))
        acc = accel_mod.choose(args.accel, accel_mod.probe())
        ui.info(f"accelerator: {acc.label} ({acc.reason})")
        mem = boot.mem_mib(args)
        for run in kernel_runs(acc, mem):
            if run.run_id in skip:
                continue
            outcomes.append(run_kernel_tests(run.machine, run.name, run.ipxe,
                                             kernel_timeout(args.timeout, run), echo, run.debug))
        if "lava" not in skip:
            outcomes += run_lava(acc, mem, args.timeout)
        if "gate" not in skip:
            outcomes.append(run_gate(accel_mod.probe(), args.timeout, echo))
        outcomes += run_bochs_rows([r for r in bochs_runs() if r.run_id not in skip],
                                   args.timeout)
    except ui.Fatal as e:
        outcomes.append(Outcome("setup", "tools/mm test", False, note=e.message))
    except Exception as e:  # a bug in this tool must still end with the summary line
        traceback.print_exc()
        outcomes.append(Outcome("tool", "tools/mm test", False,
                                note=f"internal error: {type(e).__name__}: {e}"))
    return _finish(outcomes, acc)


def _finish(outcomes: list[Outcome], acc) -> int:
    print_summary(outcomes, acc)
    return 0 if all(o.ok for o in outcomes) else 1

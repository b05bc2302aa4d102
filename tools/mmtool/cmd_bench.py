"""`tools/mm bench`: the main job. Builds, boots the kernel's benchmarks in the deterministic
mode, runs the host microbenchmarks, stores both results under results/<commit>/ and prints
a report.

Deterministic mode is TCG with `-icount shift=0,sleep=off` on one vCPU: the guest clock
advances one nanosecond per executed instruction, so every in-kernel figure repeats exactly
from run to run. It is a cost in instructions (blind to caches and TLB misses), the figure
for comparing commits, not a speed. `--realtime` boots with the accelerator `--accel`
chooses (KVM on hardware virtualisation) for wall-clock figures instead.
"""
from __future__ import annotations

import json
import shutil
import textwrap
import time
from pathlib import Path

from . import accel as accel_mod
from . import callgrind, perf
from . import summary as summary_mod
from . import (boot, build, deps, extract, filters, gate, html_report, machine, notes, paths,
               qemu, report, runner, side_by_side, ui)


def kernel_cmdline(filter_text: str | None) -> str:
    return f"bench={filter_text}" if filter_text else "bench"


# The host benchmarks run as many short repetitions, interleaved in random order. The
# machines they run on are shared: a busy sibling hyperthread outside the machine slows any
# code that needs the core's issue slots (a frame pair by 1.7x) for periods of a tenth of a
# second to minutes, while a chain of multiplications does not move. Ten repetitions of
# 0.1 s, spread over the whole run rather than side by side, give each row's fastest
# repetition (the report's figure) ten chances to fall in a quiet moment, in less time than
# three of 0.5 s took (docs/benchmarks.md, "Host figures that repeat").
HOST_REPETITIONS = 10
HOST_MIN_TIME = 0.1  # seconds per repetition (Google Benchmark's --benchmark_min_time)


def host_bench_argv(binary: Path, out_json: Path, repetitions: int,
                    filter_text: str | None, min_time: float = HOST_MIN_TIME) -> list[str]:
    argv = [str(binary), f"--benchmark_out={out_json}", "--benchmark_out_format=json",
            f"--benchmark_min_time={min_time:g}"]
    if repetitions > 1:
        argv += [f"--benchmark_repetitions={repetitions}",
                 "--benchmark_enable_random_interleaving=true"]
    if filter_text:
        argv.append(filters.host_argument(filter_text, binary))
    return argv


def _write_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def bench_machine(args) -> tuple[qemu.Machine, str]:
    """The QEMU machine of the benchmark boots (ours and Linux's alike) and the stem of the
    kernel's result files."""
    if args.realtime:
        acc = accel_mod.choose(args.accel, accel_mod.probe())
        return (qemu.Machine(acc, smp=args.smp, mem_mib=boot.mem_mib(args)),
                f"kernel-{acc.name}")
    acc = accel_mod.choose("tcg", accel_mod.probe(), icount=True)
    return qemu.Machine(acc, smp=1, mem_mib=boot.mem_mib(args), icount=True), "kernel"


# The cross-CPU benchmarks (shootdown with the space active on other CPUs, IPI round trip)
# need several vCPUs, which the deterministic mode cannot have: the main job measures them
# again in wall-clock time on 2 vCPUs, ours and Linux's under the same settings.
SMP_VCPUS = 2
# The cross-CPU benchmarks: the kernel's TLB cases and the system call with the space
# active on a second CPU.
SMP_TERMS = ("BM_tlb_", "BM_sys_munmap_active")


def smp_machine(args) -> tuple[qemu.Machine, str]:
    """The machine of the cross-CPU pass: TCG (multi-threaded) or KVM, SMP_VCPUS vCPUs."""
    acc = accel_mod.choose(args.accel, accel_mod.probe())
    return (qemu.Machine(acc, smp=SMP_VCPUS, mem_mib=boot.mem_mib(args)),
            f"kernel-smp{SMP_VCPUS}")


def smp_filter(user_filter: str | None) -> str | None:
    """The cross-CPU pass's filter (filters.py's language), or None when the user's filter
    leaves it nothing: each plain term of the user's narrower than a cross-CPU term is kept,
    each wider one gives that term; the user's left-out terms stay."""
    wanted, left_out = filters.terms(user_filter)
    chosen = list(SMP_TERMS) if not wanted else []
    for term in wanted:
        for smp in SMP_TERMS:
            pick = term if smp in term else smp if term in smp else None
            if pick and pick not in chosen:
                chosen.append(pick)
    if not chosen:
        return None
    return ",".join(chosen + [f"-{t}" for t in left_out])


def run_kernel(args, host: dict, commit: str, outdir: Path,
               machine: tuple[qemu.Machine, str] | None = None,
               filter_text: str | None = None) -> tuple[bool, dict | None, str]:
    """Boots the kernel's benchmarks (on bench_machine unless machine is given); returns
    (ok, document, description of the run)."""
    m, stem = machine or bench_machine(args)
    acc = m.accel
    cmdline = kernel_cmdline(filter_text if machine else args.filter)
    kvm = perf.kvm_files(outdir, stem, acc.name) if getattr(args, "perf", False) else None
    b = boot.boot_kernel(m, cmdline, f"bench-{stem}", args.timeout, echo=args.verbose,
                         prefix=perf.stat_prefix(kvm) if kvm else None)
    shutil.copyfile(b.result.log, outdir / f"{stem}.log")
    desc = f"{qemu.version()}, {m.describe()}"
    if not m.icount:
        desc += f"; {acc.label} because {acc.reason}"
    try:
        doc = extract.parse_bench_json(b.result.lines)
    except extract.ExtractError as e:
        ui.warn(f"kernel benchmarks: {e}")
        return False, None, desc
    if doc is None:
        ui.warn(f"kernel benchmarks: no {extract.BEGIN} in {paths.rel(b.result.log)} "
                f"({b.status_text})")
        return False, None, desc
    doc.setdefault("context", {})["mm_run"] = {
        "commit": commit, "host": host, "qemu": qemu.version(), "accel": acc.name,
        "accel_reason": acc.reason, "icount": qemu.ICOUNT if m.icount else None,
        "vcpus": m.smp, "memory_mib": m.mem_mib, "cmdline": cmdline,
        "exit": b.status_text,
    }
    if kvm:
        doc["context"]["mm_perf"] = perf.kvm_summary(kvm, acc.name).to_json()
    _write_json(outdir / f"{stem}.json", doc)
    if not b.ok:
        ui.warn(f"kernel benchmarks: {b.status_text}")
    return b.ok, doc, desc


def _host_run(args, binary: Path, out_json: Path, log: Path, commit: str,
              profile: bool) -> tuple[bool, dict | None]:
    """One process of out/host_bench; (exit status 0, its document)."""
    out_json.unlink(missing_ok=True)
    argv = host_bench_argv(binary, out_json, args.repetitions, args.filter, args.host_min_time)
    if profile:
        argv = perf.record_prefix(perf.host_data(commit)) + argv
    ui.detail(f"host benchmarks: {' '.join(argv)}")
    r = runner.run(argv, log, args.host_timeout, echo=args.verbose)
    if r.status != 0:
        why = "time limit reached" if r.timed_out else f"exit status {r.status}"
        ui.warn(f"host benchmarks: {why}; see {paths.rel(log)}")
    if not out_json.exists():
        return False, None
    try:
        return r.status == 0, json.loads(out_json.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        ui.warn(f"host benchmarks: {paths.rel(out_json)} is not valid JSON: {e}")
        return False, None


def run_host(args, host: dict, commit: str, outdir: Path) -> tuple[bool, dict | None]:
    """out/host_bench once, or --host-runs times as separate processes whose repetitions
    host.json then holds together (report.merge_runs), so that the report shows how far
    the runs' figures lie apart."""
    binary = build.require(paths.host_bench(), "host benchmarks")
    out_json = outdir / "host.json"
    out_json.unlink(missing_ok=True)  # a stale file must not pass for this run's result
    runs = max(1, getattr(args, "host_runs", 1))
    ok, docs = True, []
    # Each run's own files go one folder down, where tools/mm compare does not look.
    folder = outdir / "host-runs" if runs > 1 else outdir
    folder.mkdir(exist_ok=True)
    for i in range(runs):
        name = "host" if runs == 1 else f"run{i + 1}"
        if runs > 1:
            ui.detail(f"host benchmarks: run {i + 1} of {runs}")
        run_ok, doc = _host_run(args, binary, folder / f"{name}.json", folder / f"{name}.log",
                                commit, getattr(args, "perf", False) and i == 0)
        ok &= run_ok
        if doc is None:
            return False, None
        docs.append(doc)
    doc = docs[0] if runs == 1 else report.merge_runs(docs)
    doc.setdefault("context", {})["mm_run"] = {"commit": commit, "host": host,
                                               "accel": "none (host process)",
                                               "host_runs": runs}
    _write_json(out_json, doc)
    return ok, doc


def print_report(commit: str, host: dict, sections: list[tuple[str, str, dict | None]],
                 outdir: Path) -> None:
    """sections: (title, note, document, an already rendered table, or None when the run
    produced none)."""
    ui.out()
    ui.out(f"== benchmark report, commit {commit}")
    ui.out(_wrap(f"host: {host_line(host)}", ""))
    for title, note, doc in sections:
        ui.out()
        ui.out(_wrap(f"-- {title}", "   "))
        for line in note.splitlines() if note else []:
            ui.out(_wrap(f"   {line.strip()}", "   "))
        ui.out(doc if isinstance(doc, str) else report.render(doc) if doc else "   (no results)")
    ui.out()
    ui.out(f"results: {paths.rel(outdir)}/")
    files = sorted(p.name for p in outdir.iterdir() if p.is_file()) if outdir.is_dir() else []
    if files:
        ui.out(_wrap(f"   {', '.join(files)}", "   "))


def _wrap(text: str, indent: str) -> str:
    """Prose cut into lines of the report's width (none with --wide)."""
    if report.width is None or len(text) <= report.width:
        return text
    return textwrap.fill(text, report.width, subsequent_indent=indent, break_on_hyphens=False)


def host_line(host: dict) -> str:
    """The machine the figures came from, in one line."""
    nodes = host.get("numa_nodes", 1)
    parts = [host["cpu_model"], f"{host['cpus']} CPUs", f"{host['memory_mib']} MiB",
             f"{nodes} NUMA node{'s' if nodes != 1 else ''}"]
    if host.get("virtualisation"):
        parts.append(host["virtualisation"])
    return ", ".join(parts)


def run_smp_pass(args, host: dict, commit: str, outdir: Path,
                 filter_text: str) -> tuple[bool, list, list[summary_mod.SectionSummary]]:
    """The cross-CPU benchmarks on SMP_VCPUS vCPUs, wall-clock, with Linux beside them."""
    machine = smp_machine(args)
    try:
        ok, doc, desc = run_kernel(args, host, commit, outdir, machine, filter_text)
    except ui.Fatal as e:
        ui.warn(f"kernel benchmarks on {SMP_VCPUS} vCPUs: {e.message}")
        return False, [], None
    sections = [(f"kernel, cross-CPU (in QEMU: {desc})",
                 "wall-clock time: the shootdown and IPI cases need several vCPUs, which "
                 "icount cannot give; noisy where the host's cores are shared", doc)]
    if not args.no_linux:
        m, stem = machine
        l_ok, more, pairs = side_by_side.run_sections(m, stem, filter_text, outdir, commit, host,
                                                      args.timeout, args.verbose, doc)
        ok &= l_ok
        sections += more
        label = f"cross-CPU ({SMP_VCPUS} vCPUs, {m.accel.name}, wall-clock)"
        return ok, sections, summary_mod.summarise_sections(label, pairs)
    return ok, sections, []


STAGE_TIMES = "stage-seconds.json"  # in the results folder: the last run's stage durations


def stages(args) -> list[str]:
    """The main job's stages for these options, in order."""
    names = ["packages and build"]
    if not args.no_kernel:
        names.append("kernel benchmarks")
    if not args.no_host:
        names.append("host benchmarks")
    if args.callgrind:
        names.append("callgrind")
    if not args.no_linux:
        names.append("Linux side by side")
    if not args.no_kernel and not args.realtime and not args.no_smp and smp_filter(args.filter):
        names.append("cross-CPU benchmarks")
    return names


def _previous_times() -> dict[str, float]:
    try:
        return json.loads((paths.results_dir() / STAGE_TIMES).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def cmd_bench(args) -> int:
    if args.smp != 1 and not args.realtime:
        raise ui.Fatal("--smp needs --realtime: the deterministic (icount) mode runs one vCPU")
    if args.update_baseline and (args.realtime or args.filter or args.no_kernel or
                                 boot.mem_mib(args) != gate.MEM_MIB):
        raise ui.Fatal("--update-baseline needs every kernel benchmark in the deterministic "
                       "mode on the gate's machine: no --realtime, --filter, --no-kernel or "
                       "--mem")
    # The terminal gets one line per stage; serial consoles, the build and apt go to their
    # logs unless --verbose (errors still show their log's last lines).
    ui.set_verbose(args.verbose)
    args.quiet = not args.verbose
    # The host stage's time is stored per run, so that --host-runs scales the estimate.
    host_runs = max(1, getattr(args, "host_runs", 1))
    previous = _previous_times()
    if "host benchmarks" in previous:
        previous["host benchmarks"] *= host_runs
    progress = ui.Progress(stages(args), previous)
    start = time.monotonic()
    with progress.stage("packages and build", "logs: out/logs/packages.log, build.log"):
        deps.ensure()
        if args.perf and perf.why_unavailable():
            raise ui.Fatal(f"--perf: {perf.why_unavailable()}")
        if not args.no_build:
            build.run()
    commit = machine.commit_id()
    host = machine.host()
    outdir = paths.results_dir() / commit
    outdir.mkdir(parents=True, exist_ok=True)
    ok = True
    sections = []
    summaries: list[summary_mod.SectionSummary | None] = []
    kernel_doc, kernel_desc = None, ""
    side_by_side.width = None if args.wide else side_by_side.REPORT_WIDTH
    report.width = None if args.wide else report.REPORT_WIDTH
    if not args.no_kernel:
        with progress.stage("kernel benchmarks", "TCG -icount" if not args.realtime else
                            "wall-clock"):
            try:
                k_ok, doc, desc = run_kernel(args, host, commit, outdir)
            except ui.Fatal as e:  # e.g. kernel not built: still run the host part
                ui.warn(f"kernel benchmarks: {e.message}")
                k_ok, doc, desc = False, None, "did not run"
        ok &= k_ok
        kernel_doc, kernel_desc = doc, desc
        if args.update_baseline and doc and k_ok:
            written = gate.write_baseline(doc, gate.environment())
            ui.info(f"gate: baseline of {len(gate.rows(doc))} rows written to "
                    f"{paths.rel(written)}; commit it with the change that moved it")
        elif args.update_baseline:
            ok = False
            ui.warn("gate: no baseline written: the kernel benchmarks did not all run")
        note = ("icount: 1 ns = 1 guest instruction; costs in instructions, exactly "
                "repeatable, not speeds" if not args.realtime else "wall-clock time, noisy")
        if doc and report.context_line(doc):
            note += f"\n   the kernel measured: {report.context_line(doc)}"
        note += "".join(f"\n   {line}" for line in perf.report_lines(doc))
        sections.append((f"kernel (in QEMU: {desc})", note, doc))
    if not args.no_host:
        runs = f"{args.host_runs} runs of " if args.host_runs > 1 else ""
        with progress.stage("host benchmarks", f"{runs}{args.repetitions} repetitions of "
                            f"{args.host_min_time:g} s"):
            try:
                h_ok, doc = run_host(args, host, commit, outdir)
            except ui.Fatal as e:
                ui.warn(f"host benchmarks: {e.message}")
                h_ok, doc = False, None
        ok &= h_ok
        ctx = report.context_line(doc) if doc else ""
        notes_text = "\n".join(n for n in (report.disturbance_line(doc) if doc else "",
                                           perf.host_note(outdir, commit) if args.perf else "")
                               if n)
        sections.append((f"host ({paths.rel(paths.host_bench())}, native"
                         f"{', ' + ctx if ctx else ''})", notes_text, doc))
    if args.callgrind:  # instructions per iteration under valgrind: callgrind.py
        with progress.stage("callgrind"):
            c_ok, section = callgrind.bench_section(args, commit, outdir)
        ok &= c_ok
        sections.append(section)
    if not args.no_linux:  # Debian's kernel, same machine and workloads: side_by_side.py
        with progress.stage("Linux side by side", "Debian's kernel, same QEMU settings"):
            m, stem = bench_machine(args)
            l_ok, more, pairs = side_by_side.run_sections(m, stem, args.filter, outdir, commit,
                                                          host, args.timeout, args.verbose,
                                                          kernel_doc)
        ok &= l_ok
        sections += more
        label = "deterministic (icount)" if m.icount else f"{m.accel.name}, wall-clock"
        summaries += summary_mod.summarise_sections(label, pairs)
    smp_text = smp_filter(args.filter)
    if "cross-CPU benchmarks" in progress.names:
        with progress.stage("cross-CPU benchmarks", f"{SMP_VCPUS} vCPUs, wall-clock"):
            s_ok, more, smp_summaries = run_smp_pass(args, host, commit, outdir, smp_text)
        ok &= s_ok
        sections += more
        summaries += smp_summaries
    try:
        (paths.results_dir() / STAGE_TIMES).write_text(
            json.dumps({k: round(v / (host_runs if k == "host benchmarks" else 1), 1)
                        for k, v in progress.durations.items()}) + "\n",
            encoding="utf-8")
    except OSError:
        pass
    if commit.endswith("-dirty") or commit.startswith("no"):
        ui.detail("git notes: not stored (the tree has uncommitted changes)")
    elif notes.write_run(commit, notes.this_machine(), host, outdir):
        ui.info(f"results also in git notes {notes.REF} (machine {notes.this_machine()}); "
                f"share them with git push origin {notes.REF}")
    found = [s for s in summaries if s is not None]
    machine_lines = [f"host: {host_line(host)}"] + ([f"kernel: {kernel_desc}"]
                                                  if kernel_doc else [])
    summary_doc = summary_mod.to_json(found, machine_lines, commit)
    _write_json(outdir / paths.SUMMARY_FILE, summary_doc)
    if args.json:
        ui.out(json.dumps(summary_doc, indent=2))
        return 0 if ok else 1
    ui.out()
    ui.out(f"== summary, commit {commit}")
    ui.out(summary_mod.render(found, machine_lines))
    print_report(commit, host, sections, outdir)
    page = html_report.write(outdir)
    if page:
        ui.out(f"report page: {paths.rel(page)} (one file, no network needed)")
    ui.out(f"{'all benchmarks ran' if ok else 'FAILED: see the warnings above'} "
           f"({time.monotonic() - start:.0f} s)")
    return 0 if ok else 1

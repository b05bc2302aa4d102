"""`tools/mm lava DIR`: LAVA job definitions for this commit's kernel (lava.py), the tests or
the benchmarks, for servers that netboot by iPXE in BIOS mode (mmkernel.elf) or UEFI mode
(mmkernel.efi), with the kernels beside them for the lab's file server; `--validate` checks
them with lava-run. `tools/mm lava --qemu` runs one job here on a QEMU device instead, as
`tools/mm test`'s lava row does. docs/fleet.md says how a lab uses them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from . import (accel, boot, build, deps, extract, lava, lava_local, lava_log, machine, paths,
               qemu, report, ui)

def kernels(args) -> dict[str, Path]:
    if not args.no_build:
        build.run()
    return {"bios": build.require(paths.kernel(), "kernel"),
            "uefi": build.require(paths.kernel_efi(), "UEFI kernel")}


def selected(value: str, every: tuple[str, ...]) -> list[str]:
    return list(every) if value == "all" else [value]


def write_jobs(args, commit: str, files: dict[str, Path]) -> list[Path]:
    folder = Path(args.dir).resolve() / commit
    folder.mkdir(parents=True, exist_ok=True)
    base = (args.server or (folder.parent.as_uri())).rstrip("/")
    written = []
    for boot_mode in selected(args.boot, lava.BOOTS):
        name = lava.KERNEL_FILES[boot_mode]
        # Copies: the folder goes to the file server, which must not see later rebuilds.
        shutil.copyfile(files[boot_mode], folder / name)
        written.append(folder / name)
        for kind in selected(args.kind, lava.KINDS):
            job = lava.Job(kind, boot_mode, commit, f"{base}/{commit}/{name}",
                           " ".join(args.cmdline or []), args.device_type, list(args.tag or []),
                           lava.SERVER_TIMEOUTS)
            path = folder / lava.file_name(kind, boot_mode)
            comment = (f"{job.name()}: written by tools/mm lava; submit with\n"
                       f"  lavacli jobs submit {path.name}\n"
                       f"the kernel is fetched from {job.kernel_url}")
            path.write_text(lava.to_yaml(lava.server_job(job), comment), encoding="utf-8")
            written.append(path)
    return written


def validate(path: Path, device_type: str) -> list[str]:
    """Problems lava-run --validate finds in a written server job (none when it passes)."""
    job = path.read_text(encoding="utf-8")  # lava-run reads the file as it was written
    device = lava.x86_device(lava.STAND_IN_CONNECT, lava.STAND_IN_POWER, lava.STAND_IN_POWER,
                             lava.STAND_IN_POWER)
    device["device_type"] = device_type
    r = lava_local.run(job, device, f"lava-validate-{path.stem}", 120, validate=True)
    lava_local.clean_tftp(f"lava-validate-{path.stem}")
    return lava_local.validation_errors(r)


def run_qemu(args) -> int:
    """One job on a QEMU device with lava-run; the benchmarks in the deterministic mode of
    tools/mm bench (TCG with -icount, one vCPU), so that their figures compare with its."""
    files = kernels(args)
    kind = "bench" if args.kind == "bench" else "tests"
    if args.boot == "uefi":
        raise ui.Fatal("--qemu boots mmkernel.elf by -kernel: no --boot uefi")
    acc_facts = accel.probe()
    icount = kind == "bench"
    acc = accel.choose("tcg" if icount else args.accel, acc_facts, icount=icount)
    m = qemu.Machine(acc, smp=1, mem_mib=boot.mem_mib(args), icount=icount)
    job = lava.Job(kind, "bios", machine.commit_id(), files["bios"].as_uri(),
                   " ".join(args.cmdline or []), timeouts=lava.QEMU_TIMEOUTS)
    name = f"lava-qemu-{kind}"
    ui.info(f"{name}: lava-run, QEMU device ({m.describe()}), [{job.command_line()}]")
    r = lava_local.run(lava.qemu_job(job), lava.qemu_device(m), name, args.timeout)
    ui.info(f"{name}: log {paths.rel(r.log)} ({r.result.seconds:.1f} s)")
    if kind == "tests":
        v = lava_log.judge_tests(r.records, lava.TESTS_SUITE)
        ui.out(f"{v.passed} passed, {v.failed} failed" + ("" if v.ok else f" ({v.note})"))
        return 0 if v.ok else 1
    cases = lava_log.test_cases(r.records, lava.BENCH_SUITE)
    try:
        doc = extract.parse_bench_json(lava_log.console_lines(r.records))
    except extract.ExtractError as e:
        raise ui.Fatal(f"{paths.rel(r.log)}: {e}") from None
    if doc is None:
        raise ui.Fatal(f"{paths.rel(r.log)}: no benchmark JSON on the console")
    ui.out(report.render(doc))
    ui.info(f"LAVA recorded {len(cases)} benchmark(s) of {len(doc['benchmarks'])}; store them "
            f"with: tools/mm extract {paths.rel(r.log)} --store COMMIT --machine NAME")
    return 0 if len(cases) == len(doc["benchmarks"]) else 1


def cmd_lava(args) -> int:
    ui.set_verbose(args.verbose)
    deps.ensure()
    if args.qemu:
        return run_qemu(args)
    if not args.dir:
        raise ui.Fatal("name a folder for the jobs (tools/mm lava DIR), or run one here "
                       "with --qemu")
    commit = machine.commit_id()
    if commit.endswith("-dirty"):
        ui.warn(f"the kernel is built from uncommitted changes: the jobs say {commit}")
    written = write_jobs(args, commit, kernels(args))
    for path in written:
        ui.out(str(path))
    folder = written[0].parent
    ui.info(f"serve {paths.rel(folder.parent)}/ at {args.server or folder.parent.as_uri()}, "
            f"then: lavacli jobs submit {paths.rel(folder)}/<job>.yaml (docs/fleet.md)")
    if not args.validate:
        return 0
    bad = 0
    for path in (p for p in written if p.suffix == ".yaml"):
        problems = validate(path, args.device_type)
        if problems:
            bad += 1
            ui.info(f"{path.name}: lava-run --validate refused it: {'; '.join(problems)}")
        else:
            ui.info(f"{path.name}: lava-run --validate accepts it")
    return 1 if bad else 0

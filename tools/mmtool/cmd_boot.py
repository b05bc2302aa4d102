"""`tools/mm boot`: boot the kernel once under QEMU (or through iPXE) and say what came back."""
from __future__ import annotations

from . import accel as accel_mod
from . import extract, paths, qemu, ui
from .boot import boot_kernel


def cmd_boot(args) -> int:
    """`tools/mm boot [options] [-- CMDLINE...]`"""
    facts = accel_mod.probe()
    acc = accel_mod.choose(args.accel, facts, icount=args.icount)
    smp = args.smp if args.smp is not None else (max(2, args.numa) if args.numa > 1 else 1)
    machine = qemu.Machine(acc, smp=smp, mem_mib=qemu.parse_size_mib(args.mem),
                           numa=args.numa, icount=args.icount)
    machine.check()
    cmdline = " ".join(args.cmdline) if args.cmdline else "tests"
    name = args.name or ("boot-ipxe" if args.ipxe else "boot")
    ui.info(f"accelerator: {acc.label} ({acc.reason})")
    b = boot_kernel(machine, cmdline, name, args.timeout, ipxe=args.ipxe, echo=not args.quiet)
    summary = extract.find_summary(b.result.lines)
    ui.out(f"result: {b.status_text}")
    ui.out(f"how: {b.how}")
    ui.out(f"log: {paths.rel(b.result.log)}")
    if summary:
        ui.out(f"tests: {summary}")
    try:
        doc = extract.parse_bench_json(b.result.lines)
        if doc is not None:
            ui.out(f"benchmarks: {len(doc['benchmarks'])} results; tables with "
                   f"tools/mm extract {paths.rel(b.result.log)}")
    except extract.ExtractError as e:
        ui.out(f"benchmarks: {e}")
        return 1
    return 0 if b.ok else 1

"""`tools/mm boot`: boot the kernel once under QEMU (or through iPXE) or Bochs and say what
came back."""
from __future__ import annotations

from . import accel as accel_mod
from . import bochs, extract, paths, qemu, ui
from .boot import boot_bochs, boot_kernel, mem_mib


def cmd_boot(args) -> int:
    """`tools/mm boot [options] [-- CMDLINE...]`"""
    smp = args.smp if args.smp is not None else (max(2, args.numa) if args.numa > 1 else 1)
    cmdline = " ".join(args.cmdline) if args.cmdline else "tests"
    if args.emulator == "bochs":
        if args.ipxe or args.icount or args.numa > 1 or args.uefi:
            raise ui.Fatal("--emulator bochs boots from a GRUB ISO on one node: no --ipxe, "
                           "--uefi, --icount or --numa")
        mem = mem_mib(args, bochs.DEFAULT_MEM_MIB)
        b = boot_bochs(bochs.Machine(cpus=smp, mem_mib=mem), cmdline, args.name or "boot-bochs",
                       args.timeout, echo=not args.quiet)
        return report(b)
    facts = accel_mod.probe()
    acc = accel_mod.choose(args.accel, facts, icount=args.icount)
    mem = mem_mib(args)
    machine = qemu.Machine(acc, smp=smp, mem_mib=mem, numa=args.numa, icount=args.icount,
                           uefi=args.uefi)
    machine.check()
    name = args.name or ("boot-ipxe" if args.ipxe else "boot")
    ui.info(f"accelerator: {acc.label} ({acc.reason})")
    return report(boot_kernel(machine, cmdline, name, args.timeout, ipxe=args.ipxe,
                              echo=not args.quiet))


def report(b) -> int:
    """Prints what the boot b came to; the exit status: 0 when it passed."""
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

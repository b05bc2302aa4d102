"""Booting the kernel once under QEMU (by -kernel or by iPXE netboot) or Bochs and judging
the run; the `tools/mm boot` subcommand and the building block of `test` and `bench`.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass

from . import bochs, build, multiboot, netboot, paths, qemu, runner, ui


@dataclass
class Boot:
    """One boot: how, and what came of it."""
    machine: qemu.Machine | bochs.Machine
    cmdline: str
    way: str  # "qemu -kernel", "iPXE netboot", "Bochs (GRUB)"
    result: runner.Result

    @property
    def ok(self) -> bool:
        return bool(self.result.extra.get("ok"))

    @property
    def status_text(self) -> str:
        text = self.result.extra.get("status_text", "")
        # QEMU's last error line explains a refusal to start; after our own kill it would
        # only say "terminating on signal 15".
        hint = "" if self.result.timed_out or self.way == BOCHS_WAY else qemu.stderr_hint(
            self.result)
        return f"{text} ({hint})" if hint and not self.ok else text

    @property
    def how(self) -> str:
        return f"{self.way}, {self.machine.describe()}"


BOCHS_WAY = "Bochs (GRUB)"


def boot_kernel(machine: qemu.Machine, cmdline: str, name: str, timeout: float,
                ipxe: bool = False, echo: bool = True, prefix: list[str] | None = None,
                debug: bool = False) -> Boot:
    """Boots out/kernel/mmkernel.elf (debug: out/kernel_debug/mmkernel.elf) with cmdline; the
    serial log is out/logs/<name>.log. prefix goes before QEMU's argv: a wrapper that exits
    with QEMU's status (perf stat)."""
    kernel = build.require(paths.kernel(debug), "kernel")
    for problem in multiboot.check_file(kernel):
        ui.warn(f"{paths.rel(kernel)}: {problem}")
    log = paths.logs_dir() / f"{name}.log"
    if ipxe:
        tftp = paths.netboot_work_dir(name)
        netboot.write_dir(tftp, kernel, cmdline)
        argv = qemu.build_argv(machine, tftp_dir=tftp,
                               sercon_file=netboot.sercon_file(tftp.parent))
    else:
        argv = qemu.build_argv(machine, kernel=kernel, cmdline=cmdline)
    argv = list(prefix or []) + argv
    ui.step(f"boot {name}: {'iPXE' if ipxe else '-kernel'} [{cmdline}] "
            f"({machine.describe()}), log {paths.rel(log)}")
    ui.info(" ".join(shlex.quote(a) for a in argv))
    result = qemu.run(argv, log, timeout, echo=echo)
    b = Boot(machine, cmdline, "iPXE netboot" if ipxe else "qemu -kernel", result)
    ui.info(f"{name}: {b.status_text} after {result.seconds:.1f} s")
    return b


def boot_bochs(machine: bochs.Machine, cmdline: str, name: str, timeout: float,
               echo: bool = True, debug: bool = False) -> Boot:
    """Boots the kernel under Bochs (bochs.py); the serial log is out/logs/<name>.log. The
    run passes when Bochs ended on the kernel's power-off and the kernel said PASS."""
    kernel = build.require(paths.kernel(debug), "kernel")
    result = bochs.run(machine, kernel, cmdline, name, timeout, echo=echo)
    if result.extra["ok"] and not any(l.startswith("mmkernel: PASS") for l in result.lines):
        result.extra.update(ok=False, status_text="fail: the kernel did not report PASS")
    return Boot(machine, cmdline, BOCHS_WAY, result)


def mem_mib(args, default: int = qemu.DEFAULT_MEM_MIB) -> int:
    """--mem in MiB, or the emulator's default when it was not given."""
    return qemu.parse_size_mib(args.mem) if args.mem else default


def add_machine_args(p) -> None:
    """Options shared by the subcommands that boot the kernel."""
    p.add_argument("--accel", default="auto", choices=["auto", "tcg", "kvm"],
                   help="KVM only with hardware virtualisation (default: auto)")
    p.add_argument("--mem", default=None,
                   help=f"guest memory, e.g. 512M or 2G (default: {qemu.DEFAULT_MEM_MIB}M; "
                   f"{bochs.DEFAULT_MEM_MIB}M under Bochs)")

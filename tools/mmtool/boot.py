"""Booting the kernel once under QEMU (by -kernel or by iPXE netboot) or Bochs and judging
the run; the `tools/mm boot` subcommand and the building block of `test` and `bench`.
"""
from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

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


def way(machine: qemu.Machine, ipxe: bool) -> str:
    """How a QEMU boot starts the kernel, in the words reports use."""
    return "iPXE netboot" if ipxe else "UEFI disk" if machine.uefi else "qemu -kernel"


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
    if machine.uefi:
        argv = uefi_argv(machine, kernel, cmdline, name, ipxe)
    elif ipxe:
        tftp = paths.netboot_work_dir(name)
        # The files `tools/mm netboot` writes, the UEFI kernel and the script's branch for it
        # included: a BIOS client must take the other branch.
        efi = paths.kernel_efi()
        netboot.write_dir(tftp, kernel, cmdline, efi_kernel=efi if efi.exists() else None)
        argv = qemu.build_argv(machine, tftp_dir=tftp,
                               sercon_file=netboot.sercon_file(tftp.parent))
    else:
        argv = qemu.build_argv(machine, kernel=kernel, cmdline=cmdline)
    argv = list(prefix or []) + argv
    ui.detail(f"boot {name}: {way(machine, ipxe)} [{cmdline}] ({machine.describe()}), "
              f"log {paths.rel(log)}")
    ui.detail(" ".join(shlex.quote(a) for a in argv))
    result = qemu.run(argv, log, timeout, echo=echo)
    b = Boot(machine, cmdline, way(machine, ipxe), result)
    ui.detail(f"{name}: {b.status_text} after {result.seconds:.1f} s")
    if not b.ok and not ui.verbose():
        ui.warn(f"{name}: {b.status_text}; the end of {paths.rel(log)}:\n{ui.tail(log, 12)}")
    return b


# A disk's UEFI boot has no load options: the stub reads its command line from this file at
# the root of the volume it came from (arch/x86_64/efi/efi_main.c).
UEFI_CMDLINE_FILE = "mmkernel.cmdline"


def uefi_argv(machine: qemu.Machine, elf: Path, cmdline: str, name: str, ipxe: bool) -> list[str]:
    """The files of a UEFI boot (a fresh copy of OVMF's variable store; the disk's folder or
    the TFTP folder with mmkernel.efi) and QEMU's argv for it."""
    efi = build.require(paths.kernel_efi(), "UEFI kernel")
    work = paths.uefi_work_dir(name)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    vars_file = work / "OVMF_VARS.fd"
    shutil.copyfile(qemu.OVMF_VARS, vars_file)
    if ipxe:
        tftp = work / "tftp"
        netboot.write_dir(tftp, elf, cmdline, efi_kernel=efi)
        return qemu.build_argv(machine, tftp_dir=tftp, vars_file=vars_file)
    esp = work / "esp"
    (esp / "EFI" / "BOOT").mkdir(parents=True)
    shutil.copyfile(efi, esp / "EFI" / "BOOT" / "BOOTX64.EFI")
    (esp / UEFI_CMDLINE_FILE).write_text(cmdline + "\n", encoding="utf-8")
    return qemu.build_argv(machine, esp_dir=esp, vars_file=vars_file)


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

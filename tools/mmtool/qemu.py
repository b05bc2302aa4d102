"""Booting the kernel under QEMU: the command line, the run, and what the exit status means.

The kernel reports through isa-debug-exit at port 0xf4: writing v makes QEMU exit with
(v << 1) | 1, so the kernel's 0x10 (pass) gives 33 and 0x11 (fail) gives 35. Every other
status is a failure: 0 is a triple fault (QEMU quits instead of resetting under -no-reboot),
1 is QEMU refusing to start, 124 is our time limit.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import runner, ui
from .accel import Accel

QEMU = "qemu-system-x86_64"
# UEFI firmware for QEMU (Debian's ovmf) and the EFI build of iPXE for its NIC (ipxe-qemu).
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
EFI_IPXE_ROM = Path("/usr/lib/ipxe/qemu/efi-virtio.rom")
STATUS_PASS = 33
STATUS_FAIL = 35
DEFAULT_MEM_MIB = 1024
ICOUNT = "shift=0,sleep=off"


def interpret_status(status: int) -> tuple[bool, str]:
    """(passed, explanation) for a QEMU exit status as returned by runner.run."""
    if status == STATUS_PASS:
        return True, "pass (isa-debug-exit 33)"
    if status == STATUS_FAIL:
        return False, "fail: the kernel reported failure (isa-debug-exit 35)"
    if status == 0:
        return False, "fail: QEMU exited with 0: a triple fault (reset under -no-reboot)"
    if status == runner.TIMEOUT_STATUS:
        return False, "fail: time limit reached, QEMU killed (status 124)"
    if status == 1:
        return False, "fail: QEMU could not start or stopped on an error (status 1)"
    if status < 0:
        return False, f"fail: QEMU was killed by signal {-status}"
    if status & 1:
        return False, (f"fail: unexpected isa-debug-exit value {status >> 1:#x} "
                       f"(status {status})")
    return False, f"fail: unexpected QEMU exit status {status}"


def parse_size_mib(text: str) -> int:
    """QEMU-style memory size ("512M", "2G", "1024" = MiB) in MiB."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not m:
        raise ui.Fatal(f"bad memory size {text!r}: use a number of MiB or a suffix, e.g. 512M, 2G")
    n, unit = int(m.group(1)), m.group(2).upper()
    mib = {"K": n / 1024, "": n, "M": n, "G": n * 1024, "T": n * 1024 * 1024}[unit]
    if mib < 16 or mib != int(mib):
        raise ui.Fatal(f"memory size {text!r} is too small or not a whole number of MiB")
    return int(mib)


@dataclass
class Machine:
    """What the guest looks like and how it is started."""
    accel: Accel
    smp: int = 1
    mem_mib: int = DEFAULT_MEM_MIB
    numa: int = 1
    icount: bool = False
    uefi: bool = False  # OVMF on a q35 machine instead of SeaBIOS on pc

    def check(self) -> None:
        if self.smp < 1:
            raise ui.Fatal("--smp must be at least 1")
        if self.icount and self.smp != 1:
            # Under -icount all vCPUs share one thread round-robin: a spin-wait on another
            # CPU takes a whole time slice per check, which distorts every figure.
            raise ui.Fatal("--icount runs one vCPU: drop --smp (or run without --icount)")
        if self.numa < 1:
            raise ui.Fatal("--numa must be at least 1")
        if self.numa > 1 and self.smp < self.numa:
            raise ui.Fatal(f"--numa {self.numa} needs --smp {self.numa} or more "
                           "(every node gets a CPU)")
        if self.numa > 1 and self.mem_mib % self.numa:
            raise ui.Fatal(f"--mem {self.mem_mib}M does not split evenly into {self.numa} nodes")
        if self.uefi and not OVMF_CODE.exists():
            raise ui.Fatal(f"{OVMF_CODE} is missing: run tools/mm deps (package ovmf)")

    def multi_threaded_tcg(self) -> bool:
        """TCG gives each vCPU its own host thread (-accel tcg,thread=multi): several vCPUs
        then really run at once, which the kernel's SMP tests need (a CPU spinning on
        another's answer would otherwise hold the one thread for its whole time slice).
        -icount runs one vCPU, so never with it."""
        return self.accel.name == "tcg" and self.smp > 1 and not self.icount

    def describe(self) -> str:
        parts = [f"{self.smp} vCPU" + ("s" if self.smp > 1 else ""), f"{self.mem_mib} MiB"]
        if self.numa > 1:
            parts.append(f"{self.numa} NUMA nodes")
        if self.accel.name == "tcg":
            parts.append("TCG" + (" multi-threaded" if self.multi_threaded_tcg() else "")
                         + " -cpu max")
        else:
            parts.append(self.accel.label + " -cpu host")
        if self.icount:
            parts.append(f"icount {ICOUNT}")
        if self.uefi:
            parts.append("UEFI (OVMF)")
        return ", ".join(parts)


def numa_args(nodes: int, smp: int, mem_mib: int) -> list[str]:
    """Equal memory per node, CPUs split into contiguous runs, distance 21 between nodes
    (QEMU only builds a SLIT when a distance is given)."""
    args: list[str] = []
    size = mem_mib // nodes
    for n in range(nodes):
        args += ["-object", f"memory-backend-ram,id=m{n},size={size}M"]
    for n in range(nodes):
        first, last = n * smp // nodes, (n + 1) * smp // nodes - 1
        cpus = str(first) if first == last else f"{first}-{last}"
        args += ["-numa", f"node,nodeid={n},cpus={cpus},memdev=m{n}"]
    for a in range(nodes):
        for b in range(a + 1, nodes):
            args += ["-numa", f"dist,src={a},dst={b},val=21"]
    return args


def accel_args(machine: Machine) -> list[str]:
    """The accelerator's options, with multi-threaded TCG where the machine wants it."""
    args = machine.accel.qemu_args()
    if machine.multi_threaded_tcg():
        args = ["tcg,thread=multi" if a == "tcg" and i > 0 and args[i - 1] == "-accel" else a
                for i, a in enumerate(args)]
    return args


def build_argv(machine: Machine, kernel: Path | None = None, cmdline: str = "",
               tftp_dir: Path | None = None, sercon_file: Path | None = None,
               esp_dir: Path | None = None, vars_file: Path | None = None) -> list[str]:
    """QEMU's argv for a -kernel boot (kernel given), an iPXE netboot (tftp_dir given), or,
    on a UEFI machine, a boot from a FAT disk holding esp_dir's files (OVMF, with its
    variable store in vars_file, a copy it may write)."""
    machine.check()
    argv = [QEMU, "-machine", "q35" if machine.uefi else "pc", "-nodefaults", "-display", "none",
            "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    argv += accel_args(machine)
    if machine.icount:
        argv += ["-icount", ICOUNT]
    argv += ["-smp", str(machine.smp), "-m", f"{machine.mem_mib}M"]
    if machine.numa > 1:
        argv += numa_args(machine.numa, machine.smp, machine.mem_mib)
    if machine.uefi:
        if vars_file is None:
            raise ValueError("a UEFI machine needs its own copy of the variable store")
        argv += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                 "-drive", f"if=pflash,format=raw,file={vars_file}"]
        if tftp_dir is not None:
            # OVMF runs the EFI iPXE of the NIC's option ROM, which fetches boot.ipxe.
            return argv + ["-netdev", f"user,id=n0,tftp={tftp_dir},bootfile=boot.ipxe",
                           "-device", f"virtio-net-pci,netdev=n0,romfile={EFI_IPXE_ROM}"]
        if esp_dir is None:
            raise ValueError("a UEFI boot needs a disk folder (esp_dir) or a tftp_dir")
        # QEMU presents the folder as a FAT disk; OVMF boots its \EFI\BOOT\BOOTX64.EFI.
        return argv + ["-drive", f"format=raw,file=fat:rw:{esp_dir}"]
    if tftp_dir is not None:
        # QEMU's user-mode network has a TFTP server and hands out bootfile by DHCP.
        # No romfile=: SeaBIOS then skips the NIC's ROM ("No bootable device"); the default
        # ROM from Debian's ipxe-qemu is found even with -nodefaults.
        argv += ["-netdev", f"user,id=n0,tftp={tftp_dir},bootfile=boot.ipxe",
                 "-device", "virtio-net-pci,netdev=n0", "-boot", "n"]
        if sercon_file is not None:
            # SeaBIOS and iPXE print to the serial port too: a failed netboot is then
            # visible in the log instead of silent until the time limit.
            argv += ["-fw_cfg", f"name=etc/sercon-port,file={sercon_file}"]
    else:
        if kernel is None:
            raise ValueError("build_argv needs a kernel or a tftp_dir")
        argv += ["-kernel", str(kernel), "-append", cmdline]
    return argv


def hide_known_stderr(line: str) -> bool:
    """QEMU warns about the etc/sercon-port name we must use; the warning is harmless."""
    return "externally provided fw_cfg item names" in line


def run(argv: list[str], log: Path, timeout: float, echo: bool = True) -> runner.Result:
    try:
        result = runner.run(argv, log, timeout, echo=echo, separate_stderr=True,
                            stderr_filter=hide_known_stderr)
    except FileNotFoundError:
        raise ui.Fatal(f"{QEMU} not found: run tools/mm deps") from None
    ok, text = interpret_status(result.status)
    result.extra.update(ok=ok, status_text=text)
    # Kept beside the serial log: QEMU's own errors explain a status 1.
    err_log = log.with_suffix(".qemu-stderr.log")
    meaningful = [l for l in result.stderr.splitlines() if l.strip() and not hide_known_stderr(l)]
    if meaningful:
        err_log.write_text("\n".join(meaningful) + "\n", encoding="utf-8")
    elif err_log.exists():
        err_log.unlink()
    return result


def stderr_hint(result: runner.Result) -> str:
    """The last meaningful QEMU error line, for a one-line failure reason."""
    lines = [l for l in result.stderr.splitlines() if l.strip() and not hide_known_stderr(l)]
    return lines[-1].strip() if lines else ""


def version() -> str:
    try:
        out = subprocess.run([QEMU, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, check=False).stdout
    except FileNotFoundError:
        return "QEMU not found"
    m = re.search(r"version (\S+)", out)
    return f"QEMU {m.group(1)}" if m else "QEMU (unknown version)"

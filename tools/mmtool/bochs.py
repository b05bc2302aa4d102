"""Booting the kernel under Bochs: the CPU features TCG lacks (PCID, INVPCID, x2APIC), run.

Bochs emulates a CPU model with every feature the design is for (`corei7_skylake_x`: PCID,
INVPCID, SMEP, SMAP, 1 GiB pages, x2APIC), so the kernel's hardware paths run on each change,
not only on a trial by hand. The facts this relies on (measured on Debian 12's Bochs 2.7):

- Bochs has no -kernel: GRUB boots the Multiboot image from a rescue ISO (grub-mkrescue).
- Debian builds Bochs with its debugger, which stops at a prompt unless given `-rc FILE`
  holding `c` (continue).
- The `rfb` display with `timeout=0` needs neither a terminal nor a client.
- COM1 written to /dev/stdout gives the serial console alone on stdout; Bochs's own messages
  go to stderr (kept in <log>.bochs-stderr.log).
- There is no isa-debug-exit device: the kernel's `poweroff` option enters ACPI S5, and
  Bochs exits saying "ACPI control: soft power off". The verdict is the kernel's own summary.
- `clock: sync=none` with `ips=` makes guest time a function of instructions executed; the
  TSC then runs at `ips` per second.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import paths, runner, ui

BOCHS = "bochs"
CPU_MODEL = "corei7_skylake_x"
# Guest instructions per emulated second. Bochs runs a few tens of millions of guest
# instructions a second here; a higher figure would make every timed wait in the kernel (the
# APs' start-up delays) cost more instructions, a lower one the TSC-calibrated ones fewer.
IPS = 50_000_000
DEFAULT_MEM_MIB = 2048
# Bochs 2.7 refuses more host memory than this; guest memory past it is allocated on demand.
HOST_MEM_MAX_MIB = 2048
BIOS = Path("/usr/share/bochs/BIOS-bochs-latest")
VGA_BIOS = Path("/usr/share/vgabios/vgabios.bin")
# What Bochs prints on stderr when the guest entered ACPI S5: the run ended as planned.
POWER_OFF_MARK = "ACPI control: soft power off"


@dataclass
class Machine:
    cpus: int = 1
    mem_mib: int = DEFAULT_MEM_MIB

    def describe(self) -> str:
        return (f"{CPU_MODEL}, {self.cpus} CPU{'s' if self.cpus > 1 else ''}, "
                f"{self.mem_mib} MiB")


def grub_config(cmdline: str) -> str:
    """GRUB's menu: boot the kernel at once, with cmdline and the power-off at the end."""
    words = cmdline.split()
    if "poweroff" not in words:
        words.append("poweroff")
    return ("set timeout=0\nset default=0\n"
            f"menuentry \"mmkernel\" {{\n  multiboot /boot/mmkernel.elf {' '.join(words)}\n"
            "  boot\n}\n")


def config(machine: Machine, iso: Path) -> str:
    """The bochsrc for one run."""
    return "\n".join([
        f"memory: guest={machine.mem_mib}, host={min(machine.mem_mib, HOST_MEM_MAX_MIB)}",
        f"cpu: model={CPU_MODEL}, count={machine.cpus}, ips={IPS}, reset_on_triple_fault=0",
        f"romimage: file={BIOS}",
        f"vgaromimage: file={VGA_BIOS}",
        f"ata0-master: type=cdrom, path={iso}, status=inserted",
        "boot: cdrom",
        "com1: enabled=1, mode=file, dev=/dev/stdout",
        "clock: sync=none, time0=local",
        'display_library: rfb, options="timeout=0"',
        "log: -",
        "panic: action=fatal",
        "error: action=report",
        "info: action=ignore",
        "debug: action=ignore",
        "",
    ])


def build_iso(kernel: Path, cmdline: str, work: Path) -> Path:
    """A GRUB rescue ISO in work/ that boots kernel with cmdline."""
    tree = work / "iso"
    if tree.exists():
        shutil.rmtree(tree)
    (tree / "boot" / "grub").mkdir(parents=True)
    shutil.copyfile(kernel, tree / "boot" / "mmkernel.elf")
    (tree / "boot" / "grub" / "grub.cfg").write_text(grub_config(cmdline))
    iso = work / "mmkernel.iso"
    r = subprocess.run(["grub-mkrescue", "-o", str(iso), str(tree)], capture_output=True,
                       text=True, check=False)
    if r.returncode != 0 or not iso.exists():
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise ui.Fatal(f"grub-mkrescue failed ({last}): run tools/mm deps")
    return iso


def interpret(result: runner.Result) -> tuple[bool, str]:
    """(ended as planned, explanation): Bochs exits with 1 after the guest's power-off too,
    so the status alone says nothing; its stderr does."""
    if result.timed_out:
        return False, "fail: time limit reached, Bochs killed"
    if POWER_OFF_MARK in result.stderr:
        return True, "the kernel powered off (ACPI S5)"
    lines = [l for l in result.stderr.splitlines() if ">>PANIC<<" in l or "exiting" in l]
    why = lines[-1].strip() if lines else f"status {result.status}"
    return False, f"fail: Bochs stopped without the kernel's power-off ({why})"


def run(machine: Machine, kernel: Path, cmdline: str, name: str, timeout: float,
        echo: bool = True) -> runner.Result:
    """Boots kernel under Bochs; the serial console is out/logs/<name>.log."""
    if shutil.which(BOCHS) is None or shutil.which("grub-mkrescue") is None:
        raise ui.Fatal("bochs or grub-mkrescue not found: run tools/mm deps")
    work = paths.out_dir() / "bochs" / name
    work.mkdir(parents=True, exist_ok=True)
    iso = build_iso(kernel, cmdline, work)
    rc = work / "bochsrc"
    rc.write_text(config(machine, iso))
    commands = work / "debugger-commands"
    commands.write_text("c\n")  # the debugger's prompt: continue at once
    log = paths.logs_dir() / f"{name}.log"
    argv = [BOCHS, "-q", "-f", str(rc), "-rc", str(commands)]
    ui.step(f"boot {name}: Bochs [{cmdline}] ({machine.describe()}), log {paths.rel(log)}")
    result = runner.run(argv, log, timeout, echo=echo, separate_stderr=True,
                        stderr_filter=lambda line: True)
    (log.with_suffix(".bochs-stderr.log")).write_text(result.stderr, encoding="utf-8")
    ok, text = interpret(result)
    result.extra.update(ok=ok, status_text=text)
    ui.info(f"{name}: {text} after {result.seconds:.1f} s")
    return result

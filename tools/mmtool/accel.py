"""Choosing QEMU's accelerator: KVM or TCG.

KVM is chosen only on a host with hardware virtualisation. Our own development and CI
machines are virtual machines whose /dev/kvm is the kvm_pvm software hypervisor: it emulates
guest ring 0 one instruction at a time (slower than TCG by two orders of magnitude), kills
guests on some instructions and crashes iPXE, so there TCG is the right choice
(shared/MACHINE-NOTES.md has the measurements).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import paths, ui


@dataclass(frozen=True)
class Accel:
    name: str     # "kvm" or "tcg"
    reason: str   # why it was chosen, shown in reports

    @property
    def label(self) -> str:
        return self.name.upper()

    def qemu_args(self) -> list[str]:
        if self.name == "kvm":
            # -cpu host alone aborts on hosts whose KVM cannot set MSR 0x10a
            # (IA32_ARCH_CAPABILITIES); dropping that one feature starts everywhere.
            return ["-enable-kvm", "-cpu", "host,-arch-capabilities"]
        return ["-accel", "tcg", "-cpu", "max"]


@dataclass(frozen=True)
class HostFacts:
    cpuinfo: str            # text of /proc/cpuinfo
    kvm_pvm: bool           # /sys/module/kvm_pvm exists
    kvm_hw_module: bool     # kvm_intel or kvm_amd is loaded
    dev_kvm_usable: bool    # /dev/kvm opens read-write


def cpu_flags(cpuinfo: str) -> set[str]:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def has_hw_virt(facts: HostFacts) -> bool:
    return bool(cpu_flags(facts.cpuinfo) & {"vmx", "svm"}) or facts.kvm_hw_module


def choose(requested: str, facts: HostFacts, icount: bool = False) -> Accel:
    """requested is "auto", "kvm" or "tcg". Raises ui.Fatal when the request cannot work."""
    if requested not in ("auto", "kvm", "tcg"):
        raise ui.Fatal(f"unknown accelerator {requested!r}: use auto, kvm or tcg")
    if icount:
        # -icount (instruction-counted time) is a TCG feature.
        if requested == "kvm":
            raise ui.Fatal("--icount needs TCG; it cannot run with --accel kvm")
        return Accel("tcg", "icount needs TCG")
    if requested == "tcg":
        return Accel("tcg", "asked for with --accel tcg")
    if requested == "kvm":
        if not facts.dev_kvm_usable:
            raise ui.Fatal("--accel kvm: /dev/kvm is missing or not readable and writable "
                           "by this user")
        if facts.kvm_pvm:
            ui.warn("--accel kvm on kvm_pvm: guest ring 0 is emulated one instruction at a "
                    "time here; figures will be very slow and iPXE may crash")
        return Accel("kvm", "asked for with --accel kvm")
    if facts.kvm_pvm:
        return Accel("tcg", "/dev/kvm here is kvm_pvm, a software hypervisor slower than TCG")
    if not has_hw_virt(facts):
        return Accel("tcg", "no hardware virtualisation (no vmx/svm in /proc/cpuinfo)")
    if not facts.dev_kvm_usable:
        return Accel("tcg", "/dev/kvm is missing or not usable by this user")
    return Accel("kvm", "hardware virtualisation and a usable /dev/kvm")


def _dev_kvm_usable() -> bool:
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True


def probe() -> HostFacts:
    return HostFacts(
        cpuinfo=paths.read_text_or_empty("/proc/cpuinfo"),
        kvm_pvm=Path("/sys/module/kvm_pvm").exists(),
        kvm_hw_module=any(Path(f"/sys/module/{m}").exists() for m in ("kvm_intel", "kvm_amd")),
        dev_kvm_usable=_dev_kvm_usable(),
    )

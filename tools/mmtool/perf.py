"""`tools/mm bench --perf`: Linux perf around the benchmark runs.

- Host benchmarks run under `perf record` with a software event (cpu-clock): our machines
  are virtual and expose no hardware counters. `perf report --stdio` of the run is kept as
  results/<commit>/host-perf.txt (the samples themselves in the build folder, perf/).
- QEMU runs under `perf stat -e 'kvm:*'`: KVM's tracepoints counted for the QEMU process,
  kept as results/<commit>/<kernel stem>-perf-stat.csv and summed up (VM exits, exits by
  reason, IPIs) in the kernel result's context, "mm_perf". Under KVM, `perf kvm stat record`
  also runs inside it, for the exits by reason. Under TCG no guest instruction runs in KVM,
  so every count is zero: the report says "TCG: no VM exits" instead of printing zeros.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import paths, ui

HOST_EVENT = "cpu-clock"
HOST_FREQ = 999            # samples per second; an odd rate does not beat with timer ticks
REPORT_PERCENT_LIMIT = 0.5
KVM_EVENTS = "kvm:*"
# Tracepoints that are IPIs between vCPUs (sent, or delivered through the local APIC).
IPI_EVENTS = ("kvm:kvm_apic_ipi", "kvm:kvm_hv_send_ipi", "kvm:kvm_hv_send_ipi_ex",
              "kvm:kvm_avic_incomplete_ipi", "kvm:kvm_pv_tlb_flush")


def why_unavailable() -> str | None:
    """Why perf cannot run here, or None when it can."""
    if shutil.which("perf") is None:
        return "perf not found (Debian package linux-perf): run tools/mm deps"
    return None


# ---------------------------------------------------------------------------------------
# Host: perf record

def host_data(commit: str) -> Path:
    return paths.out_dir() / "perf" / f"{commit}-host.data"


def record_prefix(data: Path) -> list[str]:
    """Put before the host benchmark's argv. perf record exits with the program's status."""
    data.parent.mkdir(parents=True, exist_ok=True)
    return ["perf", "record", "-e", HOST_EVENT, "-F", str(HOST_FREQ), "-o", str(data), "--"]


def write_report(data: Path, out_txt: Path) -> list[str]:
    """Writes `perf report --stdio` of data to out_txt; returns its top lines (symbols)."""
    argv = ["perf", "report", "-i", str(data), "--stdio", "--fields", "overhead,dso,sym",
            "--percent-limit", str(REPORT_PERCENT_LIMIT)]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          check=False)
    if proc.returncode != 0:
        ui.warn(f"perf report failed: {proc.stderr.strip()[-300:]}")
        return []
    header = (f"# {' '.join(argv)}\n# event {HOST_EVENT} at {HOST_FREQ} Hz (software: this "
              "machine has no hardware counters)\n")
    out_txt.write_text(header + proc.stdout, encoding="utf-8")
    return top_symbols(proc.stdout)


def top_symbols(report_text: str, n: int = 5) -> list[str]:
    """The first n sample lines of `perf report --stdio` ("  12.34%  host_bench  [.] f")."""
    lines = []
    for line in report_text.splitlines():
        if re.match(r"\s*\d+(\.\d+)?%\s", line):
            lines.append(" ".join(line.split()))
            if len(lines) == n:
                break
    return lines


# ---------------------------------------------------------------------------------------
# QEMU: perf stat of KVM's tracepoints

@dataclass
class KvmFiles:
    stat_csv: Path
    kvm_data: Path | None   # perf kvm stat record's file, under KVM only


def kvm_files(outdir: Path, stem: str, accel_name: str) -> KvmFiles:
    data = paths.out_dir() / "perf" / f"{stem}-kvm.data" if accel_name == "kvm" else None
    return KvmFiles(outdir / f"{stem}-perf-stat.csv", data)


def stat_prefix(files: KvmFiles) -> list[str]:
    """Put before QEMU's argv. perf stat exits with QEMU's status, which the boot judges."""
    argv = ["perf", "stat", "-x", ",", "-o", str(files.stat_csv), "-e", KVM_EVENTS, "--"]
    if files.kvm_data is not None:
        files.kvm_data.parent.mkdir(parents=True, exist_ok=True)
        argv += ["perf", "kvm", "stat", "record", "-o", str(files.kvm_data), "--"]
    return argv


def parse_stat_csv(text: str) -> dict[str, int | None]:
    """{event: count} from `perf stat -x ,` output (value,unit,event,run time,percent,...).
    None for an event perf could not count ("<not supported>", "<not counted>")."""
    counts: dict[str, int | None] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(",")
        if len(fields) < 3 or not fields[2]:
            continue
        value = fields[0].strip()
        try:
            counts[fields[2].strip()] = int(float(value))
        except ValueError:
            counts[fields[2].strip()] = None
    return counts


def parse_kvm_report(text: str) -> dict[str, int]:
    """{exit reason: samples} from `perf kvm stat report --event=vmexit`."""
    reasons: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1].isdigit() and fields[2].endswith("%"):
            reasons[fields[0]] = int(fields[1])
    return reasons


@dataclass
class KvmSummary:
    accel: str
    exits: int | None = None
    entries: int | None = None
    ipis: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    nonzero: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def to_json(self) -> dict:
        if self.accel != "kvm":
            return {"accel": self.accel, "note": self.note}
        return {"accel": self.accel, "kvm_exit": self.exits, "kvm_entry": self.entries,
                "ipis": self.ipis, "exits_by_reason": self.by_reason,
                "nonzero_events": self.nonzero, "note": self.note}

    def lines(self) -> list[str]:
        """What the benchmark report prints about it."""
        if self.accel != "kvm":
            return [self.note]
        out = [f"KVM: {_n(self.exits)} VM exits, {_n(self.entries)} entries"]
        if self.ipis:
            out.append("IPIs: " + ", ".join(f"{k.split(':')[-1]} {v:,}"
                                             for k, v in self.ipis.items()))
        if self.by_reason:
            top = sorted(self.by_reason.items(), key=lambda kv: -kv[1])[:6]
            out.append("exits by reason: " + ", ".join(f"{r} {n:,}" for r, n in top))
        if self.note:
            out.append(self.note)
        return out


def _n(v: int | None) -> str:
    return "?" if v is None else f"{v:,}"


def summarize(accel_name: str, counts: dict[str, int | None],
              by_reason: dict[str, int] | None = None) -> KvmSummary:
    if accel_name != "kvm":
        return KvmSummary(accel_name, note=f"{accel_name.upper()}: no VM exits (QEMU "
                          "interprets the guest itself; KVM's counters stay at zero)")
    s = KvmSummary("kvm", counts.get("kvm:kvm_exit"), counts.get("kvm:kvm_entry"))
    s.ipis = {e: v for e in IPI_EVENTS if (v := counts.get(e))}
    s.nonzero = {e: v for e, v in counts.items() if v}
    s.by_reason = dict(by_reason or {})
    if not counts:
        s.note = "perf stat counted nothing (see the -perf-stat.csv file)"
    return s


def kvm_summary(files: KvmFiles, accel_name: str) -> KvmSummary:
    """Reads what the prefixed run left behind."""
    try:
        counts = parse_stat_csv(files.stat_csv.read_text(encoding="utf-8"))
    except OSError:
        counts = {}
    by_reason: dict[str, int] = {}
    if accel_name == "kvm" and files.kvm_data is not None and files.kvm_data.exists():
        proc = subprocess.run(["perf", "kvm", "-i", str(files.kvm_data), "stat", "report",
                               "--event=vmexit"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, check=False)
        by_reason = parse_kvm_report(proc.stdout)
    return summarize(accel_name, counts, by_reason)


# ---------------------------------------------------------------------------------------
# What `tools/mm bench --perf` calls (kept here so that cmd_bench.py changes little)

def report_lines(doc: dict | None) -> list[str]:
    """The kernel report's lines about KVM, from the result's "mm_perf" context."""
    ctx = (doc or {}).get("context") or {}
    s = ctx.get("mm_perf")
    if not isinstance(s, dict):
        return []
    if s.get("accel") != "kvm":
        return [f"perf stat -e 'kvm:*': {s.get('note', 'no VM exits')}"]
    summary = KvmSummary("kvm", s.get("kvm_exit"), s.get("kvm_entry"), s.get("ipis") or {},
                         s.get("exits_by_reason") or {}, s.get("nonzero_events") or {},
                         s.get("note", ""))
    return [f"perf stat -e 'kvm:*': {line}" for line in summary.lines()]


def host_note(outdir: Path, commit: str) -> str:
    """Writes host-perf.txt from the run's samples; returns the report's note line."""
    out_txt = outdir / "host-perf.txt"
    top = write_report(host_data(commit), out_txt)
    if not top:
        return "perf record: no report (see the warnings above)"
    return (f"perf record -e {HOST_EVENT} (the figures above were measured under it): top "
            f"{top[0]}; all in {paths.rel(out_txt)}")

"""The gate on exact counts: the kernel's benchmarks in the deterministic mode, against a
baseline committed in the repository.

Under TCG with `-icount shift=0,sleep=off` on one vCPU every in-kernel figure is a count of
guest instructions and repeats exactly, so any growth is a change of the code, not noise.
`tools/mm test` runs them (the `gate` row) and fails when a row's median costs more than
TOLERANCE over the baseline, or when the rows differ from the baseline's. Rows that got
cheaper pass, with a word that the baseline could be updated.

The counts depend on the compiler that built the kernel and on the QEMU that counted, so
the baseline records both; on a machine with others the gate says so and skips instead of
failing. `tools/mm bench --update-baseline` rewrites the baseline; it is committed with the
change that moved it, the commit message saying why.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import paths, qemu

BASELINE = paths.ROOT / "bench" / "baseline" / "kernel-icount.json"
TOLERANCE = 0.005  # 0.5 %
FIGURE = "p50_ns"  # the median; under icount 1 ns is one guest instruction
# The guest's memory: the counts depend on it too (the frame allocator's state), so the
# baseline is always made, and the gate always run, with this much.
MEM_MIB = qemu.DEFAULT_MEM_MIB


def compiler_version() -> str:
    """The first line of `clang --version` (the compiler of every toolchain)."""
    try:
        out = subprocess.run(["clang", "--version"], capture_output=True, text=True,
                             check=False).stdout
    except FileNotFoundError:
        return "clang not found"
    return (out.splitlines() or ["unknown"])[0].strip()


def environment() -> dict:
    """What the counts depend on besides the code."""
    return {"compiler": compiler_version(), "qemu": qemu.version(), "icount": qemu.ICOUNT}


def rows(doc: dict) -> dict[str, float]:
    """name -> median for every benchmark of a kernel benchmark document."""
    return {b["name"]: float(b[FIGURE]) for b in doc.get("benchmarks", []) if FIGURE in b}


def baseline_doc(doc: dict, env: dict) -> dict:
    """The baseline file's content for a run's document."""
    return {
        "about": "Kernel benchmark medians in guest instructions (TCG, -icount); the gate of "
                 "tools/mm test. Rewrite with tools/mm bench --update-baseline and commit it "
                 "with the change that moved it.",
        "environment": env,
        "tolerance": TOLERANCE,
        "figure": FIGURE,
        "rows": {name: value for name, value in sorted(rows(doc).items())},
    }


def write_baseline(doc: dict, env: dict, path: Path = BASELINE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline_doc(doc, env), indent=2) + "\n", encoding="utf-8")
    return path


def read_baseline(path: Path = BASELINE) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


@dataclass
class Verdict:
    ok: bool
    skipped: bool = False
    within: list[str] = field(default_factory=list)
    slower: list[tuple[str, float, float]] = field(default_factory=list)  # name, base, now
    faster: list[tuple[str, float, float]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # in the baseline, not in the run
    new: list[str] = field(default_factory=list)      # in the run, not in the baseline
    note: str = ""

    def lines(self) -> list[str]:
        """What to print, worst first."""
        out = []
        for name, base, now in self.slower:
            out.append(f"gate: {name}: {now:.0f} against {base:.0f} in the baseline "
                       f"(+{(now / base - 1) * 100:.2f} %, over {TOLERANCE * 100:.1f} %)")
        for name in self.missing:
            out.append(f"gate: {name}: in the baseline, not run")
        for name in self.new:
            out.append(f"gate: {name}: not in the baseline")
        for name, base, now in self.faster:
            out.append(f"gate: {name}: {now:.0f} against {base:.0f} "
                       f"({(now / base - 1) * 100:.2f} %): cheaper")
        return out


def compare(baseline: dict | None, doc: dict, env: dict) -> Verdict:
    """The gate's verdict on a run's document."""
    if baseline is None:
        return Verdict(False, note=f"no baseline at {paths.rel(BASELINE)}: "
                                   "run tools/mm bench --update-baseline")
    base_env = baseline.get("environment", {})
    differs = [k for k in ("compiler", "qemu", "icount") if base_env.get(k) != env.get(k)]
    if differs:
        what = "; ".join(f"{k}: {env.get(k)!r} here, {base_env.get(k)!r} in the baseline"
                         for k in differs)
        return Verdict(True, skipped=True, note=f"skipped, the counts are not comparable ({what})")
    tolerance = float(baseline.get("tolerance", TOLERANCE))
    base_rows, now_rows = baseline.get("rows", {}), rows(doc)
    v = Verdict(True)
    for name, base in sorted(base_rows.items()):
        if name not in now_rows:
            v.missing.append(name)
            continue
        now = now_rows[name]
        # Exactly the tolerance still passes (1e-9: 1.005 has no exact binary form).
        if now - base > base * tolerance + 1e-9:
            v.slower.append((name, base, now))
        elif now < base:
            v.faster.append((name, base, now))
            v.within.append(name)
        else:
            v.within.append(name)
    v.new = sorted(set(now_rows) - set(base_rows))
    v.ok = not (v.slower or v.missing or v.new)
    parts = [f"{len(v.within)} of {len(base_rows)} rows within {tolerance * 100:.1f} % "
             "of the baseline"]
    if v.slower:
        parts.append(f"{len(v.slower)} slower")
    if v.missing or v.new:
        parts.append(f"{len(v.missing)} missing, {len(v.new)} new: the baseline needs "
                     "tools/mm bench --update-baseline")
    if v.faster and v.ok:
        parts.append(f"{len(v.faster)} cheaper: tools/mm bench --update-baseline to keep "
                     "the gain")
    v.note = "; ".join(parts)
    return v

"""The main job's one-screen answer to "how do we stand against Linux": per side-by-side
section (system calls, page faults, library calls; per run: deterministic, cross-CPU), how many rows, how many of them our kernel wins, the geometric mean of ours/Linux,
and the best and worst rows. Printed before the full tables, and written as JSON for scripts
(results/<commit>/summary.json; `tools/mm bench --json` prints it instead of the report).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from . import ui
from .report import fmt_ratio
from .side_by_side import SideRow, by_section


@dataclass
class SectionSummary:
    section: str
    rows: int             # rows with both figures
    better: int           # of which ours costs less (ours/Linux below 1)
    geomean: float        # of ours/Linux over those rows
    best: tuple[str, float]
    worst: tuple[str, float]


def summarise(section: str, rows: list[SideRow]) -> SectionSummary | None:
    """The summary of one side-by-side table; None when no row has both figures."""
    ratios = [(r.name, r.ratio) for r in rows if r.ratio is not None and r.ratio > 0]
    if not ratios:
        return None
    geomean = math.exp(sum(math.log(x) for _, x in ratios) / len(ratios))
    ordered = sorted(ratios, key=lambda nr: nr[1])
    return SectionSummary(section, len(ratios), sum(1 for _, x in ratios if x < 1), geomean,
                          ordered[0], ordered[-1])


def summarise_sections(label: str, rows: list[SideRow]) -> list[SectionSummary]:
    """One summary per side-by-side section of a run ("label, section"), in the tables'
    order; sections with no row of both figures left out."""
    found = (summarise(f"{label}, {name}", section_rows) for name, section_rows in by_section(rows))
    return [s for s in found if s is not None]


def render(summaries: list[SectionSummary], machine_lines: list[str]) -> str:
    """The summary as text: the machine lines, then one row per section."""
    lines = list(machine_lines)
    if not summaries:
        return "\n".join(lines + ["   (no side-by-side rows: Linux did not run)"])
    table = [[s.section, s.rows, f"{s.better} of {s.rows}", fmt_ratio(s.geomean)]
             for s in summaries]
    lines.append(ui.table(["section", "rows", "ours cheaper", "ours/Linux (geomean)"], table,
                          [False, True, True, True]))
    for s in summaries:
        lines.append(f"   {s.section}:")
        lines.append(f"      best  {fmt_ratio(s.best[1])}  {s.best[0]}")
        lines.append(f"      worst {fmt_ratio(s.worst[1])}  {s.worst[0]}")
    lines.append("   ours/Linux below 1: our kernel costs less; each section's full table "
                 "follows")
    return "\n".join(lines)


def to_json(summaries: list[SectionSummary], machine_lines: list[str], commit: str) -> dict:
    return {"commit": commit, "machine": machine_lines,
            "sections": [dict(asdict(s), best={"name": s.best[0], "ratio": s.best[1]},
                              worst={"name": s.worst[0], "ratio": s.worst[1]})
                         for s in summaries]}

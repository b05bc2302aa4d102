"""results/<commit>/report.html: the main job's report as one self-contained page (no network:
the styles are inline and the plots are PNG data inside it).

It holds the summary, every result file's table (every row), and the plots: for each
side-by-side section ours beside Linux per benchmark, and for each result file the spread of
its samples (p50 and p99, and min and max where the kernel measured them). It is made from
the folder's JSON files alone, so `tools/mm report --html [DIR]` rewrites it at any time.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from . import paths, report, ui
from .plots import pyplot
from .side_by_side import SECTIONS, SideRow, by_section, pair_rows

# (ours, Linux, title) for the side-by-side sections.
PAIRS = (("kernel.json", "linux.json", "side by side, deterministic (icount)"),
         ("kernel-smp2.json", "linux-smp2.json", "side by side, cross-CPU (2 vCPUs, wall-clock)"))

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eee; }
.cheaper { background: #e6f4e6; } .dearer { background: #fbe9e7; }
img { max-width: 100%; }
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return ("<img alt=\"plot\" src=\"data:image/png;base64,"
            + base64.b64encode(buf.getvalue()).decode("ascii") + "\">")


def _side_plot(rows: list[SideRow], title: str) -> str:
    rows = [r for r in rows if r.ours and r.linux]
    if not rows:
        return ""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1))
    names = [r.name for r in rows]
    y = range(len(rows))
    ax.barh([i - 0.2 for i in y], [r.ours for r in rows], height=0.4, label="ours")
    ax.barh([i + 0.2 for i in y], [r.linux for r in rows], height=0.4, label="Linux")
    ax.set_yticks(list(y))
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("p50 (lower is better)")
    ax.set_title(title)
    ax.legend()
    out = _png(fig)
    plt.close(fig)
    return out


def _spread_plot(rows: list[report.Row], docrows: dict[str, dict], title: str) -> str:
    """p50 with a bar to p99 (and min/max marks where the document has them), per row."""
    rows = [r for r in rows if r.median]
    if not rows:
        return ""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(rows) + 1))
    for i, r in enumerate(rows):
        hi = r.p99 or r.median
        ax.plot([r.median, hi], [i, i], color="tab:blue", linewidth=3)
        ax.plot([r.median], [i], "o", color="tab:blue", markersize=3)
        raw = docrows.get(r.name, {})
        if "min_cycles" in raw and "max_cycles" in raw and r.cycles_p50:
            scale = r.median / r.cycles_p50
            ax.plot([raw["min_cycles"] * scale, raw["max_cycles"] * scale], [i, i], "|",
                    color="grey")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r.name for r in rows], fontsize=7)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel(f"{rows[0].unit}: p50 (dot) to p99 (bar); min and max (grey) where measured")
    ax.set_title(title)
    out = _png(fig)
    plt.close(fig)
    return out


NUMBER_CELL = '<td class="n">'


def _table(headers: list[str], rows: list[list[str]], numeric: list[bool],
           classes: list[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"]
    for i, row in enumerate(rows):
        cls = f" class=\"{classes[i]}\"" if classes and classes[i] else ""
        cells = "".join((NUMBER_CELL if n else "<td>") + html.escape(c) + "</td>"
                        for c, n in zip(row, numeric))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _load(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def build(folder: Path, plots: bool = True) -> Path:
    """Writes folder/report.html from the folder's result files; returns its path."""
    docs = {p.name: d for p in sorted(folder.glob("*.json"))
            if p.name != paths.SUMMARY_FILE and (d := _load(p)) and "benchmarks" in d}
    summary = _load(folder / paths.SUMMARY_FILE)
    parts = [f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>mm benchmarks "
             f"{html.escape(folder.name)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Benchmarks, commit {html.escape(folder.name)}</h1>"]
    if summary:
        parts.append("<h2>Summary</h2>")
        parts += [f"<p>{html.escape(line)}</p>" for line in summary.get("machine", [])]
        rows = [[s["section"], str(s["rows"]), f"{s['better']} of {s['rows']}",
                 report.fmt_ratio(s["geomean"]),
                 f"{s['best']['name']} {report.fmt_ratio(s['best']['ratio'])}",
                 f"{s['worst']['name']} {report.fmt_ratio(s['worst']['ratio'])}"]
                for s in summary.get("sections", [])]
        parts.append(_table(["section", "rows", "ours cheaper", "ours/Linux (geomean)", "best",
                             "worst"], rows, [False, True, True, True, False, False]))
    for ours, linux, title in PAIRS:
        if ours in docs and linux in docs:
            for section, pairs in by_section(pair_rows(docs[ours], docs[linux])):
                heading = f"{title}: {section}"
                parts.append(f"<h2>{html.escape(heading)}</h2>")
                parts.append(f"<p>{html.escape(SECTIONS[section])}. p50; every figure is a "
                             "cost: ours/Linux below 1 means our kernel costs less.</p>")
                rows, classes = [], []
                for r in pairs:
                    rows.append([r.name, report.fmt(r.ours), report.fmt(r.linux),
                                 report.fmt_ratio(r.ratio) if r.ratio is not None else "-", r.differs])
                    classes.append("" if r.ratio is None else "cheaper" if r.ratio < 1
                                   else "dearer" if r.ratio > 1 else "")
                parts.append(_table(["benchmark", "ours p50", "Linux p50", "ours/Linux",
                                     "what differs"], rows, [False, True, True, True, False],
                                    classes))
                if plots:
                    parts.append(_side_plot(pairs, heading))
    for name, doc in docs.items():
        rows = report.rows(doc)
        parts.append(f"<h2>{html.escape(name)}</h2>")
        for line in (report.context_line(doc), report.disturbance_line(doc)):
            if line:
                parts.append(f"<p>{html.escape(line)}</p>")
        # Repeated runs (the host's) also show their fastest repetition and spread, and
        # several runs (--host-runs) how far apart they lie.
        repeated = any(r.fastest is not None for r in rows)
        runs = any(r.runs_spread is not None for r in rows)
        extra = (["fastest", "spread"] if repeated else []) + (["runs apart"] if runs else [])
        parts.append(_table(["benchmark"] + extra + ["median", "p99", "unit", "error"],
                            [[r.name]
                             + ([report.fmt(r.fastest), report.fmt_pct(r.spread)]
                                if repeated else [])
                             + ([report.fmt_pct(r.runs_spread)] if runs else [])
                             + [report.fmt(r.median), report.fmt(r.p99), r.unit, r.error]
                             for r in rows],
                            [False] + [True] * len(extra) + [True, True, False, False]))
        if plots:
            raw = {b.get("name"): b for b in doc.get("benchmarks", [])}
            parts.append(_spread_plot(rows, raw, name))
    parts.append("</body></html>")
    out = folder / "report.html"
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out


def write(folder: Path) -> Path | None:
    """build(), or a warning and None when it cannot be made (no matplotlib, ...)."""
    try:
        return build(folder)
    except ui.Fatal as e:
        ui.warn(f"report.html: {e.message}")
    except Exception as e:  # a report must never fail the run that measured
        ui.warn(f"report.html: not written ({type(e).__name__}: {e})")
    return None

"""Pictures of stored results: per benchmark, the repetitions of each commit as a box with
its points (the distribution) and the medians joined from commit to commit in the order of
git history (the trend). `tools/mm plot` draws every commit in results/, `tools/mm compare
--plot` the two it compared.

PNG files through matplotlib's Agg backend (Debian's python3-matplotlib, imported only here
and only when a plot is asked for). One image per result file and page, a panel per
benchmark with its own scale; exact figures (kernel under icount, callgrind) are points, since
a box around one repeated value says nothing.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import compare, debpy, filters, paths, stats, ui

PANELS_PER_PAGE = 20
COLUMNS = 4


@dataclass
class Column:
    """One commit (or result folder) on the x axis."""
    label: str
    sets: dict[str, compare.ResultSet]


def pyplot():
    """matplotlib.pyplot on the Agg backend (also report.html's plots)."""
    matplotlib = debpy.load("matplotlib", "python3-matplotlib")
    matplotlib.use("Agg")  # files only: no display on a server
    return debpy.load("matplotlib.pyplot", "python3-matplotlib")


# ---------------------------------------------------------------------------------------
# Which commits, in which order

def history() -> list[str]:
    """Full commit ids reachable from HEAD, oldest first."""
    r = subprocess.run(["git", "-C", str(paths.ROOT), "rev-list", "--topo-order", "--reverse",
                        "HEAD"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       check=False)
    return r.stdout.split() if r.returncode == 0 else []


def order_by_history(labels: list[str], commits: list[str]) -> tuple[list[str], list[str]]:
    """(labels in history order, labels not in it). A label is a short commit id, maybe
    with "-dirty" (placed right after its commit: the work on top of it)."""
    position: dict[str, float] = {}
    outside = []
    for label in labels:
        base = label[:-len("-dirty")] if label.endswith("-dirty") else label
        index = next((i for i, c in enumerate(commits) if c.startswith(base)), None)
        if index is None or not re.fullmatch(r"[0-9a-f]{4,40}", base):
            outside.append(label)
        else:
            position[label] = index + (0.5 if label != base else 0.0)
    return sorted(position, key=position.__getitem__), sorted(outside)


def stored_columns(results: Path, metric: str = "auto") -> list[Column]:
    """Every results/<commit>/ with result files, in history order."""
    labels = [d.name for d in results.iterdir() if has_json(d)] if results.is_dir() else []
    ordered, outside = order_by_history(labels, history())
    if outside:
        ui.warn(f"not in this branch's history, left out of the trend: {', '.join(outside)}")
    return [Column(label, compare.load(results / label, metric)) for label in ordered]


def has_json(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.json"))


# ---------------------------------------------------------------------------------------
# Drawing

def short_name(name: str) -> str:
    """Panel titles: the parts every host benchmark repeats are dropped."""
    return name.replace("/real_time", "").replace("/threads:1", "")


def _limits(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    mid = (lo + hi) / 2
    # At least ±2 % around the middle: identical figures would otherwise fill the panel
    # with the last digits of one number, and small noise would look dramatic.
    pad = max((hi - lo) * 0.15, abs(mid) * 0.02, 1e-9)
    return lo - pad, hi + pad


def draw(columns: list[Column], key: str, out: Path, prefix: str,
         name_filter: str | None = None) -> list[Path]:
    """Images for result file `key` across columns, for the names name_filter selects
    (filters.py); returns the files written."""
    present = [c for c in columns if key in c.sets]
    if not present:
        return []
    selects = filters.matcher(name_filter)
    names: list[str] = []
    for c in present:
        for n in c.sets[key].series:
            if n not in names and selects(n):
                names.append(n)
    if not names:
        return []
    plt = pyplot()
    exact = all(c.sets[key].exact for c in present)
    metric = present[-1].sets[key].metric
    out.mkdir(parents=True, exist_ok=True)
    files = []
    pages = [names[i:i + PANELS_PER_PAGE] for i in range(0, len(names), PANELS_PER_PAGE)]
    for page_no, page in enumerate(pages, 1):
        rows = (len(page) + COLUMNS - 1) // COLUMNS
        width = max(3.2, 0.5 * len(present) + 1.6)
        fig, axes = plt.subplots(rows, COLUMNS, figsize=(COLUMNS * width, rows * 2.6),
                                 squeeze=False)
        for ax in axes.flat[len(page):]:
            ax.set_visible(False)
        for ax, name in zip(axes.flat, page):
            _panel(ax, name, key, present, exact)
        how = ("exact figures, one point per commit" if exact else
               "box: quartiles of the repetitions, whiskers to 1.5 IQR; dots: repetitions")
        fig.suptitle(f"{key}: {metric} per benchmark ({how}); line: median, commits in "
                     f"git order", fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.97))
        suffix = f"-{page_no}" if len(pages) > 1 else ""
        path = out / f"{prefix}-{key}{suffix}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        files.append(path)
    return files


def _panel(ax, name: str, key: str, columns: list[Column], exact: bool) -> None:
    xs, medians, all_values = [], [], []
    unit = ""
    for x, c in enumerate(columns):
        s = c.sets[key].series.get(name)
        if s is None:
            continue
        unit = s.unit
        values = s.values
        all_values += values
        xs.append(x)
        medians.append(stats.median(values))
        if not exact and len(values) > 1:
            ax.boxplot([values], positions=[x], widths=0.5, showfliers=False,
                       medianprops={"color": "tab:orange"})
        # Spread the points sideways a little, in a fixed pattern (the picture repeats).
        n = len(values)
        offsets = [((i - (n - 1) / 2) * 0.25 / max(n - 1, 1)) for i in range(n)]
        ax.scatter([x + o for o in offsets], values, s=10, color="tab:blue", zorder=3)
    if len(xs) > 1:
        ax.plot(xs, medians, color="tab:gray", linewidth=1, zorder=2)
    ax.set_title(short_name(name), fontsize=8)
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels([c.label for c in columns], fontsize=7,
                       rotation=30 if len(columns) > 2 else 0, ha="right" if len(columns) > 2 else "center")
    ax.set_xlim(-0.6, len(columns) - 0.4)
    if all_values:
        ax.set_ylim(*_limits(all_values))
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    ax.tick_params(axis="y", labelsize=7)
    # Our kernel under icount: its "ns" are guest instructions (1 ns per instruction).
    ax.set_ylabel("ns = instructions" if exact and unit == "ns" else unit, fontsize=7)
    ax.grid(axis="y", linewidth=0.3)


# ---------------------------------------------------------------------------------------
# Entry points

def distribution(a, b, sets_a: dict, sets_b: dict, out: Path,
                 name_filter: str | None = None) -> list[Path]:
    """`tools/mm compare --plot`: the two sides (cmd_compare.Side) of a comparison."""
    la, lb = a.commit or a.path.name, b.commit or b.path.name
    prefix = f"compare-{la}-{lb}"
    if la == lb:  # two folders of the same commit (two runs): say which is which
        la, lb = f"A {la}", f"B {lb}"
    columns = [Column(la, sets_a), Column(lb, sets_b)]
    files = []
    for key in [k for k in sets_a if k in sets_b]:
        files += draw(columns, key, out, prefix, name_filter)
    return files

"""`tools/mm plot`: PNG plots of every stored commit's results (or of the commits named)."""
from __future__ import annotations

from pathlib import Path

from . import compare, notes, paths, ui
from .plots import Column, draw, has_json, history, order_by_history, stored_columns


def fill_cache_from_notes(results: Path) -> None:
    """This machine's runs that only the git notes hold (made in another clone, or fetched)
    join the cache, so that the trend has every commit measured here."""
    who = notes.this_machine()
    for commit in notes.noted_commits():
        short = notes.short(commit)
        if has_json(results / short):
            continue
        if notes.restore(commit, who, results / short):
            ui.info(f"{short}: results of this machine from git notes {notes.REF}")


def machine_columns(results: Path, machine: str, metric: str) -> list[Column]:
    """Another machine's runs, from the git notes (cached under
    results/<commit>/machines/NAME/, never measured here), in history order."""
    labels = []
    for commit in notes.noted_commits():
        short = notes.short(commit)
        folder = results / short / "machines" / machine
        if has_json(folder) or notes.restore(commit, machine, folder):
            labels.append(short)
    ordered, outside = order_by_history(labels, history())
    if outside:
        ui.warn(f"not in this branch's history, left out of the trend: {', '.join(outside)}")
    return [Column(label, compare.load(results / label / "machines" / machine, metric))
            for label in ordered]


def cmd_plot(args) -> int:
    """`tools/mm plot`: every stored commit (or those named), per result file."""
    results = paths.results_dir()
    if args.commits:
        from .cmd_compare import resolve  # the same spellings as compare accepts
        sides = [resolve(spec) for spec in args.commits]
        columns = [Column(s.commit or s.path.name, compare.load(s.path, args.metric))
                   for s in sides]
    elif args.machine and args.machine != notes.this_machine():
        columns = machine_columns(results, args.machine, args.metric)
        if not columns:
            raise ui.Fatal(f"git notes {notes.REF} hold no results of machine {args.machine}")
    else:
        fill_cache_from_notes(results)
        columns = stored_columns(results, args.metric)
    if not columns:
        raise ui.Fatal(f"no stored results in {paths.rel(results)}: run tools/mm bench")
    out = Path(args.output) if args.output else paths.out_dir() / "plots"
    keys: list[str] = []
    for c in columns:
        keys += [k for k in c.sets if k not in keys]
    files = []
    for key in keys:
        files += draw(columns, key, out, "trend", args.filter)
    for f in files:
        ui.out(str(f))
    ui.info(f"{len(files)} image(s) for {len(columns)} commit(s): "
            f"{', '.join(c.label for c in columns)}")
    return 0

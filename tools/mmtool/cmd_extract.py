"""`tools/mm extract LOG` and `tools/mm report [DIR|FILE]`: reading results back.

extract cuts the benchmark JSON and the test summary out of a console log, for example a
bare-metal server's serial-over-LAN capture; report re-prints stored results.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import extract, html_report, machine, notes, paths, report, ui


def _read_log(name: str) -> str:
    if name == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="replace")
    path = Path(name)
    if not path.exists():
        raise ui.Fatal(f"no such log: {name}")
    # Bytes, not text mode: text mode would turn a lone carriage return into a line break.
    return path.read_bytes().decode("utf-8", errors="replace")


def cmd_extract(args) -> int:
    lines = extract.clean_lines(_read_log(args.log))
    summary = extract.find_summary(lines)
    try:
        doc = extract.parse_bench_json(lines)
    except extract.ExtractError as e:
        raise ui.Fatal(f"{args.log}: {e}") from None
    if doc is None and summary is None:
        raise ui.Fatal(f"{args.log}: neither benchmark JSON ({extract.BEGIN} ... "
                       f"{extract.END}) nor an 'N passed, N failed' line found")
    if doc is not None and args.store:
        store(doc, args.store, args.machine or notes.this_machine())
    if doc is not None:
        if args.output:
            Path(args.output).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            ui.info(f"benchmark JSON written to {args.output}")
        if args.json:
            ui.out(json.dumps(doc, indent=2))
        else:
            ui.out(report.render(doc))
    if summary is not None:
        if args.json:
            ui.info(f"tests: {summary}")
        else:
            ui.out(str(summary))
    return 0 if summary is None or summary.failed == 0 else 1


def store(doc: dict, spec: str, who: str) -> None:
    """A bare-metal run's benchmarks as a commit's results of machine who: the kernel's
    document in results/<commit>/ (named after the machine, beside this machine's own) and in
    the commit's git note under that machine."""
    r = subprocess.run(["git", "-C", str(paths.ROOT), "rev-parse", "--verify", "--quiet",
                        "--short", f"{spec}^{{commit}}"], capture_output=True, text=True,
                       check=False)
    commit = r.stdout.strip()
    if r.returncode != 0 or not commit:
        raise ui.Fatal(f"--store {spec}: not a commit git knows")
    folder = paths.results_dir() / commit / "machines" / who
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    host = {"machine": who, "source": "serial console log (tools/mm extract)"}
    if notes.write_run(commit, who, host, folder):
        ui.info(f"stored as {commit}'s results of machine {who}: {paths.rel(folder)} and git "
                f"notes {notes.REF}")


def cmd_report(args) -> int:
    target = Path(args.target) if args.target else paths.results_dir() / machine.commit_id()
    if args.html:
        if not target.is_dir():
            raise ui.Fatal(f"--html needs a results folder: {target} is none")
        ui.out(str(html_report.build(target)))
        return 0
    if target.is_dir():
        files = sorted(target.glob("*.json"))
        if not files:
            raise ui.Fatal(f"no result files (*.json) in {target}: run tools/mm bench")
    elif target.exists():
        files = [target]
    else:
        raise ui.Fatal(f"no results at {target}: run tools/mm bench")
    for f in files:
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ui.Fatal(f"{f}: not valid JSON: {e}") from None
        problem = extract.check_schema(doc)
        if problem:
            raise ui.Fatal(f"{f}: {problem}")
        run = doc.get("context", {}).get("mm_run", {})
        ui.out(f"-- {paths.rel(f)}" + (f" (commit {run['commit']}, {run.get('accel', '?')})"
                                        if "commit" in run else ""))
        ui.out(report.render(doc))
        ui.out()
    return 0

"""`tools/mm extract LOG` and `tools/mm report [DIR|FILE]`: reading results back.

extract cuts the benchmark JSON and the test summary out of a console log, for example a
bare-metal server's serial-over-LAN capture, or out of a LAVA job's log (a file, or fetched
from the server by lavacli: the console is in its records, lava_log.py); report re-prints
stored results.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import (extract, html_report, lava, lava_log, lava_server, machine, notes, paths, report,
               ui)


def _read_log(name: str) -> str:
    if name == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="replace")
    path = Path(name)
    if not path.exists():
        raise ui.Fatal(f"no such log: {name}")
    # Bytes, not text mode: text mode would turn a lone carriage return into a line break.
    return path.read_bytes().decode("utf-8", errors="replace")


def cmd_extract(args) -> int:
    server_job = None
    if args.lava_job:
        if args.log:
            raise ui.Fatal("give a LOG or --lava-job, not both")
        server_job = lava_server.fetch(args.lava_job, args.identity)
        name, text = f"LAVA job {args.lava_job}", server_job.log
        ui.info(f"{name}: {server_job.state} ({server_job.health}) on {server_job.device} "
                f"({server_job.device_type}), commit {server_job.commit or 'not in its metadata'}")
    elif args.log:
        name, text = args.log, _read_log(args.log)
    else:
        raise ui.Fatal("name a LOG file (- for stdin), or a LAVA job with --lava-job ID")
    records = lava_log.read_records(text) if lava_log.is_lava_log(text) else None
    lines = lava_log.console_lines(records) if records is not None else extract.clean_lines(text)
    summary = extract.find_summary(lines)
    try:
        doc = extract.parse_bench_json(lines)
    except extract.ExtractError as e:
        raise ui.Fatal(f"{name}: {e}") from None
    if doc is None and summary is None:
        raise ui.Fatal(f"{name}: neither benchmark JSON ({extract.BEGIN} ... "
                       f"{extract.END}) nor an 'N passed, N failed' line found")
    lava_ok = True
    if records is not None:
        lava_ok = _lava_verdict(records, doc)
    spec = args.store or (server_job.commit if server_job else None)
    if doc is not None and spec:
        who = args.machine or (server_job.device if server_job else "") or notes.this_machine()
        store(doc, spec, who, "LAVA job log (tools/mm extract)" if records is not None
              else "serial console log (tools/mm extract)")
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
    return 0 if (summary is None or summary.failed == 0) and lava_ok else 1


def _lava_verdict(records: list[lava_log.Record], doc: dict | None) -> bool:
    """What LAVA itself recorded: the test cases of the tests monitor (each passed, as many as
    the kernel ran), or the benchmarks of the bench monitor."""
    if lava_log.test_cases(records, lava.TESTS_SUITE):
        v = lava_log.judge_tests(records, lava.TESTS_SUITE)
        ui.info(f"LAVA: {v.passed} test case(s) passed, {v.failed} failed"
                + ("" if v.ok else f": {v.note}"))
        return v.ok
    result, error = lava_log.job_result(records)
    if doc is not None:
        cases = lava_log.test_cases(records, lava.BENCH_SUITE)
        ui.info(f"LAVA: {len(cases)} benchmark(s) recorded of the {len(doc['benchmarks'])} in "
                f"the JSON; job {result or 'without a result'}" + (f": {error}" if error else ""))
    return result in (None, "pass")


def store(doc: dict, spec: str, who: str,
          source: str = "serial console log (tools/mm extract)") -> None:
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
    host = {"machine": who, "source": source}
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
        files = sorted(p for p in target.glob("*.json") if p.name != paths.SUMMARY_FILE)
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
        line = report.disturbance_line(doc)
        if line:
            ui.out(f"   {line}")
        ui.out(report.render(doc))
        ui.out()
    return 0

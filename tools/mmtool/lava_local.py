"""Running LAVA jobs on this machine with lava-run (Debian's lava-dispatcher), no LAVA server:
a job for a QEMU device runs the kernel exactly as a lab's worker would read a server's
console, and `lava-run --validate` checks a server job against an x86 device configuration
and the local TFTP folder (tftpd-hpa's, /etc/default/tftpd-hpa).

lava-run writes its records on stderr; it exits 0 even when a test case failed, and ignores
QEMU's exit status, so the verdict comes from the records (lava_log).
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import lava, lava_log, paths, runner, ui

LAVA_RUN = "lava-run"


def work_dir(name: str) -> Path:
    """The job's files: definition, device configuration and lava-run's output folder."""
    return paths.out_dir() / "lava" / name


def require() -> str:
    exe = shutil.which(LAVA_RUN)
    if exe is None:
        raise ui.Fatal(f"{LAVA_RUN} not found: run tools/mm deps (package lava-dispatcher)")
    return exe


@dataclass
class Run:
    records: list[lava_log.Record]
    result: runner.Result
    log: Path


def run(job: dict | str, device: dict, name: str, timeout: float, validate: bool = False) -> Run:
    """Writes the job (a document, or YAML text) and the device as YAML into work_dir(name)
    and runs lava-run on them; its records go to out/logs/<name>.log."""
    exe = require()
    work = work_dir(name)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    job_file, device_file = work / "job.yaml", work / "device.yaml"
    job_file.write_text(job if isinstance(job, str) else lava.to_yaml(job), encoding="utf-8")
    device_file.write_text(lava.to_yaml(device), encoding="utf-8")
    argv = [exe, "--job-id", name, "--output-dir", str(work / "output"),
            "--device", str(device_file)]
    if validate:
        argv.append("--validate")
    argv.append(str(job_file))
    log = paths.logs_dir() / f"{name}.log"
    ui.detail(f"{name}: {' '.join(argv)}, log {paths.rel(log)}")
    result = runner.run(argv, log, timeout, echo=False)
    return Run(lava_log.read_records("\n".join(result.lines)), result, log)


TFTPD_CONFIG = Path("/etc/default/tftpd-hpa")


def tftp_root() -> Path | None:
    """tftpd-hpa's folder (TFTP_DIRECTORY), where lava-run makes a job's TFTP files."""
    try:
        text = TFTPD_CONFIG.read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r'^\s*TFTP_DIRECTORY\s*=\s*"?([^"\n]*)"?', text, re.MULTILINE)
    return Path(m.group(1).strip()) if m and m.group(1).strip() else None


def clean_tftp(name: str) -> None:
    """Removes what lava-run --validate left in the TFTP folder for job id name (a folder of
    empty download folders)."""
    root = tftp_root()
    if root is not None and name and "/" not in name:
        shutil.rmtree(root / name, ignore_errors=True)


def validation_errors(r: Run) -> list[str]:
    """Why lava-run --validate refused a job (empty when it accepted it)."""
    problems = []
    if r.result.timed_out:
        problems.append("lava-run --validate reached its time limit")
    elif r.result.status != 0:
        problems.append(f"lava-run --validate exited with {r.result.status}")
    for rec in r.records:
        if rec.lvl in ("error", "exception"):
            problems.append(str(rec.msg).strip())
    result, error = lava_log.job_result(r.records)
    if result not in (None, "pass"):
        problems.append(error or f"job result {result}")
    if not r.records:
        problems.append("lava-run printed no records")
    return problems

"""Running a program (QEMU or a host test binary) under a time limit, with its output saved
to a log file line by line and echoed.

Why not subprocess.run(timeout=...): it kills only the direct child and loses what was
printed before a time-out. Here the program gets its own process group (killed as a whole,
TERM then KILL), the log is written and flushed as lines arrive (complete even if the tool
itself is interrupted), and reading goes on until end of file, so everything the program
wrote before it exited is in the log.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, IO

from .extract import clean_line

TIMEOUT_STATUS = 124  # what coreutils' timeout returns; reported the same way here


@dataclass
class Result:
    argv: list[str]
    status: int          # exit status; TIMEOUT_STATUS on time-out; -N when killed by signal N
    timed_out: bool
    seconds: float
    lines: list[str]     # cleaned output lines (the log's content)
    stderr: str = ""     # kept apart when the caller asked (QEMU: it must not split the JSON)
    log: Path | None = None
    extra: dict = field(default_factory=dict)


def _pump(stream: IO[bytes], sink: Callable[[str], None]) -> None:
    for raw in iter(stream.readline, b""):
        sink(clean_line(raw.decode("utf-8", errors="replace")))
    stream.close()


def _kill_group(proc: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run(argv: list[str], log: Path, timeout: float, echo: bool = True,
        separate_stderr: bool = False, env: dict | None = None,
        stderr_filter: Callable[[str], bool] | None = None) -> Result:
    """Runs argv; stdout (and stderr unless separate_stderr) goes to `log` and, if echo, to
    our stdout. With separate_stderr, stderr lines are kept in Result.stderr and echoed to
    our stderr unless stderr_filter(line) says to hide them."""
    log.parent.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    err_lines: list[str] = []
    lock = threading.Lock()
    start = time.monotonic()
    with open(log, "w", encoding="utf-8", errors="replace") as logf:
        def out_sink(line: str) -> None:
            with lock:
                lines.append(line)
                logf.write(line + "\n")
                logf.flush()
                if echo:
                    sys.stdout.write(line + "\n")
                    sys.stdout.flush()

        def err_sink(line: str) -> None:
            err_lines.append(line)
            if echo and not (stderr_filter and stderr_filter(line)):
                sys.stderr.write(line + "\n")
                sys.stderr.flush()

        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if separate_stderr else subprocess.STDOUT,
                start_new_session=True, env=env)
        except FileNotFoundError:
            raise FileNotFoundError(f"cannot run {argv[0]}: not found") from None
        threads = [threading.Thread(target=_pump, args=(proc.stdout, out_sink), daemon=True)]
        if separate_stderr:
            threads.append(threading.Thread(target=_pump, args=(proc.stderr, err_sink),
                                            daemon=True))
        for t in threads:
            t.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
        except KeyboardInterrupt:
            _kill_group(proc)
            raise
        for t in threads:
            t.join(timeout=10)
        seconds = time.monotonic() - start
        if timed_out:
            logf.write(f"[mm: killed after the {timeout:g} s time limit]\n")
    status = TIMEOUT_STATUS if timed_out else proc.returncode
    return Result(argv=list(argv), status=status, timed_out=timed_out, seconds=seconds,
                  lines=lines, stderr="\n".join(err_lines), log=log)

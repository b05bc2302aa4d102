"""The `fuzz` run of `tools/mm test`: the API fuzzer (tests/fuzz/, libFuzzer) for a bounded
time over a copy of its seed corpus, with the regression inputs replayed first.

The fuzzer grows its corpus in out/fuzz-corpus (seeded from tests/fuzz/corpus, and for runs
of GROWN_CORPUS_SECONDS or more from the inputs earlier long runs found,
tests/fuzz/grown-corpus.tar.gz; kept between runs so that each run starts where the last one
stopped), reads tests/fuzz/regressions
without writing there, and leaves any crashing input in out/logs as fuzz-crash-<hash>. The
run counts as one test: passed when libFuzzer finishes its time without a crash.
"""
from __future__ import annotations

import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from . import paths

DEFAULT_SECONDS = 30

# Runs at least this long start from the grown corpus too (tests/fuzz/grown-corpus.tar.gz).
GROWN_CORPUS_SECONDS = 300

# libFuzzer's own limits: memory for the whole process, and seconds for one input (an input
# takes milliseconds; a minute means a hang).
RSS_LIMIT_MB = 2048
INPUT_TIMEOUT_S = 60

# Loading the corpus and the final merge come on top of -max_total_time.
SLACK_S = 120

_DONE = re.compile(r"^#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+.*?exec/s: (\d+)")
_STATUS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+.*?exec/s: (\d+)")
_RUNS = re.compile(r"^stat::number_of_executed_units:\s*(\d+)")
_SPEED = re.compile(r"^stat::average_exec_per_sec:\s*(\d+)")
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_ERROR_MARKS = ("api_fuzz:", "PANIC:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                "runtime error:", "ERROR: libFuzzer")


@dataclass
class FuzzReport:
    done: bool                 # libFuzzer reached the end of its time (the DONE line)
    runs: int | None = None
    exec_per_s: int | None = None
    cov: int | None = None     # coverage counters (edges) reached
    ft: int | None = None      # features (edges with hit counts, comparisons)
    corpus: int | None = None  # inputs in the corpus at the end
    artifact: str | None = None
    error: str | None = None   # the first line saying what went wrong

    def summary(self) -> str:
        parts = []
        if self.runs is not None:
            parts.append(f"{self.runs} runs")
        if self.exec_per_s is not None:
            parts.append(f"{self.exec_per_s} exec/s")
        if self.cov is not None:
            parts.append(f"cov {self.cov}, ft {self.ft}, corpus {self.corpus}")
        return ", ".join(parts) or "no statistics"


def parse_output(lines: list[str]) -> FuzzReport:
    """What a libFuzzer run's output says: its statistics, the crash input, the first error."""
    r = FuzzReport(done=False)
    for line in lines:
        text = line.strip()
        m = _DONE.match(text)
        if m:
            r.done = True
        m = m or _STATUS.match(text)
        if m:
            r.runs, r.cov, r.ft, r.corpus, r.exec_per_s = (int(g) for g in m.groups())
            continue
        m = _RUNS.match(text)
        if m:
            r.runs = int(m.group(1))
            continue
        m = _SPEED.match(text)
        if m:
            r.exec_per_s = int(m.group(1))
            continue
        m = _ARTIFACT.search(text)
        if m:
            r.artifact = m.group(1)
            continue
        if r.error is None and any(mark in text for mark in _ERROR_MARKS):
            r.error = text
    return r


def prepare_corpus(seeds: Path, corpus: Path) -> int:
    """Copies the seeds the working corpus lacks into it. Returns how many were copied."""
    corpus.mkdir(parents=True, exist_ok=True)
    copied = 0
    for seed in sorted(seeds.iterdir()) if seeds.is_dir() else []:
        if seed.is_file() and not (corpus / seed.name).exists():
            shutil.copyfile(seed, corpus / seed.name)
            copied += 1
    return copied


def prepare_grown(archive: Path, corpus: Path) -> int:
    """Unpacks the inputs of the grown corpus that the working corpus lacks (plain files
    only, by their base names). Returns how many were added."""
    corpus.mkdir(parents=True, exist_ok=True)
    if not archive.is_file():
        return 0
    added = 0
    with tarfile.open(archive, "r:gz") as tf:
        for member in tf.getmembers():
            name = Path(member.name).name
            if not member.isfile() or not name or (corpus / name).exists():
                continue
            data = tf.extractfile(member)
            if data is None:
                continue
            (corpus / name).write_bytes(data.read())
            added += 1
    return added


def command(binary: Path, seconds: float, corpus: Path, regressions: Path,
            artifact_prefix: Path) -> list[str]:
    # -close_fd_mask=1: the dump operations print to stdout; the verdicts are on stderr.
    argv = [str(binary), f"-max_total_time={int(seconds)}", f"-rss_limit_mb={RSS_LIMIT_MB}",
            f"-timeout={INPUT_TIMEOUT_S}", "-print_final_stats=1", "-close_fd_mask=1",
            f"-artifact_prefix={artifact_prefix}", str(corpus)]
    if regressions.is_dir():
        argv.append(str(regressions))
    return argv


def judge(report: FuzzReport, status: int, timed_out: bool,
          limit: float) -> tuple[bool, str]:
    """(ok, note) for a run: ok when it ended on its own, with status 0 and no crash input."""
    if timed_out:
        return False, f"killed after {limit:g} s (libFuzzer did not stop at -max_total_time)"
    if report.artifact or status != 0:
        what = report.error or f"exit status {status}"
        where = f"; crash input {paths.rel(Path(report.artifact))}" if report.artifact else ""
        return False, f"{what}{where}"
    if not report.done:
        return False, "no DONE line: libFuzzer stopped early"
    return True, ""

"""The `format` row of `tools/mm test`: every C and C++ source is as clang-format writes it.

The style is the repository's .clang-format (bench/host/ has its own, Google Benchmark's
house style). `clang-format --dry-run -Werror` reports each place that differs; a file with
at least one such place counts as failed, every other file as passed.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from . import paths

SUFFIXES = (".c", ".h", ".cc")
# Folders that are not the project's sources (build output, results, stored corpora).
NOT_SOURCES = ("out", "results", ".git")

_WHERE = re.compile(r"^(?P<file>[^\s:][^:]*):\d+:\d+: (error|warning): code should be clang-formatted")


def sources(root: Path = paths.ROOT) -> list[Path]:
    """The tracked C and C++ files (git ls-files), or every such file outside NOT_SOURCES
    where the tree is not a git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", *(f"*{s}" for s in SUFFIXES)],
                                cwd=root, capture_output=True, check=True).stdout
        return [root / name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        return sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                      and p.relative_to(root).parts[0] not in NOT_SOURCES)


def unformatted(report: str) -> list[str]:
    """The files clang-format's --dry-run report names, each once, in order."""
    seen: dict[str, None] = {}
    for line in report.splitlines():
        m = _WHERE.match(line)
        if m:
            seen.setdefault(m.group("file"), None)
    return list(seen)


def check(root: Path = paths.ROOT) -> tuple[int, list[str], str]:
    """(files checked, files that differ, clang-format's report)."""
    files = sources(root)
    r = subprocess.run(["clang-format", "--dry-run", "-Werror", "--style=file",
                        *(str(f.relative_to(root)) for f in files)],
                       cwd=root, capture_output=True, text=True, check=False)
    report = r.stdout + r.stderr
    bad = unformatted(report)
    if r.returncode != 0 and not bad:
        bad = ["(clang-format failed: " + (report.strip().splitlines() or ["no output"])[-1] + ")"]
    return len(files), bad, report

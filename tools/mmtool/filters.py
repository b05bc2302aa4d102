"""--filter: one meaning wherever the tools select tests or benchmarks by name, the kernel's
(lib/filter.h, mirrored here): a comma-separated list of terms matched as substrings, a name
selected when it contains one of the plain terms (or there is none) and none of the terms
written with a leading '-'. The kernel's tests= and bench= and the Linux program's mmbench=
take the text as it is; Google Benchmark's --benchmark_filter is a regular expression, so
the text is turned into one; stored results are selected by matcher()."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path


def terms(text: str | None) -> tuple[list[str], list[str]]:
    """(plain terms, left-out terms without their dash); empty terms dropped."""
    wanted, left_out = [], []
    for term in (text or "").split(","):
        if term.startswith("-"):
            if term[1:]:
                left_out.append(term[1:])
        elif term:
            wanted.append(term)
    return wanted, left_out


def matcher(text: str | None):
    """A predicate on names: what the filter selects (everything when there is none)."""
    wanted, left_out = terms(text)
    return lambda name: (not any(t in name for t in left_out) and
                         (not wanted or any(t in name for t in wanted)))


def host_argument(text: str, binary: Path, env: dict | None = None) -> str:
    """The host benchmark program's option that selects the same names. Its regular
    expressions are POSIX ones here (Debian's build), with no lookahead: plain terms become
    an alternation, left-out terms alone the program's own leading '-', and a filter with
    both the exact names, from the program's own list, that it selects."""
    wanted, left_out = terms(text)
    alt = lambda ts: "|".join(re.escape(t) for t in ts)  # noqa: E731
    if not left_out:
        return f"--benchmark_filter={alt(wanted)}"
    if not wanted:
        return f"--benchmark_filter=-({alt(left_out)})"
    listed = subprocess.run([str(binary), "--benchmark_list_tests"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, check=False, env=env)
    selects = matcher(text)
    chosen = [n for n in listed.stdout.split() if selects(n)]
    # Nothing chosen: a name no benchmark has, so that none runs (as the kernel's would).
    return f"--benchmark_filter=^({alt(chosen) or 'no benchmark is selected'})$"

"""--filter: one meaning wherever the tools select benchmarks by name: the benchmarks whose
name contains the text. The kernel's bench=TEXT matches a substring; Google Benchmark's
--benchmark_filter is a regular expression, so the text goes to it escaped; stored results
are selected the same way."""
from __future__ import annotations

import re


def host_argument(text: str) -> str:
    """The host benchmark program's option that selects the names containing text."""
    return f"--benchmark_filter={re.escape(text)}"


def matcher(text: str | None):
    """A predicate on benchmark names: contains text (everything when there is none)."""
    if not text:
        return lambda name: True
    return lambda name: text in name

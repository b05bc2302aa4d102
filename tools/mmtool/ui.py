"""Messages and plain-text tables shared by every subcommand.

Progress and errors go to stderr so that stdout carries only results (tables, JSON and the
final `N passed, N failed` line that CI reads); both are flushed at once so that the two
streams interleave in the order they were written when a CI log merges them.
"""
from __future__ import annotations

import sys
from typing import Sequence


class Fatal(Exception):
    """An error that ends the subcommand with a message and no traceback."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code


def _err(text: str) -> None:
    sys.stdout.flush()
    print(text, file=sys.stderr, flush=True)


def step(text: str) -> None:
    """Announces a stage of a long subcommand."""
    _err(f"== {text}")


def info(text: str) -> None:
    _err(f"mm: {text}")


def warn(text: str) -> None:
    _err(f"mm: warning: {text}")


def out(text: str = "") -> None:
    """A line of results on stdout."""
    sys.stderr.flush()
    print(text, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]],
          right: Sequence[bool] | None = None) -> str:
    """Renders rows as aligned columns. `right[i]` right-aligns column i (numbers)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if right is None:
        right = [False] * len(headers)

    def fmt(row: list[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)]
        return "  ".join(parts).rstrip()

    lines = [fmt(cells[0]), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in cells[1:]]
    return "\n".join(lines)

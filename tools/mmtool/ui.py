"""Messages and plain-text tables shared by every subcommand.

Progress and errors go to stderr so that stdout carries only results (tables, JSON and the
final `N passed, N failed` line that CI reads); both are flushed at once so that the two
streams interleave in the order they were written when a CI log merges them.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator, Sequence


class Fatal(Exception):
    """An error that ends the subcommand with a message and no traceback."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code


def _err(text: str) -> None:
    sys.stdout.flush()
    print(text, file=sys.stderr, flush=True)


# Whether the steps inside a stage are shown (every boot, its command line, the build's
# commands). The main job turns it off unless --verbose; the other subcommands keep it.
_verbose = True


def set_verbose(on: bool) -> None:
    global _verbose
    _verbose = on


def verbose() -> bool:
    return _verbose


def step(text: str) -> None:
    """Announces a stage of a long subcommand."""
    _err(f"== {text}")


def detail(text: str) -> None:
    """A step inside a stage: shown only when verbose."""
    if _verbose:
        _err(f"mm: {text}")


def tail(path, lines: int = 20) -> str:
    """The last lines of a log file, to show with an error."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class Progress:
    """One line as each stage of a long subcommand starts and one as it ends: its number,
    what runs, how long it took, and about how long the rest will take, from the durations
    the same stages took last time (previous; `durations` holds this run's)."""

    def __init__(self, names: Sequence[str], previous: dict[str, float] | None = None):
        self.names = list(names)
        self.previous = previous or {}
        self.durations: dict[str, float] = {}

    def _left(self, after: int) -> str:
        rest = self.names[after:]
        if not rest:
            return ""
        if any(n not in self.previous for n in rest):
            return ""
        return f"; about {duration(sum(self.previous[n] for n in rest))} left"

    @contextmanager
    def stage(self, name: str, detail_text: str = "") -> Iterator[None]:
        i = self.names.index(name) + 1
        label = f"[{i}/{len(self.names)}] {name}"
        was = self.previous.get(name)
        _err(f"{label}{' (' + detail_text + ')' if detail_text else ''}"
             f"{f', about {duration(was)}' if was else ''} ...")
        start = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - start
            self.durations[name] = took
            _err(f"{label}: {duration(took)}{self._left(i)}")


def info(text: str) -> None:
    _err(f"mm: {text}")


def warn(text: str) -> None:
    _err(f"mm: warning: {text}")


def out(text: str = "") -> None:
    """A line of results on stdout."""
    sys.stderr.flush()
    print(text, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]],
          right: Sequence[bool] | None = None, max_width: int | None = None) -> str:
    """Renders rows as aligned columns. `right[i]` right-aligns column i (numbers). With
    max_width, the last column's text is cut (ending in "...") so that no line is wider."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if max_width is not None and len(headers) > 1:
        room = max_width - sum(widths[:-1]) - 2 * (len(headers) - 1)
        if widths[-1] > room >= 8:
            for row in cells:
                if len(row[-1]) > room:
                    row[-1] = row[-1][:room - 3] + "..."
            widths[-1] = room
    if right is None:
        right = [False] * len(headers)

    def fmt(row: list[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)]
        return "  ".join(parts).rstrip()

    lines = [fmt(cells[0]), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in cells[1:]]
    return "\n".join(lines)

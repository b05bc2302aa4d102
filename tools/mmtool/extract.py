"""Reading results out of a console log: the benchmark JSON between the markers and the
test summary line.

The same code reads a QEMU serial log and a bare-metal serial-over-LAN capture, so it
tolerates what firmware and terminals add: ANSI escape sequences, carriage returns,
backspaces, and text glued in front of a line (iPXE's "ok" can precede the kernel's first
line).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

BEGIN = "==MM-BENCH-JSON-BEGIN=="
END = "==MM-BENCH-JSON-END=="

# CSI sequences (colours, cursor moves), OSC strings, and two-byte escapes such as ESC c
# (terminal reset, which SeaBIOS's serial console sends first) or ESC ( B (character set).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SUMMARY = re.compile(r"(\d+) passed, (\d+) failed\s*$")


class ExtractError(Exception):
    """The log has markers but no usable JSON between them (the message says why)."""


def clean_line(raw: str) -> str:
    """One console line as a terminal would show it, without escapes or control bytes."""
    text = _ANSI.sub("", raw.rstrip("\n"))
    if "\b" in text:
        kept: list[str] = []
        for ch in text:
            if ch == "\b":
                if kept:
                    kept.pop()
            else:
                kept.append(ch)
        text = "".join(kept)
    if "\r" in text:
        # A carriage return rewinds to the start of the line: the last non-blank segment is
        # what stayed visible ("text\r" from CR LF endings keeps "text").
        segments = [s for s in text.split("\r") if s.strip()]
        text = segments[-1] if segments else ""
    return _CONTROL.sub("", text)


def clean_lines(text: str) -> list[str]:
    return [clean_line(line) for line in text.split("\n")]


@dataclass
class Summary:
    passed: int
    failed: int
    line: str

    def __str__(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"


def find_summary(lines: list[str]) -> Summary | None:
    """The last `N passed, N failed` line: a suite may print partial ones before its total."""
    for line in reversed(lines):
        m = _SUMMARY.search(line)
        if m:
            return Summary(int(m.group(1)), int(m.group(2)), line.strip())
    return None


@dataclass
class Block:
    """Text between a BEGIN and an END marker; first/last are 1-based line numbers."""
    text: str
    first: int
    last: int
    complete: bool


def find_blocks(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    start = None
    for i, line in enumerate(lines):
        if BEGIN in line:
            if start is not None:  # a BEGIN with no END: the run restarted or was cut
                blocks.append(Block("\n".join(lines[start + 1:i]), start + 1, i, False))
            start = i
        elif END in line and start is not None:
            blocks.append(Block("\n".join(lines[start + 1:i]), start + 1, i + 1, True))
            start = None
    if start is not None:
        blocks.append(Block("\n".join(lines[start + 1:]), start + 1, len(lines), False))
    return blocks


def parse_bench_json(lines: list[str]) -> dict | None:
    """The benchmark document of the last complete marker block; None when there is none.

    Raises ExtractError when markers exist but no valid document can be taken from them.
    """
    blocks = find_blocks(lines)
    if not blocks:
        return None
    complete = [b for b in blocks if b.complete]
    if not complete:
        b = blocks[-1]
        raise ExtractError(f"{BEGIN} at line {b.first} has no {END} after it: the output was "
                           "cut short (time limit, crash or reset during the benchmarks)")
    b = complete[-1]
    try:
        doc = json.loads(b.text)
    except json.JSONDecodeError as e:
        # e.lineno counts from the line after BEGIN, which is log line b.first + 1.
        raise ExtractError(f"the text between the markers (lines {b.first}-{b.last}) is not "
                           f"valid JSON: {e.msg} at log line {b.first + e.lineno} "
                           f"column {e.colno}") from None
    problem = check_schema(doc)
    if problem:
        raise ExtractError(f"the JSON between the markers (lines {b.first}-{b.last}) {problem}")
    return doc


def check_schema(doc: object) -> str | None:
    """What keeps `doc` from being a Google Benchmark result document, or None."""
    if not isinstance(doc, dict):
        return "is not a JSON object"
    benches = doc.get("benchmarks")
    if not isinstance(benches, list):
        return "has no \"benchmarks\" list"
    for i, b in enumerate(benches):
        if not isinstance(b, dict) or not isinstance(b.get("name"), str):
            return f"has a benchmark entry without a name (entry {i})"
    return None

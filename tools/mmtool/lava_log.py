"""Reading a LAVA job's log: the records lava-run prints (and a LAVA server keeps as the job's
output.yaml, which `lavacli jobs logs ID --raw` prints), the test cases its monitors
recorded, and the serial console text that the kernel printed.

Each record is one line of YAML in flow style: {"dt": ..., "lvl": ..., "msg": ...}, on a
server each line prefixed with "- ". It looks like JSON but is not always JSON: values come tagged
(!!int "3", ! "5254.0"), and escapes such as \\x1b, \\e or \\U0001f600 are YAML's. This reads
that subset with the standard library alone, so that a results machine needs no LAVA
packages. The console's lines are records of level "target", in which the dispatcher has
written every double quote as \\" (and dropped carriage returns and ESC bytes): the JSON the
kernel printed comes back only once that is undone.

lava-run exits 0 even when a test case failed: the verdict is in these records only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import extract


class ParseError(ValueError):
    """A line is not a record in the flow style lava-run writes."""


_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
            "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
            "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}
_HEX = {"x": 2, "u": 4, "U": 8}
_PLAIN_END = re.compile(r"[,\]}]")


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.i = 0

    def fail(self, what: str) -> ParseError:
        return ParseError(f"{what} at column {self.i + 1}")

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t":
            self.i += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.i] if self.i < len(self.text) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise self.fail(f"expected {ch!r}")
        self.i += 1

    def value(self):
        ch = self.peek()
        if ch == "{":
            return self.mapping()
        if ch == "[":
            return self.sequence()
        tag = None
        if ch == "!":
            # !!int, !!float, ...; a bare ! (non-specific) keeps the quoted text a string.
            m = re.compile(r"!(!?)([\w-]*)\s+").match(self.text, self.i)
            if not m:
                raise self.fail("bad tag")
            tag, self.i = (m.group(2) if m.group(1) else "str"), m.end()
            ch = self.peek()
        if ch == '"':
            text = self.double_quoted()
        elif ch == "'":
            text = self.single_quoted()
        else:
            m = _PLAIN_END.search(self.text, self.i)
            end = m.start() if m else len(self.text)
            text, self.i = self.text[self.i:end].strip(), end
            if tag is None:
                return _plain(text)
        return _tagged(tag, text) if tag else text

    def _items(self, opening: str, closing: str, item) -> list:
        """The items of a flow collection between opening and closing, each read by item()."""
        self.expect(opening)
        out = []
        if self.peek() == closing:
            self.i += 1
            return out
        while True:
            out.append(item())
            ch = self.peek()
            self.i += 1
            if ch == closing:
                return out
            if ch != ",":
                self.i -= 1
                raise self.fail(f"expected ',' or {closing!r}")

    def _pair(self) -> tuple:
        key = self.value()
        self.expect(":")
        return key, self.value()

    def mapping(self) -> dict:
        return dict(self._items("{", "}", self._pair))

    def sequence(self) -> list:
        return self._items("[", "]", self.value)

    def double_quoted(self) -> str:
        self.i += 1
        parts = []
        text = self.text
        while True:
            if self.i >= len(text):
                raise self.fail("unterminated string")
            ch = text[self.i]
            if ch == '"':
                self.i += 1
                return "".join(parts)
            if ch != "\\":
                parts.append(ch)
                self.i += 1
                continue
            code = text[self.i + 1:self.i + 2]
            if code in _ESCAPES:
                parts.append(_ESCAPES[code])
                self.i += 2
            elif code in _HEX:
                digits = text[self.i + 2:self.i + 2 + _HEX[code]]
                if len(digits) != _HEX[code] or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                    raise self.fail(f"bad \\{code} escape")
                parts.append(chr(int(digits, 16)))
                self.i += 2 + _HEX[code]
            else:
                raise self.fail(f"unknown escape \\{code}")

    def single_quoted(self) -> str:
        self.i += 1
        parts = []
        while True:
            end = self.text.find("'", self.i)
            if end < 0:
                raise self.fail("unterminated string")
            parts.append(self.text[self.i:end])
            if self.text.startswith("''", end):
                parts.append("'")
                self.i = end + 2
            else:
                self.i = end + 1
                return "".join(parts)


def _plain(text: str):
    low = text.lower()
    if low in ("", "~", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _tagged(tag: str, text: str):
    try:
        if tag == "int":
            return int(text)
        if tag == "float":
            return float(text)
    except ValueError:
        return text
    if tag == "bool":
        return text.lower() in ("true", "yes", "on")
    if tag == "null":
        return None
    return text


def parse_value(text: str):
    """One value in YAML flow style (the subset LAVA's logger writes)."""
    r = _Reader(text)
    value = r.value()
    if r.peek():
        raise r.fail("text after the value")
    return value


@dataclass
class Record:
    dt: str
    lvl: str
    msg: object


def parse_record(line: str) -> Record | None:
    """The record on one log line; None for a line that holds none (blank, or text around
    the records)."""
    text = line.strip()
    if text.startswith("- "):
        text = text[2:].lstrip()
    if not text.startswith("{"):
        return None
    try:
        value = parse_value(text)
    except ParseError:
        return None
    if not isinstance(value, dict) or "lvl" not in value or "msg" not in value:
        return None
    return Record(str(value.get("dt", "")), str(value["lvl"]), value["msg"])


def read_records(text: str) -> list[Record]:
    return [r for r in (parse_record(line) for line in text.splitlines()) if r is not None]


def is_lava_log(text: str) -> bool:
    """Whether text is a LAVA job log: its first non-blank line is a record."""
    for line in text.splitlines():
        if line.strip():
            return parse_record(line) is not None
    return False


def console_lines(records: list[Record]) -> list[str]:
    """What the device printed on its serial console, one line per record of level target,
    cleaned as extract.clean_line cleans a console capture."""
    lines: list[str] = []
    for r in records:
        if r.lvl == "target" and isinstance(r.msg, str):
            lines += extract.clean_lines(r.msg.replace('\\"', '"'))
    return lines


def results(records: list[Record]) -> list[dict]:
    return [r.msg for r in records if r.lvl == "results" and isinstance(r.msg, dict)]


def test_cases(records: list[Record], definition: str) -> list[dict]:
    """The test cases a monitor named `definition` recorded (LAVA lowercases the name and
    turns spaces into dashes)."""
    return [m for m in results(records) if m.get("definition") == definition]


def job_result(records: list[Record]) -> tuple[str | None, str]:
    """The job's own result ("pass", "fail", or None when the log has none) and its error."""
    for m in reversed(results(records)):
        if m.get("definition") == "lava" and m.get("case") == "job":
            return str(m.get("result")), str(m.get("error_msg", "") or "")
    return None, ""


@dataclass
class Verdict:
    ok: bool
    passed: int
    failed: int
    note: str


def judge_tests(records: list[Record], definition: str) -> Verdict:
    """Whether a test job passed: the job itself passed, every test case the monitor
    recorded passed, and their number is what the kernel's `N passed, N failed` line says
    it ran (a monitor that stopped early, or a pattern that missed lines, shows as a
    difference)."""
    cases = test_cases(records, definition)
    passed = sum(1 for c in cases if c.get("result") == "pass")
    failed = len(cases) - passed
    notes = []
    if failed:
        names = [str(c.get("extra", {}).get("test_case_id", c.get("case")))
                 for c in cases if c.get("result") != "pass"]
        notes.append(f"{failed} test case(s) failed: {', '.join(names[:5])}"
                     + (" ..." if len(names) > 5 else ""))
    summary = extract.find_summary(console_lines(records))
    if summary is None:
        notes.append("the console has no 'N passed, N failed' line")
    elif summary.passed + summary.failed != len(cases):
        notes.append(f"LAVA recorded {len(cases)} test case(s), the kernel ran "
                     f"{summary.passed + summary.failed} ({summary})")
    elif summary.failed != failed:
        notes.append(f"the kernel reports {summary}, LAVA recorded {failed} failure(s)")
    result, error = job_result(records)
    if result is None:
        notes.append("the log has no result for the job (cut short?)")
    elif result != "pass":
        notes.append(f"the job failed: {error or result}")
    return Verdict(not notes, passed, failed, "; ".join(notes))

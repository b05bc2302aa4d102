"""Tests of reading console logs: cleaning, the summary line, JSON between the markers."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import extract  # noqa: E402

DOC = ('{"context":{"num_cpus":1},\n"benchmarks":[\n'
       '{"name":"map/4k","real_time":1.5,"time_unit":"ns"}\n]}')

# What an iPXE netboot with SeaBIOS's serial console looks like (escapes, CR LF, text glued
# in front of the kernel's first line).
IPXE_LOG = ("\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2)\r\n"
            "Press Ctrl-B for the iPXE command line...\b \b\b \b\r\n"
            "mmkernel.elf... okmm: cmdline tftp://10.0.2.2/mmkernel.elf bench\r\n"
            f"{extract.BEGIN}\r\n" + DOC.replace("\n", "\r\n") + f"\r\n{extract.END}\r\n"
            "3 passed, 0 failed\r\n")


def lines(text):
    return extract.clean_lines(text)


class CleanLine(unittest.TestCase):
    def test_strips_ansi_and_reset(self):
        self.assertEqual(extract.clean_line("\x1bc\x1b[?7l\x1b[0;1miPXE\x1b[0m x"), "iPXE x")

    def test_carriage_return_keeps_visible_text(self):
        self.assertEqual(extract.clean_line("3 passed, 0 failed\r"), "3 passed, 0 failed")
        self.assertEqual(extract.clean_line("10%\r20%\r30%"), "30%")
        self.assertEqual(extract.clean_line("Press a key...\r       \r"), "Press a key...")

    def test_backspace_erases(self):
        self.assertEqual(extract.clean_line("abc\b \bd"), "abd")

    def test_other_control_bytes_dropped(self):
        self.assertEqual(extract.clean_line("a\x00b\x07c\td"), "abc\td")


class Summary(unittest.TestCase):
    def test_last_summary_wins(self):
        s = extract.find_summary(lines("1 passed, 0 failed\nmore\n5 passed, 2 failed\nbye\n"))
        self.assertEqual((s.passed, s.failed), (5, 2))
        self.assertEqual(str(s), "5 passed, 2 failed")

    def test_glued_prefix_and_crlf(self):
        s = extract.find_summary(lines("junk ok12 passed, 0 failed\r\n"))
        self.assertEqual((s.passed, s.failed), (12, 0))

    def test_none_when_absent(self):
        self.assertIsNone(extract.find_summary(lines("tests ran\n3 passed\n")))

    def test_must_end_the_line(self):
        self.assertIsNone(extract.find_summary(lines("1 passed, 0 failed, 3 skipped\n")))


class BenchJson(unittest.TestCase):
    def test_plain(self):
        doc = extract.parse_bench_json(lines(f"boot\n{extract.BEGIN}\n{DOC}\n{extract.END}\n"))
        self.assertEqual(doc["benchmarks"][0]["name"], "map/4k")

    def test_ipxe_serial_log(self):
        ls = lines(IPXE_LOG)
        self.assertEqual(extract.parse_bench_json(ls)["context"]["num_cpus"], 1)
        self.assertEqual(str(extract.find_summary(ls)), "3 passed, 0 failed")

    def test_no_markers(self):
        self.assertIsNone(extract.parse_bench_json(lines("3 passed, 0 failed\n")))

    def test_cut_short(self):
        with self.assertRaisesRegex(extract.ExtractError, "cut short"):
            extract.parse_bench_json(lines(f"{extract.BEGIN}\n{{\"bench"))

    def test_invalid_json_names_lines(self):
        with self.assertRaisesRegex(extract.ExtractError,
                                    r"lines 2-4\) is not valid JSON: .* at log line 3 column 2"):
            extract.parse_bench_json(lines(f"x\n{extract.BEGIN}\n{{oops\n{extract.END}\n"))

    def test_schema(self):
        with self.assertRaisesRegex(extract.ExtractError, "no \"benchmarks\" list"):
            extract.parse_bench_json(lines(f"{extract.BEGIN}\n{{}}\n{extract.END}\n"))
        with self.assertRaisesRegex(extract.ExtractError, "without a name"):
            extract.parse_bench_json(
                lines(f"{extract.BEGIN}\n{{\"benchmarks\":[{{}}]}}\n{extract.END}\n"))

    def test_last_complete_block_wins(self):
        first = '{"benchmarks":[{"name":"old"}]}'
        second = '{"benchmarks":[{"name":"new"}]}'
        text = (f"{extract.BEGIN}\n{first}\n{extract.END}\n{extract.BEGIN}\n{second}\n"
                f"{extract.END}\n{extract.BEGIN}\n{{\"trunc")
        self.assertEqual(extract.parse_bench_json(lines(text))["benchmarks"][0]["name"], "new")

    def test_blocks_report_line_numbers(self):
        blocks = extract.find_blocks(lines(f"a\n{extract.BEGIN}\n{{}}\n{extract.END}\n"))
        self.assertEqual((blocks[0].first, blocks[0].last, blocks[0].complete), (2, 4, True))


if __name__ == "__main__":
    unittest.main()

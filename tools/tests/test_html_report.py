"""Tests of report.html: it parses, holds every row of every result file and of the side-by-
side tables, and fetches nothing from the network."""
import json
import sys
import tempfile
import unittest
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import html_report, report  # noqa: E402


def bench(name, ns):
    return {"name": name, "run_name": name, "run_type": "iteration", "iterations": 10,
            "real_time": ns, "cpu_time": ns, "time_unit": "ns", "p50_ns": ns, "p99_ns": ns * 2}


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.images, self.external, self.cells = 0, 0, [], []

    def handle_starttag(self, tag, attrs):
        self.rows += tag == "tr"
        self.images += tag == "img"
        for key, value in attrs:
            if key in ("src", "href") and value and not value.startswith("data:"):
                self.external.append(value)

    def handle_data(self, data):
        self.cells.append(data.strip())


class Report(unittest.TestCase):
    def page(self, plots):
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d) / "abc1234"
            folder.mkdir()
            ours = [bench("BM_fork/MiB:0", 900), bench("BM_vmm_map_unmap/pages:1", 20000)]
            linux = [bench("BM_fork/MiB:0", 90000), bench("BM_vmm_map_unmap/pages:1", 40000)]
            host = [bench(f"BM_host_{i}", 10 + i) for i in range(5)]
            for name, rows in (("kernel.json", ours), ("linux.json", linux), ("host.json", host)):
                (folder / name).write_text(json.dumps({"context": {}, "benchmarks": rows}))
            (folder / "summary.json").write_text(json.dumps({
                "machine": ["host: test"], "sections": [{
                    "section": "deterministic (icount)", "rows": 2, "better": 2, "geomean": 0.1,
                    "best": {"name": "BM_fork/MiB:0", "ratio": 0.01},
                    "worst": {"name": "BM_vmm_map_unmap/pages:1", "ratio": 0.5}}]}))
            text = html_report.build(folder, plots=plots).read_text()
        p = Page()
        p.feed(text)
        return p

    def test_every_row_is_there_and_nothing_is_fetched(self):
        p = self.page(plots=False)
        # Header rows: summary 1, side by side 1, three files 3; data: 1 + 2 + 2 + 2 + 5.
        self.assertEqual(p.rows, 5 + 1 + 2 + 2 + 2 + 5)
        for name in ["BM_host_4", "BM_fork/MiB:0", "host: test", "0.01"]:
            self.assertIn(name, p.cells)
        self.assertEqual(p.external, [])

    def test_repeated_runs_show_fastest_runs_apart_and_the_machine(self):
        def run(*times):
            return {"context": {}, "benchmarks": [
                dict(bench(report.DISTURBANCE_ROW, t), p50_ns=t) for t in times]}
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            merged = report.merge_runs([run(4.5, 5.7), run(4.6, 5.8)])
            (folder / "host.json").write_text(json.dumps(merged))
            text = html_report.build(folder, plots=False).read_text()
        p = Page()
        p.feed(text)
        for cell in ["fastest", "spread", "runs apart", "4.5", "2.2%"]:
            self.assertIn(cell, p.cells)
        self.assertTrue(any(c.startswith("machine: disturbed") for c in p.cells), p.cells)

    def test_plots_are_inline(self):
        try:
            p = self.page(plots=True)
        except Exception as e:  # matplotlib missing: tools/mm deps installs it
            self.skipTest(f"no plots here: {e}")
        self.assertEqual(p.images, 1 + 3)  # the side-by-side section and each file
        self.assertEqual(p.external, [])

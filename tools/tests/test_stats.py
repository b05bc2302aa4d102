"""Tests of the statistics behind tools/mm compare: median, percentiles, spread, and the
Mann-Whitney U test checked against SciPy's documented example and against U and p worked
out by hand."""
import math
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmtool import stats  # noqa: E402


class Descriptive(unittest.TestCase):
    def test_median_odd_and_even(self):
        self.assertEqual(stats.median([3, 1, 2]), 2)
        self.assertEqual(stats.median([4, 1, 3, 2]), 2.5)

    def test_percentiles_interpolate_linearly(self):
        values = [1, 2, 3, 4]
        self.assertEqual(stats.percentile(values, 0), 1)
        self.assertEqual(stats.percentile(values, 25), 1.75)   # numpy.percentile: 1.75
        self.assertEqual(stats.percentile(values, 50), 2.5)
        self.assertEqual(stats.percentile(values, 75), 3.25)
        self.assertEqual(stats.percentile(values, 100), 4)
        self.assertEqual(stats.percentile([7], 99), 7)

    def test_percentile_rejects_nonsense(self):
        with self.assertRaises(ValueError):
            stats.percentile([], 50)
        with self.assertRaises(ValueError):
            stats.percentile([1], 101)

    def test_spread_relative_to_the_median(self):
        s = stats.summarize([90, 100, 100, 110, 200])
        self.assertEqual((s.n, s.median, s.p25, s.p75), (5, 100, 100, 110))
        self.assertAlmostEqual(s.iqr_rel, 0.10)
        self.assertAlmostEqual(s.range_rel, 1.10)

    def test_relative_change(self):
        self.assertAlmostEqual(stats.relative_change(100, 105), 0.05)
        self.assertAlmostEqual(stats.relative_change(100, 90), -0.10)
        self.assertEqual(stats.relative_change(0, 0), 0.0)
        self.assertIsNone(stats.relative_change(0, 1))


class MannWhitney(unittest.TestCase):
    def test_scipy_documented_example(self):
        # scipy.stats.mannwhitneyu's docstring: males against females, U1 = 17 and the
        # exact two-sided p = 0.1111 (no ties, small samples: SciPy takes the exact test).
        t = stats.mann_whitney([19, 22, 16, 29, 24], [20, 11, 17, 12])
        self.assertEqual(t.u, 17.0)
        self.assertAlmostEqual(t.pvalue, 0.1111111111111111, places=12)

    def test_complete_separation_by_hand(self):
        # Every a below every b: U1 = 0; exactly one of the C(6,3) = 20 orderings is that
        # extreme on each side, so p = 2/20.
        t = stats.mann_whitney([1, 2, 3], [4, 5, 6])
        self.assertEqual(t.u, 0.0)
        self.assertAlmostEqual(t.pvalue, 0.1)
        t = stats.mann_whitney([5, 6, 7, 8], [1, 2, 3, 4])
        self.assertEqual(t.u, 16.0)
        self.assertAlmostEqual(t.pvalue, 2 / 70)

    def test_ties_use_the_normal_approximation_by_hand(self):
        a = [1, 2, 2, 3, 9, 10, 11, 12, 13]
        b = [4, 5, 5, 6, 14, 15, 16, 17, 18]
        # U1: 9..13 each beat 4, 5, 5, 6 -> 5 * 4 = 20. Normal approximation with the tie
        # correction (2 and 5 appear twice: sum t^3 - t = 12) and continuity correction.
        n1 = n2 = 9
        n = n1 + n2
        u = max(20, n1 * n2 - 20)
        sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - 12 / (n * (n - 1))))
        z = (u - n1 * n2 / 2 - 0.5) / sigma
        expected = math.erfc(z / math.sqrt(2))  # two-sided: 2 * (1 - Phi(z))
        t = stats.mann_whitney(a, b)
        self.assertEqual(t.u, 20.0)
        self.assertAlmostEqual(t.pvalue, expected, places=12)
        self.assertAlmostEqual(t.pvalue, 0.07708, places=5)

    def test_identical_samples_give_p_one(self):
        self.assertEqual(stats.mann_whitney([5, 5, 5], [5, 5, 5]).pvalue, 1.0)

    def test_too_few_values_give_no_test(self):
        self.assertIsNone(stats.mann_whitney([1], [2, 3, 4]))
        self.assertIsNotNone(stats.mann_whitney([1, 2], [3, 4]))

    def test_smallest_reachable_p(self):
        self.assertAlmostEqual(stats.min_pvalue(3, 3), 0.1)       # never below alpha 0.05
        self.assertAlmostEqual(stats.min_pvalue(4, 4), 2 / 70)
        self.assertAlmostEqual(stats.min_pvalue(5, 5), 2 / 252)


if __name__ == "__main__":
    unittest.main()

"""Statistics over benchmark repetitions: median, percentiles, spread, and the Mann-Whitney
U test that Google Benchmark's tools/compare.py applies between two sets of repetitions.

The U test comes from SciPy (Debian's python3-scipy, in tools/packages.txt), imported only
when a test is asked for (debpy.load): tools/mm itself must start on a machine where nothing
but python3 is installed yet. The rest is the standard library.

Why the U test: it compares ranks, not means, so one repetition slowed down by another
process on a shared machine moves it far less than it moves a t-test, and it assumes no
distribution. Its catch is the sample size: with n repetitions on each side the smallest
two-sided p-value it can ever give is 2 / C(2n, n), so 3 against 3 never gets below 0.1 and
4 against 4 is the least that can reach 0.05 (0.029). Google Benchmark calls 9 the lowest
reasonable number.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

from . import debpy

# As in Google Benchmark's tools/gbench/report.py: below this the test is not run at all;
# from UTEST_OPTIMAL on its p-values are worth acting on.
UTEST_MIN = 2
UTEST_OPTIMAL = 9
ALPHA = 0.05


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between the two nearest ranks
    (numpy's default, "linear"): percentile([1, 2, 3, 4], 25) == 1.75."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return float(s[lo] + (s[hi] - s[lo]) * (pos - lo))


@dataclass(frozen=True)
class Summary:
    """What the tables and plots show about one set of repetitions."""
    n: int
    median: float
    p25: float
    p75: float
    minimum: float
    maximum: float

    @property
    def iqr_rel(self) -> float | None:
        """Interquartile range over the median: the spread a reader should expect."""
        return (self.p75 - self.p25) / abs(self.median) if self.median else None

    @property
    def range_rel(self) -> float | None:
        """(max - min) over the median: the worst case seen."""
        return (self.maximum - self.minimum) / abs(self.median) if self.median else None


def summarize(values: Sequence[float]) -> Summary:
    return Summary(len(values), median(values), percentile(values, 25),
                   percentile(values, 75), float(min(values)), float(max(values)))


def relative_change(a: float, b: float) -> float | None:
    """(b - a) / |a|: +0.05 is 5 % more than a; None when a is 0."""
    if a == 0:
        return None if b != 0 else 0.0
    return (b - a) / abs(a)


@dataclass(frozen=True)
class UTest:
    u: float          # U statistic of the first sample (SciPy's U1)
    pvalue: float     # two-sided


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> UTest | None:
    """Two-sided Mann-Whitney U test of a against b, as compare.py runs it
    (scipy.stats.mannwhitneyu(a, b, alternative="two-sided"); SciPy's method "auto" takes
    the exact distribution for small samples without ties, the normal approximation with
    continuity correction otherwise). None when a side has fewer than UTEST_MIN values.

    Every value equal on both sides (the same figure repeated) is no evidence of a
    difference: p = 1, where SciPy's approximation would divide by a zero variance.
    """
    if len(a) < UTEST_MIN or len(b) < UTEST_MIN:
        return None
    if len(set(a) | set(b)) == 1:
        return UTest(len(a) * len(b) / 2.0, 1.0)
    scipy_stats = debpy.load("scipy.stats", "python3-scipy")
    r = scipy_stats.mannwhitneyu(list(a), list(b), alternative="two-sided")
    return UTest(float(r.statistic), float(r.pvalue))


def min_pvalue(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value the exact U test can give for these sizes:
    2 / C(n_a + n_b, n_a). Tells a reader whether significance was reachable at all."""
    return min(1.0, 2.0 / math.comb(n_a + n_b, n_a))

"""The book's one rule for comparing two methods over paired trials, and the verdict it gives.

Every chapter that says whether one method beats another calls :func:`paired` on the two
methods' per-trial numbers (the trials share initial weights and batch order, so the difference
of one trial is the effect of the method; book/methods/protocols.md). The rule:

* a paired t-test (Student's t on the per-trial differences, scipy's ``ttest_1samp``, which is
  ``ttest_rel``) at :data:`ALPHA` = 0.05, two-sided unless a chapter asks a one-sided question;
* no test below :data:`MIN_TRIALS` pairs: the verdict then says so instead;
* when a verdict list states several tests, their p-values are Holm-adjusted within that list
  (:func:`holm`, :func:`family`) and each verdict word is read from the adjusted p. A table
  cell that only states a comparison, with no verdict word, shows that test's own p.

Reports format a :class:`Paired` (:func:`short`, :func:`p_text`); they read ``p`` and
``verdict`` from it and never parse them back out of text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from ..results.paper import fmt_pm

#: Significance level of every verdict in the book.
ALPHA = 0.05
#: Fewest paired trials that get a test. Three: with two pairs the t-test has one degree of
#: freedom, its 97.5 % quantile is 12.7 and the standard deviation rests on a single difference
#: of two differences, so whether p falls under 0.05 says more about two trials happening to
#: agree than about the method; from three pairs on (quantile 4.3) the interval is wide but the
#: test means something. The ``paper`` profile runs five trials, ``quick`` two or three.
MIN_TRIALS = 3

#: The verdict words: ``a`` is higher or lower than ``b`` at ALPHA (after the family's
#: correction), the test finds no clear difference, there are fewer than MIN_TRIALS pairs, or
#: every pair differs by the same amount (no spread: the t statistic is undefined).
HIGHER, LOWER, UNCLEAR, TOO_FEW, NO_SPREAD = ("higher", "lower", "no clear effect",
                                              "too few trials", "no spread")


@dataclass(frozen=True)
class Paired:
    """A paired comparison of ``a`` against ``b`` (or of ``a`` against 0) over trials.

    ``difference`` is the mean of ``a - b`` over the trials both have, ``sd`` its standard
    deviation (ddof 1), ``p`` the t-test's p-value and ``ci_low``/``ci_high`` the 95 %
    confidence interval of the mean difference (one-sided, like the test, when
    ``alternative`` is). ``p`` and the interval are NaN when the pair is not tested (fewer than
    :data:`MIN_TRIALS` pairs, or no spread). ``family`` is the number of tests the verdict list
    holding this one states, ``p_holm`` its Holm-adjusted p (``p`` for a family of one).
    """

    difference: float
    sd: float
    n: int
    p: float
    ci_low: float
    ci_high: float
    alternative: str = "two-sided"
    p_holm: float = math.nan
    family: int = 1

    @property
    def d_z(self) -> float:
        """Effect size: mean difference over its standard deviation (NaN without spread)."""
        return self.difference / self.sd if self.sd > 0 else math.nan

    @property
    def tested(self) -> bool:
        return not math.isnan(self.p)

    @property
    def p_verdict(self) -> float:
        """The p-value the verdict is read from: Holm-adjusted in a family, else ``p``."""
        return self.p_holm if self.family > 1 else self.p

    @property
    def verdict(self) -> str:
        """One of HIGHER, LOWER, UNCLEAR, TOO_FEW, NO_SPREAD."""
        if self.n < MIN_TRIALS:
            return TOO_FEW
        if not self.tested:
            return NO_SPREAD
        if not self.p_verdict < ALPHA:
            return UNCLEAR
        return HIGHER if self.difference > 0 else LOWER


def paired(a: pd.Series, b: pd.Series | None = None, *,
           alternative: str = "two-sided") -> Paired:
    """Paired t-test of ``a`` against ``b`` over the index values (trials) both hold a number
    for; ``b`` None tests ``a`` against 0. ``alternative`` is scipy's: "two-sided", "greater"
    (``a`` above ``b``) or "less"."""
    diff = pd.Series(a, dtype=float) - (0.0 if b is None else pd.Series(b, dtype=float))
    diff = diff.dropna()
    n = len(diff)
    mean = float(diff.mean()) if n else math.nan
    sd = float(diff.std(ddof=1)) if n > 1 else math.nan
    if n < MIN_TRIALS or not sd > 0:
        return Paired(mean, sd, n, math.nan, math.nan, math.nan, alternative)
    test = stats.ttest_1samp(diff.to_numpy(), 0.0, alternative=alternative)
    ci = test.confidence_interval(1 - ALPHA)
    return Paired(mean, sd, n, float(test.pvalue), float(ci.low), float(ci.high), alternative)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error at the level they are compared
    with). NaN entries (tests not run) stay NaN and do not count in the family."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    run = np.flatnonzero(~np.isnan(p))
    m = len(run)
    order = run[np.argsort(p[run], kind="stable")]
    scaled = p[order] * (m - np.arange(m))  # smallest p times m, next times m - 1, ...
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def family(results: Sequence[Paired]) -> list[Paired]:
    """The tests one verdict list states, each with its Holm-adjusted p and the family size
    (the tests that were run)."""
    adjusted = holm([r.p for r in results])
    size = int(sum(r.tested for r in results))
    return [replace(r, p_holm=float(q), family=size) for r, q in zip(results, adjusted,
                                                                     strict=True)]


def mean_ci(values: pd.Series) -> tuple[float, float]:
    """95 % t interval of the mean of ``values`` (NaN bounds below two values; a zero-width
    interval when they all agree)."""
    v = pd.Series(values, dtype=float).dropna()
    if len(v) < 2:
        return math.nan, math.nan
    if not v.std() > 0:
        return float(v.mean()), float(v.mean())
    low, high = stats.t.interval(1 - ALPHA, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    return float(low), float(high)


def p_text(r: Paired) -> str:
    """``p = 0.0017``, or ``Holm p = 0.0051`` when the test is one of a family."""
    return f"Holm p = {r.p_holm:.2g}" if r.family > 1 else f"p = {r.p:.2g}"


def why_untested(r: Paired) -> str:
    """Why a pair got no test: too few trials, or no spread."""
    return "too few trials to test" if r.verdict == TOO_FEW else "no spread to test"


def gain(r: Paired) -> str:
    """``a gain of 11.55 ± 3.48 points (paired, n = 5, p = 0.0017)`` (``a loss of`` when the
    difference is negative), or without the test."""
    word = "a loss of" if r.difference < 0 else "a gain of"
    text = f"{word} {fmt_pm(abs(r.difference), r.sd)} points (paired, n = {r.n}"
    return text + (f", {p_text(r)})" if r.tested else f"; {why_untested(r)})")


def short(r: Paired, digits: int = 1) -> str:
    """``+12.3 (p = 0.002)``: the mean difference and the test's own p; the difference alone
    when untested, "—" when there is no pair or every pair is equal."""
    if r.n == 0 or (r.difference == 0 and not r.sd > 0):
        return "—"
    if not r.tested:
        return f"{r.difference:+.{digits}f}"
    return f"{r.difference:+.{digits}f} (p = {r.p:.2g})"

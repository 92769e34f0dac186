"""The book's one paired test and its one names table: closed forms, the minimum-trials rule,
Holm's correction by hand and by its definition, and a display name for every recorded method."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sleeputils.report import stats
from sleeputils.report.names import METHODS

ROOT = Path(__file__).resolve().parents[1]

# Three pairs: differences 2, 4, 9 (mean 5, sd sqrt(13)); t has 2 degrees of freedom, whose
# distribution function is closed: F(t) = 1/2 + t / (2 sqrt(2 + t^2)), and whose quantile at q is
# (2q - 1) / sqrt(2 q (1 - q)).
A = pd.Series([3.0, 5.0, 10.0], index=[7, 8, 9])
B = pd.Series([1.0, 1.0, 1.0], index=[7, 8, 9])
MEAN, SD = 5.0, math.sqrt(13.0)
T = MEAN / (SD / math.sqrt(3))


def _t2_quantile(q: float) -> float:
    return (2 * q - 1) / math.sqrt(2 * q * (1 - q))


def test_paired_test_matches_the_closed_form_with_two_degrees_of_freedom() -> None:
    r = stats.paired(A, B)
    assert (r.n, r.difference, r.sd) == (3, pytest.approx(MEAN), pytest.approx(SD))
    assert r.p == pytest.approx(1 - T / math.sqrt(2 + T**2), rel=1e-12)
    half = _t2_quantile(0.975) * SD / math.sqrt(3)
    assert (r.ci_low, r.ci_high) == (pytest.approx(MEAN - half), pytest.approx(MEAN + half))
    assert r.d_z == pytest.approx(MEAN / SD)
    assert r.verdict == stats.UNCLEAR  # p = 0.14: a mean of 5 over so few, so spread, trials
    assert stats.short(r) == f"+5.0 (p = {r.p:.2g})"


def test_one_sided_test_and_interval_match_the_closed_form() -> None:
    r = stats.paired(A, B, alternative="greater")
    assert r.p == pytest.approx(0.5 - T / (2 * math.sqrt(2 + T**2)), rel=1e-12)
    assert r.ci_low == pytest.approx(MEAN - _t2_quantile(0.95) * SD / math.sqrt(3))
    assert r.ci_high == math.inf
    assert stats.paired(A).p == pytest.approx(stats.paired(A, B * 0).p)  # against 0


def test_pairs_are_matched_by_trial_not_by_position() -> None:
    shuffled = B.iloc[::-1]  # same trials, other order
    extra = pd.concat([A, pd.Series([100.0], index=[10])])  # a trial b does not have
    r = stats.paired(extra, shuffled)
    assert (r.n, r.difference, r.p) == (3, pytest.approx(MEAN), pytest.approx(stats.paired(A, B).p))


@pytest.mark.parametrize("n", [2, 3])
def test_two_pairs_are_not_tested_three_are(n: int) -> None:
    a = pd.Series(np.arange(n) * 0.1 + 50.0)  # a large, clear difference
    b = pd.Series(np.zeros(n))
    r = stats.paired(a, b)
    if n == 2:
        assert r.verdict == stats.TOO_FEW and math.isnan(r.p) and math.isnan(r.ci_low)
        assert stats.gain(r).endswith("too few trials to test)")
        assert stats.short(r) == f"{r.difference:+.1f}"
    else:
        assert r.verdict == stats.HIGHER and r.p < stats.ALPHA


def test_verdict_words_follow_sign_significance_and_spread() -> None:
    base = pd.Series([10.0, 11.0, 12.0, 13.0, 14.0])
    assert stats.paired(base + [5.1, 4.9, 5.0, 5.2, 4.8], base).verdict == stats.HIGHER
    assert stats.paired(base - [5.1, 4.9, 5.0, 5.2, 4.8], base).verdict == stats.LOWER
    assert stats.paired(base + [1.0, -1.0, 0.5, -0.5, 0.1], base).verdict == stats.UNCLEAR
    same = stats.paired(base, base)
    assert same.verdict == stats.NO_SPREAD and stats.short(same) == "—"


def test_holm_against_a_hand_computed_case() -> None:
    # sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> running
    # maximum 0.02, 0.03, 0.06, 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adjusted = stats.holm([0.01, float("nan"), 0.04, 0.9])  # a test not run does not count
    assert np.isnan(adjusted[1])
    assert adjusted[[0, 2, 3]] == pytest.approx([0.03, 0.08, 0.9])
    assert stats.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_holm_rejects_what_the_step_down_procedure_rejects() -> None:
    """Holm's definition: sort the p-values, reject while p_(k) <= alpha / (m - k + 1), stop at
    the first that is not. The adjusted p-values must reject exactly that set at every alpha."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = rng.uniform(0, 0.2, size=rng.integers(1, 12)) ** rng.uniform(1, 3)
        adjusted = stats.holm(p)
        for alpha in (0.01, 0.05, 0.1):
            rejected = set()
            for k, i in enumerate(np.argsort(p, kind="stable")):
                if p[i] > alpha / (len(p) - k):
                    break
                rejected.add(int(i))
            assert set(np.flatnonzero(adjusted <= alpha)) == rejected


def test_a_family_reads_its_verdicts_from_the_adjusted_p() -> None:
    zeros = pd.Series([0.0, 0.0, 0.0, 0.0])
    strong = stats.paired(pd.Series([5.0, 5.1, 4.9, 5.05]), zeros)
    weak = stats.paired(pd.Series([0.5, 3.0, 2.0, 3.2]), zeros)  # p = 0.039 alone
    clear = stats.paired(pd.Series([3.0, 5.0, 1.0]), zeros.iloc[:3])  # p = 0.12
    assert weak.p < stats.ALPHA and weak.verdict == stats.HIGHER  # alone: significant
    assert strong.p < weak.p < clear.p
    family = stats.family([strong, weak, clear, stats.paired(A.iloc[:2], B.iloc[:2])])
    assert [r.family for r in family] == [3, 3, 3, 3]  # the untested one does not count
    assert family[0].p_holm == pytest.approx(3 * strong.p)
    assert family[1].p_holm == pytest.approx(2 * weak.p)
    assert family[2].p_holm == pytest.approx(max(2 * weak.p, clear.p))
    assert family[1].p_verdict > stats.ALPHA and family[1].verdict == stats.UNCLEAR
    assert family[0].verdict == stats.HIGHER
    assert family[1].p == weak.p  # the test's own p is kept
    assert stats.p_text(family[1]) == f"Holm p = {2 * weak.p:.2g}"
    assert family[3].verdict == stats.TOO_FEW


def test_mean_interval_matches_the_closed_form() -> None:
    low, high = stats.mean_ci(A - B)
    half = _t2_quantile(0.975) * SD / math.sqrt(3)
    assert (low, high) == (pytest.approx(MEAN - half), pytest.approx(MEAN + half))
    assert stats.mean_ci(pd.Series([4.0, 4.0])) == (4.0, 4.0)
    assert all(math.isnan(x) for x in stats.mean_ci(pd.Series([4.0])))


def _recorded_methods() -> set[str]:
    paper = ROOT / "results" / "paper"
    files = sorted(paper.glob("*.csv")) + sorted((paper / "trials").glob("*.csv"))
    assert files, "no committed results to check"
    return set().union(*(pd.read_csv(f, usecols=["method"])["method"] for f in files))


def test_every_recorded_method_has_a_display_name() -> None:
    missing = sorted(_recorded_methods() - set(METHODS))
    assert not missing, f"methods without a display name in report/names.py: {missing}"


def test_display_names_are_unique() -> None:
    names = pd.Series(METHODS)
    assert not names.duplicated().any(), names[names.duplicated(keep=False)].to_dict()


def test_committed_chapters_state_their_tests_as_one_holm_family() -> None:
    """The committed full-protocol sections, as readers see them: every setting of a chapter's
    verdict list is one family, no adjusted p is below the test's own, no text says nan."""
    from sleeputils.report import icarl, paradigms, representations, single, wscl
    from sleeputils.report.tables import committed_trials
    from sleeputils.results.record import load_trials

    trials = load_trials("paper", project=ROOT)
    full = committed_trials(trials, "icarl-mnist")
    tests = [r for _, _, r in icarl.gains(full)]
    assert len(tests) == 40 and {r.family for r in tests} == {40}
    assert all(r.p_holm >= r.p for r in tests)
    table = representations.paired_tests(committed_trials(trials, "representations-mnist"))
    assert (table["p_holm"] >= table["p"]).all()
    texts = [icarl.icarl_verdict(full, "mnist"),
             paradigms.verdict(paradigms.from_trials(trials)),
             wscl.verdict(committed_trials(trials, "wscl-mnist")),
             single.single_verdict(committed_trials(trials, "single"))]
    for text in texts:
        assert "nan" not in text and "Holm p = " in text
    questions = [line for line in texts[1].splitlines() if line.startswith("  - ")]
    assert questions and all(line.endswith(("gain.", "loss.", "difference.")) for line in questions)


def test_a_negative_paired_difference_reads_as_a_loss() -> None:
    a, b = pd.Series([50.0, 51.0, 53.0]), pd.Series([52.0, 54.0, 55.0])  # a - b: -2, -3, -2
    text = stats.gain(stats.paired(a, b))
    assert text.startswith("a loss of 2.33 ± 0.58 points (paired, n = 3")
    assert stats.gain(stats.paired(b, a)).startswith("a gain of 2.33 ± 0.58 points")


def test_a_tiny_number_keeps_its_significant_digits() -> None:
    from sleeputils.results.paper import fmt_pm

    assert fmt_pm(0.0001, 0.0) == "0.0001 ± 0.00"  # an OWM alpha, not "0.00 ± 0.00"
    assert fmt_pm(48.47, 5.03, 5) == "48.47 ± 5.03 (n=5)"
    assert fmt_pm(0.004, 0.0012, digits=1) == "0.004 ± 0.001"  # one significant digit
    assert fmt_pm(0.006) == "0.01"  # shown as nonzero already: places as before

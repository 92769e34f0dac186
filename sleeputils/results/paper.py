"""The paper's numbers, and the rule that says whether one of ours falls within their spread.

``paper_values.csv`` holds one row per number of the paper's Tables 1 and 2, keyed like our
recorded numbers (chapter id, dataset, method, metric). The paper is shown beside our numbers and
its misses are reported, never failed: the book documents how far the reproduction gets.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import setting

PAPER_VALUES_FILE = Path(__file__).with_name("paper_values.csv")
#: How many paper standard deviations count as "within the paper's spread".
PAPER_SPREAD_SIGMAS = 2.0
#: Where the paper prints no spread (e.g. Table 1's sequential and parallel rows), a number within
#: this many points of the paper's counts as matching; anything further is reported as a miss.
NO_SPREAD_BAND = 1.0
WITHIN, OUTSIDE = "within paper spread", "outside paper spread"
WITHIN_BAND, OUTSIDE_BAND = "within ±1 pt (no paper spread)", "outside ±1 pt (no paper spread)"
NOT_COVERED, NO_PAPER_VALUE = "not covered", "no paper value"
#: A number measured at a setting the paper does not state (its ``unstated`` column names it):
#: it is located on our sweep of that setting instead of compared at one value.
BRACKETED = "located on our sweep (setting not stated)"
#: Paper statuses that count as a miss (reported, never failed).
PAPER_MISSES = (OUTSIDE, OUTSIDE_BAND)
#: Short verdicts for tables read by people.
SHORT = {WITHIN: "✓ within", OUTSIDE: "✗ missed", WITHIN_BAND: "✓ within ±1",
         OUTSIDE_BAND: "✗ missed", NOT_COVERED: "not covered", NO_PAPER_VALUE: "—",
         BRACKETED: "↔ on our sweep"}


def load_paper_values(path: Path = PAPER_VALUES_FILE) -> pd.DataFrame:
    """The paper's numbers, one row per number (columns: chapter_id, dataset, method, setting,
    metric, value, std, trials, source, note, unstated). ``setting`` names the values the paper
    measured the number at (:mod:`.setting`); a number of ours is compared with it only there.
    ``unstated`` names a setting the paper does not give for the number (empty where it gives
    every one): such a number is located on our sweep of it (:func:`locate`)."""
    paper = pd.read_csv(path, dtype={"chapter_id": str, "setting": str, "source": str,
                                     "note": str, "unstated": str})
    paper["setting"] = setting.normalise(paper["setting"])
    paper["unstated"] = paper["unstated"].fillna("")
    return paper


def locate(curve: pd.Series, value: float) -> tuple[float | None, float | None]:
    """Where ``value`` falls on ``curve`` (our mean per swept setting value, e.g. per fraction
    replayed): (the setting value on the side below it, the one on the side at or above it), the
    two neighbours in setting order between which the curve crosses it, whether the curve rises
    or falls there. (None, x): every mean is at or above it, x the first setting value;
    (x, None): every mean is below it, x the best. Raises ValueError when the curve crosses the
    value more than once, where no single place can be named."""
    curve = curve.dropna().sort_index()
    if curve.empty:
        raise ValueError("an empty curve locates nothing")
    below = (curve < value).to_numpy()
    if below.all():
        return float(curve.idxmax()), None
    if not below.any():
        return None, float(curve.index[0])
    if np.count_nonzero(below[1:] != below[:-1]) > 1:
        raise ValueError(f"the curve crosses {value} more than once")
    cross = int(np.flatnonzero(below[1:] != below[:-1])[0])  # last index before the crossing
    first, second = float(curve.index[cross]), float(curve.index[cross + 1])
    return (first, second) if below[cross] else (second, first)


def paper_spread(ours: float, paper: float, paper_std: float) -> str:
    """Whether ``ours`` is within :data:`PAPER_SPREAD_SIGMAS` paper standard deviations.

    Where the paper gives no spread the band is :data:`NO_SPREAD_BAND` points, so that a miss is
    still called a miss (and the label says which rule was used).
    """
    if ours is None or not math.isfinite(ours):
        return NOT_COVERED
    if paper is None or not math.isfinite(paper):
        return NO_PAPER_VALUE
    if paper_std is None or not math.isfinite(paper_std):
        return WITHIN_BAND if abs(ours - paper) <= NO_SPREAD_BAND else OUTSIDE_BAND
    inside = abs(ours - paper) <= PAPER_SPREAD_SIGMAS * paper_std
    return WITHIN if inside else OUTSIDE


def fmt_pm(mean: float, std: float | None = None, n: float | None = None, digits: int = 2) -> str:
    """``48.47 ± 5.03 (n=5)``; blanks for missing parts, ``—`` for a missing number; a number
    that ``digits`` places would show as zero keeps ``digits`` significant digits (an OWM alpha
    of ``0.0001``, not ``0.00``)."""
    if mean is None or pd.isna(mean):
        return "—"
    text = _places(mean, digits)
    if std is not None and not pd.isna(std):
        text += f" ± {_places(std, digits)}"
    if n is not None and not pd.isna(n):
        text += f" (n={int(n)})"
    return text


def _places(x: float, digits: int) -> str:
    """``x`` to ``digits`` places, or to ``digits`` significant digits where the places would
    round a nonzero number to zero."""
    return f"{x:.{digits}g}" if x and abs(x) < 0.5 * 10.0 ** -digits else f"{x:.{digits}f}"


def signed_points(diff: pd.Series) -> list[str]:
    """``+1.23`` per row, ``—`` where either number is missing."""
    return [f"{d:+.2f}" if pd.notna(d) else "—" for d in diff]


def pm_column(
    table: pd.DataFrame, mean: str, std: str, n: str | None = None, missing: str = "—"
) -> list[str]:
    """``fmt_pm`` applied row-wise to columns of ``table``; ``missing`` where mean is NaN."""
    cols = [mean, std] + ([n] if n else [])
    return [
        fmt_pm(*row) if pd.notna(row[0]) else missing
        for row in table[cols].itertuples(index=False, name=None)
    ]

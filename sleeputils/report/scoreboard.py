"""The scoreboard: every paper number beside ours at the paper's setting, why each miss is a
miss, and one figure of the whole reproduction.

The reasons are findings, kept as data in ``reasons.yaml`` (one line and the book section with
the evidence per number); the verdicts are computed from the committed ``paper``-profile records
(:func:`sleeputils.report.status.joined`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import yaml

from ..results.paper import BRACKETED, NOT_COVERED, PAPER_MISSES, paper_spread

REASONS_FILE = Path(__file__).with_name("reasons.yaml")
#: The methods part, where the labels of the reasons live.
METHODS_DIR = Path("book") / "methods"


@cache
def reasons() -> tuple[dict[str, str], dict[tuple[str, str], dict[str, str]]]:
    """(why per absent data set, {(chapter, method): {"why", "ref"}}) from ``reasons.yaml``."""
    data = yaml.safe_load(REASONS_FILE.read_text())
    numbers = {(r["chapter"], r["method"]): {"why": r["why"], "ref": r["ref"]}
               for r in data["numbers"]}
    return dict(data["data"]), numbers


def why(chapter: str, dataset: str, method: str, verdict: str) -> tuple[str, str]:
    """(reason, label) for a paper number that is missed or not computed; ("", "") otherwise."""
    if verdict not in (*PAPER_MISSES, NOT_COVERED, BRACKETED):
        return "", ""
    absent, numbers = reasons()
    if verdict == NOT_COVERED and dataset in absent:
        return absent[dataset], ""
    found = numbers.get((chapter, method))
    if found is None:
        return ("no measured cause yet" if verdict != NOT_COVERED else "not computed yet"), ""
    return found["why"], found["ref"]


def label_page(label: str, project: Path) -> str | None:
    """The methods page (``book/methods/<page>.md``) that defines the MyST label, if any."""
    return _labels(project).get(label)


@cache
def _labels(project: Path) -> dict[str, str]:
    """Every label of the methods pages and its page, read once per project (the status table
    asks for one per row)."""
    return {line[1:-2]: path.stem for path in sorted((project / METHODS_DIR).glob("*.md"))
            for line in path.read_text().splitlines()
            if line.startswith("(") and line.endswith(")=")}


def verdicts(joined: pd.DataFrame) -> pd.Series:
    """Each paper number's verdict against the committed paper-profile mean (located on our
    sweep where the paper does not state its setting)."""
    located = joined["p_located"] if "p_located" in joined else pd.Series("", joined.index)
    return pd.Series([BRACKETED if w else paper_spread(m, p, s) for m, p, s, w in
                      zip(joined["p_mean"], joined["paper"], joined["paper_std"], located,
                          strict=True)], index=joined.index)


def save_figure(joined: pd.DataFrame, path: Path) -> None:
    """:func:`figure` as a PNG (the title page includes it)."""
    fig = figure(joined)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def figure(joined: pd.DataFrame) -> plt.Figure:
    """Ours (committed full protocol) against the paper's value for every computed number, with
    both spreads; on the diagonal is a perfect reproduction."""
    rows = joined[joined["p_mean"].notna() & joined["paper"].notna()].copy()
    rows["verdict"] = np.where(verdicts(rows).isin(PAPER_MISSES), "missed", "within")
    fig, ax = plt.subplots(figsize=(6.2, 5.6))
    ax.plot([0, 100], [0, 100], color="0.6", lw=1, ls="--", zorder=0)
    for verdict, color in (("within", "tab:green"), ("missed", "tab:red")):
        part = rows[rows["verdict"] == verdict]
        ax.errorbar(part["paper"], part["p_mean"], xerr=part["paper_std"].fillna(0),
                    yerr=part["p_std"].fillna(0), fmt="o", color=color, ms=6, capsize=2,
                    lw=1, label=f"{verdict} ({len(part)})")
    for _, r in rows[rows["verdict"] == "missed"].iterrows():
        left = r["paper"] > 70  # labels of the right half point left, inside the axes
        ax.annotate(r["label"], (r["paper"], r["p_mean"]), fontsize=7,
                    xytext=(-6 if left else 6, -3), textcoords="offset points",
                    ha="right" if left else "left")
    sns.despine(fig)
    ax.set(xlabel="paper (%)", ylabel="ours, full protocol (%)", xlim=(0, 100), ylim=(0, 100),
           aspect="equal")
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return fig

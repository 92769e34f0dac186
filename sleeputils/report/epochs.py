"""The epochs chapter: accuracy against epochs per task for iCaRL and iCaRL + SRC, and how many
epochs per task the sleep saves to reach the same accuracy."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..results.paper import fmt_pm
from .icarl import icarl_verdict, paper_row
from .names import METHODS, SCORES
from .tables import for_people, headline


def curves(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (score, method, epochs, trial) with the final accuracy."""
    rows = headline(df)
    rows = rows[rows["metric"].isin(SCORES)]
    return rows.assign(score=rows["metric"], epochs=rows["epochs"].astype(int))[
        ["score", "method", "epochs", "trial", "value"]]


def epochs_needed(epochs: np.ndarray, acc: np.ndarray, target: float) -> float:
    """Epochs per task at which the curve first reaches ``target``, linearly interpolated between
    grid points (on the running maximum, so a dip does not count twice); NaN if it never does."""
    best = np.maximum.accumulate(acc)
    if target > best[-1]:
        return float("nan")
    k = int(np.argmax(best >= target))
    if k == 0:
        return float(epochs[0])
    e0, e1, a0, a1 = epochs[k - 1], epochs[k], best[k - 1], best[k]
    return float(e0 + (e1 - e0) * (target - a0) / (a1 - a0))


def savings(df: pd.DataFrame, score: str) -> pd.DataFrame:
    """For each epochs value e: the mean accuracy iCaRL reaches with e epochs per task, the
    epochs iCaRL + SRC needs to reach it, and the difference (epochs saved)."""
    c = curves(df)
    mean = c[c["score"] == score].groupby(["method", "epochs"])["value"].mean().unstack(0)
    e = mean.index.to_numpy(dtype=float)
    rows = []
    for epochs, target in zip(e, mean["icarl"], strict=True):
        needed = epochs_needed(e, mean["icarl_src"].to_numpy(), target)
        rows.append({"epochs": int(epochs), "target": target, "needed": needed,
                     "saved": epochs - needed})
    return pd.DataFrame(rows)


def savings_table(df: pd.DataFrame) -> Styler:
    """Per epochs value and score: iCaRL's accuracy and the epochs iCaRL + SRC needs for it."""
    out = []
    for score in SCORES:
        for _, r in savings(df, score).iterrows():
            out.append({"score": SCORES[score], "iCaRL epochs per task": int(r["epochs"]),
                        "iCaRL accuracy (%)": fmt_pm(r["target"]),
                        "iCaRL + SRC needs": r["needed"], "epochs saved": r["saved"]})
    return for_people(pd.DataFrame(out), digits=1, compact=True)


def savings_verdict(df: pd.DataFrame, grid_low: int) -> str:
    """Markdown: the mean saving per score over the epochs values where it is defined."""
    lines = []
    for score in SCORES:
        s = savings(df, score)
        ok = s.dropna(subset=["saved"])
        if ok.empty:
            lines.append(f"- {SCORES[score]}: iCaRL + SRC never reaches iCaRL's accuracy on "
                         "this grid, so it saves no epochs.")
            continue
        floor = int((ok["needed"] <= grid_low).sum())
        lines.append(
            f"- {SCORES[score]}: to reach what iCaRL reaches with e epochs per task, iCaRL + "
            f"SRC needs on average **{ok['saved'].mean():.1f} fewer** (range "
            f"{ok['saved'].min():.1f} to {ok['saved'].max():.1f}, over {len(ok)} of "
            f"{len(s)} grid values; the paper: about 3.7)."
            + (f" In {floor} of them iCaRL + SRC already reaches the target at the grid's "
               f"lowest value, {grid_low}, so the saving there is a lower bound." if floor else ""))
    return "\n".join(lines)


def epochs_figure(df: pd.DataFrame) -> plt.Figure:
    """Accuracy against epochs per task, both methods, one panel per score."""
    c = curves(df).assign(method=lambda d: d["method"].map(METHODS),
                          score=lambda d: d["score"].map(SCORES))
    grid = sns.relplot(c, x="epochs", y="value", hue="method", col="score", kind="line",
                       marker="o", errorbar="sd", height=3.2, aspect=1.3,
                       palette={"iCaRL": "tab:gray", "iCaRL + SRC": "tab:blue"})
    grid.set_axis_labels("epochs per task", "final accuracy (%)")
    grid.set_titles("{col_name}")
    return grid.figure


def paper_comparison(df: pd.DataFrame, dataset: str) -> str:
    """Markdown: the paper's Table 2 pair beside ours at the setting it was measured at (its
    memory, variant, score and epochs per task, as ``paper_values.csv`` names them); empty when
    the paper has no pair on this data set or this run did not train that many epochs."""
    paper = paper_row(dataset)
    if paper.empty or "epochs" not in paper:
        return ""
    epochs, score = int(paper["epochs"].iloc[0]), paper["metric"].iloc[0]
    rows = headline(df)
    rows = rows[(rows["epochs"] == epochs) & (rows["metric"] == score)]
    if rows.empty:
        return ""
    return (f"At the paper's Table 2 setting ({epochs} epochs per task, the "
            f"{SCORES[score]} score):\n\n" + icarl_verdict(rows, dataset))

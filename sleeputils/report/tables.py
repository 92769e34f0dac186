"""Tables the chapters show: our numbers beside the paper's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book.check import (
    OUTSIDE,
    WITHIN,
    WITHIN_BAND,
    load_paper_values,
    paper_spread,
)


def headline(df: pd.DataFrame) -> pd.DataFrame:
    """Rows marked ``headline``, one per (dataset, method, metric, trial)."""
    return df[df["headline"].fillna(False).astype(bool)].copy()


def summary(df: pd.DataFrame, metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Mean, std and n over trials of every headline number."""
    rows = headline(df)
    if metrics is not None:
        rows = rows[rows["metric"].isin(metrics)]
    out = rows.groupby(["dataset", "method", "metric"], sort=False)["value"].agg(
        ["mean", "std", "count"]
    )
    return out.rename(columns={"count": "n"}).reset_index()


def versus_paper(df: pd.DataFrame, chapter: str) -> pd.DataFrame:
    """Our mean ± std (n) beside the paper's value ± std, with the difference in points.

    ``vs paper`` is :func:`sleeputils.book.check.paper_spread`: within 2 paper std, or within
    1 point where the paper prints no spread (so a miss is always called a miss).
    """
    ours = summary(df)
    paper = load_paper_values()
    paper = paper[paper["chapter"] == chapter]
    table = ours.merge(paper, on=["dataset", "method", "metric"], how="left",
                       suffixes=("", "_paper"))
    table["difference"] = table["mean"] - table["value"]
    spread = table["std_paper"] if "std_paper" in table else pd.Series(np.nan, table.index)
    table["vs paper"] = [
        "not in paper" if pd.isna(p) else paper_spread(m, p, s)
        for m, p, s in zip(table["mean"], table["value"], spread, strict=True)
    ]
    table = table.rename(columns={"value": "paper", "std_paper": "paper std"})
    cols = ["dataset", "method", "metric", "mean", "std", "n", "paper", "paper std",
            "difference", "vs paper"]
    return table[cols].round(2)


def verdict(table: pd.DataFrame) -> str:
    """One Markdown sentence per paper number: reproduced within its spread, or missed by how much.

    Written from the numbers, so the prose cannot drift from the table.
    """
    lines = []
    for _, row in table.dropna(subset=["paper"]).iterrows():
        ours = f"{row['mean']:.2f}" + ("" if pd.isna(row["std"]) else f" ± {row['std']:.2f}")
        paper = f"{row['paper']:.2f}" + (
            "" if pd.isna(row["paper std"]) else f" ± {row['paper std']:.2f}"
        )
        status = row["vs paper"]
        if status == WITHIN:
            word = "**reproduced** (within 2 paper std)"
        elif status == OUTSIDE:
            word = "**missed** (outside 2 paper std)"
        elif status == WITHIN_BAND:
            word = "**reproduced** (within 1 point; the paper gives no spread)"
        else:
            word = "**missed** (more than 1 point off; the paper gives no spread)"
        lines.append(
            f"- {row['dataset']} / {row['method']}: ours {ours} (n = {int(row['n'])}) vs paper "
            f"{paper}, difference {row['difference']:+.2f} points: {word}."
        )
    return "\n".join(lines) if lines else "No number of this chapter is in the paper's tables."


def weight_claim(weights: pd.DataFrame) -> str:
    """Markdown: does sleep make task-1-unique pixels inhibitory for the task-2 outputs?

    ``weights`` is :func:`sleeputils.report.figures.mean_weights` at one overlap (index: pixel
    group, output group; columns after_task2, after_sleep). The claim (paper-results.md,
    qualitative finding 1) is supported when that mean weight falls by sleep; the sentence also
    names the pixel → output pathway sleep changed most, so a different mechanism is visible.
    """
    change = (weights["after_sleep"] - weights["after_task2"]).rename("change")
    claimed = change.loc[("task1_unique", "task-2 outputs")]
    biggest = change.abs().idxmax()
    supported = claimed < 0 and abs(claimed) >= 0.1 * abs(change.loc[biggest])
    verdict = "**supported**" if supported else "**not supported**"
    return (
        f"Task-1-unique pixels → task-2 outputs: mean weight "
        f"{weights.loc[('task1_unique', 'task-2 outputs'), 'after_task2']:+.4f} before sleep, "
        f"{weights.loc[('task1_unique', 'task-2 outputs'), 'after_sleep']:+.4f} after "
        f"(change {claimed:+.4f}): the paper's claim is {verdict} here. The pathway sleep changed "
        f"most is {biggest[0].replace('_', '-')} pixels → {biggest[1]} "
        f"(change {change.loc[biggest]:+.4f})."
    )

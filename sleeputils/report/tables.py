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


def rehearsal_table(df: pd.DataFrame) -> pd.DataFrame:
    """Final accuracy per replayed fraction: rehearsal, rehearsal + SRC and SRC's paired gain.

    The gain is computed per trial (both nets share initial weights, batches and stored
    examples), then averaged, so its std is that of the paired difference.
    """
    rows = df[df["metric"].str.startswith("final_acc_p")]
    wide = rows.pivot_table(index=["fraction", "trial"], columns="method", values="value")
    wide["gain"] = wide["rehearsal_src"] - wide["rehearsal"]
    out = wide.groupby("fraction").agg(["mean", "std"])
    out.columns = [f"{m} {s}" for m, s in out.columns]
    out.insert(0, "n", wide.groupby("fraction").size())
    out.index = [f"{100 * p:g} %" for p in out.index]
    out.index.name = "replayed"
    return out.round(2)


def rehearsal_verdict(df: pd.DataFrame, paper: pd.DataFrame) -> str:
    """Markdown: where each of the paper's Table 1 values falls on our curves.

    The paper's fraction is not on the original grid (paper-results.md), so instead of a
    side-by-side number this names the fractions whose mean brackets the paper's value.
    """
    rows = df[df["metric"].str.startswith("final_acc_p")]
    means = rows.groupby(["method", "fraction"])["value"].mean()
    lines = []
    for _, row in paper.iterrows():
        if row["method"] not in means.index.get_level_values(0):
            continue
        curve = means.loc[row["method"]]
        below, above = curve[curve < row["value"]], curve[curve >= row["value"]]
        where = _bracket(below, above)
        lines.append(f"- {row['method']}: paper {row['value']:.2f}"
                     + ("" if pd.isna(row["std"]) else f" ± {row['std']:.2f}")
                     + f"; ours {where}.")
    return "\n".join(lines) if lines else "The paper gives no rehearsal number for this data set."


def _bracket(below: pd.Series, above: pd.Series) -> str:
    """'reaches it between 1 % (70.1) and 10 % (90.2) replayed', or why it never does."""
    def at(s: pd.Series, i) -> str:
        return f"{100 * i:g} % ({s[i]:.2f})"
    if above.empty:
        return f"stays below it at every fraction run (best: {at(below, below.idxmax())})"
    if below.empty:
        return f"is above it at every fraction run (lowest: {at(above, above.idxmin())})"
    lo, hi = below.index.max(), above.index.min()
    if lo < hi:
        return f"reaches it between {at(below, lo)} and {at(above, hi)} replayed"
    return "crosses it more than once (not monotone in the fraction)"


def committed_sweep(chapter_id: str, records: pd.DataFrame) -> pd.DataFrame | str:
    """The full rehearsal sweep of the committed ``paper``-profile records, one row per fraction.

    ``records`` is :func:`sleeputils.results.record.load_records` for the paper profile. Returns
    a Markdown sentence instead when that chapter has no committed records yet.
    """
    rows = records[(records["chapter_id"] == chapter_id)
                   & records["metric"].astype(str).str.startswith("final_acc_p")]
    if rows.empty:
        return (f"No `paper`-profile records of {chapter_id} are committed yet: run "
                f"`sleepbook run {chapter_id} --profile paper` and commit `results/paper/`.")
    rows = rows.assign(
        fraction=rows["metric"].str.removeprefix("final_acc_p").astype(float),
        value=[f"{m:.2f} ± {s:.2f} (n={int(n)})"
               for m, s, n in zip(rows["mean"], rows["std"], rows["n"], strict=True)])
    table = rows.pivot(index="fraction", columns="method", values="value").sort_index()
    table.index = [f"{100 * p:g} %" for p in table.index]
    table.index.name = "replayed"
    return table

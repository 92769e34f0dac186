"""The patches chapter: accuracy per overlap before and after sleep, and the weight claim."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from ..results.paper import (
    fmt_pm,
)
from .tables import for_people, headline


def weight_claim(weights: pd.DataFrame) -> str:
    """Markdown: does sleep make task-1-unique pixels inhibitory for the task-2 outputs?

    ``weights`` is :func:`sleeputils.report.figures.mean_weights` at one overlap (index: pixel
    group, output group; columns after_task2, after_sleep). The paper's claim is supported when
    that mean weight falls by sleep by at least a tenth of the largest change; the sentence also
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


def patches_table(df: pd.DataFrame) -> Styler:
    """Accuracy on all four images per overlap: after task 1, after task 2, after sleep."""
    acc = headline(df)
    stats = acc.groupby(["overlap", "stage"])["value"].agg(["mean", "std"])
    table = pd.DataFrame({"overlap": sorted(acc["overlap"].unique())})
    for stage, name in (("after_task1", "after task 1"), ("after_task2", "after task 2"),
                        ("after_sleep", "after sleep")):
        table[name] = [fmt_pm(*stats.loc[(o, stage)], digits=1) if (o, stage) in stats.index
                       else "—" for o in table["overlap"]]
    return for_people(table)


def patches_verdict(df: pd.DataFrame) -> str:
    """Markdown: at how many overlaps sleep raised accuracy after task 2, and by how much."""
    acc = headline(df)
    means = acc.groupby(["overlap", "stage"])["value"].mean().unstack("stage")
    gain = means["after_sleep"] - means["after_task2"]
    helped, hurt = gain[gain > 0], gain[gain < 0]
    text = (f"Sleep raised the mean accuracy after task 2 at {len(helped)} of {len(gain)} "
            f"overlaps and lowered it at {len(hurt)}")
    if len(helped):
        best = helped.idxmax()
        text += (f"; the largest recovery is at overlap {best} "
                 f"({means.loc[best, 'after_task2']:.1f} → {means.loc[best, 'after_sleep']:.1f} %)")
    return text + "."

"""The WSCL chapter: its ablation table, figures and verdicts, computed from the records."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..results.paper import fmt_pm
from . import stats
from .names import CONVENTIONS, METHODS
from .tables import for_people

#: The variants, in the order tables and figures list them.
VARIANTS = ("er-ace", "wscl", "wscl-no-dreaming", "wscl-no-freezing", "wscl+nrem")
#: Table columns: (metric, heading).
COLUMNS = (("final_class_all", "class-IL"), ("final_task", "task-IL"),
           ("bwt_class_all", "BWT"), ("forgetting_class_all", "forgetting"),
           ("fwt_class_all", "FWT class-IL"), ("fwt_task", "FWT task-IL"))


def _values(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seeds x variants of one per-trial number."""
    rows = df[df["metric"] == metric]
    return rows.pivot_table(index="trial", columns="method", values="value", sort=False)


def ablation_table(df: pd.DataFrame) -> Styler:
    """Per variant (a column each), mean ± std over seeds of the headline numbers (points) and
    the frozen blocks at the end (what a run costs is ``sleepbook cost``'s, not a result)."""
    out = []
    for method in [m for m in VARIANTS if m in set(df["method"])]:
        row = {"method": METHODS[method]}
        for metric, heading in COLUMNS:
            v = _values(df, metric)[method]
            row[heading] = fmt_pm(v.mean(), v.std(), digits=1)
        if "after_task" in df:  # per-task rows: not part of the recorded trials
            frozen = df[(df["method"] == method) & (df["metric"] == "frozen_blocks")
                        & (df["after_task"] == df["after_task"].max())]["value"]
            row["frozen"] = f"{frozen.mean():.1f}"
        out.append(row)
    # a column per variant, a row per number: five columns fit the page, nine did not
    table = pd.DataFrame(out).set_index("method").T.rename_axis("").reset_index()
    return (for_people(table, digits=1, compact=True)
            .set_table_styles([{"selector": "th", "props": "white-space: normal;"}],
                              overwrite=False))


#: A paired difference's verdict as the list words it.
WORDS = {stats.HIGHER: "significant gain", stats.LOWER: "significant loss",
         stats.UNCLEAR: "no significant difference", stats.TOO_FEW: "untested",
         stats.NO_SPREAD: "untested"}


def _paired(r: stats.Paired) -> str:
    """``+1.2 points (p = 0.03, paired t-test, 5 seeds): significant gain``."""
    if not r.tested:
        return f"{r.difference:+.1f} points ({r.n} seeds: {stats.why_untested(r)}): untested"
    return (f"{r.difference:+.1f} points ({stats.p_text(r)}, paired t-test, {r.n} seeds): "
            f"{WORDS[r.verdict]}")


def _positive(r: stats.Paired) -> str:
    """``+10.8 points (one-sided t-test against 0: p = 0.0066, 5 seeds; **positive**)``."""
    if not r.tested:
        test = f"{r.n} seeds: {stats.why_untested(r)}"
    else:
        test = (f"one-sided t-test against 0: {stats.p_text(r)}, {r.n} seeds; "
                + ("**positive**" if r.verdict == stats.HIGHER else "not shown positive"))
    return f"{r.difference:+.1f} points ({test})"


def verdict(df: pd.DataFrame) -> str:
    """Markdown: does WSCL beat ER-ACE, what does each stage add, and is forward transfer
    positive, each tested on the paired seeds (Holm over the list's tests)."""
    heads, tests, forms = [], [], []
    checks = (("WSCL against ER-ACE", "wscl", "er-ace"),
              ("dreaming (WSCL against WSCL without dreaming)", "wscl", "wscl-no-dreaming"),
              ("freezing (WSCL against WSCL without freezing)", "wscl", "wscl-no-freezing"),
              ("NREM, our reading (WSCL + NREM against WSCL)", "wscl+nrem", "wscl"))
    final = _values(df, "final_class_all")
    for what, a, b in checks:
        if a in final and b in final:
            heads.append(f"- **{what}**, final class-IL accuracy: ")
            tests.append(stats.paired(final[a], final[b]))
            forms.append(_paired)
    for conv in ("class_all", "task"):
        v = _values(df, f"fwt_{conv}")
        if "wscl" in v and "wscl-no-dreaming" in v:
            heads.append(f"- **dreaming's forward transfer** ({CONVENTIONS[conv]}, WSCL "
                         "against WSCL without dreaming): ")
            tests.append(stats.paired(v["wscl"], v["wscl-no-dreaming"]))
            forms.append(_paired)
        if "wscl" in v:
            heads.append(f"- **Forward transfer of WSCL** ({CONVENTIONS[conv]}): ")
            tests.append(stats.paired(v["wscl"], alternative="greater"))
            forms.append(_positive)
    return "\n".join(f"{head}{form(r)}." for head, r, form in
                     zip(heads, stats.family(tests), forms, strict=True))


def _curves(df: pd.DataFrame) -> pd.DataFrame:
    acc = df[df["metric"] == "acc"]
    mean = acc.groupby(["method", "convention", "trial", "after_task"], as_index=False)[
        "value"].mean()
    mean["method"] = mean["method"].map(METHODS)
    mean["convention"] = mean["convention"].map(CONVENTIONS)
    return mean


def _colours(data: pd.DataFrame) -> dict:
    """One colour per variant, the same in every figure (in the order of :data:`VARIANTS`)."""
    names = [METHODS[m] for m in VARIANTS]
    order = [name for name in names if name in set(data["method"])]
    palette = dict(zip(names, sns.color_palette(n_colors=len(names)), strict=True))
    return {"hue": "method", "hue_order": order, "palette": {n: palette[n] for n in order}}


def accuracy_curves(df: pd.DataFrame) -> plt.Figure:
    """Mean accuracy over the tasks seen so far, after each task, per variant and convention."""
    data = _curves(df)
    data = data[data["convention"] != CONVENTIONS["class_seen"]]
    grid = sns.relplot(data=data, x="after_task", y="value", col="convention", kind="line",
                       marker="o", errorbar="sd", height=3.4, aspect=1.15,
                       facet_kws={"sharey": False}, **_colours(data))
    grid.set_axis_labels("after task", "mean accuracy on tasks seen (%)")
    grid.set_titles("{col_name}")
    for ax in grid.axes.flat:
        ax.set_xticks(sorted(data["after_task"].unique()))
    return grid.figure


def start_of_task(df: pd.DataFrame) -> plt.Figure:
    """Accuracy on each task before it is trained (after its heads are chosen) minus the untrained
    network's: the per-task terms of FWT."""
    start = df[(df["metric"] == "acc_start")].set_index(["method", "convention", "trial",
                                                         "task"])["value"]
    chance = df[(df["metric"] == "acc_untrained")].set_index(["method", "convention", "trial",
                                                              "task"])["value"]
    gain = (start - chance.reindex(start.index)).rename("value").reset_index()
    gain = gain[gain["convention"] != "class_seen"]
    gain["task"] = gain["task"].astype(int)
    gain["method"] = gain["method"].map(METHODS)
    gain["convention"] = gain["convention"].map(CONVENTIONS)
    grid = sns.catplot(data=gain, x="task", y="value", col="convention", kind="bar",
                       errorbar="sd", height=3.4, aspect=1.15, sharey=False, **_colours(gain))
    grid.set_axis_labels("task (before training it)", "accuracy above untrained (points)")
    grid.set_titles("{col_name}")
    for ax in grid.axes.flat:
        ax.axhline(0, color="0.3", lw=0.8)
    return grid.figure


def stolen_share(df: pd.DataFrame) -> float:
    """Largest mean gap (points) between seen-heads and all-heads class-IL accuracy over the
    dreaming variants' mid-stream evaluations."""
    acc = df[(df["metric"] == "acc") & df["method"].isin(["wscl", "wscl-no-freezing",
                                                          "wscl+nrem"])]
    wide = acc.pivot_table(index=["method", "trial", "after_task", "task"],
                           columns="convention", values="value")
    if wide.empty:
        return float("nan")
    gap = (wide["class_seen"] - wide["class_all"]).groupby(level=["method", "after_task"]).mean()
    return float(np.max(gap))


def heads_verdict(df: pd.DataFrame, matters: float = 1.0) -> str:
    """Whether the choice of heads at evaluation changes class-IL accuracy by ``matters`` points
    or more, from :func:`stolen_share`."""
    gap = stolen_share(df)
    if not np.isfinite(gap):
        return "No dreaming variant ran, so the two conventions cannot differ here."
    if gap < matters:
        return (f"Here the choice hardly matters: the largest mean gap between the two "
                f"conventions, over the dreaming variants and the evaluations after tasks 1 to "
                f"4, is **{gap:.1f} points** of class-IL accuracy (under {matters:g}): test "
                f"images of real classes seldom peak on a head trained on auxiliary images.")
    return (f"Here the choice matters: looking only at the heads of classes met so far raises "
            f"class-IL accuracy by up to **{gap:.1f} points** (largest mean gap over the "
            f"dreaming variants and the evaluations after tasks 1 to 4): that many test images "
            f"peak on a head that is still dreaming.")

"""The representations chapter: each statistic before and after sleep, paired over trials,
against the direction the paper reports (Holm over the table's tests)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..results.paper import fmt_pm
from . import stats
from .tables import for_people, headline

#: statistic -> (what people read, the paper's direction: +1 rises, -1 falls, 0 holds or rises,
#: None no claim).
STATS = {
    "between_corr": ("between-class correlation", -1),
    "within_corr": ("within-class correlation", 0),
    "frac_active": ("fraction of units active", -1),
    "treves_rolls": ("Treves-Rolls a (lower = sparser)", -1),
    "selectivity": ("class selectivity", +1),
    "old_pref": ("share of units preferring old classes", +1),
    "drive_old": ("input to old-task units", +1),
    "drive_new": ("input to newest-task units", -1),
    "probe_acc": ("linear probe accuracy (%)", None),
}
WORDS = {+1: "rises", -1: "falls", 0: "holds or rises", None: "no claim"}


def paired(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (statistic, layer, trial): the mean over sleeps before and after."""
    rows = headline(df)
    rows = rows[rows["when"].isin(["before", "after"])] if "when" in rows else rows.iloc[:0]
    rows = rows.assign(stat=rows["metric"], layer=rows["layer"].astype(int))
    return rows.pivot_table(index=["stat", "layer", "trial"], columns="when",
                            values="value").reset_index()


def paired_tests(df: pd.DataFrame) -> pd.DataFrame:
    """Per (statistic, layer): before, after, the paired change, d_z, p, Holm-adjusted p (over
    the table's tests) and the verdict against the paper's direction."""
    p = paired(df)
    groups = list(p.groupby(["stat", "layer"], sort=False))
    tests = stats.family([stats.paired(g["after"], g["before"]) for _, g in groups])
    t = pd.DataFrame([{"stat": stat, "layer": layer, "n": r.n, "before": g["before"].mean(),
                       "before_sd": g["before"].std(), "after": g["after"].mean(),
                       "after_sd": g["after"].std(), "change": r.difference, "change_sd": r.sd,
                       "dz": r.d_z, "p": r.p, "p_holm": r.p_verdict,
                       "verdict": _verdict(STATS.get(stat, ("", None))[1], r)}
                      for ((stat, layer), g), r in zip(groups, tests, strict=True)])
    order = {s: i for i, s in enumerate(STATS)}
    return t.sort_values(["stat", "layer"], key=lambda c: c.map(order) if c.name == "stat"
                         else c).reset_index(drop=True)


def _layer_name(layer: int, output: int) -> str:
    return "output" if layer == output else f"hidden {int(layer)}"


def _verdict(direction: int | None, r: stats.Paired) -> str:
    """The paper's claim (``direction``, as in :data:`STATS`) against one paired test."""
    if direction is None:
        return "—"
    if r.verdict == stats.TOO_FEW:
        return "too few trials to test"
    significant = r.verdict in (stats.HIGHER, stats.LOWER)
    if direction == 0:
        if r.difference >= 0:
            return "holds"
        return "does not hold (falls)" if significant else "holds (no significant fall)"
    if significant:
        return "holds" if np.sign(r.difference) == direction else "does not hold (opposite)"
    return "not shown (no significant change)"


def representations_table(df: pd.DataFrame) -> Styler:
    """The tests for people."""
    t = paired_tests(df)
    table = pd.DataFrame({
        "statistic": [STATS.get(s, (s,))[0] for s in t["stat"]],
        "layer": [_layer_name(k, t["layer"].max()) for k in t["layer"]],
        "paper": [WORDS[STATS.get(s, ("", None))[1]] for s in t["stat"]],
        "before": t["before"], "after": t["after"],
        "change (paired)": [fmt_pm(m, s, digits=3) for m, s in zip(t["change"], t["change_sd"],
                                                                  strict=True)],
        "d_z": t["dz"], "p (Holm)": t["p_holm"], "verdict": t["verdict"],
    })
    return for_people(table, digits=3, compact=True).format(
        "{:.2g}", subset=["p (Holm)", "d_z"], na_rep="—")


def representations_verdict(df: pd.DataFrame) -> str:
    """Markdown: one line per finding of the paper, computed from the tests."""
    t = paired_tests(df)
    n = int(t["n"].max()) if len(t) else 0
    lines = []
    for stat, (name, direction) in STATS.items():
        rows = t[t["stat"] == stat]
        if direction is None or rows.empty:
            continue
        top = t["layer"].max()
        verdicts = ", ".join(f"{_layer_name(k, top)}: "
                             f"{v} ({c:+.3g}, d_z = {d:.2f})" for k, v, c, d in
                             zip(rows["layer"], rows["verdict"], rows["change"], rows["dz"],
                                 strict=True))
        lines.append(f"- The {name} {WORDS[direction]} after sleep, says the paper. Here: "
                     f"{verdicts}.")
    return (f"Each change is the mean over a trial's sleeps of after minus before, tested over "
            f"{n} trials (paired t-test, Holm over the {t['p'].notna().sum()} tests of "
            f"the table, p < {stats.ALPHA:g}).\n\n" + "\n".join(lines))


def stages_figure(df: pd.DataFrame) -> plt.Figure:
    """Each hidden-layer statistic after every task and after every sleep (mean over trials)."""
    rows = df[df["stage"].notna() & df["metric"].isin(["between_corr", "within_corr",
                                                        "treves_rolls", "selectivity"])].copy()
    rows["x"] = rows["after_task"] + np.where(rows["stage"] == "after_sleep", 0.5, 0.0)
    rows["statistic"] = rows["metric"].map(lambda s: STATS[s][0])
    rows["layer"] = "hidden " + rows["layer"].astype(int).astype(str)
    grid = sns.relplot(rows, x="x", y="value", hue="layer", col="statistic", col_wrap=2,
                       kind="line", marker="o", errorbar="sd", height=2.8, aspect=1.5,
                       facet_kws={"sharey": False})
    grid.set_axis_labels("task (x.5 = after its sleep)", "")
    grid.set_titles("{col_name}")
    return grid.figure


def correlation_heatmaps(df: pd.DataFrame) -> plt.Figure:
    """Class-by-class correlation of hidden activity (eq-class-correlation), mean over trials,
    just before and just after the last sleep, one row per hidden layer."""
    corr = df[df["metric"] == "class_corr"]
    slept = corr.loc[corr["stage"] == "after_sleep", "after_task"]
    if slept.empty:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0, 0.5, "no sleep was measured")
        return fig
    last = corr[corr["after_task"] == slept.max()].astype({"class_a": int, "class_b": int})
    layers = sorted(last["layer"].dropna().unique().astype(int))
    fig, axes = plt.subplots(len(layers), 2, figsize=(8.4, 3.8 * len(layers)), squeeze=False)
    for row, layer in zip(axes, layers, strict=True):
        for ax, (stage, title) in zip(row, (("after_task", "before the sleep"),
                                            ("after_sleep", "after the sleep")), strict=True):
            m = last[(last["layer"] == layer) & (last["stage"] == stage)].pivot_table(
                index="class_a", columns="class_b", values="value", aggfunc="mean")
            sns.heatmap(m, ax=ax, vmin=-0.2, vmax=1.0, cmap="viridis", square=True,
                        cbar=ax is row[1], cbar_kws={"label": "mean correlation"})
            ax.set(title=f"hidden {layer}, {title}", xlabel="class", ylabel="class")
    fig.suptitle(f"after task {int(slept.max())}", y=1.0)
    fig.tight_layout()
    return fig


def reactivation_table(df: pd.DataFrame) -> Styler:
    """Per hidden layer: how much more a task's neurons fire in sleep than the layer's average,
    how many of the permutation tests are significant after Holm's correction, and a t-test over
    trials of the mean log ratio."""
    return for_people(_reactivation(df).drop(columns=["holds"]), compact=True).format(
        "{:.2g}", subset=["p (t-test, Holm)"], na_rep="—")


def _reactivation(df: pd.DataFrame) -> pd.DataFrame:
    ratio = df[df["metric"] == "react_ratio"].dropna(subset=["value"])
    pvals = df[df["metric"] == "react_p"]
    significant = pd.Series(stats.holm(pvals["value"]) < stats.ALPHA, index=pvals.index)
    groups = list(ratio.groupby("layer"))
    tests = stats.family([stats.paired(np.log2(g.groupby("trial")["value"].mean()),
                                       alternative="greater") for _, g in groups])
    out = []
    for (layer, g), r in zip(groups, tests, strict=True):
        per_trial = g.groupby("trial")["value"].mean()
        mine = pvals["layer"] == layer
        out.append({"layer": f"hidden {int(layer)}",
                    "spikes per task neuron / layer mean": fmt_pm(per_trial.mean(),
                                                                  per_trial.std()),
                    "significant permutation tests": f"{significant[mine].sum()} of "
                    f"{int(mine.sum())}",
                    "p (t-test, Holm)": r.p_verdict, "holds": r.verdict == stats.HIGHER})
    return pd.DataFrame(out)


def reactivation_verdict(df: pd.DataFrame) -> str:
    """Markdown: does the finding hold in every hidden layer?"""
    r = _reactivation(df)
    if r.empty:
        return "No sleep produced spikes to count."
    held = r.loc[r["holds"], "layer"].tolist()
    word = ("holds in both hidden layers" if len(held) == len(r) else
            f"holds in {', '.join(held)} only" if held else "does not hold in either layer")
    return (f"The paper's finding, that during sleep a task's neurons fire more than random "
            f"subsets of the same size, **{word}** here (one-sided t-test over trials of the "
            f"mean log ratio, Holm over the layers, α = {stats.ALPHA:g}).")

"""The representations chapter: each statistic before and after sleep, paired over trials,
against the direction the paper reports (Bonferroni over the table's tests)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler
from scipy import stats

from ..results.paper import fmt_pm
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


def paired_tests(df: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per (statistic, layer): before, after, the paired change, d_z, p, Bonferroni p and the
    verdict against the paper's direction."""
    p = paired(df)
    out = []
    for (stat, layer), g in p.groupby(["stat", "layer"], sort=False):
        diff = g["after"] - g["before"]
        pv = (stats.ttest_rel(g["after"], g["before"]).pvalue
              if len(g) > 1 and diff.std() > 0 else np.nan)
        out.append({"stat": stat, "layer": layer, "n": len(g), "before": g["before"].mean(),
                    "before_sd": g["before"].std(), "after": g["after"].mean(),
                    "after_sd": g["after"].std(), "change": diff.mean(),
                    "change_sd": diff.std(),
                    "dz": diff.mean() / diff.std() if diff.std() > 0 else np.nan, "p": pv})
    t = pd.DataFrame(out)
    t["p_bonf"] = np.minimum(1.0, t["p"] * t["p"].notna().sum())
    t["verdict"] = [_verdict(STATS.get(s, ("", None))[1], c, pb, alpha, n)
                    for s, c, pb, n in zip(t["stat"], t["change"], t["p_bonf"], t["n"],
                                           strict=True)]
    order = {s: i for i, s in enumerate(STATS)}
    return t.sort_values(["stat", "layer"], key=lambda c: c.map(order) if c.name == "stat"
                         else c).reset_index(drop=True)


def _layer_name(layer: int, output: int) -> str:
    return "output" if layer == output else f"hidden {int(layer)}"


def _verdict(direction: int | None, change: float, p_bonf: float, alpha: float,
             n: int = 3) -> str:
    if direction is None:
        return "—"
    if n < 3:
        return "too few trials to test"
    significant = p_bonf < alpha
    if direction == 0:
        if change >= 0:
            return "holds"
        return "does not hold (falls)" if significant else "holds (no significant fall)"
    if significant:
        return "holds" if np.sign(change) == direction else "does not hold (opposite)"
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
        "d_z": t["dz"], "p (Bonferroni)": t["p_bonf"], "verdict": t["verdict"],
    })
    return for_people(table, digits=3, compact=True).format(
        "{:.2g}", subset=["p (Bonferroni)", "d_z"], na_rep="—")


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
            f"{n} trials (paired t-test, Bonferroni over the {t['p'].notna().sum()} tests of "
            "the table).\n\n" + "\n".join(lines))


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


def reactivation_table(df: pd.DataFrame, alpha: float = 0.05) -> Styler:
    """Per hidden layer: how much more a task's neurons fire in sleep than the layer's average,
    how many of the permutation tests are significant after Bonferroni, and a t-test over trials
    of the mean log ratio."""
    return for_people(_reactivation(df, alpha).drop(columns=["holds"]), compact=True).format(
        "{:.2g}", subset=["p (t-test, Bonferroni)"], na_rep="—")


def _reactivation(df: pd.DataFrame, alpha: float) -> pd.DataFrame:
    ratio = df[df["metric"] == "react_ratio"].dropna(subset=["value"])
    pvals = df[df["metric"] == "react_p"]
    n_tests = len(pvals)
    out = []
    for layer, g in ratio.groupby("layer"):
        per_trial = np.log2(g.groupby("trial")["value"].mean())
        p = (stats.ttest_1samp(per_trial, 0.0, alternative="greater").pvalue
             if len(per_trial) > 1 and per_trial.std() > 0 else np.nan)
        p = min(1.0, p * ratio["layer"].nunique()) if not np.isnan(p) else np.nan
        sig = (pvals.loc[pvals["layer"] == layer, "value"] * n_tests < alpha).sum()
        out.append({"layer": f"hidden {int(layer)}",
                    "spikes per task neuron / layer mean": fmt_pm(
                        g.groupby("trial")["value"].mean().mean(),
                        g.groupby("trial")["value"].mean().std()),
                    "significant permutation tests": f"{sig} of "
                    f"{int((pvals['layer'] == layer).sum())}",
                    "p (t-test, Bonferroni)": p, "holds": bool(p < alpha)})
    return pd.DataFrame(out)


def reactivation_verdict(df: pd.DataFrame, alpha: float = 0.05) -> str:
    """Markdown: does the finding hold in every hidden layer?"""
    r = _reactivation(df, alpha)
    if r.empty:
        return "No sleep produced spikes to count."
    held = r.loc[r["holds"], "layer"].tolist()
    word = ("holds in both hidden layers" if len(held) == len(r) else
            f"holds in {', '.join(held)} only" if held else "does not hold in either layer")
    return (f"The paper's finding, that during sleep a task's neurons fire more than random "
            f"subsets of the same size, **{word}** here (one-sided t-test over trials of the "
            f"mean log ratio, Bonferroni over the layers, α = {alpha}).")

"""Figures the chapters show. Each function takes the tidy records and returns a matplotlib
figure, so a reader can re-draw any of them from stored results."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .names import METHODS, STAGES

METHOD_COLORS = {"sequential": "tab:red", "src": "tab:blue", "parallel": "tab:green"}


def accuracy_matrix(df: pd.DataFrame, method: str, stage: str) -> pd.DataFrame:
    """Mean over trials of R[i, j]: accuracy on task j after task i's ``stage``."""
    rows = df[(df["metric"] == "acc_task") & (df["method"] == method) & (df["stage"] == stage)]
    R = rows.groupby(["after_task", "task"])["value"].mean().unstack("task")
    R.index = [f"after task {int(i)}" for i in R.index]
    R.columns = [f"task {int(j)}" for j in R.columns]
    return R


def accuracy_matrices(df: pd.DataFrame) -> plt.Figure:
    """Heatmaps of R for the sequential net, the SRC net before and after each sleep, and each
    baseline; three per row."""
    panels = [("sequential", "after_task", "sequential"),
              ("src", "after_task", "SRC, before sleep"),
              ("src", "after_sleep", "SRC, after sleep"),
              ("ewc", "after_task", "EWC"), ("si", "after_task", "SI"),
              ("owm", "after_task", "OWM")]
    df = df.reindex(columns=sorted({*df.columns, "stage"}))
    panels = [p for p in panels if ((df["method"] == p[0]) & (df["stage"] == p[1])).any()]
    if not panels:
        return _nothing_to_show("no sequential method was run")
    n_rows, n_cols = (len(panels) + 2) // 3, min(len(panels), 3)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.2 * n_cols, 3.6 * n_rows), squeeze=False)
    for ax, (method, stage, title) in zip(axes.flat, panels, strict=False):
        sns.heatmap(accuracy_matrix(df, method, stage), vmin=0, vmax=100, annot=True, fmt=".0f",
                    cmap="viridis", cbar=False, ax=ax)
        ax.set_title(title)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def accuracy_after_each_task(df: pd.DataFrame) -> plt.Figure:
    """Full-test accuracy after each task (and after each sleep), mean ± std over trials."""
    rows = df[df["metric"] == "acc_full"].copy()
    if rows.empty:
        return _nothing_to_show("no sequential method was run")
    sleepers = set(rows.loc[rows["stage"] == "after_sleep", "method"])
    stage = np.where(rows["stage"] == "after_sleep", " (after sleep)",
                     np.where(rows["method"].isin(sleepers), " (before sleep)", ""))
    rows["curve"] = rows["method"].map(METHODS) + stage
    fig, ax = plt.subplots(figsize=(6.5, 4))
    sns.lineplot(rows, x="after_task", y="value", hue="curve", style="curve", markers=True,
                 errorbar="sd", ax=ax)
    parallel = df[(df["method"] == "parallel") & (df["metric"] == "final_acc")]["value"]
    if len(parallel):
        ax.axhline(parallel.mean(), color=METHOD_COLORS["parallel"], ls="--", label="parallel")
    ax.set(xlabel="tasks learned", ylabel="test accuracy, all classes (%)", ylim=(0, 100))
    ax.set_xticks(sorted(rows["after_task"].dropna().unique()))
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def patches_accuracy(df: pd.DataFrame) -> plt.Figure:
    """Accuracy on all 4 patches after task 1, task 2 and SRC against overlap (mean ± std)."""
    rows = df[df["headline"].fillna(False).astype(bool)].copy()
    rows["stage"] = rows["stage"].map(STAGES)
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(rows, x="overlap", y="value", hue="stage", style="stage", markers=True,
                 errorbar="sd", ax=ax, hue_order=list(STAGES.values()))
    ax.set(xlabel="overlapping pixels", ylabel="accuracy on all 4 images (%)", ylim=(-5, 105))
    fig.tight_layout()
    return fig


def patches_weights(df: pd.DataFrame, overlap: int) -> plt.Figure:
    """Histograms of weights from each pixel group onto each output, before and after SRC."""
    rows = df[(df["metric"] == "weight") & (df["overlap"] == overlap)].copy()
    rows["output"] = rows["output"].astype(int)
    rows["stage"] = rows["stage"].map(STAGES)
    grid = sns.displot(rows, x="value", hue="stage", col="group", row="output", kind="hist",
                       element="step", common_norm=False, stat="density", bins=30, height=1.8,
                       aspect=1.6, facet_kws={"sharey": False},
                       col_order=["task1_unique", "shared", "task2_unique"])
    grid.set_titles("output {row_name} ← {col_name}")
    grid.figure.suptitle(f"weights onto each output, overlap = {overlap}", y=1.01)
    return grid.figure


def mean_weights(df: pd.DataFrame) -> pd.DataFrame:
    """Mean weight per (overlap, pixel group, output group) before and after SRC."""
    rows = df[df["metric"] == "weight"].copy()
    rows["outputs"] = np.where(rows["output"] <= 2, "task-1 outputs", "task-2 outputs")
    table = rows.groupby(["overlap", "group", "outputs", "stage"])["value"].mean().unstack("stage")
    return table[["after_task2", "after_sleep"]].round(4)


def rehearsal_curve(df: pd.DataFrame, paper: pd.DataFrame | None = None) -> plt.Figure:
    """Final accuracy against the replayed fraction, rehearsal vs rehearsal + SRC (mean ± std).

    ``paper`` (rows of ``paper_values.csv`` for this data set) draws the paper's Table 1 values
    as dashed lines: the paper quotes one fraction that is not on the original grid, so they are
    shown across the whole curve rather than at a fraction.
    """
    rows = df[df["headline"].fillna(False).astype(bool) & (df["metric"] == "final_acc")].copy()
    rows["replayed (%)"] = rows["fraction"] * 100
    fig, ax = plt.subplots(figsize=(6.5, 4))
    rows["method"] = rows["method"].map(METHODS)
    sns.lineplot(rows, x="replayed (%)", y="value", hue="method", style="method", markers=True,
                 errorbar="sd", ax=ax, hue_order=["rehearsal", "rehearsal + SRC"],
                 palette={"rehearsal": "tab:orange", "rehearsal + SRC": "tab:purple"})
    if paper is not None:
        for _, row in paper.iterrows():
            color = "tab:purple" if row["method"] == "rehearsal_src" else "tab:orange"
            ax.axhline(row["value"], color=color, ls="--", lw=1,
                       label=f"paper, {METHODS[row['method']]} ({row['value']:.2f})")
    if (rows["fraction"] > 0).all():
        ax.set_xscale("log")
    ax.set(xlabel="old data replayed (% of the old tasks' training data)",
           ylabel="test accuracy after task 5 (%)", ylim=(0, 100))
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def accuracy_by_fraction(df: pd.DataFrame) -> plt.Figure:
    """Full-test accuracy after each task, one panel per replayed fraction (mean ± std)."""
    rows = df[df["metric"] == "acc_full"].copy()
    rows["curve"] = rows["method"].map({"rehearsal": "rehearsal",
                                        "rehearsal_src": "rehearsal + SRC"})
    rows.loc[(rows["stage"] == "after_task") & (rows["method"] == "rehearsal_src"),
             "curve"] = "rehearsal + SRC (before sleep)"
    rows["replayed"] = [f"{100 * p:g} % replayed" for p in rows["fraction"]]
    order = [f"{100 * p:g} % replayed" for p in sorted(rows["fraction"].unique())]
    grid = sns.relplot(rows, x="after_task", y="value", hue="curve", style="curve", kind="line",
                       markers=True, errorbar="sd", col="replayed", col_order=order,
                       col_wrap=min(4, len(order)), height=3, aspect=1.2)
    grid.set_titles("{col_name}")
    grid.set(xlabel="tasks learned", ylabel="test accuracy, all classes (%)", ylim=(0, 100))
    return grid.figure


def _nothing_to_show(why: str) -> plt.Figure:
    """A small figure that says why it is empty (e.g. a custom run of the parallel net only)."""
    fig, ax = plt.subplots(figsize=(6, 0.8))
    ax.axis("off")
    ax.text(0.5, 0.5, f"Nothing to plot: {why}.", ha="center", va="center")
    return fig


def crossmodal_tradeoff(df: pd.DataFrame) -> plt.Figure:
    """MNIST accuracy against Fashion-MNIST accuracy after task 2, one point per method."""
    from .crossmodal import crossmodal_compare

    t = crossmodal_compare(df)
    if t.empty:
        return _nothing_to_show("no method was run")
    t["label"] = t["method"] + np.where(t["variant"] == "corrected", " (corrected)", "")
    fig, ax = plt.subplots(figsize=(7, 5))
    sns.scatterplot(t, x="fashion", y="mnist", hue="label", style="variant", s=90, ax=ax)
    ax.set(xlabel="Fashion-MNIST test accuracy (%)", ylabel="MNIST test accuracy (%)",
           xlim=(0, 100), ylim=(0, 100))
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    fig.tight_layout()
    return fig


def strength_tradeoff(df: pd.DataFrame) -> plt.Figure:
    """Per searched baseline, validation accuracy on the first task, the last task and all
    tasks against its strength (log scale), the chosen strength marked."""
    from .incremental import search_curves

    curves = search_curves(df)
    curves = curves[curves["first"].notna()]
    if curves.empty:
        return _nothing_to_show("no strength search with per-task accuracies")
    methods = list(dict.fromkeys(curves["method"]))
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.4), squeeze=False)
    for ax, method in zip(axes[0], methods, strict=True):
        g = curves[curves["method"] == method]
        long = g.melt(id_vars="strength", value_vars=["first", "last", "all"],
                      var_name="validation set", value_name="accuracy (%)")
        long["validation set"] = long["validation set"].map(
            {"first": "first task", "last": "last task", "all": "all tasks"})
        sns.lineplot(long, x="strength", y="accuracy (%)", hue="validation set", marker="o",
                     palette=["tab:blue", "tab:orange", "black"], ax=ax)
        ax.axvline(g.loc[g["all"].idxmax(), "strength"], color="grey", ls=":", lw=1)
        ax.set(xscale="log", ylim=(0, 100), title=METHODS.get(method, method))
        ax.legend(fontsize=8, title=None)
    fig.tight_layout()
    return fig

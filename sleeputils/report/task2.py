"""The task-2 length chapter: task-1 and task-2 accuracy against how long task 2 is trained,
with and without sleep, and SRC's paired effect on each."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler
from scipy import stats

from ..results.paper import fmt_pm
from .names import METHODS
from .tables import for_people, headline

#: The task each recorded accuracy is measured on.
TASK_OF = {"task1_acc": 1, "task2_acc": 2}


def accuracies(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, task-2 epochs, trial) with both methods side by side and SRC's gain."""
    rows = headline(df)
    rows = rows.assign(task=rows["metric"].map(TASK_OF))
    wide = rows.pivot_table(index=["task", "task2_epochs", "trial"], columns="method",
                            values="value").reset_index()
    return wide.assign(gain=wide["src"] - wide["sequential"])


def task2_table(df: pd.DataFrame) -> Styler:
    """Per task-2 length: each task's accuracy with and without sleep, and SRC's paired gain."""
    a = accuracies(df)
    out = []
    for epochs, g in a.groupby("task2_epochs"):
        row = {"task-2 epochs": epochs, "n": g["trial"].nunique()}
        for task in (1, 2):
            t = g[g["task"] == task]
            for method in ("sequential", "src"):
                row[f"task {task}: {METHODS[method]}"] = fmt_pm(t[method].mean(), t[method].std())
            row[f"task {task}: gain"] = fmt_pm(t["gain"].mean(), t["gain"].std())
        out.append(row)
    return for_people(pd.DataFrame(out), compact=True)


def task2_verdict(df: pd.DataFrame) -> str:
    """Markdown: SRC's mean effect on each task, and whether its task-1 gain grows or shrinks as
    task 2 is trained longer (Spearman rank correlation over trials)."""
    a = accuracies(df)
    lines = []
    for task in (1, 2):
        t = a[a["task"] == task]
        per_length = t.groupby("task2_epochs")["gain"].mean()
        lines.append(f"- Task {task}: SRC changes its accuracy by "
                     f"{fmt_pm(t['gain'].mean(), t['gain'].std())} points on average over all "
                     f"task-2 lengths (from {per_length.min():+.2f} to {per_length.max():+.2f} "
                     "per length).")
    t1 = a[a["task"] == 1]
    if t1["task2_epochs"].nunique() >= 3:
        rho, p = stats.spearmanr(t1["task2_epochs"], t1["gain"])
        trend = "grows" if rho > 0 else "shrinks"
        lines.append(f"\nSRC's task-1 gain **{trend}** as task 2 is trained longer (Spearman "
                     f"ρ = {rho:+.2f}, p = {p:.2g}, over {len(t1)} trials).")
    return "\n".join(lines)


def task2_figure(df: pd.DataFrame) -> plt.Figure:
    """Accuracy on each task against task-2 epochs, with and without sleep."""
    rows = headline(df)
    rows = rows.assign(task=rows["metric"].map(TASK_OF).map("task {}".format),
                       method=rows["method"].map(METHODS))
    grid = sns.relplot(rows, x="task2_epochs", y="value", hue="method", col="task", kind="line",
                       marker="o", errorbar="sd", height=3.2, aspect=1.3,
                       palette={METHODS["sequential"]: "tab:red", METHODS["src"]: "tab:blue"})
    grid.set_axis_labels("epochs of task 2", "test accuracy on the task's digits (%)")
    grid.set_titles("{col_name}")
    return grid.figure

"""The recipe chapter: the benchmark under the code's and the paper text's training recipe,
each beside the paper's Table 1 numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..results.paper import SHORT, fmt_pm, load_paper_values, paper_spread
from . import stats
from .names import method_name
from .tables import for_people, headline


def finals(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (recipe, method, trial) with the final accuracy."""
    rows = headline(df)
    return rows[rows["metric"] == "final_acc"][["recipe", "method", "trial", "value"]]


def paper_finals(dataset: str) -> pd.Series:
    """The paper's final accuracy per method on this benchmark (Table 1), whichever chapter
    compares it (the incremental one, or this one at the recipe the paper's number came from)."""
    p = load_paper_values()
    p = p[p["chapter_id"].isin([f"incremental-{dataset}", f"recipes-{dataset}"])
          & (p["metric"] == "final_acc")]
    return p.set_index("method")[["value", "std"]]


def recipes_table(df: pd.DataFrame, dataset: str) -> Styler:
    """Per method: final accuracy under each recipe, each with its verdict against the paper."""
    f, paper = finals(df), paper_finals(dataset)
    out = []
    for method, g in f.groupby("method", sort=False):
        row = {"method": method_name(method)}
        has = method in paper.index
        row["paper"] = fmt_pm(*paper.loc[method]) if has else None
        for recipe, r in g.groupby("recipe", sort=False):
            m, s = r["value"].mean(), r["value"].std()
            row[f"{recipe} (n = {len(r)})"] = fmt_pm(m, s)
            row[f"{recipe} vs paper"] = (SHORT[paper_spread(m, *paper.loc[method])]
                                         if has else None)
        out.append(row)
    return for_people(pd.DataFrame(out), compact=True)


def recipes_verdict(df: pd.DataFrame, dataset: str) -> str:
    """Markdown: which recipe reproduces which paper number, and SRC's gain under each."""
    f, paper = finals(df), paper_finals(dataset)
    lines = []
    for method, g in f.groupby("method", sort=False):
        if method not in paper.index:
            continue
        means = g.groupby("recipe")["value"].mean()
        closest = (means - paper.at[method, "value"]).abs().idxmin()
        lines.append(f"- {method_name(method)}: the paper's "
                     f"{fmt_pm(*paper.loc[method])} is closest to the **{closest}** recipe "
                     f"({means[closest]:.2f}; " + ", ".join(
                         f"{r} {v:.2f}" for r, v in means.items() if r != closest) + ").")
    recipes, tests = [], []
    for recipe, g in f.groupby("recipe", sort=False):
        w = g.pivot_table(index="trial", columns="method", values="value")
        if {"src", "sequential"} <= set(w.columns):
            recipes.append(recipe)
            tests.append(stats.paired(w["src"], w["sequential"]))
    lines += [f"- Under the {recipe} recipe SRC against sequential: {stats.gain(r)}."
              for recipe, r in zip(recipes, stats.family(tests), strict=True)]
    return "\n".join(lines)


def recipes_figure(df: pd.DataFrame, dataset: str) -> plt.Figure:
    """Final accuracy per method under each recipe (points: trials), the paper's value as a
    black bar."""
    f = finals(df)
    methods = list(f["method"].unique())
    fig, ax = plt.subplots(figsize=(7, 3.6))
    sns.stripplot(f, x="method", y="value", hue="recipe", order=methods, dodge=True, size=7,
                  ax=ax)
    paper = paper_finals(dataset)
    for i, method in enumerate(methods):
        if method in paper.index:
            ax.hlines(paper.at[method, "value"], i - 0.4, i + 0.4, color="black", lw=2,
                      label="paper" if i == 0 else None)
    ax.set_xticks(range(len(methods)), [method_name(m) for m in methods])
    ax.set_xlabel("")
    ax.set_ylabel("final accuracy (%)")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig

"""The cross-paradigm chapter: one table of every method on one protocol, the memory figure and
the verdicts, computed from the records."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler
from scipy import stats

from ..methods.registry import all_specs, get
from ..protocols.paradigms import CHAPTER
from .tables import committed_trials, for_people

#: Table names in table order, from the registry; a method scored by the nearest mean of its
#: exemplars has that score as a row of its own, after it.
NAMES = {name: text for s in all_specs(CHAPTER)
         for name, text in ((s.name, s.display), (f"{s.name}_nme", f"{s.display}, nearest mean"))
         if s.nearest_mean or name == s.name}
DATASETS = {"mnist": "Split-MNIST", "fashion": "Split-Fashion"}
#: Below this many seeds no test is run and no interval is drawn.
MIN_SEEDS = 3


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Headline rows with the budget suffix taken off the metric; iCaRL's nearest-mean accuracy
    becomes a method of its own."""
    rows = df[df["headline"].fillna(False).astype(bool)].copy()
    rows["metric"] = [re.sub(r"_m\d+$", "", m) for m in rows["metric"]]
    nme = rows["metric"] == "nme_acc"
    rows.loc[nme, "method"] = rows.loc[nme, "method"] + "_nme"
    rows.loc[nme, "metric"] = "final_acc"
    return rows


def from_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """The chapter's recorded trials (``results/paper/trials/paradigms.csv``) in the shape the
    tables, the figure and the verdict read: the budget back from the metric's ``_m<K>`` suffix.
    Wall times are not recorded, so the tables show none."""
    rows = committed_trials(trials, "paradigms", r"_m(?P<budget>\d+)$")
    order = {name: i for i, name in enumerate(DATASETS)}  # MNIST first, as the protocol runs
    return rows.sort_values("dataset", key=lambda d: d.map(order), kind="stable")


def memory(method: str, budget: float) -> str:
    """What the method keeps besides the network (its spec's words)."""
    return get(method.removesuffix("_nme")).memory(budget)


def _ci(values: pd.Series) -> str:
    """``73.0 ± 2.1``: mean ± half-width of the 95 % t interval; mean only below 2 seeds."""
    v = values.dropna()
    if len(v) < 2:
        return f"{v.mean():.1f}" if len(v) else "—"
    half = stats.t.ppf(0.975, len(v) - 1) * stats.sem(v)
    return f"{v.mean():.1f} ± {half:.1f}"


def _versus(a: pd.Series, b: pd.Series | None) -> str:
    """``+12.3 (p = 0.002)``: paired difference of the means and the paired t-test."""
    if b is None:
        return "—"
    d = (a - b).dropna()
    if len(d) == 0 or (a.index.equals(b.index) and (d == 0).all()):
        return "—"
    if len(d) < MIN_SEEDS:
        return f"{d.mean():+.1f}"
    return f"{d.mean():+.1f} (p = {stats.ttest_rel(a[d.index], b[d.index]).pvalue:.2g})"


def _per_seed(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    keep = rows[rows["metric"] == metric]
    return keep.pivot_table(index="trial", columns=["method", "budget"], values="value",
                            dropna=False)


def _settings(df: pd.DataFrame) -> list[dict]:
    """One dict per (data set, method, budget): every number the two tables show."""
    rows = tidy(df)
    rows["budget"] = rows["budget"].fillna(0)
    wall = df[df["metric"] == "seconds"].assign(budget=lambda d: d["budget"].fillna(0))
    several = rows["dataset"].nunique() > 1
    out = []
    for dataset, d in rows.groupby("dataset", sort=False):
        final = _per_seed(d, "final_acc")
        seq, src = final.get(("sequential", 0)), final.get(("src", 0))
        for method in [m for m in NAMES if m in set(d["method"])]:
            for budget in sorted(d.loc[d["method"] == method, "budget"].unique()):
                mine = d[(d["method"] == method) & (d["budget"] == budget)]
                row = {"data": DATASETS.get(dataset, dataset)} if several else {}
                row |= {"method": NAMES[method], "images": int(budget) if budget else "—",
                        "memory": memory(method, budget)}
                for metric, heading in (("final_acc", "final accuracy (%)"), ("bwt", "BWT"),
                                        ("forgetting", "forgetting"), ("fwt", "FWT")):
                    row[heading] = _ci(mine.loc[mine["metric"] == metric, "value"])
                w = wall[(wall["dataset"] == dataset)
                         & (wall["method"] == method.removesuffix("_nme"))
                         & (wall["budget"] == budget)]["value"]
                row["s/run"] = f"{w.mean():.0f}" if len(w) else "—"
                row["vs sequential"] = _versus(final[(method, budget)], seq)
                row["vs SRC"] = _versus(final[(method, budget)], src)
                out.append(row)
    return out


def accuracy_table(df: pd.DataFrame) -> Styler:
    """Per method and budget of stored images: final class-IL accuracy (mean ± 95 % CI over
    seeds) and the paired difference against sequential and against SRC."""
    keep = ("data", "method", "images", "final accuracy (%)", "vs sequential", "vs SRC")
    table = pd.DataFrame(_settings(df))
    return for_people(table[[c for c in keep if c in table]], digits=1, compact=True,
                      wrap=("memory", "method"), wrap_width=18)


def transfer_table(df: pd.DataFrame) -> Styler:
    """Per method and budget: what it keeps, BWT, forgetting and FWT (mean ± 95 % CI over
    seeds, points) and one run's wall time."""
    keep = ("data", "method", "memory", "BWT", "forgetting", "FWT", "s/run")
    table = pd.DataFrame([r for r in _settings(df) if "nearest mean" not in r["method"]])
    return for_people(table[[c for c in keep if c in table]], digits=1, compact=True,
                      wrap=("memory", "method"), wrap_width=18)


def memory_figure(df: pd.DataFrame) -> plt.Figure:
    """Final accuracy against the memory budget, per method; methods without a budget of images
    are horizontal lines."""
    rows = tidy(df)
    final = rows[rows["metric"] == "final_acc"].copy()
    final["method"] = final["method"].map(NAMES)
    budgeted = final[final["budget"].notna()]
    flat = final[final["budget"].isna()]
    datasets = list(dict.fromkeys(final["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.2 * len(datasets), 4.2),
                             squeeze=False)
    palette = dict(zip(NAMES.values(), sns.color_palette("tab20", len(NAMES)), strict=True))
    for ax, dataset in zip(axes[0], datasets, strict=True):
        b = budgeted[budgeted["dataset"] == dataset]
        sns.lineplot(data=b, x="budget", y="value", hue="method", marker="o", errorbar="sd",
                     palette=palette, ax=ax)
        for method, g in flat[flat["dataset"] == dataset].groupby("method"):
            ax.axhline(g["value"].mean(), ls="--", lw=1.2, color=palette[method], label=method)
        ax.set_xscale("log")
        ax.set_xlabel("stored images (memory budget)")
        ax.set_ylabel("final class-IL accuracy (%)")
        ax.set_title(DATASETS.get(dataset, dataset))
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def verdict(df: pd.DataFrame) -> str:
    """Markdown: the best method per data set and budget, and each paired question the table
    answers (does sleep beat no sleep, does it add to replay, does WSCL add to ER-ACE)."""
    rows = tidy(df)
    rows["budget"] = rows["budget"].fillna(0)
    lines = []
    questions = (("SRC against sequential", "src", "sequential", False),
                 ("replay + SRC against replay", "er_src", "er", True),
                 ("iCaRL + SRC against iCaRL", "icarl_src", "icarl", True),
                 ("WSCL against ER-ACE", "wscl", "er-ace", True),
                 ("generative replay against sequential", "generative", "sequential", False))
    for dataset, d in rows.groupby("dataset", sort=False):
        final = _per_seed(d, "final_acc")
        means = final.mean()
        name = DATASETS.get(dataset, dataset)
        best = means.idxmax()
        lines.append(f"- **{name}**: the best final accuracy is {NAMES[best[0]]}"
                     f"{_at(best[1])}, {means[best]:.1f} %.")
        budgets = sorted(b for b in d["budget"].unique() if b)
        for what, a, b, per_budget in questions:
            for budget in (budgets if per_budget else [0]):
                if (a, budget) not in final or (b, budget) not in final:
                    continue
                text = _versus(final[(a, budget)], final[(b, budget)])
                lines.append(f"  - {what}{_at(budget)}: {text} points{_judge(text)}.")
    return "\n".join(lines)


def _at(budget: float) -> str:
    return f" at {int(budget)} stored images" if budget else ""


def _judge(text: str) -> str:
    if "p = " not in text:
        return f" (fewer than {MIN_SEEDS} seeds: not tested)"
    p = float(text.split("p = ")[1].rstrip(")"))
    if p >= 0.05:
        return ", no significant difference"
    return ", a significant gain" if text.startswith("+") else ", a significant loss"


def seeds(df: pd.DataFrame) -> int:
    """Seeds per setting (the smallest count)."""
    rows = tidy(df)
    return int(rows.groupby(["dataset", "method", "budget"], dropna=False)["trial"]
               .nunique().min())


def total_hours(df: pd.DataFrame) -> float:
    """Core-hours the units took (their own wall times summed)."""
    return float(np.sum(df.loc[df["metric"] == "seconds", "value"])) / 3600

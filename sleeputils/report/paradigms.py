"""The cross-paradigm chapter: one table of every method on one protocol, the memory figure and
the verdicts, computed from the records."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..methods.registry import all_specs, get
from ..protocols.paradigms import CHAPTER
from . import stats
from .names import BENCHMARKS, METHODS
from .tables import committed_trials, for_people

#: The methods in the order the tables and the figure list them, from the registry: a method
#: scored by the nearest mean of its exemplars (iCaRL) has that score as a method of its own,
#: after it.
ORDER = tuple(name for s in all_specs(CHAPTER)
              for name in ((s.name, f"{s.name}_nme") if s.nearest_mean else (s.name,)))


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Headline rows, iCaRL's nearest-mean accuracy as a method of its own."""
    rows = df[df["headline"].fillna(False).astype(bool)].copy()
    if "budget" not in rows:
        rows["budget"] = float("nan")
    nme = rows["metric"] == "nme_acc"
    rows.loc[nme, "method"] = rows.loc[nme, "method"] + "_nme"
    rows.loc[nme, "metric"] = "final_acc"
    return rows


def from_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """The chapter's recorded trials (``results/paper/trials/paradigms.csv``) in the shape the
    tables, the figure and the verdict read (the budget from each number's setting). Wall times
    are not recorded, so the tables show none."""
    rows = committed_trials(trials, "paradigms")
    order = {name: i for i, name in enumerate(BENCHMARKS)}  # MNIST first, as the protocol runs
    return rows.sort_values("dataset", key=lambda d: d.map(order), kind="stable")


def memory(method: str, budget: float) -> str:
    """What the method keeps besides the network (its spec's words)."""
    return get(method.removesuffix("_nme")).memory(budget)


def _ci(values: pd.Series) -> str:
    """``73.0 ± 2.1``: mean ± half-width of the 95 % t interval; mean only below 2 seeds."""
    v = values.dropna()
    if len(v) < 2:
        return f"{v.mean():.1f}" if len(v) else "—"
    low, high = stats.mean_ci(v)
    return f"{v.mean():.1f} ± {(high - low) / 2:.1f}"


def _versus(a: pd.Series, b: pd.Series | None) -> str:
    """``+12.3 (p = 0.002)``: paired difference of the means and the paired t-test."""
    return "—" if b is None else stats.short(stats.paired(a, b))


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
        for method in [m for m in ORDER if m in set(d["method"])]:
            for budget in sorted(d.loc[d["method"] == method, "budget"].unique()):
                mine = d[(d["method"] == method) & (d["budget"] == budget)]
                row = {"data": BENCHMARKS.get(dataset, dataset)} if several else {}
                row |= {"method": METHODS[method], "images": int(budget) if budget else "—",
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
    final["method"] = final["method"].map(METHODS)
    budgeted = final[final["budget"].notna()]
    flat = final[final["budget"].isna()]
    datasets = list(dict.fromkeys(final["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.2 * len(datasets), 4.2),
                             squeeze=False)
    palette = dict(zip((METHODS[m] for m in ORDER), sns.color_palette("tab20", len(ORDER)),
                       strict=True))
    for ax, dataset in zip(axes[0], datasets, strict=True):
        b = budgeted[budgeted["dataset"] == dataset]
        sns.lineplot(data=b, x="budget", y="value", hue="method", marker="o", errorbar="sd",
                     palette=palette, ax=ax)
        for method, g in flat[flat["dataset"] == dataset].groupby("method"):
            ax.axhline(g["value"].mean(), ls="--", lw=1.2, color=palette[method], label=method)
        ax.set_xscale("log")
        ax.set_xlabel("stored images (memory budget)")
        ax.set_ylabel("final class-IL accuracy (%)")
        ax.set_title(BENCHMARKS.get(dataset, dataset))
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def verdict(df: pd.DataFrame) -> str:
    """Markdown: the best method per data set and budget, and each paired question the table
    answers (does sleep beat no sleep, does it add to replay, does WSCL add to ER-ACE)."""
    rows = tidy(df)
    rows["budget"] = rows["budget"].fillna(0)
    lines, tests = [], []
    questions = (("SRC against sequential", "src", "sequential", False),
                 ("replay + SRC against replay", "er_src", "er", True),
                 ("iCaRL + SRC against iCaRL", "icarl_src", "icarl", True),
                 ("WSCL against ER-ACE", "wscl", "er-ace", True),
                 ("generative replay against sequential", "generative", "sequential", False))
    for dataset, d in rows.groupby("dataset", sort=False):
        final = _per_seed(d, "final_acc")
        means = final.mean()
        name = BENCHMARKS.get(dataset, dataset)
        best = means.idxmax()
        lines.append(f"- **{name}**: the best final accuracy is {METHODS[best[0]]}"
                     f"{_at(best[1])}, {means[best]:.1f} %.")
        budgets = sorted(b for b in d["budget"].unique() if b)
        for what, a, b, per_budget in questions:
            for budget in (budgets if per_budget else [0]):
                if (a, budget) not in final or (b, budget) not in final:
                    continue
                lines.append(f"  - {what}{_at(budget)}: ")
                tests.append((len(lines) - 1, stats.paired(final[(a, budget)],
                                                           final[(b, budget)])))
    for (i, _), r in zip(tests, stats.family([r for _, r in tests]), strict=True):
        lines[i] += _judge(r)
    return "\n".join(lines)


def _at(budget: float) -> str:
    return f" at {int(budget)} stored images" if budget else ""


#: How a question's answer reads, by the verdict of its paired test.
ANSWERS = {stats.HIGHER: "a significant gain", stats.LOWER: "a significant loss",
           stats.UNCLEAR: "no significant difference"}


def _judge(r: stats.Paired) -> str:
    """``+12.3 points (Holm p = 0.004), a significant gain.``, or why it is not tested."""
    if not r.tested:
        return f"{r.difference:+.1f} points ({stats.why_untested(r)})."
    return f"{r.difference:+.1f} points ({stats.p_text(r)}), {ANSWERS[r.verdict]}."

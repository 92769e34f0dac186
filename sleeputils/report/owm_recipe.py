"""The OWM-recipe chapter: OWM as its authors set it up, each variant beside the SRC paper's OWM
column and the book's OWM on the SRC protocol, and which recipe element carries the difference."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..results import setting
from ..results.paper import (
    SHORT,
    WITHIN,
    WITHIN_BAND,
    fmt_pm,
    load_paper_values,
    paper_spread,
)
from ..results.record import load_records
from . import stats
from .tables import for_people, headline

#: Benchmarks as the chapter names them, and the chapter holding the SRC-protocol OWM of each.
BENCHMARKS = {"mnist": "Split-MNIST", "fashion": "Split-Fashion", "crossmodal": "cross-modal"}
SRC_PROTOCOL_CHAPTER = {"mnist": "incremental-mnist", "fashion": "incremental-fashion",
                        "crossmodal": "crossmodal"}
#: Each element as a reader names it, with the SRC protocol's value it is set to.
ELEMENTS = {"none": "authors' recipe", "hidden": "hidden 1200, 1200", "bias": "no bias",
            "init": "U(±0.01) init", "dropout": "dropout 0.25",
            "output": "ReLU output, squared error", "lr": "learning rate 0.1",
            "momentum": "momentum 0.5", "batch_size": "batches of 100",
            "epochs": "2 epochs per task", "clip": "no clipping",
            "alpha_decays": "constant alphas", "absorb": "absorb after the step"}
PAPER_LINE = "paper"


def variant_name(changed: str) -> str:
    """``authors' recipe``, or the recipe with one element at the SRC protocol's value."""
    return ELEMENTS["none"] if changed == "none" else f"recipe, {ELEMENTS.get(changed, changed)}"


def trials(df: pd.DataFrame, metric: str = "final_acc") -> pd.DataFrame:
    """One row per (benchmark, element changed, trial) with ``metric``'s value."""
    rows = headline(df)
    rows = rows[rows["metric"] == metric]
    return rows[["dataset", "changed", "trial", "value"]].reset_index(drop=True)


def paper_owm() -> pd.DataFrame:
    """The SRC paper's OWM final accuracy per benchmark (Table 1: value, std)."""
    p = load_paper_values()
    p = p[p["method"].isin(["owm", "owm_recipe"]) & (p["metric"] == "final_acc")
          & p["dataset"].isin(list(BENCHMARKS))]
    return p.set_index("dataset")[["value", "std"]]


def src_protocol_owm(project: Path | None = None) -> pd.Series:
    """The book's committed OWM on the SRC protocol (paper profile): final accuracy per
    benchmark as ``mean ± std``, the cross-modal one in its faithful variant."""
    r = load_records("paper", project=project)
    out = {}
    for dataset, chapter in SRC_PROTOCOL_CHAPTER.items():
        faithful = r["setting"].map(lambda s: setting.decode(s).get("variant", "faithful")
                                    == "faithful")
        row = r[(r["chapter_id"] == chapter) & (r["method"] == "owm")
                & (r["metric"] == "final_acc") & faithful]
        out[dataset] = fmt_pm(row["mean"].iloc[0], row["std"].iloc[0]) if len(row) else "—"
    return pd.Series(out)


def _matched(df: pd.DataFrame) -> list[str]:
    """The variants run on every benchmark of ``df`` (the authors' recipe first)."""
    t = trials(df)
    every = t.groupby("changed")["dataset"].nunique()
    names = [c for c in every.index if every[c] == t["dataset"].nunique()]
    return sorted(names, key=lambda c: c != "none")


def owm_table(df: pd.DataFrame) -> Styler:
    """Per benchmark: the paper's OWM, ours on the SRC protocol, and each variant run on every
    benchmark with its verdict against the paper."""
    t, paper, src = trials(df), paper_owm(), src_protocol_owm()
    out = []
    for dataset in _benchmarks(t):
        g = t[t["dataset"] == dataset]
        row = {"benchmark": BENCHMARKS[dataset],
               "paper": fmt_pm(*paper.loc[dataset]) if dataset in paper.index else "—",
               "OWM, SRC protocol": src.get(dataset, "—")}
        for changed in _matched(df):
            v = g.loc[g["changed"] == changed, "value"]
            verdict = (f" {SHORT[paper_spread(v.mean(), *paper.loc[dataset])]}"
                       if dataset in paper.index else "")
            row[variant_name(changed)] = fmt_pm(v.mean(), v.std(), len(v)) + verdict
        out.append(row)
    return for_people(pd.DataFrame(out), compact=True)


def owm_verdict(df: pd.DataFrame) -> str:
    """Markdown: per benchmark, which variant is closest to the paper's OWM and whether it is
    within the paper's spread; then whether one variant matches on every benchmark."""
    t, paper = trials(df), paper_owm()
    means = t.groupby(["dataset", "changed"])["value"].mean()
    lines, matching = [], None
    for dataset in _benchmarks(t):
        if dataset not in paper.index:
            continue
        value, std = paper.loc[dataset]
        m = means[dataset][_matched(df)]
        within = {c for c in m.index if paper_spread(m[c], value, std) in (WITHIN, WITHIN_BAND)}
        matching = within if matching is None else matching & within
        closest = (m - value).abs().idxmin()
        others = [f"{variant_name(c)} {m[c]:.2f}" for c in m.index if c != closest]
        lines.append(f"- {BENCHMARKS[dataset]}: the paper's {fmt_pm(value, std)} is closest to "
                     f"the **{variant_name(closest)}** ({m[closest]:.2f}, "
                     f"{SHORT[paper_spread(m[closest], value, std)]})"
                     + (f"; {'; '.join(others)}." if others else "."))
    if matching and len(matching) == 1:
        lines.append(f"- On every benchmark the **{variant_name(next(iter(matching)))}** is "
                     "within the paper's spread: of the variants run, only it reproduces the "
                     "paper's OWM column.")
    elif matching:
        names = " and ".join(f"**{variant_name(c)}**" for c in sorted(matching))
        lines.append(f"- On every benchmark the {names} are within the paper's spread: each of "
                     "them reproduces the paper's OWM column, so these numbers cannot tell them "
                     "apart.")
    elif matching is not None:
        lines.append("- No variant run here is within the paper's spread on every benchmark.")
    return "\n".join(lines)


def sweep_table(df: pd.DataFrame) -> Styler:
    """The one-at-a-time sweep: per element set to the SRC protocol's value, final accuracy,
    plasticity and BWT on the sweep's benchmark, and the change from the authors' recipe on the
    same trials; sorted by final accuracy."""
    final, learned, bwt = (trials(df, m) for m in ("final_acc", "just_trained_acc", "bwt"))
    dataset = _sweep_dataset(df)
    pick = final[final["dataset"] == dataset]
    trials_run = pick.groupby("changed")["trial"].nunique()
    base = pick[pick["changed"] == "none"].set_index("trial")["value"]
    out = []
    for changed, g in pick.groupby("changed"):
        v = g.set_index("trial")["value"]
        row = {"set to the SRC protocol's": ELEMENTS.get(changed, changed) if changed != "none"
               else "nothing (authors' recipe)", "trials": int(trials_run[changed]),
               "final accuracy (%)": fmt_pm(v.mean(), v.std()),
               "Δ from authors' recipe": ("—" if changed == "none"
                                          else stats.short(stats.paired(v, base))),
               "learned (%)": _mean(learned, dataset, changed),
               "BWT (points)": _mean(bwt, dataset, changed), "_sort": v.mean()}
        out.append(row)
    table = pd.DataFrame(out).sort_values("_sort", ascending=False).drop(columns="_sort")
    return for_people(table, compact=True)


def sweep_verdict(df: pd.DataFrame) -> str:
    """Markdown: which single element, set to the SRC protocol's value, brings the recipe
    nearest the paper's OWM on the sweep's benchmark, and which barely matter. Each element's
    change is paired with the authors' recipe on the trials both ran (as in
    :func:`sweep_table`)."""
    dataset = _sweep_dataset(df)
    paper = paper_owm()
    means, moves = _sweep_effects(df, dataset)
    ref = means["none"]
    target = paper.at[dataset, "value"] if dataset in paper.index else None
    text = [f"On {BENCHMARKS[dataset]} the authors' recipe ends at {ref:.2f}"
            + (f" against the paper's {target:.2f}." if target is not None else ".")]
    if target is not None:
        nearest = (means.drop("none") - target).abs().idxmin()
        text.append(f"The single change that comes nearest the paper is "
                    f"**{ELEMENTS[nearest]}** ({means[nearest]:.2f}, "
                    f"{moves[nearest]:+.2f} from the recipe on the same trials).")
    small = [ELEMENTS[c] for c, d in moves.items() if abs(d) < 1.0]
    if small:
        text.append("Within a point of the recipe: " + ", ".join(small) + ".")
    big = [f"{ELEMENTS[c]} ({d:+.1f})" for c, d in moves.items() if abs(d) >= 5.0]
    if big:
        text.append("Moving it by 5 points or more: " + ", ".join(big) + ".")
    return " ".join(text)


def _sweep_effects(df: pd.DataFrame, dataset: str) -> tuple[pd.Series, pd.Series]:
    """(each variant's mean final accuracy over its trials, each element's paired change from
    the authors' recipe, sorted) on ``dataset``."""
    t = trials(df)
    t = t[t["dataset"] == dataset]
    base = t[t["changed"] == "none"].set_index("trial")["value"]
    means = t.groupby("changed")["value"].mean()
    moves = pd.Series({c: stats.paired(g.set_index("trial")["value"], base).difference
                       for c, g in t.groupby("changed") if c != "none"}).sort_values()
    return means, moves


def owm_figure(df: pd.DataFrame) -> plt.Figure:
    """Final accuracy of every trial per benchmark and variant, the paper's OWM as a black
    bar with its ±2 std band."""
    t = trials(df)
    t = t[t["changed"].isin(_matched(df))].assign(
        recipe=lambda d: d["changed"].map(variant_name),
        benchmark=lambda d: d["dataset"].map(BENCHMARKS))
    paper = paper_owm()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    sns.stripplot(t, x="benchmark", y="value", hue="recipe", dodge=True, ax=ax, size=6,
                  jitter=0.1, order=[BENCHMARKS[d] for d in _benchmarks(t)])
    for i, dataset in enumerate(_benchmarks(t)):
        if dataset in paper.index:
            value, std = paper.loc[dataset]
            ax.hlines(value, i - 0.4, i + 0.4, color="black", lw=2,
                      label=PAPER_LINE if i == 0 else None)
            if pd.notna(std):
                ax.fill_between([i - 0.4, i + 0.4], value - 2 * std, value + 2 * std,
                                color="black", alpha=0.12, lw=0)
    ax.set(xlabel="", ylabel="final accuracy (%)", ylim=(0, 100))
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def sweep_figure(df: pd.DataFrame) -> plt.Figure:
    """The sweep: final accuracy with each element at the SRC protocol's value, against the
    authors' recipe (grey line) and the paper's OWM (black line)."""
    dataset = _sweep_dataset(df)
    means = _sweep_effects(df, dataset)[0].sort_values()
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * len(means) + 1.2))
    names = [ELEMENTS.get(c, c) for c in means.index]
    colours = ["tab:grey" if c == "none" else "tab:blue" for c in means.index]
    ax.barh(names, means.to_numpy(), color=colours)
    ax.axvline(means["none"], color="tab:grey", ls="--", lw=1)
    paper = paper_owm()
    if dataset in paper.index:
        ax.axvline(paper.at[dataset, "value"], color="black", lw=2)
        ax.set_title(f"black line: the paper's OWM ({paper.at[dataset, 'value']:.2f}); "
                     "dashed: the authors' recipe", fontsize=9)
    ax.set(xlabel=f"final accuracy on {BENCHMARKS[dataset]} (%)", xlim=(0, 100))
    fig.tight_layout()
    return fig


def _sweep_dataset(df: pd.DataFrame) -> str:
    """The benchmark with the most variants (the sweep's)."""
    t = trials(df)
    return str(t.groupby("dataset")["changed"].nunique().idxmax())


def _benchmarks(t: pd.DataFrame) -> list[str]:
    """The benchmarks of ``t`` in the book's order."""
    return [d for d in BENCHMARKS if d in set(t["dataset"])]


def _mean(t: pd.DataFrame, dataset: str, changed: str) -> str:
    v = t.loc[(t["dataset"] == dataset) & (t["changed"] == changed), "value"]
    return fmt_pm(v.mean(), v.std()) if len(v) else "—"

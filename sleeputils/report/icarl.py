"""The iCaRL chapter's table, verdicts and figure: iCaRL and iCaRL + SRC per (K, variant) and
score, SRC's gain measured trial by trial, beside Table 2 of the paper."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..protocols.icarl import VARIANTS, metric_name
from ..results.paper import fmt_pm, load_paper_values
from . import stats
from .names import METHODS, SCORES
from .tables import for_people, headline

#: What SRC does to iCaRL, by the verdict of their paired test.
EFFECT = {stats.HIGHER: "**helps**", stats.LOWER: "**hurts**",
          stats.UNCLEAR: "**has no clear effect on**", stats.TOO_FEW: "**is not tested on**",
          stats.NO_SPREAD: "**is not tested on**"}


def scores(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (memory, variant, score, trial) with both methods' accuracy side by side."""
    rows = headline(df)
    rows = rows.assign(score=rows["metric"].str.split("_").str[0])
    rows = rows[rows["score"].isin(SCORES)]
    wide = rows.pivot_table(index=["memory", "variant", "score", "trial"], columns="method",
                            values="value").reset_index()
    return wide.sort_values(["memory", "variant", "score", "trial"], key=_variant_order)


def _variant_order(col: pd.Series) -> pd.Series:
    if col.name == "variant":
        return col.map(list(VARIANTS).index)
    return col


def gains(df: pd.DataFrame) -> list[tuple[tuple, pd.DataFrame, stats.Paired]]:
    """Per (memory, variant, score) setting: its rows and SRC's paired test against iCaRL, the
    settings' tests one family (the chapter's verdicts state them together)."""
    groups = list(scores(df).groupby(["memory", "variant", "score"], sort=False))
    tests = stats.family([stats.paired(g["icarl_src"], g["icarl"]) for _, g in groups])
    return [(key, g, r) for (key, g), r in zip(groups, tests, strict=True)]


def paper_row(chapter_id: str) -> pd.DataFrame:
    """The paper's Table 2 numbers of this chapter (one memory), or an empty frame."""
    paper = load_paper_values()
    return paper[paper["chapter_id"] == chapter_id]


def icarl_table(df: pd.DataFrame, chapter_id: str) -> Styler:
    """Accuracy after the last task per (K, variant, score): iCaRL, + SRC, the paired gain and
    the paper's pair where Table 2 has one. The paper does not say which score or variant it
    used; its pair is set against iCaRL's own classifier (nearest mean) with herding and
    distillation."""
    paper = paper_row(chapter_id)
    out = []
    for (memory, variant, score), g in scores(df).groupby(["memory", "variant", "score"],
                                                          sort=False):
        p = paper[paper["metric"] == metric_name(score, memory, variant)].set_index("method")
        out.append({
            "K": memory, "variant": variant, "score": SCORES[score], "n": len(g),
            "iCaRL": fmt_pm(g["icarl"].mean(), g["icarl"].std()),
            "iCaRL + SRC": fmt_pm(g["icarl_src"].mean(), g["icarl_src"].std()),
            "gain (paired)": fmt_pm((g["icarl_src"] - g["icarl"]).mean(),
                                    (g["icarl_src"] - g["icarl"]).std()),
            "paper: iCaRL<br>→ + SRC": "<br>→ ".join(fmt_pm(p.at[m, "value"], p.at[m, "std"])
                                                     for m in ("icarl", "icarl_src"))
                                       if len(p) == 2 else None,
        })
    table = pd.DataFrame(out)
    if len(table) and table["n"].nunique() == 1:  # one count: said in the banner
        table = table.drop(columns="n")
    return for_people(table, compact=True)


def icarl_verdict(df: pd.DataFrame, chapter_id: str) -> str:
    """Markdown, one line per (K, variant, score): does SRC help iCaRL here (paired t-test), and
    how far are we from the paper's pair where it has one."""
    paper = paper_row(chapter_id)
    lines = []
    for (memory, variant, score), g, r in gains(df):
        line = (f"- K = {memory}, {variant}, {SCORES[score]}: SRC {EFFECT[r.verdict]} iCaRL, "
                f"{stats.gain(r)}.")
        p = paper[paper["metric"] == metric_name(score, memory, variant)].set_index("method")
        if len(p) == 2:
            line += (f" Against the paper: iCaRL {g['icarl'].mean() - p.at['icarl', 'value']:+.2f},"
                     f" iCaRL + SRC {g['icarl_src'].mean() - p.at['icarl_src', 'value']:+.2f} "
                     "points.")
        lines.append(line)
    return "\n".join(lines) if lines else "No iCaRL trial was run."


def icarl_overview(df: pd.DataFrame) -> str:
    """Markdown: over every (K, variant, score) setting, how often SRC raises or lowers iCaRL's
    final accuracy (and how often significantly), then the mean paired gain per K for each
    score, averaged over the variants: the pattern behind the per-setting lines."""
    t = pd.DataFrame([{"memory": memory, "score": score, "gain": r.difference,
                       "verdict": r.verdict} for (memory, _, score), _, r in gains(df)])
    if t.empty:
        return "No iCaRL trial was run."
    up, down = t["gain"] > 0, t["gain"] < 0
    higher, lower = t["verdict"] == stats.HIGHER, t["verdict"] == stats.LOWER
    lines = [f"Over the {len(t)} settings (memory × variant × score), SRC raises iCaRL's final "
             f"accuracy in **{up.sum()}** ({higher.sum()} significantly: paired t-test, "
             f"Holm-adjusted over the settings, p < {stats.ALPHA:g}) and lowers it in "
             f"**{down.sum()}** ({lower.sum()} significantly). Mean paired gain per memory K, "
             "averaged over the variants:", ""]
    for score, g in t.groupby("score", sort=False):
        per_k = g.groupby("memory")["gain"].mean()
        lines.append(f"- {SCORES[score]}: " + ", ".join(f"K = {k}: {v:+.1f}"
                                                         for k, v in per_k.items()) + " points.")
    return "\n".join(lines)


def paper_gap(df: pd.DataFrame, chapter_id: str) -> str:
    """Markdown: at the paper's memory, how close does any variant and score come to the
    paper's pair, and how does SRC's gain compare with the paper's? Empty without a pair."""
    paper = paper_row(chapter_id).set_index("method")
    if not {"icarl", "icarl_src"} <= set(paper.index):
        return ""
    memory = int(re.search(r"_k(\d+)_", paper.at["icarl", "metric"]).group(1))
    means = scores(df).query("memory == @memory").groupby(["variant", "score"])[
        ["icarl", "icarl_src"]].mean()
    if means.empty:
        return ""
    a, b = paper.at["icarl", "value"], paper.at["icarl_src", "value"]
    gain = means["icarl_src"] - means["icarl"]
    return (f"At the paper's K = {memory}, the paper has iCaRL {a:.2f} → iCaRL + SRC {b:.2f} "
            f"(a gain of {b - a:+.2f}). Over our {len(means)} variant and score pairs, iCaRL "
            f"ranges {means['icarl'].min():.2f} to {means['icarl'].max():.2f} and iCaRL + SRC "
            f"{means['icarl_src'].min():.2f} to {means['icarl_src'].max():.2f}: "
            f"{'none reaches' if means['icarl'].max() < a else 'some reach'} the paper's "
            f"iCaRL, while SRC's gain ({gain.min():+.2f} to {gain.max():+.2f}) is "
            + ("larger than" if gain.min() > b - a else "smaller than" if gain.max() < b - a
               else "around") + " the paper's.")


def icarl_scores_figure(df: pd.DataFrame) -> plt.Figure:
    """Accuracy of both methods per memory, one panel per score, one colour per variant."""
    s = scores(df).melt(id_vars=["memory", "variant", "score", "trial"],
                        value_vars=["icarl", "icarl_src"], var_name="method", value_name="acc")
    s["method"] = s["method"].map(METHODS)
    s["score"] = s["score"].map(SCORES)
    grid = sns.catplot(s, x="memory", y="acc", hue="method", col="score", row="variant",
                       kind="point", errorbar="sd", dodge=0.2, height=3.0, aspect=1.4,
                       palette={"iCaRL": "tab:gray", "iCaRL + SRC": "tab:blue"})
    grid.set_axis_labels("memory K (exemplars)", "final accuracy (%)")
    grid.set_titles("{row_name} · {col_name}")
    return grid.figure

"""The iCaRL chapter's table, verdicts and figure: iCaRL and iCaRL + SRC per (K, variant) and
score, SRC's gain measured trial by trial, beside Table 2 of the paper."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..protocols.icarl import VARIANTS
from ..results import setting
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
    rows = rows[rows["metric"].isin(SCORES)].rename(columns={"metric": "score"})
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


def paper_row(dataset: str) -> pd.DataFrame:
    """The paper's Table 2 pair on ``dataset`` (iCaRL and iCaRL + SRC at one setting, which
    ``paper_values.csv`` names), its setting as columns; an empty frame when it has none."""
    paper = load_paper_values()
    paper = paper[(paper["dataset"] == dataset) & paper["method"].isin(["icarl", "icarl_src"])]
    return setting.expand(paper)


def _pair_at(paper: pd.DataFrame, memory: int, variant: str, score: str,
             epochs: int | None) -> pd.DataFrame:
    """The paper's pair when it was measured at this setting (its method as index), else empty:
    every value the paper's setting names must equal ours."""
    ours = {"memory": memory, "variant": variant, "epochs": epochs}
    keep = [m == score and setting.within(text, ours)
            for m, text in zip(paper["metric"], paper["setting"], strict=True)]
    return paper.loc[keep].set_index("method")  # .loc: an empty list selects rows, not columns


def _epochs(g: pd.DataFrame) -> int | None:
    """The one epochs-per-task value of a group of trials (None when the rows do not say)."""
    return int(g["epochs"].iloc[0]) if "epochs" in g and g["epochs"].notna().all() else None


#: The column of the paper's Table 2 pair.
PAPER_PAIR = "paper: iCaRL<br>→ + SRC"


def icarl_table(df: pd.DataFrame, dataset: str) -> Styler:
    """Accuracy after the last task per (K, variant, score): iCaRL, + SRC, the paired gain and
    the paper's pair where Table 2 has one. The paper does not say which score or variant it
    used; its pair is set against iCaRL's own classifier (nearest mean) with herding and
    distillation, at the original sweep's longest training (see ``paper_values.csv``)."""
    paper = paper_row(dataset)
    out = []
    for (memory, variant, score), g in scores(df).groupby(["memory", "variant", "score"],
                                                          sort=False):
        p = _pair_at(paper, memory, variant, score, _epochs(df))
        out.append({
            "K": memory, "variant": variant, "score": SCORES[score], "n": len(g),
            "iCaRL": fmt_pm(g["icarl"].mean(), g["icarl"].std()),
            "iCaRL + SRC": fmt_pm(g["icarl_src"].mean(), g["icarl_src"].std()),
            "gain (paired)": fmt_pm((g["icarl_src"] - g["icarl"]).mean(),
                                    (g["icarl_src"] - g["icarl"]).std()),
            PAPER_PAIR: "<br>→ ".join(fmt_pm(p.at[m, "value"], p.at[m, "std"])
                                                     for m in ("icarl", "icarl_src"))
                                       if len(p) == 2 else None,
        })
    table = pd.DataFrame(out)
    if len(table) and table["n"].nunique() == 1:  # one count: said in the banner
        table = table.drop(columns="n")
    if len(table) and table[PAPER_PAIR].isna().all():  # no Table 2 pair at this setting
        table = table.drop(columns=PAPER_PAIR)
    return for_people(table, compact=True)


def icarl_verdict(df: pd.DataFrame, dataset: str) -> str:
    """Markdown, one line per (K, variant, score): does SRC help iCaRL here (paired t-test), and
    how far are we from the paper's pair where it was measured at this setting."""
    paper = paper_row(dataset)
    lines = []
    for (memory, variant, score), g, r in gains(df):
        line = (f"- K = {memory}, {variant}, {SCORES[score]}: SRC {EFFECT[r.verdict]} iCaRL, "
                f"{stats.gain(r)}.")
        p = _pair_at(paper, memory, variant, score, _epochs(df))
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


def paper_gap(df: pd.DataFrame, dataset: str) -> str:
    """Markdown: at the paper's memory, how close does any variant and score come to the
    paper's pair, and how does SRC's gain compare with the paper's? Empty without a pair."""
    paper = paper_row(dataset).set_index("method")
    if not {"icarl", "icarl_src"} <= set(paper.index):
        return ""
    memory = int(paper.at["icarl", "memory"])
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
               else "around") + " the paper's." + _setting_note(paper, df))


def _setting_note(paper: pd.DataFrame, df: pd.DataFrame) -> str:
    """Where the paper's pair was measured, when this run trained for another number of
    epochs per task (the epochs chapter compares at the paper's)."""
    theirs, ours = paper["epochs"].iloc[0] if "epochs" in paper else None, _epochs(df)
    if theirs is None or pd.isna(theirs) or ours is None or int(theirs) == ours:
        return ""
    return (f" The paper's pair was measured at {int(theirs)} epochs per task and this run "
            f"trains {ours}, so it is a bracket, not a comparison; the epochs chapter sets "
            f"ours beside the paper's at {int(theirs)}.")


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

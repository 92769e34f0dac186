"""The incremental chapters: our numbers beside the paper's, the baselines' strength search
and their verdict against sequential training."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from ..protocols.tuning import winners
from ..results import setting
from ..results.paper import (
    OUTSIDE,
    SHORT,
    WITHIN,
    WITHIN_BAND,
    fmt_pm,
    load_paper_values,
    paper_spread,
)
from ..results.record import KEY, keyed, summarise
from . import stats
from .names import METHODS, METRICS, STRENGTHS, method_name
from .owm_recipe import ELEMENTS
from .tables import for_people, headline


def compare_to_paper(df: pd.DataFrame, chapter_id: str) -> pd.DataFrame:
    """Our mean, std, n beside the paper's value and std, the difference and ``vs paper``.

    ``vs paper`` is :func:`sleeputils.results.paper.paper_spread`: within 2 paper std, or within
    1 point where the paper prints no spread (so a miss is always called a miss).
    """
    first_seen = headline(df)[KEY].drop_duplicates()  # the run's order, not the alphabet's
    ours = first_seen.merge(summarise(df)[[*KEY, "mean", "std", "n"]], on=KEY)
    paper = keyed(load_paper_values())
    paper = paper[paper["chapter_id"] == chapter_id]
    table = ours.merge(paper, on=KEY, how="left", suffixes=("", "_paper"))
    table["difference"] = table["mean"] - table["value"]
    table["vs paper"] = [
        "not in paper" if pd.isna(p) else paper_spread(m, p, s)
        for m, p, s in zip(table["mean"], table["value"], table["std_paper"], strict=True)
    ]
    table = table.rename(columns={"value": "paper", "std_paper": "paper std"})
    return table[["dataset", "method", "metric", "mean", "std", "n", "paper", "paper std",
                  "difference", "vs paper"]]


def versus_paper(df: pd.DataFrame, chapter_id: str) -> Styler:
    """The chapter's headline table for people: one row per method, our final accuracy beside
    the paper's ("48.47 ± 5.03"), the difference, a short verdict, then BWT and forgetting."""
    t = compare_to_paper(df, chapter_id)
    n = int(t["n"].max()) if len(t) else 0
    final = t[t["metric"] == "final_acc"].set_index("method")
    table = pd.DataFrame({
        "method": final.index.map(method_name),
        f"final accuracy (%), n = {n}": [fmt_pm(m, s) for m, s in
                                         zip(final["mean"], final["std"], strict=True)],
        "paper": [fmt_pm(m, s) for m, s in zip(final["paper"], final["paper std"], strict=True)],
        "Δ paper": final["difference"].to_numpy(),
        "verdict": final["vs paper"].map(SHORT).fillna("—").to_numpy(),
    })
    for metric in ("bwt", "forgetting"):
        rows = t[t["metric"] == metric].set_index("method").reindex(final.index)
        table[METRICS[metric]] = [fmt_pm(m, s) for m, s in
                                       zip(rows["mean"], rows["std"], strict=True)]
    return for_people(table)


def search_table(df: pd.DataFrame) -> Styler | str:
    """The strength search: final validation accuracy per grid value, the chosen one marked."""
    rows = df[df["metric"] == "val_acc"] if "metric" in df.columns else df.iloc[:0]
    if rows.empty:
        return ("No strength was searched in this run: no baseline ran, or every baseline's "
                "strength was given.")
    table = rows.pivot_table(index="strength", columns="method", values="value", sort=True)
    chosen = winners(rows)
    parts = []
    for method in [m for m in METHODS if m in table.columns]:
        col = table[method].dropna()
        parts.append(pd.DataFrame({
            "method": f"{METHODS[method]} ({STRENGTHS.get(method, 'strength')})",
            "strength": [f"{v:g}" for v in col.index],
            "validation accuracy (%)": col.to_numpy(),
            "chosen": ["✓" if v == chosen[method] else "" for v in col.index],
        }))
    out = pd.concat(parts, ignore_index=True)
    return for_people(out)


def search_edges(df: pd.DataFrame) -> str:
    """Markdown: a warning for every method whose chosen strength is the smallest or largest
    value of its grid (a wider grid might have found a better one); empty when none is."""
    rows = df[df["metric"] == "val_acc"] if "metric" in df.columns else df.iloc[:0]
    lines = []
    for method, g in rows.groupby("method", sort=False):
        best = g.loc[g["value"].idxmax(), "strength"]
        if len(g) > 1 and best in (g["strength"].min(), g["strength"].max()):
            side = "largest" if best == g["strength"].max() else "smallest"
            lines.append(f"- {method_name(method)}: the chosen "
                         f"{STRENGTHS.get(method, 'strength')} = {best:g} is the {side} "
                         "value of the grid, so a wider grid might find a better one.")
    if rows.empty:
        return ""
    return "\n".join(lines) or "Every chosen strength lies inside its grid."


def baselines_verdict(df: pd.DataFrame) -> str:
    """Markdown, one line per baseline: its chosen strength and whether it beats sequential
    training, by the paired difference over trials (paired t-test; trials share initial weights
    and batch order)."""
    rows = headline(df)
    final = rows[rows["metric"] == "final_acc"].pivot_table(index="trial", columns="method",
                                                           values="value")
    strength = df[df["metric"] == "strength"].groupby("method")["value"].first()
    methods = [m for m in STRENGTHS if m in final.columns]
    tests = (stats.family([stats.paired(final[m], final["sequential"]) for m in methods])
             if "sequential" in final.columns else [None] * len(methods))
    lines = []
    for method, r in zip(methods, tests, strict=True):
        head = (f"- {METHODS[method]} ({STRENGTHS[method]} = "
                f"{strength.get(method, float('nan')):g}): "
                f"{fmt_pm(final[method].mean(), final[method].std())} %")
        if r is None:
            lines.append(head + ".")
            continue
        text = f", {r.difference:+.2f} points against sequential training (paired, n = {r.n}"
        if r.tested:
            word = BASELINE_WORDS[r.verdict]
            text += f", {stats.p_text(r)}): {word} no protection at all."
        else:
            text += f"): {stats.why_untested(r)}."
        lines.append(head + text)
    if "owm" in methods:
        lines.append(owm_elsewhere(str(rows["dataset"].iloc[0])))
    return "\n".join(line for line in lines if line) if lines else "No baseline was run."


def owm_elsewhere(dataset: str) -> str:
    """Markdown: where the paper's OWM number for ``dataset`` is compared, when another chapter
    holds it at the setting that reproduces it (OWM in its authors' recipe); "" otherwise."""
    paper = load_paper_values()
    row = paper[(paper["dataset"] == dataset) & (paper["method"] == "owm_recipe")
                & (paper["metric"] == "final_acc")]
    if row.empty:
        return ""
    r = row.iloc[0]
    changed = setting.decode(r["setting"]).get("changed", "none")
    recipe = "its authors' recipe" + ("" if changed == "none" else
                                      f" with {ELEMENTS.get(changed, changed)}")
    return (f"\nThe paper's OWM number, {fmt_pm(r['value'], r['std'])} %, is compared in "
            f"chapter `{r['chapter_id']}` with OWM in {recipe}, the recipe that reproduces it "
            "there; the OWM above runs on the SRC protocol's network and optimiser "
            "({ref}`dev-owm-setup`).")


#: How a baseline's verdict against sequential training reads.
BASELINE_WORDS = {stats.HIGHER: "**better** than", stats.LOWER: "**worse** than",
                  stats.UNCLEAR: "**not significantly different** from"}


def verdict(table: pd.DataFrame) -> str:
    """One Markdown sentence per paper number: reproduced within its spread, or missed by how much.

    ``table`` is :func:`compare_to_paper`. Written from the numbers, so the prose cannot drift
    from the table.
    """
    lines = []
    for _, row in table.dropna(subset=["paper"]).iterrows():
        ours = fmt_pm(row["mean"], row["std"])
        paper = fmt_pm(row["paper"], row["paper std"])
        status = row["vs paper"]
        if status == WITHIN:
            word = "**reproduced** (within 2 paper std)"
        elif status == OUTSIDE:
            word = "**missed** (outside 2 paper std)"
        elif status == WITHIN_BAND:
            word = "**reproduced** (within 1 point; the paper gives no spread)"
        else:
            word = "**missed** (more than 1 point off; the paper gives no spread)"
        method = method_name(row["method"])
        if row.get("metric", "final_acc") != "final_acc":
            method += f", {row['metric']}"
        lines.append(
            f"- {method}: ours {ours} (n = {int(row['n'])}) vs paper {paper}, "
            f"difference {row['difference']:+.2f} points: {word}."
        )
    return "\n".join(lines) if lines else "No number of this chapter is in the paper's tables."


def parallel_gap(table: pd.DataFrame) -> str:
    """Markdown: how far our parallel (upper-bound) net is from the paper's, from the numbers.

    ``table`` is :func:`compare_to_paper`.
    """
    row = table[(table["method"] == "parallel") & (table["metric"] == "final_acc")]
    if row.empty or row["paper"].isna().all():
        return _parallel_elsewhere(row)
    r = row.iloc[0]
    if abs(r["difference"]) <= 1.0:
        return (f"Our parallel net reaches {fmt_pm(r['mean'], r['std'])} %, within a point of "
                f"the paper's {r['paper']:.2f} %.")
    side = "below" if r["difference"] < 0 else "above"
    return (f"Our parallel net reaches {fmt_pm(r['mean'], r['std'])} % (n = {int(r['n'])}), "
            f"{abs(r['difference']):.2f} points {side} the paper's {r['paper']:.2f} %.")


def _parallel_elsewhere(row: pd.DataFrame) -> str:
    """Markdown: where the paper's parallel number is compared when it is not at this page's
    setting (the paper text's recipe, in the recipes chapter)."""
    if row.empty:
        return "The parallel net was not run."
    paper = load_paper_values()
    paper = paper[(paper["dataset"] == row["dataset"].iloc[0])
                  & (paper["method"] == "parallel") & (paper["metric"] == "final_acc")]
    if paper.empty:
        return "The paper gives no parallel number for this data set."
    p, r = paper.iloc[0], row.iloc[0]
    return (f"Our parallel net reaches {fmt_pm(r['mean'], r['std'])} % under the original "
            f"code's recipe. The paper's {p['value']:.2f} % was measured at another setting "
            f"({setting.describe(p['setting'])}): chapter `{p['chapter_id']}` compares it "
            "there.")


def search_curves(df: pd.DataFrame) -> pd.DataFrame:
    """The strength search as curves: per (method, strength), the validation accuracy on all
    tasks, on the first and on the last task (columns ``all``, ``first``, ``last``). One data
    set's search (ValueError otherwise: curves of two would be mixed)."""
    rows = df[df["metric"].isin(["val_acc", "val_acc_task"])] if "metric" in df else df.iloc[:0]
    if rows.empty:
        return pd.DataFrame(columns=["method", "strength", "all", "first", "last"])
    if "dataset" in rows and rows["dataset"].nunique() > 1:
        raise ValueError("search_curves reads one data set's search; got "
                         f"{', '.join(map(str, rows['dataset'].unique()))}")
    out = []
    for (method, strength), g in rows.groupby(["method", "strength"], sort=True):
        tasks = g[g["metric"] == "val_acc_task"].set_index("task")["value"]
        out.append({"method": method, "strength": strength,
                    "all": g.loc[g["metric"] == "val_acc", "value"].iloc[0],
                    "first": tasks.get(1, float("nan")),
                    "last": tasks.get(tasks.index.max(), float("nan")) if len(tasks)
                    else float("nan")})
    order = {m: i for i, m in enumerate(METHODS)}  # the tables' method order
    table = pd.DataFrame(out)
    return table.sort_values("method", key=lambda m: m.map(order), kind="stable",
                             ignore_index=True)


def searched(df: pd.DataFrame) -> bool:
    """Whether ``df`` holds a strength search with per-task validation accuracies."""
    return bool(search_curves(df)["first"].notna().any())


def tradeoff_verdict(df: pd.DataFrame) -> str:
    """Markdown, per searched baseline: how the first task's and the last task's validation
    accuracy move from the smallest to the largest value of its grid (stability against
    plasticity: more protection for EWC and SI as it grows, less for OWM), and where the chosen
    strength sits."""
    curves = search_curves(df)
    if curves.empty or curves["first"].isna().all():
        return "No search with per-task validation accuracies in these numbers."
    chosen = winners(df[df["metric"] == "val_acc"])
    lines = []
    for method, g in curves.groupby("method", sort=False):
        low, high = g.iloc[0], g.iloc[-1]
        best = chosen[method]
        where = ("the smallest value of the grid" if best == low["strength"] else
                 "the largest value of the grid" if best == high["strength"] else
                 "inside the grid")
        name = STRENGTHS.get(method, "strength")
        lines.append(
            f"- {METHODS.get(method, method)}: from {name} = {low['strength']:g} to "
            f"{high['strength']:g}, the first task's validation accuracy goes from "
            f"{low['first']:.1f} to {high['first']:.1f} % and the last task's from "
            f"{low['last']:.1f} to {high['last']:.1f} %; the search chose {best:g}, {where} "
            f"(all tasks {g.loc[g['strength'] == best, 'all'].iloc[0]:.1f} %).")
    return "\n".join(lines)

"""The cross-modal chapter: both test sets per method and variant beside the paper's row,
what correcting the original's two slips changes, and which reading of the original (a
candidate) gives the paper's sequential and SRC numbers."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from ..protocols import crossmodal
from ..results import setting
from ..results.paper import (
    PAPER_MISSES,
    SHORT,
    fmt_pm,
    load_paper_values,
    paper_spread,
)
from . import stats
from .names import METHODS, method_name
from .tables import for_people, headline

CANDIDATE_SETTINGS = crossmodal.CANDIDATE_SETTINGS


def crossmodal_compare(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, variant, fraction): final accuracy on both test sets and on each,
    beside the paper's cross-modal row where it was measured at that setting (the faithful
    variant: that is what the paper ran)."""
    rows = _variants_only(headline(df))
    if "fraction" not in rows:
        rows = rows.assign(fraction=float("nan"))
    stats_ = rows.groupby(["method", "variant", "fraction", "metric"], dropna=False)[
        "value"].agg(["mean", "std", "count"]).unstack("metric")
    paper = load_paper_values().query("chapter_id == 'crossmodal'")
    out = []
    for (method, variant, p), r in stats_.iterrows():
        label = method_name(method) + ("" if pd.isna(p) else f" (p = {100 * p:g} %)")
        ours = {"variant": variant, "fraction": None if pd.isna(p) else p}
        match = paper[(paper["method"] == method) & (paper["metric"] == "final_acc")
                      & paper["setting"].map(lambda t, o=ours: setting.within(t, o))]
        value = match["value"].iloc[0] if len(match) else float("nan")
        spread = match["std"].iloc[0] if len(match) else float("nan")
        mean = r[("mean", "final_acc")]
        shown = variant if method in crossmodal.VARIANT_METHODS else "same in both"
        out.append({
            "method": label, "variant": shown,
            "mean": mean, "std": r[("std", "final_acc")], "n": r[("count", "final_acc")],
            "mnist": r[("mean", "acc_mnist")], "fashion": r[("mean", "acc_fashion")],
            "paper": value, "paper std": spread, "difference": mean - value,
            "vs paper": paper_spread(mean, value, spread) if len(match) else "not in paper",
            "_order": list(METHODS).index(method) if method in METHODS else 99,
        })
    table = pd.DataFrame(out)
    if table.empty:
        return table
    table["_corrected"] = table["variant"] == "corrected"
    return (table.sort_values(["_corrected", "_order", "method"], kind="stable")
            .drop(columns=["_order", "_corrected"]).reset_index(drop=True))


def _variants_only(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the two variants, without the candidates' (whose settings name what they
    change, or the candidate a unit was run for alone)."""
    changed = {*CANDIDATE_SETTINGS, "candidate"}
    keep = pd.Series([not changed & setting.decode(t).keys() for t in rows["setting"]],
                     index=rows.index, dtype=bool)
    return rows.loc[keep]


def candidate_scores(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (candidate, method it changes) that was run: our final accuracy beside the
    paper's faithful number for that method, the difference and the verdict."""
    rows = headline(df)
    finals = rows[rows["metric"] == "final_acc"]
    found = [setting.decode(t) for t in finals["setting"]]
    paper = load_paper_values().query("chapter_id == 'crossmodal' and metric == 'final_acc'")
    out = []
    for c in crossmodal.CANDIDATES.values():
        for method in c.methods:
            run, fraction = c.run(method)
            where = setting.decode(setting.encode(
                variant=c.variant, fraction=fraction,
                **{k: getattr(c, k) for k in CANDIDATE_SETTINGS}))
            mine = [s.get("candidate", c.name) == c.name and
                    {k: v for k, v in s.items() if k != "candidate"} == where for s in found]
            values = finals.loc[(finals["method"] == run).to_numpy() & mine, "value"]
            if values.empty:
                continue
            ref = paper[(paper["method"] == method) & (paper["setting"] == setting.encode(
                variant="faithful"))].iloc[0]
            mean = values.mean()
            out.append({"candidate": c.name, "what": c.what, "method": method,
                        "mean": mean, "std": values.std(), "n": len(values),
                        "paper": ref["value"], "paper std": ref["std"],
                        "difference": mean - ref["value"],
                        "vs paper": paper_spread(mean, ref["value"], ref["std"])})
    return pd.DataFrame(out)


def candidates_table(df: pd.DataFrame) -> Styler | None:
    """The candidates for people: what each changes, ours beside the paper's, the verdict."""
    t = candidate_scores(df)
    if t.empty:
        return None
    n = int(t["n"].max())
    ours = f"ours (%), n = {n}"
    table = pd.DataFrame({
        "method": t["method"].map(method_name), "reading of the original": t["what"],
        ours: [fmt_pm(m, s) for m, s in zip(t["mean"], t["std"], strict=True)],
        "paper": [fmt_pm(m, s) for m, s in zip(t["paper"], t["paper std"], strict=True)],
        "Δ paper": t["difference"], "verdict": t["vs paper"].map(SHORT)})
    return for_people(table, compact=True, wrap=("reading of the original",), wrap_width=40)


def candidates_verdict(df: pd.DataFrame) -> str:
    """Markdown: per paper number (sequential, SRC), the candidates that match it, or that none
    does and which comes closest."""
    t = candidate_scores(df)
    if t.empty:
        return ("No candidate was run (parameter `candidates`; the `paper` profile runs all of "
                "them).")
    lines = []
    for method, g in t.groupby("method", sort=False):
        paper = fmt_pm(g["paper"].iloc[0], g["paper std"].iloc[0])
        hits = g[~g["vs paper"].isin(PAPER_MISSES)]
        if len(hits):
            names = "; ".join(f"{w} ({m:.2f})" for w, m in zip(hits["what"], hits["mean"],
                                                                strict=True))
            lines.append(f"- **{method_name(method)}** (paper {paper}): **matched** by {names}.")
        else:
            near = g.loc[g["difference"].abs().idxmin()]
            lines.append(f"- **{method_name(method)}** (paper {paper}): **no candidate matches**; "
                         f"the closest is {near['what']} ({near['mean']:.2f}, "
                         f"{near['difference']:+.2f} points), of {len(g)} tried.")
    return "\n".join(lines)


def crossmodal_table(df: pd.DataFrame) -> Styler:
    """The cross-modal row for people: accuracy on the 20k union and on each data set."""
    t = crossmodal_compare(df)
    n = int(t["n"].max()) if len(t) else 0
    table = pd.DataFrame({
        "method": t["method"], "variant": t["variant"],
        f"both (%), n = {n}": [fmt_pm(m, s) for m, s in zip(t["mean"], t["std"], strict=True)],
        "MNIST (%)": t["mnist"], "Fashion (%)": t["fashion"],
        "paper": [fmt_pm(m, s) for m, s in zip(t["paper"], t["paper std"], strict=True)],
        "Δ paper": t["difference"],
        "verdict": t["vs paper"].map(SHORT).fillna("—"),
    })
    return for_people(table, compact=True)


def crossmodal_variants(df: pd.DataFrame) -> str:
    """Markdown: what correcting the original's two slips changes, from the numbers."""
    t = crossmodal_compare(df).set_index(["method", "variant"])["mean"]
    lines = []
    for method, what in (("SRC", "sleeping for the lengths the search found instead of 255 "
                                 "steps"),
                         ("sequential", "training the control on MNIST before Fashion-MNIST")):
        if (method, "faithful") in t.index and (method, "corrected") in t.index:
            a, b = t[(method, "faithful")], t[(method, "corrected")]
            lines.append(f"- {method}: {what} moves the accuracy on both test sets from "
                         f"{a:.2f} % to {b:.2f} % ({b - a:+.2f} points).")
    finals = _variants_only(headline(df))
    finals = finals[finals["metric"] == "final_acc"].pivot_table(
        index="trial", columns=["variant", "method"], values="value")
    heads, tests = [], []
    for variant in crossmodal.VARIANTS:
        src, seq = (variant, "src"), (variant, "sequential")
        if src in finals.columns and seq in finals.columns:
            heads.append(f"- {variant}: SRC {finals[src].mean():.2f} % against sequential "
                         f"{finals[seq].mean():.2f} %")
            tests.append(stats.paired(finals[src], finals[seq]))
    lines += [f"{head}, {stats.gain(r)}." for head, r in
              zip(heads, stats.family(tests), strict=True)]
    lines += _sleep_without_effect(df)
    return "\n".join(lines) if lines else "Only one variant was run."


def _sleep_without_effect(df: pd.DataFrame) -> list[str]:
    """A line for each rehearsal + SRC setting whose final accuracy equals rehearsal's in every
    trial: its sleep changed nothing the test sets can see."""
    rows = _variants_only(headline(df))
    rows = rows[(rows["metric"] == "final_acc") & rows["method"].isin(["rehearsal",
                                                                        "rehearsal_src"])]
    if rows.empty:
        return []
    wide = rows.pivot_table(index="trial", columns=["method", "variant", "fraction"],
                            values="value")
    lines = []
    for method, variant, fraction in wide.columns:
        if method != "rehearsal_src" or ("rehearsal", "faithful", fraction) not in wide:
            continue
        ours, base = wide[(method, variant, fraction)], wide[("rehearsal", "faithful", fraction)]
        if ours.notna().all() and ours.equals(base):
            lines.append(f"- rehearsal + SRC ({variant}, {100 * fraction:g} % replayed) equals "
                         f"rehearsal in every one of its {len(ours)} trials: that sleep changed "
                         "nothing the test sets can see.")
    return lines


def methods_not_run(missing: list[str], chapter_id: str) -> str:
    """Markdown: which methods this profile leaves out, and the command that runs them all."""
    if not missing:
        return "Every method of the protocol was run."
    names = ", ".join(method_name(m) for m in missing)
    return (f"This profile leaves out {names} to keep the book's build short; "
            f"`sleepbook run {chapter_id} --profile paper` runs every method.")

"""The cross-modal chapter: both test sets per method and variant beside the paper's row,
and what correcting the original's two slips changes."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from ..protocols import crossmodal
from ..results.paper import (
    SHORT,
    fmt_pm,
    load_paper_values,
    paper_spread,
)
from . import stats
from .names import METHODS, method_name
from .tables import for_people, headline

#: Cross-modal methods as the paper's Table 1 names them (EWC and SI share one cell there).
CROSSMODAL_PAPER = {"ewc": "ewc_si", "si": "ewc_si"}


def crossmodal_compare(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, variant, fraction): final accuracy on both test sets and on each,
    beside the paper's cross-modal row (faithful variant only: that is what the paper ran)."""
    rows = headline(df)
    rows = rows.assign(base=rows["metric"].str.replace(r"_p[0-9.e-]+$", "", regex=True),
                       p=rows["metric"].str.extract(r"_p([0-9.e-]+)$")[0])
    stats_ = rows.groupby(["method", "p", "base"], dropna=False)["value"].agg(
        ["mean", "std", "count"]).unstack("base")
    paper = load_paper_values().query("chapter_id == 'crossmodal'").set_index("method")
    out = []
    for (method, p), r in stats_.iterrows():
        base = method.removesuffix("_corrected")
        corrected = method != base
        label = method_name(base) + (f" (p = {100 * float(p):g} %)" if
                                                isinstance(p, str) else "")
        key = CROSSMODAL_PAPER.get(base, base)
        has_paper = key in paper.index and not corrected
        value = paper.loc[key, "value"] if has_paper else float("nan")
        spread = paper.loc[key, "std"] if has_paper else float("nan")
        mean = r[("mean", "final_acc")]
        variant = ("corrected" if corrected else
                   "faithful" if base in crossmodal.VARIANT_METHODS else "same in both")
        out.append({
            "method": label, "variant": variant,
            "mean": mean, "std": r[("std", "final_acc")], "n": r[("count", "final_acc")],
            "mnist": r[("mean", "acc_mnist")], "fashion": r[("mean", "acc_fashion")],
            "paper": value, "paper std": spread, "difference": mean - value,
            "vs paper": paper_spread(mean, value, spread) if has_paper else "not in paper",
        })
    order = {m: i for i, m in enumerate(METHODS.values())}
    table = pd.DataFrame(out)
    table["_order"] = [order.get(m.split(" (")[0], 99) for m in table["method"]]
    table["_corrected"] = table["variant"] == "corrected"
    return (table.sort_values(["_corrected", "_order", "method"], kind="stable")
            .drop(columns=["_order", "_corrected"]).reset_index(drop=True))


def crossmodal_table(df: pd.DataFrame) -> Styler:
    """The cross-modal row for people: accuracy on the 20k union and on each data set."""
    t = crossmodal_compare(df)
    n = int(t["n"].max()) if len(t) else 0
    table = pd.DataFrame({
        "method": t["method"], "variant": t["variant"],
        f"both test sets (%), n = {n}": [fmt_pm(m, s) for m, s in
                                         zip(t["mean"], t["std"], strict=True)],
        "MNIST (%)": t["mnist"], "Fashion (%)": t["fashion"],
        "paper": [fmt_pm(m, s) for m, s in zip(t["paper"], t["paper std"], strict=True)],
        "Δ paper": t["difference"],
        "verdict": t["vs paper"].map(SHORT).fillna("—"),
    })
    return for_people(table)


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
    finals = headline(df)
    finals = finals[finals["metric"] == "final_acc"].pivot_table(index="trial", columns="method",
                                                                 values="value")
    heads, tests = [], []
    for variant, suffix in (("faithful", ""), ("corrected", "_corrected")):
        src, seq = f"src{suffix}", f"sequential{suffix}"
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
    rows = headline(df)
    rows = rows[rows["metric"].str.startswith("final_acc_p")]
    wide = rows.pivot_table(index="trial", columns=["method", "metric"], values="value")
    lines = []
    for method, metric in wide.columns:
        if not method.startswith("rehearsal_src") or ("rehearsal", metric) not in wide:
            continue
        ours, base = wide[(method, metric)], wide[("rehearsal", metric)]
        if ours.notna().all() and ours.equals(base):
            variant = "corrected" if method.endswith("_corrected") else "faithful"
            share = 100 * float(metric.removeprefix("final_acc_p"))
            lines.append(f"- rehearsal + SRC ({variant}, {share:g} % replayed) equals rehearsal "
                         f"in every one of its {len(ours)} trials: that sleep changed nothing "
                         "the test sets can see.")
    return lines


def methods_not_run(missing: list[str], chapter_id: str) -> str:
    """Markdown: which methods this profile leaves out, and the command that runs them all."""
    if not missing:
        return "Every method of the protocol was run."
    names = ", ".join(method_name(m) for m in missing)
    return (f"This profile leaves out {names} to keep the book's build short; "
            f"`sleepbook run {chapter_id} --profile paper` runs every method.")

"""The rehearsal chapters: final accuracy per replayed fraction, SRC's paired gain, and where
the paper's numbers fall on our curves."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from ..results import setting
from ..results.paper import PAPER_MISSES, SHORT, fmt_pm, load_paper_values, locate, paper_spread
from .names import METHODS, method_name
from .tables import for_people, headline


def rehearsal_gains(df: pd.DataFrame) -> pd.DataFrame:
    """Per fraction: mean and std of rehearsal, rehearsal + SRC and SRC's paired gain, and n.

    The gain is computed per trial (both nets share initial weights, batches and stored
    examples), then averaged, so its std is that of the paired difference.
    """
    rows = headline(df)
    rows = rows[rows["metric"] == "final_acc"]
    wide = rows.pivot_table(index=["fraction", "trial"], columns="method", values="value")
    wide["gain"] = wide["rehearsal_src"] - wide["rehearsal"]
    out = wide.groupby("fraction").agg(["mean", "std"])
    out.columns = [f"{m} {s}" for m, s in out.columns]
    out.insert(0, "n", wide.groupby("fraction").size())
    return out


def rehearsal_table(df: pd.DataFrame) -> Styler:
    """Final accuracy per replayed fraction, for people: rehearsal, + SRC and the paired gain."""
    g = rehearsal_gains(df)
    table = pd.DataFrame({
        "replayed": [f"{100 * p:g} %" for p in g.index],
        "n": g["n"].to_numpy(),
        "rehearsal": [fmt_pm(m, s) for m, s in zip(g["rehearsal mean"], g["rehearsal std"],
                                                     strict=True)],
        "rehearsal + SRC": [fmt_pm(m, s) for m, s in zip(g["rehearsal_src mean"],
                                                           g["rehearsal_src std"], strict=True)],
        "SRC gain (paired)": [fmt_pm(m, s, digits=2) for m, s in zip(g["gain mean"],
                                                                      g["gain std"], strict=True)],
    })
    return for_people(table)


def rehearsal_verdict(df: pd.DataFrame, paper: pd.DataFrame) -> str:
    """Markdown: where each of the paper's Table 1 values falls on our curves.

    The paper's fraction is not on the original grid, so instead of a side-by-side number this
    names the fractions whose mean brackets the paper's value.
    """
    rows = headline(df)
    rows = rows[rows["metric"] == "final_acc"]
    means = rows.groupby(["method", "fraction"])["value"].mean()
    lines = []
    for _, row in paper.iterrows():
        if row["method"] not in means.index.get_level_values(0):
            continue
        where = _bracket(means.loc[row["method"]], row["value"])
        method = method_name(row["method"])
        if row.get("metric", "final_acc") != "final_acc":
            method += f", {row['metric']}"
        at = setting.decode(row.get("setting")).get("fraction")
        quoted = "" if at is None else f" at {100 * at:g} % replayed"
        lines.append(f"- {method}: paper {row['value']:.2f}"
                     + ("" if pd.isna(row["std"]) else f" ± {row['std']:.2f}")
                     + f"{quoted}; ours {where}.")
    return "\n".join(lines) if lines else "The paper gives no rehearsal number for this data set."


def _bracket(curve: pd.Series, value: float) -> str:
    """'reaches it between 1 % (70.1) and 10 % (90.2) replayed', or why it never does
    (where :func:`~sleeputils.results.paper.locate` puts ``value`` on the curve)."""
    def at(i) -> str:
        return f"{100 * i:g} % ({curve[i]:.2f})"
    try:
        low, high = locate(curve, value)
    except ValueError:
        low = high = None
    else:
        if high is None:
            return f"stays below it at every fraction run (best: {at(low)})"
        if low is None:
            return f"is above it at every fraction run (lowest: {at(curve.idxmin())})"
        if low < high:
            return f"reaches it between {at(low)} and {at(high)} replayed"
    return "crosses it more than once (not monotone in the fraction)"


def committed_sweep(chapter_id: str, records: pd.DataFrame) -> Styler | str:
    """The full rehearsal sweep of the committed ``paper``-profile records, one row per fraction.

    ``records`` is :func:`sleeputils.results.record.load_records` for the paper profile. Returns
    a Markdown sentence instead when that chapter has no committed records yet.
    """
    rows = setting.expand(records[(records["chapter_id"] == chapter_id)
                                  & (records["metric"] == "final_acc")])
    if rows.empty:
        return (f"No `paper`-profile records of {chapter_id} are committed yet: run "
                f"`sleepbook run {chapter_id} --profile paper` and commit `results/paper/`.")
    rows = rows.assign(value=[fmt_pm(m, s, n) for m, s, n in zip(rows["mean"], rows["std"],
                                                                  rows["n"], strict=True)])
    table = rows.pivot(index="fraction", columns="method", values="value").sort_index()
    table = table.rename(columns=METHODS).reset_index()
    table.insert(0, "replayed", [f"{100 * p:g} %" for p in table.pop("fraction")])
    table.columns.name = None
    return for_people(table)


#: A reading of a quoted fraction tested beside it: the decimal slipped (0.75 % for 7.5 %).
SLIPPED_DECIMAL = 10


def quoted_fraction_verdict(chapter_id: str, records: pd.DataFrame) -> str:
    """Markdown: each paper number quoted at a fraction, against the committed ``paper``-profile
    mean at that fraction and at ten times it (the candidate that the quoted figure slipped a
    decimal), with the verdict of each (within two paper standard deviations)."""
    paper = load_paper_values()
    paper = paper[(paper["chapter_id"] == chapter_id) & (paper["metric"] == "final_acc")]
    rows = setting.expand(records[(records["chapter_id"] == chapter_id)
                                  & (records["metric"] == "final_acc")])
    lines = []
    for _, p in paper.iterrows():
        at = setting.decode(p["setting"]).get("fraction")
        ours = rows[rows["method"] == p["method"]].set_index("fraction") if len(rows) else rows
        slipped = round(at * SLIPPED_DECIMAL, 12) if at else None
        readings = [(at, "as quoted"), (slipped, "decimal slipped")]
        found = [(f, why, ours.loc[f]) for f, why in readings
                 if f is not None and f in ours.index]
        if not found:
            continue
        parts = []
        for f, why, r in found:
            verdict = paper_spread(r["mean"], p["value"], p["std"])
            word = "missed" if verdict in PAPER_MISSES else SHORT[verdict].lstrip("✓ ")
            parts.append(f"at {100 * f:g} % ({why}) {fmt_pm(r['mean'], r['std'])}, "
                         f"{r['mean'] - p['value']:+.2f} points: **{word}**")
        lines.append(f"- {method_name(p['method'])}, paper {fmt_pm(p['value'], p['std'])} "
                     f"quoted at {100 * at:g} %: ours " + "; ".join(parts) + ".")
    return "\n".join(lines)


def full_replay_note(fractions: tuple[float, ...]) -> str:
    """Markdown: what p = 100 % means here, since the original script cannot run it."""
    ran = any(p == 1.0 for p in fractions)
    first = ("This run includes p = 100 %." if ran else
             "This run does not include p = 100 %; the committed paper-profile sweep of the MNIST "
             "chapter does.")
    return (f"{first} At p = 100 % the original script cannot run: rounding the number of old "
            "examples to hundreds can ask for more than exist. We cap the count at the number "
            "that exist, and since the training set is then not a multiple of the batch size, "
            "the last partial batch of each epoch is dropped ({ref}`dev-rehearsal-cap`).")

"""Tables the chapters show, formatted for people: our numbers beside the paper's."""

from __future__ import annotations

import textwrap

import pandas as pd
from pandas.io.formats.style import Styler

from ..protocols import crossmodal
from ..protocols.tuning import winners
from ..results.paper import (
    OUTSIDE,
    SHORT,
    WITHIN,
    WITHIN_BAND,
    fmt_pm,
    load_paper_values,
    paper_spread,
)
from ..results.record import KEY, summarise
from . import stats
from .names import METHODS, METRICS, STRENGTHS, method_name

#: Cell spacing, so that neighbouring columns do not run together.
#: Characters per line of a column of long text.
WRAP_WIDTH = 48
CELL_STYLE = [{"selector": "td, th",
               "props": "padding: 3px 12px; text-align: left; white-space: nowrap;"}]


def for_people(
    table: pd.DataFrame, digits: int = 2, *, compact: bool = False, wrap: tuple[str, ...] = (),
    wrap_width: int = WRAP_WIDTH,
) -> Styler:
    """No index column, numbers to ``digits`` places, "—" for missing values, "48.47 ± 5.03" kept
    on one line; ``compact`` sets a smaller type for wide tables, ``wrap`` names the columns of
    long text that may wrap (at ``wrap_width`` characters)."""
    styles = CELL_STYLE + ([{"selector": "", "props": "font-size: 0.8em;"}] if compact else [])
    styler = (table.style.hide(axis="index").format(na_rep="—", precision=digits)
              .set_table_styles(styles))
    wrapped = [c for c in wrap if c in table.columns]
    if wrapped:
        styler = styler.format(lambda text: "<br>".join(textwrap.wrap(str(text), wrap_width)),
                               subset=wrapped, na_rep="—")
    return styler


def headline(df: pd.DataFrame) -> pd.DataFrame:
    """Rows marked ``headline``, one per (dataset, method, metric, trial)."""
    return df[df["headline"].fillna(False).astype(bool)].copy()


def committed_trials(trials: pd.DataFrame, chapter_id: str, settings: str | None = None
                     ) -> pd.DataFrame:
    """One chapter's recorded trials (``results/paper/trials``) as headline rows a chapter's
    report functions read. ``settings`` is a regular expression whose named groups are settings
    the metric name carries (``_e(?P<epochs>\\d+)`` in ``test_after_e10``): each becomes a
    column, of numbers where it holds numbers, missing where a name has none."""
    rows = trials[trials["chapter_id"] == chapter_id].assign(headline=True)
    if settings is not None:
        found = rows["metric"].str.extract(settings).apply(_as_numbers)
        rows = pd.concat([rows, found], axis=1)
    return rows


def _as_numbers(column: pd.Series) -> pd.Series:
    """Integers or floats when every present value is a number; the words otherwise."""
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.isna().sum() > column.isna().sum():
        return column
    whole = numbers.notna().all() and (numbers == numbers.round()).all()
    return numbers.astype(int) if whole else numbers


def compare_to_paper(df: pd.DataFrame, chapter_id: str) -> pd.DataFrame:
    """Our mean, std, n beside the paper's value and std, the difference and ``vs paper``.

    ``vs paper`` is :func:`sleeputils.results.paper.paper_spread`: within 2 paper std, or within
    1 point where the paper prints no spread (so a miss is always called a miss).
    """
    first_seen = headline(df)[KEY].drop_duplicates()  # the run's order, not the alphabet's
    ours = first_seen.merge(summarise(df)[[*KEY, "mean", "std", "n"]], on=KEY)
    paper = load_paper_values()
    paper = paper[paper["chapter_id"] == chapter_id]
    table = ours.merge(paper, on=["dataset", "method", "metric"], how="left",
                       suffixes=("", "_paper"))
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
    return "\n".join(lines) if lines else "No baseline was run."


#: How a baseline's verdict against sequential training reads.
BASELINE_WORDS = {stats.HIGHER: "**better** than", stats.LOWER: "**worse** than",
                  stats.UNCLEAR: "**no different** from"}


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


def weight_claim(weights: pd.DataFrame) -> str:
    """Markdown: does sleep make task-1-unique pixels inhibitory for the task-2 outputs?

    ``weights`` is :func:`sleeputils.report.figures.mean_weights` at one overlap (index: pixel
    group, output group; columns after_task2, after_sleep). The paper's claim is supported when
    that mean weight falls by sleep by at least a tenth of the largest change; the sentence also
    names the pixel → output pathway sleep changed most, so a different mechanism is visible.
    """
    change = (weights["after_sleep"] - weights["after_task2"]).rename("change")
    claimed = change.loc[("task1_unique", "task-2 outputs")]
    biggest = change.abs().idxmax()
    supported = claimed < 0 and abs(claimed) >= 0.1 * abs(change.loc[biggest])
    verdict = "**supported**" if supported else "**not supported**"
    return (
        f"Task-1-unique pixels → task-2 outputs: mean weight "
        f"{weights.loc[('task1_unique', 'task-2 outputs'), 'after_task2']:+.4f} before sleep, "
        f"{weights.loc[('task1_unique', 'task-2 outputs'), 'after_sleep']:+.4f} after "
        f"(change {claimed:+.4f}): the paper's claim is {verdict} here. The pathway sleep changed "
        f"most is {biggest[0].replace('_', '-')} pixels → {biggest[1]} "
        f"(change {change.loc[biggest]:+.4f})."
    )


def rehearsal_gains(df: pd.DataFrame) -> pd.DataFrame:
    """Per fraction: mean and std of rehearsal, rehearsal + SRC and SRC's paired gain, and n.

    The gain is computed per trial (both nets share initial weights, batches and stored
    examples), then averaged, so its std is that of the paired difference.
    """
    rows = df[df["metric"].str.startswith("final_acc_p")]
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
    rows = df[df["metric"].str.startswith("final_acc_p")]
    means = rows.groupby(["method", "fraction"])["value"].mean()
    lines = []
    for _, row in paper.iterrows():
        if row["method"] not in means.index.get_level_values(0):
            continue
        curve = means.loc[row["method"]]
        below, above = curve[curve < row["value"]], curve[curve >= row["value"]]
        where = _bracket(below, above)
        method = method_name(row["method"])
        if row.get("metric", "final_acc") != "final_acc":
            method += f", {row['metric']}"
        lines.append(f"- {method}: paper {row['value']:.2f}"
                     + ("" if pd.isna(row["std"]) else f" ± {row['std']:.2f}")
                     + f"; ours {where}.")
    return "\n".join(lines) if lines else "The paper gives no rehearsal number for this data set."


def _bracket(below: pd.Series, above: pd.Series) -> str:
    """'reaches it between 1 % (70.1) and 10 % (90.2) replayed', or why it never does."""
    def at(s: pd.Series, i) -> str:
        return f"{100 * i:g} % ({s[i]:.2f})"
    if above.empty:
        return f"stays below it at every fraction run (best: {at(below, below.idxmax())})"
    if below.empty:
        return f"is above it at every fraction run (lowest: {at(above, above.idxmin())})"
    lo, hi = below.index.max(), above.index.min()
    if lo < hi:
        return f"reaches it between {at(below, lo)} and {at(above, hi)} replayed"
    return "crosses it more than once (not monotone in the fraction)"


def committed_sweep(chapter_id: str, records: pd.DataFrame) -> Styler | str:
    """The full rehearsal sweep of the committed ``paper``-profile records, one row per fraction.

    ``records`` is :func:`sleeputils.results.record.load_records` for the paper profile. Returns
    a Markdown sentence instead when that chapter has no committed records yet.
    """
    rows = records[(records["chapter_id"] == chapter_id)
                   & records["metric"].astype(str).str.startswith("final_acc_p")]
    if rows.empty:
        return (f"No `paper`-profile records of {chapter_id} are committed yet: run "
                f"`sleepbook run {chapter_id} --profile paper` and commit `results/paper/`.")
    rows = rows.assign(
        fraction=rows["metric"].str.removeprefix("final_acc_p").astype(float),
        value=[fmt_pm(m, s, n) for m, s, n in zip(rows["mean"], rows["std"], rows["n"],
                                                   strict=True)])
    table = rows.pivot(index="fraction", columns="method", values="value").sort_index()
    table = table.rename(columns=METHODS).reset_index()
    table.insert(0, "replayed", [f"{100 * p:g} %" for p in table.pop("fraction")])
    table.columns.name = None
    return for_people(table)


def patches_table(df: pd.DataFrame) -> Styler:
    """Accuracy on all four images per overlap: after task 1, after task 2, after sleep."""
    acc = df[df["metric"].str.startswith("acc_")]
    stats = acc.groupby(["overlap", "stage"])["value"].agg(["mean", "std"])
    table = pd.DataFrame({"overlap": sorted(acc["overlap"].unique())})
    for stage, name in (("after_task1", "after task 1"), ("after_task2", "after task 2"),
                        ("after_sleep", "after sleep")):
        table[name] = [fmt_pm(*stats.loc[(o, stage)], digits=1) if (o, stage) in stats.index
                       else "—" for o in table["overlap"]]
    return for_people(table)


def parallel_gap(table: pd.DataFrame) -> str:
    """Markdown: how far our parallel (upper-bound) net is from the paper's, from the numbers.

    ``table`` is :func:`compare_to_paper`.
    """
    row = table[(table["method"] == "parallel") & (table["metric"] == "final_acc")]
    if row.empty or row["paper"].isna().all():
        return "The paper gives no parallel number for this data set."
    r = row.iloc[0]
    if abs(r["difference"]) <= 1.0:
        return (f"Our parallel net reaches {fmt_pm(r['mean'], r['std'])} %, within a point of "
                f"the paper's {r['paper']:.2f} %.")
    side = "below" if r["difference"] < 0 else "above"
    return (f"Our parallel net reaches {fmt_pm(r['mean'], r['std'])} % (n = {int(r['n'])}), "
            f"{abs(r['difference']):.2f} points {side} the paper's {r['paper']:.2f} %.")


def patches_verdict(df: pd.DataFrame) -> str:
    """Markdown: at how many overlaps sleep raised accuracy after task 2, and by how much."""
    acc = df[df["metric"].str.startswith("acc_")]
    means = acc.groupby(["overlap", "stage"])["value"].mean().unstack("stage")
    gain = means["after_sleep"] - means["after_task2"]
    helped, hurt = gain[gain > 0], gain[gain < 0]
    text = (f"Sleep raised the mean accuracy after task 2 at {len(helped)} of {len(gain)} "
            f"overlaps and lowered it at {len(hurt)}")
    if len(helped):
        best = helped.idxmax()
        text += (f"; the largest recovery is at overlap {best} "
                 f"({means.loc[best, 'after_task2']:.1f} → {means.loc[best, 'after_sleep']:.1f} %)")
    return text + "."


def full_replay_note(fractions: tuple[float, ...]) -> str:
    """Markdown: what p = 100 % means here, since the original script cannot run it."""
    ran = any(p == 1.0 for p in fractions)
    first = ("This run includes p = 100 %." if ran else
             "This run does not include p = 100 %; the committed paper-profile sweep on MNIST "
             "below does.")
    return (f"{first} At p = 100 % the original script cannot run: rounding the number of old "
            "examples to hundreds can ask for more than exist. We cap the count at the number "
            "that exist, and since the training set is then not a multiple of the batch size, "
            "the last partial batch of each epoch is dropped ({ref}`dev-rehearsal-cap`).")


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


def two_task_table(df: pd.DataFrame, chapter_id: str) -> Styler:
    """One row per method: accuracy on each task's test images beside the paper's."""
    t = compare_to_paper(df, chapter_id)
    out = []
    for method, g in t.groupby("method", sort=False):
        row = {"method": method_name(method), "n": int(g["n"].max())}
        for _, r in g.sort_values("metric").iterrows():
            task = r["metric"].removesuffix("_acc").replace("task", "task ")
            row[f"{task} (%)"] = fmt_pm(r["mean"], r["std"])
            row[f"{task}, paper"] = fmt_pm(r["paper"], r["paper std"])
        out.append(row)
    return for_people(pd.DataFrame(out))

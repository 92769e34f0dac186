"""The generative-replay chapters: error per cycle on both datasets, the schedules themselves,
recalls, dreams and error distributions, and verdicts on the patterns the original's figures
show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler
from scipy import stats

from ..protocols.vae import unpack_floats
from ..protocols.vae_common import blank_errors, unpack_images
from ..results.paper import fmt_pm
from .names import GENERATIVE_DATA as NAMES
from .stats import ALPHA, mean_ci
from .tables import for_people

#: A schedule's recorded final error on each dataset, and the per-cycle metric it is the last of.
FINAL = {"d1_final": "d1_error", "d2_final": "d2_error"}
#: The dataset (``d1``: remote, ``d2``: recent) each per-dataset metric is measured on.
DATA_OF = {f"{d}_{kind}": d for d in ("d1", "d2")
           for kind in ("error", "recall", "mse", "final", "after")}
#: Fewest runs for which a rank correlation gets a p-value in the verdicts.
MIN_RUNS_FOR_P = 5
#: A run whose error exceeds this multiple of the median of its group is named in the verdict.
FAR = 2.0
#: A run whose final errors lie this close to a blank page's on both datasets has collapsed.
COLLAPSE = 1.0


def correlation(x: pd.Series, y: pd.Series) -> str:
    """``Spearman ρ = +0.80, p = 0.01, 9 runs``; below ``MIN_RUNS_FOR_P`` runs, no p-value."""
    rho, p = stats.spearmanr(x, y)
    test = f", p = {p:.2g}" if len(x) >= MIN_RUNS_FOR_P else " (too few runs for a test)"
    return f"Spearman ρ = {rho:+.2f}{test}, {len(x)} runs"


def trend(x: pd.Series, y: pd.Series) -> str | None:
    """``"higher"`` or ``"lower"``: how ``y`` goes as ``x`` grows (the sign of Spearman's ρ);
    None when there are enough runs for a test (``MIN_RUNS_FOR_P``) and it finds no trend
    (p ≥ ALPHA, or no variation)."""
    rho, p = stats.spearmanr(x, y)
    if len(x) >= MIN_RUNS_FOR_P and not p < ALPHA:
        return None
    return "lower" if rho < 0 else "higher"


def trend_line(x: pd.Series, y: pd.Series, more: str, factor: str, what: str,
               tail: str = "") -> str:
    """``- {more} a **lower** {what} (ρ, p, runs{tail}).`` or, without a significant trend,
    ``- {factor} has **no clear effect** on the {what} (...).``"""
    word = trend(x, y)
    head = (f"{more} a **{word}** {what}" if word
            else f"{factor} has **no clear effect** on the {what}")
    return f"- {head} ({correlation(x, y)}{tail})."


def far_line(runs: pd.DataFrame, name: str, what: str, run: Callable[[Any], str],
             setting: str, digits: int) -> str:
    """``- k of n runs end far above the others on {name} (over FAR times the median {what},
    m): {run(r)}; ...`` with the setting whose mean and spread they carry; "" when none does or
    there is only one seed (``runs``: rows with ``value`` and ``trial``)."""
    median = runs["value"].median()
    far = runs[runs["value"] > FAR * median]
    if far.empty or runs["trial"].nunique() < 2:  # one seed per setting: no spread to carry
        return ""
    one = len(far) == 1
    return (f"- {len(far)} of {len(runs)} runs {'ends' if one else 'end'} far above the others "
            f"on {name} (over {FAR:g} times the median {what}, {median:.{digits}f}): "
            + "; ".join(run(r) for r in far.itertuples()) + ". "
            + (f"It carries the mean and spread of its {setting}." if one else
               f"They carry the means and spreads of their {setting}s."))


def label(cycles: int, first: float, last: float, source: str) -> str:
    """``10 cycles, REM 0.5, frozen`` or, for a ramp, ``10 cycles, REM 0.2→0.8, frozen``."""
    share = f"{first:g}" if first == last else f"{first:g}→{last:g}"
    return f"{int(cycles)} cycles, REM {share}, {source}"


def _schedules(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.copy()
    rows["rem_end"] = rows["rem_end"].fillna(rows["rem_share"])
    rows["constant"] = rows["rem_end"] == rows["rem_share"]
    rows["schedule"] = [label(*s) for s in zip(rows["cycles"], rows["rem_share"],
                                               rows["rem_end"], rows["rem_from"], strict=True)]
    return rows


def errors(df: pd.DataFrame, kind: str = "error") -> pd.DataFrame:
    """One row per (schedule, seed, cycle, dataset) with the mean test error (``kind`` =
    "error") or the recall accuracy (``kind`` = "recall")."""
    rows = _schedules(df[df["metric"].isin([f"d1_{kind}", f"d2_{kind}"])])
    rows["data"] = rows["metric"].map(DATA_OF)
    return rows


def final_table(df: pd.DataFrame) -> Styler:
    """One row per schedule; per dataset the error before the schedule (when measured) and at
    its end, mean ± std and the 95 % confidence interval of the mean over seeds."""
    e = errors(df)
    out: dict[str, dict] = {}
    for (schedule, data), d in e.groupby(["schedule", "data"], sort=False):
        end = d[d["cycle"] == d["cycle"].max()].groupby("trial")["value"].mean()
        row = out.setdefault(schedule, {"schedule": schedule, "seeds": len(end)})
        name = f"dataset {data[1]}"
        row |= {f"{name} before": d.loc[d["cycle"] == 0, "value"].mean(),
                f"{name} after": fmt_pm(end.mean(), end.std(), digits=1),
                f"{name} CI": _interval(end)}
    table = pd.DataFrame(out.values()).dropna(axis=1, how="all")
    first = "schedule"
    if table["seeds"].nunique() == 1:  # the same for every schedule: said once, in the header
        first = f"schedule ({table['seeds'].iloc[0]} seeds)"
        table = table.drop(columns="seeds").rename(columns={"schedule": first})
    return for_people(table, digits=1, compact=True, wrap=(first,), wrap_width=22)


def committed_finals(full: pd.DataFrame) -> pd.DataFrame:
    """A committed run's final errors (:data:`FINAL`, each schedule under its setting) as the
    rows :func:`errors` reads: each schedule's last cycle, nothing before it."""
    rows = renamed(full, FINAL)
    rows = rows.sort_values(["cycles", "rem_share", "rem_end", "rem_from"], na_position="first")
    return rows.assign(cycle=rows["cycles"])


def renamed(full: pd.DataFrame, metrics: dict[str, str]) -> pd.DataFrame:
    """The committed trial rows of the recorded ``metrics`` (keys), renamed to the per-dataset
    metric the chapter's functions read (values)."""
    rows = full[full["metric"].isin(list(metrics))] if "metric" in full else full.iloc[:0]
    return rows.assign(metric=rows["metric"].map(metrics))


def _interval(values: pd.Series) -> str:
    """The t interval of the mean, "[a, b]"; "—" with fewer than two seeds."""
    if len(values) < 2:
        return "—"
    low, high = mean_ci(values)  # zero width for seeds that agree exactly (a collapsed model)
    return f"[{low:.1f}, {high:.1f}]"


def schedule_verdicts(df: pd.DataFrame) -> str:
    """Markdown: the original's three patterns, each tested on these runs (constant shares)."""
    e = errors(df)
    e = e[e["constant"]]
    mean = e.groupby(["cycles", "rem_share", "rem_from", "data", "cycle"])["value"].mean()
    lines = []
    nrem = mean.xs(0.0, level="rem_share") if 0.0 in mean.index.levels[1] else mean.iloc[:0]
    for cycles, g in nrem.groupby(level="cycles"):  # without REM the source is moot: once
        g = g.xs(g.index.get_level_values("rem_from")[0], level="rem_from")
        d1 = g.xs("d1", level="data").droplevel("cycles")
        if not {0, 1} <= set(d1.index):  # a run that kept final errors only
            continue
        reached = (d1.loc[1] - d1.loc[0]) / (d1.iloc[-1] - d1.loc[0])
        lines.append(f"- Pure NREM, {int(cycles)} cycles: after the first cycle the "
                     f"dataset-1 error has made {100 * reached:.0f} % of its whole rise "
                     f"({d1.loc[0]:.1f} → {d1.loc[1]:.1f}, final {d1.iloc[-1]:.1f}): "
                     + ("**forgotten within the first cycle**." if reached >= 0.8 else
                        "**not** forgotten within the first cycle."))
    final = e[e["cycle"] == e["cycles"]]
    f1 = final[final["data"] == "d1"].groupby(["cycles", "rem_share", "rem_from"])["value"].mean()
    start = e.loc[(e["cycle"] == 0) & (e["data"] == "d1"), "value"].mean()
    for (cycles, source), g in f1.groupby(level=[0, 2]):
        g = g.droplevel([0, 2])
        if 0 in g.index and 0.5 in g.index and np.isfinite(start) and g[0] != start:
            kept = 1 - (g[0.5] - start) / (g[0] - start)
            lines.append(f"- 50/50 against pure NREM, {int(cycles)} cycles ({source}): the REM "
                         f"half prevents {100 * kept:.0f} % of the forgetting of dataset 1 "
                         f"(final error {g[0.5]:.1f} against {g[0]:.1f}; before {start:.1f}).")
    half = final[final["rem_share"] == 0.5]
    for (source, data), d in half.groupby(["rem_from", "data"]):  # sources differ: not pooled
        if d["cycles"].nunique() >= 3:
            lines.append(trend_line(d["cycles"], d["value"],
                                    f"With a 50/50 schedule ({source}), more and shorter "
                                    "cycles give",
                                    f"With a 50/50 schedule ({source}), the number of cycles",
                                    f"final error on {NAMES[data]}"))
            lines.append(far_line(d, NAMES[data], "final error",
                                  lambda r: f"{r.cycles:g} cycles, seed {r.trial:g} "
                                            f"({r.value:.1f})", "cycles value", 1))
    return "\n".join(line for line in lines if line)


def collapse_verdict(df: pd.DataFrame, config=None,
                     blanks: dict[str, dict[str, float]] | None = None) -> str:
    """Markdown: the runs whose final errors on both datasets lie within ``COLLAPSE`` of a
    blank page's (``blanks``, by default computed on the test images ``config`` scores;
    book/methods/generative.md, vae-memory), by schedule; "" when none did."""
    blanks = blanks or blank_errors(config.split, config.test_subset)
    e = errors(df).sort_values(["cycles", "rem_share", "rem_end", "rem_from", "trial"])
    if (e["rem_from"] == "frozen").any():  # a REM-free run is listed under both sources: once
        e = e[~(e["constant"] & (e["rem_share"] == 0) & (e["rem_from"] == "current"))]
    final = e[e["cycle"] == e["cycles"]].pivot_table(
        index=["schedule", "trial"], columns="data", values="value", sort=False)
    lines = []
    for page, ref in blanks.items():
        hit = final[(final["d1"] - ref["d1"]).abs().lt(COLLAPSE)
                    & (final["d2"] - ref["d2"]).abs().lt(COLLAPSE)]
        if hit.empty:
            continue
        seeds = hit.reset_index().groupby("schedule", sort=False)["trial"].apply(
            lambda t: ", ".join(f"{x:g}" for x in t))
        which = "; ".join(f"{s} (seed{'s' * (',' in t)} {t})" for s, t in seeds.items())
        lines.append(f"- {len(hit)} of {len(final)} runs end at the error of a blank {page} page "
                     f"on both datasets ({ref['d1']:.1f} and {ref['d2']:.1f}): their VAE "
                     f"**collapsed**, recalling every image as the same blank: {which}.")
    return "\n".join(lines)


def committed_verdicts(full: pd.DataFrame, config) -> str:
    """Markdown: the verdicts a committed run's final errors support (``full`` from
    :func:`committed_finals`, ``config`` what it ran): cycles at a 50/50 share, the sweep, and
    the runs that collapsed to a blank page."""
    if full.empty:
        return ""
    return "\n".join(line for line in [schedule_verdicts(part(full, config, "grid")),
                                        sweep_verdict(part(full, config, "sweep")),
                                        collapse_verdict(full, config)] if line)


def part(df: pd.DataFrame, config, which: str) -> pd.DataFrame:
    """The rows of one part of a schedules run: ``"grid"`` (the original's figures: its constant
    shares at every cycles value, the sweep's included) or ``"sweep"`` (constant shares and
    ramps at the sweep's cycles)."""
    rows = _schedules(df)
    if which == "grid":
        cycles = [*config.cycles, config.sweep_cycles]  # the sweep's share too, if it is one
        keep = (rows["constant"] & rows["rem_share"].isin(config.rem_shares)
                & rows["cycles"].isin(cycles) & rows["rem_from"].isin(config.rem_from))
    else:
        keep = (rows["cycles"] == config.sweep_cycles) & (
            (rows["constant"] & rows["rem_share"].isin(config.sweep_shares or ())
             & (rows["rem_from"] == "frozen")) | ~rows["constant"])
    return df[keep.to_numpy()]


def error_curves(df: pd.DataFrame, kind: str = "error") -> plt.Figure:
    """Mean test error (or recall accuracy) after every cycle, one panel per dataset, one line
    per schedule (mean ± std over seeds)."""
    e = errors(df, kind)
    e["data"] = e["data"].map(NAMES)
    e["progress"] = e["cycle"] / e["cycles"]
    grid = sns.relplot(e, x="progress", y="value", hue="schedule", col="data", kind="line",
                       marker="o", errorbar="sd", height=3.4, aspect=1.25,
                       facet_kws={"sharey": False})
    what = ("mean reconstruction error (summed |x − x̂|)" if kind == "error" else
            "recalls read as their digit (%)")
    grid.set_axis_labels("fraction of the schedule done (0 = before it)", what)
    grid.set_titles("{col_name}")
    return grid.figure


def share_sweep(df: pd.DataFrame) -> plt.Figure:
    """Final error on each dataset against the constant REM share (``df``: the sweep part);
    each ramp as a labelled point at its mean share."""
    e = errors(df)
    final = e[e["cycle"] == e["cycles"]].copy()
    final["mean share"] = (final["rem_share"] + final["rem_end"]) / 2
    final["data"] = final["data"].map(NAMES)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (name, d) in zip(axes, final.groupby("data"), strict=True):
        flat = d[d["constant"]]
        sns.lineplot(flat, x="rem_share", y="value", marker="o", errorbar="sd", ax=ax,
                     label="constant share")
        ramp = d[~d["constant"]]
        if len(ramp):
            sns.scatterplot(ramp, x="mean share", y="value", marker="D", s=70, color="tab:red",
                            ax=ax, label=ramp["schedule"].iloc[0].split(", ")[1])
        ax.set(title=name, xlabel="REM share of each cycle (ramp: its mean)",
               ylabel="final reconstruction error")
    fig.tight_layout()
    return fig


def sweep_verdict(df: pd.DataFrame) -> str:
    """Markdown: does more REM keep dataset 1 and cost dataset 2 (Spearman over the sweep's
    runs, ``df`` its part)? And where do the ramps land?"""
    e = errors(df)
    final = e[(e["cycle"] == e["cycles"]) & e["constant"]]
    if final["rem_share"].nunique() < 3:
        return "The sweep needs at least three REM shares."
    lines = []
    for data, name in NAMES.items():
        d = final[final["data"] == data]
        lines.append(trend_line(d["rem_share"], d["value"], "More REM gives",
                                "The REM share", f"final error on {name}"))
    ends = e[(e["cycle"] == e["cycles"]) & ~e["constant"]]
    half = final[final["rem_share"] == 0.5].groupby("data")["value"].mean()
    for (schedule, data), d in ends.groupby(["schedule", "data"]):
        if data in half:
            lines.append(f"- {schedule} ends at {d['value'].mean():.1f} on {NAMES[data]}, "
                         f"against {half[data]:.1f} for a constant 0.5.")
    return "\n".join(lines)


def recall_images(df: pd.DataFrame, schedules: list[str]) -> plt.Figure:
    """For each schedule, originals (top row) and recalls (below) of both datasets at cycle 0,
    after the first cycle and at the end; the first seed."""
    rows = _schedules(df[df["metric"] == "recalls"])
    rows = rows[rows["schedule"].isin(schedules) & (rows["trial"] == rows["trial"].min())]
    panels = [(s, d) for s in schedules for d in NAMES]
    cycles = sorted(rows["cycle"].unique())
    fig, axes = plt.subplots(len(panels), len(cycles) + 1, squeeze=False,
                             figsize=(2.2 * (len(cycles) + 1), 1.25 * len(panels)))
    for r, (schedule, data) in enumerate(panels):
        sel = rows[(rows["schedule"] == schedule) & (rows["data"] == data)]
        for c, cycle in enumerate([None, *cycles]):
            ax = axes[r, c]
            ax.axis("off")
            pick = sel[sel["cycle"] == (cycles[0] if cycle is None else cycle)]
            if not len(pick):
                continue
            images = unpack_images(pick["blob"].iloc[0])
            half = len(images) // 2
            shown = images[:half] if cycle is None else images[half:]
            ax.imshow(np.hstack(list(shown[:4])), cmap="gray", vmin=0, vmax=1)
            title = "original" if cycle is None else f"recall, cycle {int(cycle)}"
            if r == 0:
                ax.set_title(title, fontsize=8)
        axes[r, 0].text(-0.05, 0.5, f"{schedule}\n{NAMES[data]}", transform=axes[r, 0].transAxes,
                        ha="right", va="center", fontsize=7)
    fig.tight_layout()
    return fig


def dream_images(df: pd.DataFrame) -> plt.Figure:
    """REM samples (the images each REM phase trains on) after the first and the last cycle,
    frozen against current source, at the sweep's cycles; the first seed."""
    rows = _schedules(df[df["metric"] == "rem_samples"])
    rows = rows[(rows["trial"] == rows["trial"].min()) & rows["constant"]]
    rows = rows.sort_values(["rem_from", "rem_share", "cycles", "cycle"])
    picks = rows.groupby(["rem_from", "cycle"] if rows["rem_from"].nunique() > 1 else ["cycle"])
    picks = [g[(g["rem_share"] == 0.5) | (g["rem_share"] == g["rem_share"].max())].iloc[0]
             for _, g in picks]
    fig, axes = plt.subplots(len(picks), 1, figsize=(8, 1.05 * len(picks)), squeeze=False)
    for ax, row in zip(axes[:, 0], picks, strict=True):
        ax.imshow(np.hstack(list(unpack_images(row["blob"]))), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{row['schedule']}: REM samples of cycle {int(row['cycle'])}", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig


def error_histograms(df: pd.DataFrame, schedule: str) -> plt.Figure:
    """Per-image errors of the first 1000 test images of each dataset before the schedule, after
    its first cycle and at its end (all seeds): how the whole distribution moves."""
    rows = _schedules(df[df["metric"] == "errors"])
    rows = rows[rows["schedule"] == schedule]
    parts = [pd.DataFrame({"error": unpack_floats(r["blob"]), "data": NAMES[r["data"]],
                           "cycle": f"cycle {int(r['cycle'])}"}) for _, r in rows.iterrows()]
    e = pd.concat(parts, ignore_index=True)
    grid = sns.displot(e, x="error", hue="cycle", col="data", kind="hist", bins=25,
                       stat="density", common_norm=False, element="step", height=3.2,
                       aspect=1.3, facet_kws={"sharex": False, "sharey": False})
    grid.set_axis_labels("reconstruction error of one test image", "density")
    grid.set_titles("{col_name}")
    grid.figure.suptitle(schedule, y=1.03, fontsize=10)
    return grid.figure


def contrasted(df: pd.DataFrame) -> list[str]:
    """The two schedules the figures of single runs contrast: no REM and half REM, at the most
    cycles (REM from the frozen VAE where it ran)."""
    rows = _schedules(df)
    rows = rows[rows["constant"] & rows["rem_share"].isin([0.0, 0.5])]
    frozen = rows[rows["rem_from"] == "frozen"]
    rows = frozen if len(frozen) else rows
    rows = rows[rows["cycles"] == rows["cycles"].max()]
    return [rows.loc[rows["rem_share"] == s, "schedule"].iloc[0] for s in (0.0, 0.5)
            if (rows["rem_share"] == s).any()]


def schedule_bars(config) -> plt.Figure:
    """The schedules as bars on an epoch axis, NREM (red, upper row), REM (blue, lower row): a
    constant half of REM at every cycles value of ``config``, then its ramp (if any)."""
    from ..protocols.vae import rem_share

    rows = [(c, 0.5, 0.5) for c in config.cycles]
    rows += [(config.sweep_cycles, *config.ramp)] if config.ramp else []
    total = config.total_epochs
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 0.9 * len(rows) + 0.6), sharex=True,
                             squeeze=False)
    for ax, (c, first, last) in zip(axes[:, 0], rows, strict=True):
        per = total // c
        rems = [int(rem_share(first, last, k, c) * per) for k in range(c)]
        starts = np.arange(c) * per
        ax.broken_barh([(s, per - r) for s, r in zip(starts, rems, strict=True)], (10, 8),
                       color="tab:red")
        ax.broken_barh([(s + per - r, r) for s, r in zip(starts, rems, strict=True) if r],
                       (0, 8), color="tab:blue")
        ax.set_yticks([4, 14], ["REM", "NREM"])
        share = f"{first:g}" if first == last else f"{first:g}→{last:g}"
        ax.set_ylabel(f"{c} cycles\nREM {share}", rotation=0, ha="right", va="center")
    axes[-1, 0].set_xlabel("epoch")
    fig.tight_layout()
    return fig

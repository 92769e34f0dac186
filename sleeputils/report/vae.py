"""The generative-replay chapters: error per cycle on both datasets, the schedules themselves,
recalls, dreams and error distributions, verdicts on the patterns the original's figures show,
and the figures' own final errors beside ours.

A run may hold several code versions of the original (vae-versions, the ``code_version`` column
or setting): its tables and figures show each apart, and its verdicts are stated per version.
Rows of one version (or naming none) read as a run of that version alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler
from scipy import stats

from ..protocols.vae import unpack_floats
from ..protocols.vae_common import blank_errors, unpack_images
from ..results import setting as settings
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
#: The column (and setting) naming a run's code version of the original (vae-versions).
VERSION = "code_version"
#: How a verdict names each code version.
VERSION_NAMES = {"2023": "2023 code (the published figures': cross-entropy, leaky ReLU)",
                 "2024": "2024 code (current: absolute error, ReLU)"}
#: The original's published final errors, read off its schedule figures (keyed like records).
PUBLISHED_FILE = Path(__file__).with_name("vae_published.csv")
#: The code version the published figures were made with.
PUBLISHED_VERSION = "2023"


def versions(df: pd.DataFrame) -> list[str]:
    """The code versions ``df``'s rows ran, in order; empty when they name none."""
    if VERSION not in df:
        return []
    return sorted(df[VERSION].dropna().astype(str).unique())


def by_version(rows: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(how a title names the version, its rows) per code version of ``rows``: one pair
    ``("", rows)`` when they hold at most one version, so such a run's figures read as ever."""
    found = versions(rows)
    if len(found) < 2:
        return [("", rows)]
    return [(f", {v} code", rows[rows[VERSION].astype(str) == v]) for v in found]


def per_version(df: pd.DataFrame, verdicts: Callable[[pd.DataFrame], str]) -> str:
    """Markdown: ``verdicts`` of each code version's rows under a line naming the version, or of
    ``df`` as it is when it holds at most one version."""
    found = versions(df)
    if len(found) < 2:
        return verdicts(df)
    parts = []
    for version in found:
        text = verdicts(df[df[VERSION].astype(str) == version])
        if text:
            parts.append(f"**{VERSION_NAMES.get(version, f'{version} code')}**\n\n{text}")
    return "\n\n".join(parts)


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
    if VERSION in rows:
        rows[VERSION] = rows[VERSION].astype(str)
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
    """One row per schedule (and code version, when there are several); per dataset the error
    before the schedule (when measured) and at its end, mean ± std and the 95 % confidence
    interval of the mean over seeds."""
    e = errors(df)
    multi = len(versions(e)) > 1
    out: dict[tuple, dict] = {}
    for (*run, data), d in e.groupby([VERSION, "schedule", "data"] if multi else
                                     ["schedule", "data"], sort=False):
        end = d[d["cycle"] == d["cycle"].max()].groupby("trial")["value"].mean()
        row = out.setdefault(tuple(run), {**({"code": run[0]} if multi else {}),
                                          "schedule": run[-1], "seeds": len(end)})
        name = f"dataset {data[1]}"
        row |= {f"{name} before": d.loc[d["cycle"] == 0, "value"].mean(),
                f"{name} after": fmt_pm(end.mean(), end.std(), digits=1),
                f"{name} CI": _interval(end)}
    table = pd.DataFrame(out.values()).dropna(axis=1, how="all")
    if multi:  # each version's schedules together, in the order they ran
        table = table.sort_values("code", kind="stable", ignore_index=True)
    first = "schedule"
    if table["seeds"].nunique() == 1:  # the same for every schedule: said once, in the header
        first = f"schedule ({table['seeds'].iloc[0]} seeds)"
        table = table.drop(columns="seeds").rename(columns={"schedule": first})
    return for_people(table, digits=1, compact=True, wrap=(first,), wrap_width=22)


def committed_versions_note(full: pd.DataFrame, config) -> str:
    """Markdown: which code versions the committed run (``full``, from
    :func:`committed_finals`) holds, and which of those ``config`` (the paper profile's) asks
    for are not committed yet."""
    held = versions(full)
    if not held:
        return ""
    missing = [v for v in config.code_versions if v not in held]
    text = "It holds the " + " and the ".join(VERSION_NAMES[v] for v in held) + "."
    if missing:
        text += (" The " + " and the ".join(VERSION_NAMES[v] for v in missing)
                 + " is run by the profile but not committed yet.")
    return text


def committed_finals(full: pd.DataFrame) -> pd.DataFrame:
    """A committed run's final errors (:data:`FINAL`, each schedule under its setting) as the
    rows :func:`errors` reads: each schedule's last cycle, nothing before it."""
    rows = renamed(full, FINAL)
    order = [VERSION] * (VERSION in rows) + ["cycles", "rem_share", "rem_end", "rem_from"]
    rows = rows.sort_values(order, na_position="first")
    return rows.assign(cycle=rows["cycles"])


def renamed(full: pd.DataFrame, metrics: dict[str, str]) -> pd.DataFrame:
    """The committed trial rows of the recorded ``metrics`` (keys), renamed to the per-dataset
    metric the chapter's functions read (values)."""
    rows = full[full["metric"].isin(list(metrics))] if "metric" in full else full.iloc[:0]
    return rows.assign(metric=rows["metric"].map(metrics))


def _interval(values: pd.Series) -> str:
    """The t interval of the mean error, "[a, b]", cut at 0 where it reaches below (an error is
    never negative; seeds of which some collapsed give t intervals wider than their mean);
    "—" with fewer than two seeds."""
    if len(values) < 2:
        return "—"
    low, high = mean_ci(values)  # zero width for seeds that agree exactly (a collapsed model)
    return f"[{max(low, 0.0):.1f}, {high:.1f}]"


def schedule_verdicts(df: pd.DataFrame) -> str:
    """Markdown: the original's three patterns, each tested on these runs (constant shares),
    per code version (:func:`per_version`)."""
    return per_version(df, _schedule_verdicts)


def _schedule_verdicts(df: pd.DataFrame) -> str:
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
    book/methods/generative.md, vae-memory), by schedule and per code version; "" when none
    did."""
    blanks = blanks or blank_errors(config.split, config.test_subset)
    return per_version(df, lambda part: _collapse_verdict(part, blanks))


def run_verdicts(grid: pd.DataFrame, df: pd.DataFrame, config) -> str:
    """Markdown: a run's verdicts per code version: the original's patterns on its grid part
    (``grid``, rows of ``df``; :func:`schedule_verdicts`), then the runs of ``df`` that
    collapsed (:func:`collapse_verdict`)."""
    blanks = blank_errors(config.split, config.test_subset)

    def one(rows: pd.DataFrame) -> str:
        lines = [_schedule_verdicts(grid[grid.index.isin(rows.index)]),
                 _collapse_verdict(rows, blanks)]
        return "\n".join(line for line in lines if line)

    return per_version(df, one)


def _collapse_verdict(df: pd.DataFrame, blanks: dict[str, dict[str, float]]) -> str:
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
    blanks = blank_errors(config.split, config.test_subset)
    return per_version(full, lambda rows: "\n".join(
        line for line in [_schedule_verdicts(part(rows, config, "grid")),
                          _sweep_verdict(part(rows, config, "sweep")),
                          _collapse_verdict(rows, blanks)] if line))


def part(df: pd.DataFrame, config, which: str) -> pd.DataFrame:
    """The rows of one part of a schedules run: ``"grid"`` (the original's figures: its constant
    shares at every cycles value, the sweep's included) or ``"sweep"`` (constant shares and
    ramps at the sweep's cycles, with the constant 0.5 of each REM source each ramp is compared
    with)."""
    rows = _schedules(df)
    if which == "grid":
        cycles = [*config.cycles, config.sweep_cycles]  # the sweep's share too, if it is one
        keep = (rows["constant"] & rows["rem_share"].isin(config.rem_shares)
                & rows["cycles"].isin(cycles) & rows["rem_from"].isin(config.rem_from))
    else:
        keep = (rows["cycles"] == config.sweep_cycles) & (
            (rows["constant"] & rows["rem_share"].isin(config.sweep_shares or ())
             & (rows["rem_from"] == "frozen"))
            | (rows["constant"] & (rows["rem_share"] == 0.5) & (rows["rem_from"] != "frozen"))
            | ~rows["constant"])
    return df[keep.to_numpy()]


def error_curves(df: pd.DataFrame, kind: str = "error") -> plt.Figure:
    """Mean test error (or recall accuracy) after every cycle, one panel per dataset (and one
    row of panels per code version, when there are several), one line per schedule (mean ± std
    over seeds)."""
    e = errors(df, kind)
    e["data"] = e["data"].map(NAMES)
    e["progress"] = e["cycle"] / e["cycles"]
    multi = len(versions(e)) > 1
    grid = sns.relplot(e, x="progress", y="value", hue="schedule", col="data", kind="line",
                       row=VERSION if multi else None, marker="o", errorbar="sd", height=3.4,
                       aspect=1.25, facet_kws={"sharey": False})
    what = ("mean reconstruction error (summed |x − x̂|)" if kind == "error" else
            "recalls read as their digit (%)")
    grid.set_axis_labels("fraction of the schedule done (0 = before it)", what)
    grid.set_titles("{row_name} code, {col_name}" if multi else "{col_name}")
    return grid.figure


def share_sweep(df: pd.DataFrame) -> plt.Figure:
    """Final error on each dataset against the constant REM share (``df``: the sweep part);
    each ramp as a labelled point at its mean share."""
    e = errors(df)
    final = e[e["cycle"] == e["cycles"]].copy()
    final["mean share"] = (final["rem_share"] + final["rem_end"]) / 2
    final["data"] = final["data"].map(NAMES)
    codes = by_version(final)
    fig, axes = plt.subplots(len(codes), 2, figsize=(9, 3.4 * len(codes)), squeeze=False)
    panels = [(f"{name}{code}", d) for code, rows in codes for name, d in rows.groupby("data")]
    for ax, (name, d) in zip(axes.flat, panels, strict=True):
        flat = d[d["constant"] & (d["rem_from"] == "frozen")]  # the sweep's own source
        sns.lineplot(flat, x="rem_share", y="value", marker="o", errorbar="sd", ax=ax,
                     label="constant share")
        ramp = d[~d["constant"] & (d["rem_from"] == "frozen")]  # beside its own source's line
        if len(ramp):
            sns.scatterplot(ramp, x="mean share", y="value", marker="D", s=70, color="tab:red",
                            ax=ax, label=ramp["schedule"].iloc[0].split(", ")[1])
        ax.set(title=name, xlabel="REM share of each cycle (ramp: its mean)",
               ylabel="final reconstruction error")
    fig.tight_layout()
    return fig


def sweep_verdict(df: pd.DataFrame) -> str:
    """Markdown: does more REM keep dataset 1 and cost dataset 2 (Spearman over the sweep's
    runs, ``df`` its part)? And where do the ramps land? Per code version."""
    return per_version(df, _sweep_verdict)


def _sweep_verdict(df: pd.DataFrame) -> str:
    e = errors(df)
    ended = e[(e["cycle"] == e["cycles"]) & e["constant"]]
    final = ended[ended["rem_from"] == "frozen"]  # the sweep's own source
    if final["rem_share"].nunique() < 3:
        return "The sweep needs at least three REM shares."
    lines = []
    for data, name in NAMES.items():
        d = final[final["data"] == data]
        lines.append(trend_line(d["rem_share"], d["value"], "More REM gives",
                                "The REM share", f"final error on {name}"))
    ends = e[(e["cycle"] == e["cycles"]) & ~e["constant"]]
    # each ramp against the constant 0.5 with REM from the same VAE
    half = ended[ended["rem_share"] == 0.5].groupby(["rem_from", "data"])["value"].mean()
    for (schedule, source, data), d in ends.groupby(["schedule", "rem_from", "data"]):
        if (source, data) in half.index:
            lines.append(f"- {schedule} ends at {d['value'].mean():.1f} on {NAMES[data]}, "
                         f"against {half[source, data]:.1f} for a constant 0.5 from the same "
                         "VAE.")
    return "\n".join(lines)


def recall_images(df: pd.DataFrame, schedules: list[str]) -> plt.Figure:
    """For each schedule (under each code version), originals (top row) and recalls (below) of
    both datasets at cycle 0, after the first cycle and at the end; the first seed."""
    rows = _schedules(df[df["metric"] == "recalls"])
    rows = rows[rows["schedule"].isin(schedules) & (rows["trial"] == rows["trial"].min())]
    panels = [(f"{s}{code}", code_rows[code_rows["schedule"] == s], d)
              for code, code_rows in by_version(rows) for s in schedules for d in NAMES]
    cycles = sorted(rows["cycle"].unique())
    fig, axes = plt.subplots(len(panels), len(cycles) + 1, squeeze=False,
                             figsize=(2.2 * (len(cycles) + 1), 1.25 * len(panels)))
    for r, (schedule, sel, data) in enumerate(panels):
        sel = sel[sel["data"] == data]
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
    frozen against current source, at the sweep's cycles, under each code version; the first
    seed."""
    rows = _schedules(df[df["metric"] == "rem_samples"])
    rows = rows[(rows["trial"] == rows["trial"].min()) & rows["constant"]]
    rows = rows.sort_values(["rem_from", "rem_share", "cycles", "cycle"])
    picks = []
    for code, own in by_version(rows):
        groups = own.groupby(["rem_from", "cycle"] if own["rem_from"].nunique() > 1 else
                             ["cycle"])
        picks += [(code, g[(g["rem_share"] == 0.5) | (g["rem_share"] == g["rem_share"].max())]
                   .iloc[0]) for _, g in groups]
    fig, axes = plt.subplots(len(picks), 1, figsize=(8, 1.05 * len(picks)), squeeze=False)
    for ax, (code, row) in zip(axes[:, 0], picks, strict=True):
        ax.imshow(np.hstack(list(unpack_images(row["blob"]))), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{row['schedule']}{code}: REM samples of cycle {int(row['cycle'])}",
                     fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig


def error_histograms(df: pd.DataFrame, schedule: str) -> plt.Figure:
    """Per-image errors of the first 1000 scored test images of each dataset before the
    schedule, after its first cycle and at its end (all seeds; a row per code version when there
    are several): how the whole distribution moves."""
    rows = _schedules(df[df["metric"] == "errors"])
    rows = rows[rows["schedule"] == schedule]
    multi = len(versions(rows)) > 1
    parts = [pd.DataFrame({"error": unpack_floats(r["blob"]), "data": NAMES[r["data"]],
                           "cycle": f"cycle {int(r['cycle'])}",
                           VERSION: r[VERSION] if multi else ""}) for _, r in rows.iterrows()]
    e = pd.concat(parts, ignore_index=True)
    grid = sns.displot(e, x="error", hue="cycle", col="data", row=VERSION if multi else None,
                       kind="hist", bins=25, stat="density", common_norm=False, element="step",
                       height=3.2, aspect=1.3, facet_kws={"sharex": False, "sharey": False})
    grid.set_axis_labels("reconstruction error of one test image", "density")
    grid.set_titles("{row_name} code, {col_name}" if multi else "{col_name}")
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


def load_published(path: Path = PUBLISHED_FILE) -> pd.DataFrame:
    """The original's published final errors, read off its schedule figures: one row per
    (dataset, setting, metric) with its ``value`` and ``source``, settings canonical."""
    published = pd.read_csv(path, dtype={"dataset": str, "setting": str, "source": str})
    published["setting"] = settings.normalise(published["setting"])
    return published


def _finals_of(trials: pd.DataFrame, split: str) -> pd.DataFrame:
    """The committed final errors (:data:`FINAL`) of ``split`` among ``trials``, each with its
    canonical setting (no rows, but those columns, when there are none)."""
    if not {"dataset", "setting", "metric", "value"} <= set(trials.columns):
        return pd.DataFrame(columns=["dataset", "setting", "metric", "value"])
    rows = trials[trials["metric"].isin(list(FINAL)) & (trials["dataset"] == split)]
    return rows.assign(setting=settings.normalise(rows["setting"]).astype(str))


def published_note(trials: pd.DataFrame, split: str) -> str:
    """Markdown: what :func:`published_table` shows for ``split``, and whether the committed run
    (``trials``: the chapter's committed trials) holds the published figures' code version."""
    published = load_published()
    if (published["dataset"] != split).all():
        return ("The original published schedule figures for the inversion split only: there "
                "is nothing to set beside this chapter's numbers.")
    text = (f"The original's published figures were made with its {PUBLISHED_VERSION} code "
            "(REM from the frozen initial VAE, a constant 50/50 share, 100 epochs, 50 images "
            "per phase, 3 seeds); their final errors, read off the plots, beside the committed "
            "run's under each code version (mean ± std over seeds).")
    if PUBLISHED_VERSION not in versions(_finals_of(trials, split)):
        text += (f" The {PUBLISHED_VERSION} `paper`-profile run of this chapter is not committed "
                 "yet, so its column is empty.")
    return text


def published_table(trials: pd.DataFrame, split: str) -> Styler | None:
    """The original's published final errors of ``split`` (:func:`load_published`) beside the
    committed run's at the same schedules (``trials``: the chapter's committed trials, settings
    as columns) under the published figures' code version and every other one the run holds;
    None when the original published none for ``split``."""
    published = load_published()
    published = published[published["dataset"] == split]
    if published.empty:
        return None
    finals = _finals_of(trials, split)
    codes = [PUBLISHED_VERSION, *(v for v in versions(finals) if v != PUBLISHED_VERSION)]
    rows = []
    for number in published.itertuples():
        where = settings.decode(number.setting)
        row = {"schedule": label(where["cycles"], where["rem_share"], where["rem_end"],
                                 where["rem_from"]),
               "data set": NAMES[DATA_OF[number.metric]],
               f"published ({where[VERSION]} code)": f"{number.value:g}"}
        for code in codes:
            ours = finals.loc[(finals["setting"] == settings.encode({**where, VERSION: code}))
                              & (finals["metric"] == number.metric), "value"]
            row[f"ours, {code} code"] = (fmt_pm(ours.mean(), ours.std(), digits=1) if len(ours)
                                         else "—")
        rows.append(row)
    return for_people(pd.DataFrame(rows), digits=1)


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

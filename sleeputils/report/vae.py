"""The sleep-schedule chapter: error per cycle on both datasets, the schedules themselves, and
verdicts on the patterns the original's figures show."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler
from scipy import stats

from ..results.paper import fmt_pm
from .tables import for_people

NAMES = {"d1": "dataset 1 (remote)", "d2": "dataset 2 (recent)"}


def errors(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (schedule, seed, cycle, dataset) with the mean test error."""
    rows = df[df["metric"].isin(["d1_error", "d2_error"])].copy()
    rows["data"] = rows["metric"].str[:2]
    rows["schedule"] = [f"{int(c)} cycles, REM {r:g}, {f}" for c, r, f in
                        zip(rows["cycles"], rows["rem_share"], rows["rem_from"], strict=True)]
    return rows


def final_table(df: pd.DataFrame) -> Styler:
    """Per schedule: the error on each dataset before the schedule and at its end."""
    e = errors(df)
    out = []
    for (cycles, share, source), g in e.groupby(["cycles", "rem_share", "rem_from"]):
        row = {"cycles": int(cycles), "REM share": share, "REM from": source,
               "seeds": g["trial"].nunique()}
        for data, name in NAMES.items():
            d = g[g["data"] == data]
            end = d[d["cycle"] == d["cycle"].max()].groupby("trial")["value"].mean()
            row[f"{name}: before"] = d.loc[d["cycle"] == 0, "value"].mean()
            row[f"{name}: after"] = fmt_pm(end.mean(), end.std())
        out.append(row)
    return for_people(pd.DataFrame(out), digits=1, compact=True)


def schedule_verdicts(df: pd.DataFrame) -> str:
    """Markdown: the original's three patterns, each tested on these runs."""
    e = errors(df)
    mean = e.groupby(["cycles", "rem_share", "rem_from", "data", "cycle"])["value"].mean()
    lines = []
    for (cycles, share, source), g in mean.groupby(level=[0, 1, 2]):
        if share != 0:
            continue
        d1 = g.xs("d1", level="data").droplevel([0, 1, 2])
        reached = (d1.loc[1] - d1.loc[0]) / (d1.iloc[-1] - d1.loc[0])
        lines.append(f"- Pure NREM, {int(cycles)} cycles ({source}): after the first cycle the "
                     f"dataset-1 error has made {100 * reached:.0f} % of its whole rise "
                     f"({d1.loc[0]:.1f} → {d1.loc[1]:.1f}, final {d1.iloc[-1]:.1f}): "
                     + ("**forgotten within the first cycle**." if reached >= 0.8 else
                        "**not** forgotten within the first cycle."))
    final = e[e["cycle"] == e.groupby(["cycles"])["cycle"].transform("max")]
    f1 = final[final["data"] == "d1"].groupby(["cycles", "rem_share", "rem_from"])["value"].mean()
    start = e.loc[(e["cycle"] == 0) & (e["data"] == "d1"), "value"].mean()
    for (cycles, source), g in f1.groupby(level=[0, 2]):
        g = g.droplevel([0, 2])
        if 0 in g.index and 0.5 in g.index and g[0] != start:
            kept = 1 - (g[0.5] - start) / (g[0] - start)
            lines.append(f"- 50/50 against pure NREM, {int(cycles)} cycles ({source}): the REM "
                         f"half prevents {100 * kept:.0f} % of the forgetting of dataset 1 "
                         f"(final error {g[0.5]:.1f} against {g[0]:.1f}; before {start:.1f}).")
    half = final[final["rem_share"] == 0.5]
    for data, name in NAMES.items():
        d = half[half["data"] == data]
        if d["cycles"].nunique() >= 3:
            rho, p = stats.spearmanr(d["cycles"], d["value"])
            word = "lower" if rho < 0 else "higher"
            lines.append(f"- With a 50/50 schedule, more and shorter cycles give a **{word}** "
                         f"final error on {name} (Spearman ρ = {rho:+.2f}, p = {p:.2g}, "
                         f"over {len(d)} runs).")
    return "\n".join(lines)


def error_curves(df: pd.DataFrame) -> plt.Figure:
    """Mean test error after every cycle, one panel per dataset, one line per schedule."""
    e = errors(df)
    e["data"] = e["data"].map(NAMES)
    e["progress"] = e["cycle"] / e["cycles"]
    grid = sns.relplot(e, x="progress", y="value", hue="schedule", col="data", kind="line",
                       marker="o", errorbar="sd", height=3.4, aspect=1.25,
                       facet_kws={"sharey": False})
    grid.set_axis_labels("fraction of the schedule done (0 = before it)",
                         "mean reconstruction error (summed |x − x̂|)")
    grid.set_titles("{col_name}")
    return grid.figure


def schedule_bars(total_epochs: int, cycles: tuple[int, ...], share: float) -> plt.Figure:
    """The schedules as bars on an epoch axis: NREM (red, upper row), REM (blue, lower row)."""
    fig, axes = plt.subplots(len(cycles), 1, figsize=(10, 0.9 * len(cycles) + 0.6), sharex=True,
                             squeeze=False)
    for ax, c in zip(axes[:, 0], cycles, strict=True):
        per = total_epochs // c
        rem = int(share * per)
        starts = np.arange(c) * per
        ax.broken_barh([(s, per - rem) for s in starts], (10, 8), color="tab:red")
        ax.broken_barh([(s + per - rem, rem) for s in starts if rem], (0, 8), color="tab:blue")
        ax.set_yticks([4, 14], ["REM", "NREM"])
        ax.set_ylabel(f"{c} cycles", rotation=0, ha="right", va="center")
    axes[-1, 0].set_xlabel("epoch")
    fig.tight_layout()
    return fig

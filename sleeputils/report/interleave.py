"""The interleaving chapter (two datasets shown in alternating blocks): tables, figures and
verdicts computed from its records."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..results.paper import fmt_pm
from .tables import for_people
from .vae import DATA_OF, NAMES, far_line, renamed, trend_line

#: An interleaving run's recorded errors (per block size, its setting).
BLOCKS = {"d1_mse": "d1_mse", "d2_mse": "d2_mse"}


def committed_blocks(full: pd.DataFrame) -> pd.DataFrame:
    """A committed interleaving run's errors (:data:`BLOCKS`, each block size under its
    setting) as the rows the block functions read."""
    return renamed(full, BLOCKS)


def block_table(df: pd.DataFrame) -> Styler:
    """Per block size and dataset: per-pixel MSE (× 1000; mean ± std and median over seeds)
    and, when recorded, the summed absolute error (mean ± std)."""
    out = []
    for (block, d), g in df.assign(d=df["metric"].map(DATA_OF)).groupby(["block", "d"]):
        if d not in NAMES:
            continue
        mse = 1000 * g.loc[g["metric"] == f"{d}_mse", "value"]
        err = g.loc[g["metric"] == f"{d}_error", "value"]
        row = {"block size": int(block), "dataset": NAMES[d], "seeds": len(mse),
               "MSE × 1000": fmt_pm(mse.mean(), mse.std(), digits=1)}
        if len(mse) >= 3:  # with fewer seeds the median is the mean
            row["median × 1000"] = f"{mse.median():.1f}"
        if len(err):  # a committed run keeps the MSE only
            row["summed error"] = fmt_pm(err.mean(), err.std(), digits=1)
        out.append(row)
    return for_people(pd.DataFrame(out), digits=1)


def block_curve(df: pd.DataFrame) -> plt.Figure:
    """Per-pixel MSE on each dataset against the block size (log axis), mean ± std."""
    e = df[df["metric"].isin(["d1_mse", "d2_mse"])].copy()
    e["data"] = e["metric"].map(DATA_OF).map(NAMES)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    sns.lineplot(e, x="block", y="value", hue="data", marker="o", errorbar="sd", ax=ax)
    ax.set(xscale="log", xlabel="images per block before switching datasets",
           ylabel="per-pixel mean squared error")
    ax.set_xticks(sorted(e["block"].unique()), [str(int(b)) for b in sorted(e["block"].unique())])
    fig.tight_layout()
    return fig


def block_verdict(df: pd.DataFrame) -> str:
    """Markdown: does coarser interleaving cost either dataset (Spearman over runs)?"""
    lines = []
    for d, name in NAMES.items():
        v = df[df["metric"] == f"{d}_mse"]
        if v["block"].nunique() < 3:
            return "The study needs at least three block sizes."
        m = v.groupby("block")["value"].mean()
        lines.append(trend_line(v["block"], v["value"], "Longer blocks give", "The block size",
                                f"error on {name}",
                                f"; MSE {m.iloc[0]:.4f} at {int(m.index[0])}, "
                                f"{m.iloc[-1]:.4f} at {int(m.index[-1])}"))
        lines.append(far_line(v, name, "MSE", lambda r: f"blocks of {r.block:g}, seed "
                              f"{r.trial:g} ({r.value:.4f})", "block size", 4))
    return "\n".join(line for line in lines if line)

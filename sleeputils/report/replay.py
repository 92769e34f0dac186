"""The replay chapter (generative replay without sleep: new data, the VAE's own samples, both):
tables, figures and verdicts computed from its records."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..protocols.vae_common import blank_errors
from ..results.paper import fmt_pm
from .tables import for_people
from .vae import DATA_OF, NAMES, renamed, trend_line

#: Below this fraction under a blank page's error, a VAE has barely learned a dataset.
BARELY = 0.1
#: A run's recorded error after training on each dataset, and the metric it is measured as.
AFTER = {"d1_after": "d1_error", "d2_after": "d2_error"}


def _runs(df: pd.DataFrame, kind: str = "error") -> pd.DataFrame:
    rows = df[df["metric"].isin([f"d1_{kind}", f"d2_{kind}"])].copy()
    rows["data"] = rows["metric"].map(DATA_OF).map(NAMES)
    rows["trained on"] = [_trained_on(n, s) for n, s in zip(rows["new"], rows["sampled"],
                                                             strict=True)]
    return rows


def _trained_on(new: int, sampled: int) -> str:
    parts = [f"{int(new)} new" if new else "", f"{int(sampled)} own samples" if sampled else ""]
    return " + ".join(p for p in parts if p)


def mixes(df: pd.DataFrame, config) -> pd.DataFrame:
    """The rows of the three mixes (new only, samples only, both) of ``config``."""
    runs = {(config.num_new, 0), (0, config.num_sampled), (config.both_each, config.both_each)}
    keep = [(n, s) in runs for n, s in zip(df["new"], df["sampled"], strict=True)]
    return df.loc[keep]  # .loc: an empty list selects rows, not columns


def sweep(df: pd.DataFrame, config) -> pd.DataFrame:
    """The rows of the sample-count sweep of ``config``."""
    keep = (df["new"] == config.sweep_new) & df["sampled"].isin(config.sample_counts or ())
    return df[keep.to_numpy()]


def mix_table(df: pd.DataFrame) -> Styler:
    """Per mix and dataset: the error before and after (mean ± std over seeds), and the share of
    recalls still read as their digit after."""
    e, acc = _runs(df), _runs(df, "recall")
    out = []
    for (mix, name), d in e.groupby(["trained on", "data"], sort=False):
        after = d.loc[d["stage"] == "after", "value"]
        a = acc[(acc["trained on"] == mix) & (acc["data"] == name)
                & (acc["stage"] == "after")]["value"]
        row = {"trained on": mix, "dataset": name, "seeds": d["trial"].nunique(),
               "before": d.loc[d["stage"] == "before", "value"].mean(),
               "after": fmt_pm(after.mean(), after.std(), digits=1)}
        if len(a):  # a committed run keeps errors after only
            row["recalls read right after (%)"] = fmt_pm(a.mean(), a.std(), digits=1)
        out.append(row)
    return for_people(pd.DataFrame(out).dropna(axis=1, how="all"), digits=1)


def committed_runs(full: pd.DataFrame) -> pd.DataFrame:
    """A committed run's errors after training (:data:`AFTER`, each mix under its setting) as
    the rows the mix and sweep functions read."""
    rows = renamed(full, AFTER)
    return rows.assign(stage="after", new=rows["new"].fillna(0).astype(int),
                       sampled=rows["sampled"].fillna(0).astype(int))


def mix_figure(df: pd.DataFrame) -> plt.Figure:
    """Error after training on each mix, per dataset; the dashed line is the error before."""
    e = _runs(df)
    grid = sns.catplot(e[e["stage"] == "after"], x="trained on", y="value", col="data",
                       kind="bar", errorbar="sd", height=3.4, aspect=1.2, color="tab:blue",
                       sharey=False)
    for ax, name in zip(grid.axes.flat, NAMES.values(), strict=True):
        before = e[(e["stage"] == "before") & (e["data"] == name)]["value"].mean()
        ax.axhline(before, ls="--", color="k", lw=1, label="before")
        ax.legend(loc="upper left", fontsize=8)
    for ax in grid.axes.flat:
        ax.set_xticks(ax.get_xticks(), [textwrap.fill(t.get_text(), 14)
                                        for t in ax.get_xticklabels()])
    grid.set_axis_labels("", "mean reconstruction error after")
    grid.set_titles("{col_name}")
    return grid.figure


def mix_verdicts(df: pd.DataFrame) -> str:
    """Markdown: what each mix does to each dataset, against the error before."""
    e = _runs(df)
    mean = e.groupby(["trained on", "data", "stage"])["value"].mean()
    lines = []
    for mix in e["trained on"].unique():
        parts = []
        for name in NAMES.values():
            before, after = mean[(mix, name, "before")], mean[(mix, name, "after")]
            if f"{before:.1f}" == f"{after:.1f}":  # equal as shown: say so, not "rises"
                parts.append(f"the error on {name} stays at {after:.1f}")
                continue
            word = "rises" if after > before else "falls"
            parts.append(f"the error on {name} {word} from {before:.1f} to {after:.1f}")
        lines.append(f"- Trained on {mix}: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def blank_verdict(df: pd.DataFrame, config,
                  blanks: dict[str, dict[str, float]] | None = None) -> str:
    """Markdown: how far below a blank page's error (a recall that ignores its input;
    book/methods/generative.md, vae-memory) the VAE gets on each dataset: before training when
    the run has it, else the best mix. Under ``BARELY`` the VAE has barely learned the dataset
    and every difference on the page is small."""
    blanks = blanks or blank_errors(config.split, config.test_subset)
    e = _runs(df)
    lines = []
    for d, name in NAMES.items():
        page = min(blanks, key=lambda p: blanks[p][d])  # the better blank for this dataset
        blank = blanks[page][d]
        rows = e[e["data"] == name]
        before = rows.loc[rows["stage"] == "before", "value"]
        if len(before):
            what, error = "Before training, the VAE's error", before.mean()
        else:
            after = rows[rows["stage"] == "after"].groupby("trained on")["value"].mean()
            what, error = f"The lowest error after a mix ({after.idxmin()})", after.min()
        below = 1 - error / blank
        where = "below" if below >= 0 else "above"
        lines.append(f"- {what} on {name} is {error:.1f}, {100 * abs(below):.0f} % {where} a "
                     f"blank {page} page's {blank:.1f}"
                     + ("." if below >= BARELY else
                        ": the VAE has **barely learned** this dataset, so every difference "
                        "on it here is small." if below >= 0 else
                        ": the VAE recalls it **worse than a blank page** would."))
    return "\n".join(lines)


def committed_verdicts(full: pd.DataFrame, config) -> str:
    """Markdown: the verdicts a committed run's errors after training support (``full`` from
    :func:`committed_runs`, ``config`` what it ran): how well the VAE recalls at all, and the
    sample-count sweep."""
    if full.empty:
        return ""
    return "\n".join([blank_verdict(mixes(full, config), config),
                      count_verdict(sweep(full, config))])


def count_curve(df: pd.DataFrame) -> plt.Figure:
    """Error after training on the new images plus k own samples, against k; mean ± standard
    error over seeds (as the original plots it)."""
    e = _runs(df)
    e = e[e["stage"] == "after"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (name, d) in zip(axes, e.groupby("data"), strict=True):
        sns.lineplot(d, x="sampled", y="value", marker="o", errorbar="se", ax=ax)
        ax.set(title=name, xlabel="own samples added to the new images",
               ylabel="mean reconstruction error after")
    fig.tight_layout()
    return fig


def count_verdict(df: pd.DataFrame) -> str:
    """Markdown: do more own samples lower the remote error, and at what cost to the recent?"""
    e = _runs(df)
    e = e[e["stage"] == "after"]
    if e["sampled"].nunique() < 3:
        return "The sweep needs at least three sample counts."
    lines = []
    for name, d in e.groupby("data"):
        lo, hi = d["sampled"].min(), d["sampled"].max()
        m = d.groupby("sampled")["value"].mean()
        lines.append(trend_line(d["sampled"], d["value"], "More own samples give",
                                "The number of own samples", f"error on {name}",
                                f"; {m[lo]:.1f} with {int(lo)}, {m[hi]:.1f} with {int(hi)}"))
    return "\n".join(lines)

"""The single-task chapter: accuracy before and after one sleep, on the training set (as the
original scores it) and on the test set, per (epochs, images) setting."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from pandas.io.formats.style import Styler

from ..protocols.single import BASE_EPOCHS, BASE_IMAGES, ORIGINAL_RUNS
from ..results.paper import fmt_pm
from . import stats
from .tables import for_people, headline

SPLITS = {"test": "test set", "train": "training set"}
#: The split each recorded accuracy was measured on.
SPLIT_OF = {"test_acc": "test", "train_acc": "train"}


def paired(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (split, epochs, images, trial): accuracy before, after and the gain."""
    rows = headline(df)
    rows = rows.assign(split=rows["metric"].map(SPLIT_OF))
    wide = rows.pivot_table(index=["split", "epochs", "images", "trial"], columns="when",
                            values="value").reset_index()
    return wide.assign(gain=wide["after"] - wide["before"])


def single_table(df: pd.DataFrame) -> Styler:
    """Per setting: test and training accuracy before and after the sleep, and the paired gain
    with its t-test p-value (each test's own: the table states no verdict)."""
    p = paired(df)
    out = []
    for (epochs, images), g in p.groupby(["epochs", "images"]):
        row = {"epochs": epochs, "images": images,
               "original run": "yes" if images == BASE_IMAGES and epochs in ORIGINAL_RUNS else "",
               "n": g["trial"].nunique()}
        for split, name in SPLITS.items():
            s = g[g["split"] == split]
            row[f"{name}: before"] = fmt_pm(s["before"].mean(), s["before"].std())
            row[f"{name}: after"] = fmt_pm(s["after"].mean(), s["after"].std())
            row[f"{name}: gain"] = fmt_pm(s["gain"].mean(), s["gain"].std())
            row[f"{name}: p"] = stats.paired(s["after"], s["before"]).p
        out.append(row)
    return for_people(pd.DataFrame(out), compact=True).format(
        "{:.2g}", subset=[f"{n}: p" for n in SPLITS.values()], na_rep="—")


def single_verdict(df: pd.DataFrame) -> str:
    """Markdown: where the sleep helps and where it hurts on the test set (paired t-test, Holm
    over the lines of both sweeps), and whether that matches "helps the under-trained, not the
    well-trained", judged on each sweep: fewer epochs, and fewer images, train less."""
    p = paired(df)
    test = p[p["split"] == "test"]
    images_sweep = test[(test["epochs"] == BASE_EPOCHS) & (test["images"] != BASE_IMAGES)]
    groups = ([("epochs", v, g) for v, g in test[test["images"] == BASE_IMAGES].groupby("epochs")]
              + [("images", v, g) for v, g in images_sweep.groupby("images")])
    tests = stats.family([stats.paired(g["after"], g["before"]) for _, _, g in groups])
    lines = []
    signs: dict[str, dict[int, str]] = {"epochs": {}, "images": {}}
    for (sweep, value, _), r in zip(groups, tests, strict=True):
        signs[sweep][value] = EFFECT[r.verdict]
        where = (f"{_epochs(value)} on {BASE_IMAGES} images" if sweep == "epochs"
                 else f"{value} images for {_epochs(BASE_EPOCHS)}")
        test_text = stats.p_text(r) if r.tested else stats.why_untested(r)
        lines.append(f"- {where}: sleep **{signs[sweep][value]}** on the test set "
                     f"({fmt_pm(r.difference, r.sd)} points, n = {r.n}, {test_text}).")
    if signs["images"] and BASE_EPOCHS in signs["epochs"]:  # the point both sweeps share
        signs["images"][BASE_IMAGES] = signs["epochs"][BASE_EPOCHS]
    original = {e: s for e, s in signs["epochs"].items() if e in ORIGINAL_RUNS}
    for grid, where, unit in ((original, "on the original's runs", "epochs"),
                              (signs["epochs"], "over the epochs sweep", "epochs"),
                              (signs["images"], f"over the images sweep at {BASE_EPOCHS} "
                               "epochs", "images")):
        if len(grid) < 2 or (grid is signs["epochs"] and grid == original):
            continue
        fewest, most = min(grid), max(grid)
        holds = grid[fewest] == "helps" and grid[most] != "helps"
        judged = "is not tested" not in (grid[fewest], grid[most])
        word = ("cannot be judged" if not judged else "holds" if holds else "does not hold")
        least = _epochs(fewest) if unit == "epochs" else f"{fewest} images"
        lines.append(f"\nThe paper's finding (helps the under-trained net, not the well-trained "
                     f"one) **{word}** {where} ({', '.join(map(str, sorted(grid)))} {unit}): "
                     f"at {least} the sleep {grid[fewest]}, at {most} it {grid[most]}.")
    return "\n".join(lines)


#: What the sleep does, by the verdict of the paired test of after against before.
EFFECT = {stats.HIGHER: "helps", stats.LOWER: "hurts", stats.UNCLEAR: "has no clear effect",
          stats.TOO_FEW: "is not tested", stats.NO_SPREAD: "is not tested"}


def _epochs(n: int) -> str:
    return f"{n} epoch{'s' * (n != 1)}"


def gain_figure(df: pd.DataFrame) -> plt.Figure:
    """The sleep's gain against epochs (at 5000 images) and against images (at 10 epochs)."""
    p = paired(df).assign(split=lambda d: d["split"].map(SPLITS))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, (col, fixed, value) in zip(axes, (("epochs", "images", BASE_IMAGES),
                                              ("images", "epochs", BASE_EPOCHS)), strict=True):
        sns.lineplot(p[p[fixed] == value], x=col, y="gain", hue="split", marker="o",
                     errorbar="sd", ax=ax)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel(f"{col} ({fixed} = {value})")
        ax.set_ylabel("accuracy after − before sleep (points)")
    fig.tight_layout()
    return fig

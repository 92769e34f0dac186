"""Tables the chapters show: our numbers beside the paper's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book.check import load_paper_values


def headline(df: pd.DataFrame) -> pd.DataFrame:
    """Rows marked ``headline``, one per (dataset, method, metric, trial)."""
    return df[df["headline"].fillna(False).astype(bool)].copy()


def summary(df: pd.DataFrame, metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Mean, std and n over trials of every headline number."""
    rows = headline(df)
    if metrics is not None:
        rows = rows[rows["metric"].isin(metrics)]
    out = rows.groupby(["dataset", "method", "metric"], sort=False)["value"].agg(
        ["mean", "std", "count"]
    )
    return out.rename(columns={"count": "n"}).reset_index()


def versus_paper(df: pd.DataFrame, chapter: str) -> pd.DataFrame:
    """Our mean ± std (n) beside the paper's value ± std, with the difference in points.

    ``within paper spread`` is |ours - paper| <= 2 paper std; where the paper gives no spread it
    says so rather than pretending to a verdict.
    """
    ours = summary(df)
    paper = load_paper_values()
    paper = paper[paper["chapter"] == chapter]
    table = ours.merge(paper, on=["dataset", "method", "metric"], how="left",
                       suffixes=("", "_paper"))
    table["difference"] = table["mean"] - table["value"]
    spread = table["std_paper"] if "std_paper" in table else np.nan
    table["within paper spread"] = np.where(
        table["value"].isna(), "not in paper",
        np.where(pd.isna(spread), "no spread given",
                 np.where(table["difference"].abs() <= 2 * spread, "yes", "no")),
    )
    table = table.rename(columns={"value": "paper", "std_paper": "paper std"})
    cols = ["dataset", "method", "metric", "mean", "std", "n", "paper", "paper std",
            "difference", "within paper spread"]
    return table[cols].round(2)


def verdict(table: pd.DataFrame) -> str:
    """One Markdown sentence per paper number: reproduced within its spread, or missed by how much.

    Written from the numbers, so the prose cannot drift from the table.
    """
    lines = []
    for _, row in table.dropna(subset=["paper"]).iterrows():
        ours = f"{row['mean']:.2f}" + ("" if pd.isna(row["std"]) else f" ± {row['std']:.2f}")
        paper = f"{row['paper']:.2f}" + (
            "" if pd.isna(row["paper std"]) else f" ± {row['paper std']:.2f}"
        )
        if row["within paper spread"] == "yes":
            word = "**reproduced** (within 2 paper std)"
        elif row["within paper spread"] == "no":
            word = "**missed** (outside 2 paper std)"
        else:
            word = "compared (the paper gives no spread)"
        lines.append(
            f"- {row['dataset']} / {row['method']}: ours {ours} (n = {int(row['n'])}) vs paper "
            f"{paper}, difference {row['difference']:+.2f} points: {word}."
        )
    return "\n".join(lines) if lines else "No number of this chapter is in the paper's tables."

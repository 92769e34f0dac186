"""The two-task (CUB-200) chapter: accuracy on each task beside the paper's."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from ..results.paper import (
    fmt_pm,
)
from .incremental import compare_to_paper
from .names import method_name
from .tables import for_people


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

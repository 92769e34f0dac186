"""What a chapter shows when its data set is not on this machine: what is missing, how to get
it, and the paper's numbers, with none of ours."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from ..results import setting
from ..results.paper import fmt_pm, load_paper_values
from .names import method_name
from .tables import for_people


def missing_box(chapter_id: str, missing: str) -> str:
    """A MyST warning box: the data layer's message and the command that computes the chapter."""
    return "\n".join([
        ":::{admonition} Data not available: this chapter has no numbers on this machine",
        ":class: warning",
        "",
        missing,
        "",
        f"With the data in place, `sleepbook run {chapter_id}` computes this chapter (and "
        "`sleepbook build` renders it). Nothing below is a result of ours.",
        ":::",
    ])


def paper_numbers(chapter_id: str) -> Styler | str:
    """The paper's values for this chapter, for people, or a sentence if it has none."""
    paper = load_paper_values()
    paper = paper[paper["chapter_id"] == chapter_id]
    if paper.empty:
        return "The book records no published number for this chapter's protocol."
    table = pd.DataFrame({
        "method": paper["method"].map(method_name).to_numpy(),
        "metric": paper["metric"].map(_readable).to_numpy(),
        "setting": paper["setting"].map(setting.describe).to_numpy(),
        "paper": [fmt_pm(v, s) for v, s in zip(paper["value"], paper["std"], strict=True)],
        "source": paper["source"].to_numpy(),
        "note": paper["note"].fillna("").to_numpy(),
    })
    return for_people(table, wrap=("note",))


#: The recorded metrics of these chapters, for people.
READABLE = {"final_acc": "final accuracy (%)", "task1_acc": "task 1 accuracy (%)",
            "task2_acc": "task 2 accuracy (%)", "nme_acc": "nearest-mean accuracy (%)"}


def _readable(metric: str) -> str:
    """``task1_acc`` -> ``task 1 accuracy (%)``; names without an entry are kept."""
    return READABLE.get(metric, metric)

"""Compare recorded numbers with the book's reference and with the paper.

Three sources meet here: the numbers a run recorded (``sleeputils.results.record``), the book's
frozen reference for the same profile (``results/reference/<profile>.csv``), and the paper's
numbers (``paper_values.csv``). The reference decides pass/fail: a recorded number that left
its tolerance, or a reference number the run did not produce, fails the check. The paper is
shown beside them and its misses are reported, never failed: the book documents how far the
reproduction gets, it does not pretend to match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sleeputils.book.chapters import ParamError, default_registry

PAPER_VALUES_FILE = Path(__file__).with_name("paper_values.csv")
KEY = ["chapter_id", "dataset", "method", "metric"]
#: How many paper standard deviations count as "within the paper's spread".
PAPER_SPREAD_SIGMAS = 2.0
#: Where the paper prints no spread (e.g. Table 1's sequential and parallel rows), a number within
#: this many points of the paper's counts as matching; anything further is reported as a miss.
NO_SPREAD_BAND = 1.0
WITHIN, OUTSIDE = "within paper spread", "outside paper spread"
WITHIN_BAND, OUTSIDE_BAND = "within ±1 pt (no paper spread)", "outside ±1 pt (no paper spread)"
#: Paper statuses that count as a miss (reported, never failed).
PAPER_MISSES = (OUTSIDE, OUTSIDE_BAND)

OK, MOVED, MISSING, NEW = "ok", "MOVED", "MISSING", "new"
#: Check statuses that fail ``sleepbook check``.
FAILING = (MOVED, MISSING)


def load_paper_values(path: Path = PAPER_VALUES_FILE) -> pd.DataFrame:
    """The paper's numbers, one row per number (see ``paper_values.csv``)."""
    return pd.read_csv(path, dtype={"chapter": str, "source": str, "note": str})


def notebook_of(chapter_id: str) -> str:
    """Notebook a chapter id renders (``incremental-mnist`` → ``incremental``).

    Paper values are keyed by notebook (``chapter`` column), recorded numbers by chapter id.
    """
    try:
        return default_registry().chapter(chapter_id).notebook.name
    except ParamError:
        return chapter_id.split("-", 1)[0]


def paper_spread(ours: float, paper: float, paper_std: float) -> str:
    """Whether ``ours`` is within :data:`PAPER_SPREAD_SIGMAS` paper standard deviations.

    Where the paper gives no spread the band is :data:`NO_SPREAD_BAND` points, so that a miss is
    still called a miss (and the label says which rule was used).
    """
    if ours is None or not math.isfinite(ours):
        return "not covered"
    if paper is None or not math.isfinite(paper):
        return "no paper value"
    if paper_std is None or not math.isfinite(paper_std):
        return WITHIN_BAND if abs(ours - paper) <= NO_SPREAD_BAND else OUTSIDE_BAND
    inside = abs(ours - paper) <= PAPER_SPREAD_SIGMAS * paper_std
    return WITHIN if inside else OUTSIDE


def compare(
    recorded: pd.DataFrame, reference: pd.DataFrame | None, paper: pd.DataFrame
) -> pd.DataFrame:
    """One row per number in the run or in the reference, with the paper's value beside it.

    Columns: chapter_id, dataset, method, metric, mean, std, n (ours), ref_mean, ref_tol,
    delta (ours − reference), status (ok / MOVED / MISSING / new), paper, paper_std, paper_note.
    """
    ours = recorded.reindex(columns=[*KEY, "mean", "std", "n"])
    if reference is None:
        reference = pd.DataFrame(columns=[*KEY, "mean", "tol"])
    ref = reference.reindex(columns=[*KEY, "mean", "tol"]).rename(
        columns={"mean": "ref_mean", "tol": "ref_tol"}
    )
    table = ours.merge(ref, on=KEY, how="outer")
    table["delta"] = table["mean"] - table["ref_mean"]
    table["status"] = [
        _status(m, r, d, t)
        for m, r, d, t in zip(
            table["mean"], table["ref_mean"], table["delta"], table["ref_tol"], strict=True
        )
    ]
    pv = paper.rename(columns={"value": "paper", "std": "paper_std", "note": "paper_note"})
    table["notebook"] = [notebook_of(c) for c in table["chapter_id"]]
    table = table.merge(
        pv[["chapter", "dataset", "method", "metric", "paper", "paper_std", "paper_note"]],
        left_on=["notebook", "dataset", "method", "metric"],
        right_on=["chapter", "dataset", "method", "metric"],
        how="left",
    ).drop(columns=["chapter", "notebook"])
    table["paper_status"] = [
        paper_spread(m, p, s)
        for m, p, s in zip(table["mean"], table["paper"], table["paper_std"], strict=True)
    ]
    return table.sort_values(KEY, ignore_index=True)


def _status(mean: float, ref_mean: float, delta: float, tol: float) -> str:
    if pd.isna(ref_mean):
        return NEW
    if pd.isna(mean):
        return MISSING
    return MOVED if abs(delta) > tol else OK


def failed(table: pd.DataFrame) -> bool:
    """True when any number moved out of its tolerance or a reference number is missing."""
    return bool(table["status"].isin(FAILING).any())


def _name(row: pd.Series) -> str:
    return f"{row['chapter_id']} {row['dataset']}/{row['method']}/{row['metric']}"


def diff_lines(table: pd.DataFrame) -> list[str]:
    """One line per failing number, saying which number and by how much."""
    lines = []
    for _, row in table[table["status"].isin(FAILING)].iterrows():
        if row["status"] == MISSING:
            ref = row["ref_mean"]
            lines.append(f"MISSING {_name(row)}: reference {ref:.2f} was not produced by this run")
        else:
            lines.append(
                f"MOVED {_name(row)}: {row['ref_mean']:.2f} -> {row['mean']:.2f} "
                f"({row['delta']:+.2f} pp, tolerance ±{row['ref_tol']:.2f})"
            )
    return lines


def fmt_pm(mean: float, std: float | None = None, n: float | None = None, digits: int = 2) -> str:
    """``48.47 ± 5.03 (n=5)``; blanks for missing parts, ``—`` for a missing number."""
    if mean is None or pd.isna(mean):
        return "—"
    text = f"{mean:.{digits}f}"
    if std is not None and not pd.isna(std):
        text += f" ± {std:.{digits}f}"
    if n is not None and not pd.isna(n):
        text += f" (n={int(n)})"
    return text


def signed_points(diff: pd.Series) -> list[str]:
    """``+1.23`` per row, ``—`` where either number is missing."""
    return [f"{d:+.2f}" if pd.notna(d) else "—" for d in diff]


def pm_column(
    table: pd.DataFrame, mean: str, std: str, n: str | None = None, missing: str = "—"
) -> list[str]:
    """``fmt_pm`` applied row-wise to columns of ``table``; ``missing`` where mean is NaN."""
    cols = [mean, std] + ([n] if n else [])
    return [
        fmt_pm(*row) if pd.notna(row[0]) else missing
        for row in table[cols].itertuples(index=False, name=None)
    ]


def format_table(table: pd.DataFrame) -> str:
    """The check table as aligned text for the terminal."""
    rows = pd.DataFrame(
        {
            "chapter": table["chapter_id"],
            "number": table["dataset"] + "/" + table["method"] + "/" + table["metric"],
            "ours": pm_column(table, "mean", "std", "n"),
            "reference ± tol": pm_column(table, "ref_mean", "ref_tol"),
            "status": table["status"],
            "paper": pm_column(table, "paper", "paper_std"),
            "Δ paper": signed_points(table["mean"] - table["paper"]),
            "vs paper": table["paper_status"],
        }
    )
    if rows.empty:
        return "(no numbers recorded and no reference)"
    return rows.to_string(index=False)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of ``sleepbook check``: the table, whether it failed, and what moved."""

    table: pd.DataFrame
    has_reference: bool
    profile: str = "<profile>"

    @property
    def failed(self) -> bool:
        return failed(self.table)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def report(self) -> str:
        """Table, then one line per moved/missing number, then a verdict line."""
        parts = [format_table(self.table), ""]
        parts += diff_lines(self.table)
        misses = int(self.table["paper_status"].isin(PAPER_MISSES).sum())
        if not self.has_reference:
            parts.append(
                "no reference for this profile: nothing to check against; "
                f"create one with `sleepbook freeze --profile {self.profile}`"
            )
        verdict = "FAILED" if self.failed else "passed"
        parts.append(
            f"check {verdict}: {int(self.table['status'].isin(FAILING).sum())} number(s) "
            f"moved or missing; {misses} outside the paper's spread (reported, not failed)"
        )
        return "\n".join(parts)

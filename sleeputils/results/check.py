"""Compare recorded numbers with the book's reference, and show the paper's beside them.

Three sources meet here: the numbers a run recorded (:mod:`.record`), the book's frozen reference
for the same profile (:mod:`.reference`) and the paper's numbers (:mod:`.paper`). The reference
decides pass/fail, in two ways: every trial must stay within its band of its reference value
(:func:`~sleeputils.results.reference.trial_tolerance`: bit-for-bit on the reference's machine,
so any change to a method fails; the measured float noise elsewhere), and every mean within its
statistical band. A number or trial the run did not produce fails too. The paper's misses are
reported, never failed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import setting as settings
from .paper import PAPER_MISSES, load_paper_values, paper_spread, pm_column, signed_points
from .record import KEY as NUMBER
from .record import keyed, load_records, load_trials
from .reference import load_reference, reference_path, trial_tolerance
from .store import ResultStore

#: Columns that identify one recorded number across the book.
KEY = ["chapter_id", *NUMBER]
OK, MOVED, MISSING, NEW = "ok", "MOVED", "MISSING", "new"
#: A sleeping method's trial checked on another machine than the reference's: shown, not failed.
OTHER_MACHINE = "other machine"
#: Check statuses that fail ``sleepbook check``.
FAILING = (MOVED, MISSING)


class NothingToCheck(LookupError):
    """There is nothing to compare (no reference for the profile, or nothing recorded); the
    message is one line saying what to run."""


def compare(
    recorded: pd.DataFrame, reference: pd.DataFrame | None, paper: pd.DataFrame
) -> pd.DataFrame:
    """One row per number in the run or in the reference, with the paper's value beside it.

    Columns: chapter_id, dataset, method, metric, mean, std, n (ours), ref_mean, ref_tol,
    delta (ours − reference), status (ok / MOVED / MISSING / new), paper, paper_std, paper_note.
    """
    ours = keyed(recorded).reindex(columns=[*KEY, "mean", "std", "n"])
    if reference is None:
        reference = pd.DataFrame(columns=[*KEY, "mean", "tol"])
    ref = keyed(reference).reindex(columns=[*KEY, "mean", "tol"]).rename(
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
    pv = keyed(paper).rename(columns={"value": "paper", "std": "paper_std",
                                      "note": "paper_note"})
    table = table.merge(pv[[*KEY, "paper", "paper_std", "paper_note"]], on=KEY, how="left")
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
    where = settings.describe(row["setting"])
    return (f"{row['chapter_id']} {row['dataset']}/{row['method']}/{row['metric']}"
            + ("" if where == "—" else f" [{where}]"))


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


def format_table(table: pd.DataFrame) -> str:
    """The check table as aligned text for the terminal."""
    rows = pd.DataFrame(
        {
            "chapter": table["chapter_id"],
            "number": table["dataset"] + "/" + table["method"] + "/" + table["metric"],
            "setting": table["setting"].map(settings.describe),
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


def compare_trials(recorded: pd.DataFrame, reference: pd.DataFrame | None) -> pd.DataFrame:
    """One row per trial in the run or in the reference: value, ref_value, delta, tol, status.

    ``tol`` is :func:`~sleeputils.results.reference.trial_tolerance` of the trial's method, for
    whether the run and the reference came from the same machine.
    """
    cols = [*KEY, "trial", "value", "machine"]
    ours = keyed(recorded).reindex(columns=cols)
    if reference is None:
        reference = pd.DataFrame(columns=cols)
    ref = keyed(reference).reindex(columns=cols).rename(columns={"value": "ref_value",
                                                          "machine": "ref_machine"})
    table = ours.merge(ref, on=[*KEY, "trial"], how="outer")
    table["delta"] = table["value"] - table["ref_value"]
    same = table["machine"].fillna("") == table["ref_machine"].fillna("")
    table["tol"] = [trial_tolerance(m, s, metric, r) for m, s, metric, r in
                    zip(table["method"], same, table["metric"], table["ref_value"], strict=True)]
    table["status"] = [
        OTHER_MACHINE if pd.notna(v) and pd.notna(r) and pd.isna(t) else _status(v, r, d, t)
        for v, r, d, t in zip(table["value"], table["ref_value"], table["delta"], table["tol"],
                              strict=True)
    ]
    return table.sort_values([*KEY, "trial"], ignore_index=True)


def trial_lines(trials: pd.DataFrame) -> list[str]:
    """One line per trial that moved or is missing."""
    lines = []
    for _, row in trials[trials["status"].isin(FAILING)].iterrows():
        name = f"{_name(row)} trial {int(row['trial'])}"
        if row["status"] == MISSING:
            lines.append(f"MISSING {name}: reference {row['ref_value']:.2f} was not produced")
        else:
            lines.append(f"MOVED {name}: {row['ref_value']:.4g} -> {row['value']:.4g} "
                         f"({row['delta']:+.4g} pp, tolerance ±{row['tol']:g} per trial)")
    other = trials[trials["status"] == OTHER_MACHINE]
    if len(other):
        lines.append(
            f"{len(other)} trial(s) of chaotic methods (sleep, herding, freezing choice, "
            f"self-replaying VAE, OWM's own recipe) ran on another machine than the "
            f"reference's and are not compared one by one (largest move "
            f"{other['delta'].abs().max():.2f} pp); their means are, when they have two trials "
            f"or more. Reference machine(s), recorded per trial: "
            f"{' | '.join(other['ref_machine'].unique())}; this machine: "
            f"{other['machine'].iloc[0]}.")
    return lines


@dataclass(frozen=True)
class CheckResult:
    """Outcome of ``sleepbook check``: the tables, whether it failed, and what moved."""

    table: pd.DataFrame
    has_reference: bool
    profile: str = "<profile>"
    trials: pd.DataFrame = field(default_factory=lambda: compare_trials(pd.DataFrame(), None))

    @property
    def compared(self) -> int:
        """Numbers (means and trials) that met their reference value."""
        return int(self.table["status"].isin([OK, MOVED, OTHER_MACHINE]).sum()
                   + self.trials["status"].isin([OK, MOVED, OTHER_MACHINE]).sum())

    @property
    def failed(self) -> bool:
        """A number moved or is missing, or nothing at all was compared (never a pass)."""
        return (failed(self.table) or bool(self.trials["status"].isin(FAILING).any())
                or self.compared == 0)

    def unrecorded_chapters(self) -> list[str]:
        """Chapters with reference numbers and not one recorded number."""
        by_chapter = self.table.groupby("chapter_id")["status"]
        return sorted(c for c, statuses in by_chapter if (statuses == MISSING).all())

    def report(self) -> str:
        """Table, then one line per moved/missing number, then a verdict line."""
        parts = [format_table(self.table), ""]
        unrecorded = self.unrecorded_chapters()
        for chapter in unrecorded:  # one line, not one per number
            count = int((self.table["chapter_id"] == chapter).sum())
            parts.append(f"MISSING {chapter}: none of its {count} reference number(s) is "
                         f"recorded; run `sleepbook run {chapter} --profile {self.profile}`")
        parts += diff_lines(self.table[~self.table["chapter_id"].isin(unrecorded)])
        parts += trial_lines(self.trials[~self.trials["chapter_id"].isin(unrecorded)])
        misses = int(self.table["paper_status"].isin(PAPER_MISSES).sum())
        if not self.has_reference:
            parts.append(
                "no reference for this profile: nothing to check against; "
                f"create one with `sleepbook freeze --profile {self.profile}`"
            )
        verdict = "FAILED" if self.failed else "passed"
        checked = self.trials["ref_value"].notna() & (self.trials["status"] != OTHER_MACHINE)
        moved = int(self.trials["status"].isin(FAILING).sum())
        spared = int((self.table["status"] == OTHER_MACHINE).sum())
        parts.append(
            f"check {verdict}: {int(self.table['status'].isin(FAILING).sum())} mean(s) and "
            f"{moved} of {int(checked.sum())} trial(s) moved or missing; "
            f"{misses} outside the paper's spread (reported, not failed)"
            + (f"; {spared} single-trial mean(s) of chaotic methods from another machine "
               "shown, not failed" if spared else "")
        )
        return "\n".join(parts)


def check_profile(
    profile: str,
    *,
    project: Path | None = None,
    store: ResultStore | None = None,
    skip: Collection[str] = (),
) -> CheckResult:
    """Check every recorded number and trial of ``profile`` against its frozen reference.

    ``skip`` names chapters whose records do not count (their last run failed), so their
    reference numbers come out MISSING. :class:`NothingToCheck` when the profile has no
    reference or nothing of it is recorded.
    """
    reference = require_reference(profile, project)
    means = load_records(profile, project=project, store=store)
    trials = load_trials(profile, project=project, store=store)
    means, trials = (f[~f["chapter_id"].isin(list(skip))] for f in (means, trials))
    if means.empty and trials.empty:
        raise NothingToCheck(
            f"nothing of profile {profile} is recorded: run `sleepbook build --profile "
            f"{profile}` first (or `sleepbook check --profile {profile}` without --no-run)")
    table = compare(means, reference, load_paper_values())
    trial_table = compare_trials(trials, load_reference(profile, project, trials=True))
    return CheckResult(single_chaotic_elsewhere(table, trial_table), reference is not None,
                       profile, trial_table)


def require_reference(profile: str, project: Path | None = None) -> pd.DataFrame:
    """The frozen reference numbers of ``profile``; :class:`NothingToCheck` if it has none
    (asked before anything runs, so that a check never computes for nothing)."""
    reference = load_reference(profile, project)
    if reference is None or reference.empty:
        where = reference_path(profile, project) if project else f"{profile}.csv"
        raise NothingToCheck(
            f"profile {profile} has no reference numbers ({where}): nothing to compare with; "
            f"freeze them from a reviewed run with `sleepbook freeze --profile {profile}`")
    return reference


def single_chaotic_elsewhere(table: pd.DataFrame, trials: pd.DataFrame) -> pd.DataFrame:
    """Means of one trial of a chaotic method, computed on another machine than the reference's,
    are shown (status ``other machine``), not failed: with no spread to learn from, one such
    trial is as good as a fresh seed (see :mod:`.reference`)."""
    elsewhere = trials[trials["status"] == OTHER_MACHINE].drop_duplicates(KEY)[KEY]
    marked = table.merge(elsewhere.assign(_elsewhere=True), on=KEY, how="left")
    mask = (marked["_elsewhere"].eq(True) & (marked["n"] < 2)
            & (marked["status"] == MOVED)).to_numpy()
    out = table.copy()
    out.loc[mask, "status"] = OTHER_MACHINE
    return out

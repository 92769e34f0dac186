"""What a chapter notebook calls: open the chapter, say what ran, record the numbers.

A chapter's ``parameters`` cell holds three names that papermill may override::

    chapter = "incremental-mnist"   # which rendering of the notebook
    profile = "quick"               # smoke, quick or paper
    params = {}                     # overrides of the profile's values, e.g. {"trials": 2}

and the next cell calls ``page = open_chapter(chapter, profile, params)``. The protocol then runs
``page.config``; nothing in the notebook repeats a parameter's name or default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from ..params import Params, show
from ..protocols.tuning import SEARCH_TRIAL
from ..report.names import method_name
from ..report.tables import committed_trials, for_people
from ..results import setting as settings
from ..results.paper import pm_column, signed_points
from ..results.record import (
    KEY,
    PAPER_PROFILE,
    keyed,
    load_records,
    load_trials,
    record,
    records_dir,
    summarise,
)
from .registry import DEFAULT_PROFILE, Book, Resolved, find_project
from .rerun import rerun_box


def trial_count(df: pd.DataFrame) -> int:
    """The trials a run's headline numbers come from; a validation search's runs (trial
    ``SEARCH_TRIAL``) are not a trial."""
    trial = df.loc[df["headline"].fillna(False).astype(bool), "trial"]
    return trial[trial != SEARCH_TRIAL].nunique()


@dataclass(frozen=True)
class Page:
    """One executing chapter: its resolved run and the project it belongs to."""

    run: Resolved
    project: Path

    @property
    def config(self) -> Params:
        return self.run.config

    @property
    def chapter_id(self) -> str:
        return self.run.chapter_id

    @property
    def label(self) -> str:
        return self.run.label

    @property
    def paper_config(self) -> Params:
        """The config of this chapter under the ``paper`` profile: what its committed run ran."""
        return Book(self.project).resolve(self.chapter_id, PAPER_PROFILE).config

    def banner(self) -> Markdown:
        """The run's first lines: which profile, and for a custom run what differs and where
        its numbers go; then how to re-run this page (:meth:`rerun`)."""
        if self.run.differences:
            where = self._records_path()
            text = (f"> **Custom run.** This page differs from the `{self.run.profile}` profile "
                    f"in {self.run.differences_text()}. Its numbers are recorded as "
                    f"`{self.label}` (`{where}`), not as the `{self.run.profile}` profile's.")
        else:
            trials = getattr(self.config, "trials", None)
            extra = f", {trials} trial{'s' * (trials != 1)}" if trials else ""
            text = (f"*Computed on the `{self.run.profile}` profile{extra}; every parameter "
                    "is listed at the end of the page.*")
        return Markdown(f"{text}\n\n{rerun_box(self.run)}")

    def rerun(self) -> Markdown:
        """A box with the exact ``sleepbook run`` command of this page, its MyST source and its
        executed notebook (for pages without a :meth:`banner`)."""
        return Markdown(rerun_box(self.run))

    def parameters(self) -> pd.DataFrame:
        """Every parameter of this run: value, where it came from and what it means."""
        defaults = type(self.config)()
        rows = []
        for decl in self.config.fields():
            value = getattr(self.config, decl.name)
            if decl.name in self.run.differences:
                source = "this run"
            elif decl.name in self.run.chapter.fixed:
                source = f"chapter {self.chapter_id}"
            elif value != getattr(defaults, decl.name):
                source = f"profile {self.run.profile}"
            else:
                source = "original protocol"
            shown = decl.none if value is None and decl.none else show(value)
            own = getattr(self.config, "stream_setting", None)  # a value unset per data set
            resolved = own(decl.name) if value is None and own is not None else None
            if resolved is not None:
                shown = f"{show(resolved)} (this data set's)"
            rows.append({"parameter": decl.name, "value": shown, "from": source,
                         "meaning": decl.help})
        return for_people(pd.DataFrame(rows), compact=True, wrap=("value", "meaning"),
                          wrap_width=28)

    def record(self, df: pd.DataFrame) -> Markdown:
        """Record the headline numbers under this run's label; say where they went."""
        summary = record(df, self.chapter_id, self.label, project=self.project)
        where = self._records_path()
        return Markdown(f"Recorded {len(summary)} numbers of {trial_count(df)} trial(s) as "
                        f"`{self.label}` in `{where}`; the status page and `sleepbook check` "
                        "read them.")

    def committed(self) -> pd.DataFrame:
        """This chapter's committed ``paper``-profile trials as rows its report functions read,
        their settings as columns (:func:`~sleeputils.report.tables.committed_trials`; empty
        when none is committed)."""
        trials = load_trials(PAPER_PROFILE, project=self.project)
        return committed_trials(trials, self.chapter_id)

    def full_protocol(self, df: pd.DataFrame) -> Styler | Markdown:
        """This run's recorded numbers beside the committed ``paper``-profile run of the chapter
        (``results/paper``): a quick build still shows what the full protocol gave."""
        if self.label == PAPER_PROFILE:
            return Markdown("This page is the `paper`-profile run: its numbers are the committed "
                            "ones.")
        paper = load_records(PAPER_PROFILE, project=self.project)
        paper = paper[paper["chapter_id"] == self.chapter_id]
        if paper.empty:
            return Markdown(f"No `paper`-profile run of this chapter is committed yet "
                            f"(`sleepbook run {self.chapter_id} --profile paper` computes one).")
        ours = summarise(df)
        table = ours.merge(keyed(paper), on=KEY, how="outer", suffixes=("", "_paper"))
        table = table.sort_values(KEY, key=_natural, ignore_index=True)
        return for_people(pd.DataFrame({
            "data set": table["dataset"],
            "method": table["method"].map(method_name),
            "number": table["metric"],
            "setting": table["setting"].map(settings.describe),
            f"this page ({self.label})": pm_column(table, "mean", "std", "n"),
            "full protocol (paper profile)": pm_column(table, "mean_paper", "std_paper",
                                                       "n_paper"),
            "difference": signed_points(table["mean"] - table["mean_paper"]),
        }), compact=True)

    def _records_path(self) -> Path:
        """Where this run's numbers go, relative to the project when they are inside it."""
        path = records_dir(self.label, project=self.project) / f"{self.chapter_id}.csv"
        return path.relative_to(self.project) if path.is_relative_to(self.project) else path


def open_chapter(
    chapter: str,
    profile: str = DEFAULT_PROFILE,
    params: Mapping[str, Any] | None = None,
    *,
    root: Path | None = None,
) -> Page:
    """Resolve a chapter notebook's parameters cell (``ParamError`` in one line if invalid)."""
    project = find_project(root)
    return Page(Book(project).resolve(chapter, profile, params or {}), project)


def _natural(names: pd.Series) -> pd.Series:
    """Sort key that orders ``e2`` before ``e10``: every run of digits zero-padded."""
    return names.astype(str).str.replace(r"\d+", lambda m: m.group().zfill(9), regex=True)

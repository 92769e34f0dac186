"""Recorded numbers: the headline numbers of one chapter run, per trial and over trials.

Each chapter notebook ends with ``record(df, chapter_id, label)``. The rows of ``df`` marked
``headline == True`` are written twice, with their provenance: reduced to mean, standard
deviation and count per (dataset, method, setting, metric), and trial by trial. The ``setting``
(:mod:`.setting`) says at which values of the chapter's parameters a number was measured
(``{"memory": 100}``); a protocol writes it with :func:`.setting.encode`, never into the metric.
``label`` is the profile the run belongs to, or ``custom-<hash>`` for a run whose parameters
differ from its profile's (so a custom run never passes for the profile). They go to

* ``<project>/results/paper/<chapter id>.csv`` (and ``trials/``) for the ``paper`` profile,
  committed to git, and
* ``<store root>/records/<label>/<chapter id>.csv`` (and ``trials/``) otherwise (a local cache).

These files are what the status page, ``sleepbook check`` and ``sleepbook freeze`` read.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from sleeputils.results import provenance
from sleeputils.results import setting as settings
from sleeputils.results.store import ResultStore, default_root

#: The profile whose recorded numbers are committed to git.
PAPER_PROFILE = "paper"

#: Columns that identify one recorded number within a chapter.
KEY: list[str] = ["dataset", "method", settings.COLUMN, "metric"]

#: Columns of a per-trial recorded-numbers file, in order. ``seconds``: the compute time (one
#: core) of the unit the number came from, so what a chapter costs is read from its records.
TRIAL_COLUMNS: list[str] = ["chapter_id", *KEY, "trial", "value", "machine", "seconds"]

#: Columns of a recorded-numbers file, in order.
RECORD_COLUMNS: list[str] = [
    "chapter_id",
    *KEY,
    "mean",
    "std",
    "n",
    "profile",
    "git_commit",
    "code_fingerprint",
    "config_hash",
    "created",
]


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof = 1; NaN when n = 1) and n of ``value`` per (dataset, method, setting,
    metric).

    Only rows with ``headline == True`` count. Raises if a key repeats within one trial, because
    averaging unlike numbers (say, two overlaps) would be silently wrong: put the distinguishing
    values into the row's ``setting`` (``setting.encode(overlap=12)``) or leave one of them out of
    the headline.
    """
    if "headline" not in df.columns:
        raise ValueError("no 'headline' column: mark the rows to record with headline=True")
    rows = headline_rows(df)
    if "trial" in rows.columns:
        repeated = rows.duplicated([*KEY, "trial"], keep=False)
        if repeated.any():
            first = rows[repeated].iloc[0]
            raise ValueError(
                f"headline number {tuple(first[KEY])} occurs more than once in trial "
                f"{first['trial']}; make the key (dataset, method, setting, metric) unique per "
                "trial"
            )
    empty = pd.DataFrame(columns=[*KEY, "mean", "std", "n", "code_fingerprint", "config_hash"])
    if rows.empty:
        return empty
    values = pd.to_numeric(rows["value"], errors="coerce")
    grouped = rows.assign(value=values).groupby(KEY, sort=True, dropna=False)
    summary = grouped["value"].agg(mean="mean", std=lambda v: v.std(ddof=1), n="count")
    for column in ("code_fingerprint", "config_hash"):
        if column in rows.columns:
            summary[column] = grouped[column].agg(lambda v: ";".join(sorted(set(map(str, v)))))
        else:
            summary[column] = ""
    summary["n"] = summary["n"].astype(int)
    return summary.reset_index()


def records_dir(
    profile: str, *, project: Path | None = None, store: ResultStore | None = None
) -> Path:
    """Folder holding the recorded numbers of ``profile``.

    ``paper`` goes to ``<project>/results/paper`` (``project`` defaults to the nearest folder
    above the working directory with ``_toc.yml``); everything else, and ``paper`` outside a
    project checkout, to the store's ``records/<profile>``.
    """
    if profile == PAPER_PROFILE:
        project = project or provenance.project_root()
        if project is not None:
            return project / "results" / "paper"
        warnings.warn("no project root found: paper records go to the result store", stacklevel=2)
    store = store or ResultStore(default_root(project))
    return store.records_dir(profile)


def record(
    df: pd.DataFrame,
    chapter_id: str,
    profile: str,
    *,
    project: Path | None = None,
    store: ResultStore | None = None,
) -> pd.DataFrame:
    """Aggregate the headline rows of ``df`` and write them as the chapter's recorded numbers.

    Call once at the end of every chapter notebook. Returns the summary (columns
    :data:`RECORD_COLUMNS`); accuracies are in percent, as the protocols report them. The files
    are replaced atomically, so each always holds one complete run of the chapter.
    """
    folder = records_dir(profile, project=project, store=store)
    trials = per_trial(df)
    trials.insert(0, "chapter_id", chapter_id)
    trials["machine"] = provenance.machine()
    provenance.atomic_write_text(folder / "trials" / f"{chapter_id}.csv",
                                 trials[TRIAL_COLUMNS].to_csv(index=False, float_format="%.6g"))
    summary = summarise(df)
    summary.insert(0, "chapter_id", chapter_id)
    summary["profile"] = profile
    summary["git_commit"] = provenance.git_commit()
    summary["created"] = provenance.utc_now()
    summary = summary[RECORD_COLUMNS]
    if summary.empty:
        warnings.warn(f"{chapter_id}: no headline rows to record", stacklevel=2)
    path = folder / f"{chapter_id}.csv"
    provenance.atomic_write_text(path, summary.to_csv(index=False, float_format="%.6g"))
    return summary


def keyed(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a canonical ``setting`` cell in every row (empty where it has none), so that
    frames from protocols, files and tests join on :data:`KEY`."""
    column = df[settings.COLUMN] if settings.COLUMN in df else pd.Series("", df.index)
    return df.assign(**{settings.COLUMN: settings.normalise(column).astype(str)})


def headline_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``df`` marked ``headline``, each with a canonical ``setting`` cell."""
    rows = df[df["headline"].fillna(False).astype(bool)] if "headline" in df else df.iloc[:0]
    return keyed(rows)


def per_trial(df: pd.DataFrame) -> pd.DataFrame:
    """The headline rows of ``df``, one per (dataset, method, setting, metric, trial), with the
    ``seconds`` of the unit each came from (the store's ``wall_time_s``; NaN without one)."""
    rows = headline_rows(df)
    if "trial" not in rows:
        rows = rows.assign(trial=0)
    out = rows.reindex(columns=[*KEY, "trial", "value", "wall_time_s"]).copy()
    out = out.rename(columns={"wall_time_s": "seconds"})
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    return out.sort_values([*KEY, "trial"], ignore_index=True)


def load_trials(
    profile: str, *, project: Path | None = None, store: ResultStore | None = None
) -> pd.DataFrame:
    """All per-trial recorded numbers of ``profile``, or an empty frame if none."""
    folder = records_dir(profile, project=project, store=store) / "trials"
    return _read_folder(folder, TRIAL_COLUMNS)


def load_records(
    profile: str, *, project: Path | None = None, store: ResultStore | None = None
) -> pd.DataFrame:
    """All recorded numbers of ``profile`` (every chapter), or an empty frame if none."""
    return _read_folder(records_dir(profile, project=project, store=store), RECORD_COLUMNS)


def read_csv(path: Path) -> pd.DataFrame:
    """One recorded-numbers file (records, trials or reference), its ``setting`` cells as text."""
    frame = pd.read_csv(path, dtype={settings.COLUMN: str})
    if settings.COLUMN in frame:
        frame[settings.COLUMN] = frame[settings.COLUMN].fillna("")
    return frame


def _read_folder(folder: Path, columns: list[str]) -> pd.DataFrame:
    """Every non-empty ``*.csv`` of ``folder`` as one frame (``columns`` only, if it is empty)."""
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    frames = [frame for frame in map(read_csv, files) if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

"""The run log: how each chapter last executed under a profile (time, success, error).

``sleepbook run`` and ``sleepbook build`` append to it; the status page shows it.
Stored at ``<store root>/runs/<profile>.csv``, one row per chapter (the last run).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from . import provenance
from .store import ResultStore


@dataclass(frozen=True)
class ChapterRun:
    """How one chapter execution went."""

    chapter_id: str
    profile: str
    output: Path
    seconds: float
    ok: bool
    started: str
    error: str = ""


#: Chapters run concurrently in one build (threads) replace their rows one at a time.
_LOG_LOCK = threading.Lock()


def run_log_path(profile: str, store: ResultStore) -> Path:
    """``<store root>/runs/<profile>.csv``: the last execution of each chapter."""
    return store.root / "runs" / f"{profile}.csv"


def log_run(run: ChapterRun, store: ResultStore) -> None:
    """Replace this chapter's row in the run log of its profile."""
    if not store.enabled:
        return
    path = run_log_path(run.profile, store)
    row = pd.DataFrame([{**asdict(run), "output": str(run.output)}])
    with _LOG_LOCK:
        if path.is_file():
            old = pd.read_csv(path)
            row = pd.concat([old[old["chapter_id"] != run.chapter_id], row], ignore_index=True)
        provenance.atomic_write_text(path, row.to_csv(index=False))


def load_run_log(profile: str, store: ResultStore | None = None) -> pd.DataFrame:
    """The run log of ``profile`` (empty if no chapter has run)."""
    path = run_log_path(profile, store or ResultStore())
    return pd.read_csv(path) if path.is_file() else pd.DataFrame()


def slowest_line(log: pd.DataFrame, k: int = 10) -> str:
    """One line naming the ``k`` chapters whose last execution took longest (minutes), and the
    sum of all: where a build's time went, readable at the end of a CI log."""
    if log.empty:
        return ""
    ranked = log.sort_values("seconds", ascending=False)
    shown = ", ".join(f"{r.chapter_id} {r.seconds / 60:.1f}"
                      for r in ranked.head(k).itertuples())
    return (f"slowest chapters (minutes, last run): {shown}; all {len(log)} chapters: "
            f"{log['seconds'].sum() / 60:.1f} min of notebook time")

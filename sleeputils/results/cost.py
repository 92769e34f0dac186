"""What each chapter costs, read from its recorded trials (``sleepbook cost``).

Every per-trial record carries the ``seconds`` its unit computed for (one core;
:mod:`.record`), and every row of one unit carries the same value, so a chapter's units are its
distinct (trial, seconds) pairs. Per chapter this gives the units, their core-seconds, the
slowest unit, and the wall time on N single-threaded workers (the longest-first schedule of its
units; with fewer units than workers, the slowest unit). What the records do not hold is not
counted: units without a recorded number (the baselines' validation search, an initial VAE, a
digit classifier), and a build's kernel starts, data loading and figures. A unit shared by two
chapters counts in both.

Records written before the ``seconds`` column existed have no unit times: their chapters say so
and, for the ``paper`` profile, show the wall time the README gave by hand, labelled as such,
rather than a number made up here.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .record import PAPER_PROFILE, load_trials
from .reference import load_reference
from .runlog import load_run_log
from .store import ResultStore

#: Wall minutes on 2 cores the README's cost table gave by hand for the committed ``paper``
#: runs (one worker process per core; some beside another run), before records carried unit
#: times: shown, labelled, for chapters whose records have none.
README_MINUTES: dict[str, float] = {
    "single": 10.1, "task2-mnist": 13.9, "paradigms": 68.5, "wscl-mnist": 23.4,
    "wscl-fashion": 18.4, "recipes-mnist": 12.2, "recipes-fashion": 11.9,
    "representations-mnist": 1.5, "representations-fashion": 2.0, "crossmodal": 34.5,
    "epochs-mnist": 23.9, "epochs-fashion": 68.3, "icarl-mnist": 68.5, "icarl-fashion": 84.3,
    "interleave": 31.6, "vae-inverted": 145.0, "replay-inverted": 39.0, "replay-digits": 21.0,
    "vae-fashion": 122.0,
}


@dataclass(frozen=True)
class ChapterCost:
    """One chapter's units and what they cost (NaN where its records hold no unit times)."""

    chapter_id: str
    units: int
    core_seconds: float
    slowest: float
    wall: float  # estimated seconds on the given workers
    note: str = ""


def unit_seconds(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per unit: chapter_id, trial, seconds (rows without seconds dropped)."""
    if "seconds" not in trials:
        return pd.DataFrame(columns=["chapter_id", "trial", "seconds"])
    timed = trials.dropna(subset=["seconds"])
    return timed.drop_duplicates(["chapter_id", "trial", "seconds"])[
        ["chapter_id", "trial", "seconds"]].reset_index(drop=True)


def makespan(seconds: Iterable[float], workers: int) -> float:
    """Wall time of ``seconds`` units on ``workers`` workers, longest first, each unit to the
    worker free soonest (Graham's LPT rule: within 4/3 of the best schedule)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    free = [0.0] * workers
    for s in sorted(seconds, reverse=True):
        heapq.heapreplace(free, free[0] + s)
    return max(free)


def chapter_costs(trials: pd.DataFrame, workers: int, profile: str,
                  chapters: Iterable[str] | None = None) -> list[ChapterCost]:
    """The cost of every chapter in ``trials`` (and of ``chapters``, recorded or not), in the
    order of ``chapters`` (else by name)."""
    units = unit_seconds(trials)
    recorded = sorted(set(trials.get("chapter_id", ())))
    order = list(chapters) if chapters is not None else recorded
    out = []
    for chapter in order:
        times = units.loc[units["chapter_id"] == chapter, "seconds"].to_numpy(float)
        if len(times):
            out.append(ChapterCost(chapter, len(times), float(times.sum()), float(times.max()),
                                   makespan(times, workers)))
        elif chapter not in recorded:
            out.append(ChapterCost(chapter, 0, math.nan, math.nan, math.nan,
                                   "no per-trial records"))
        else:
            minutes = README_MINUTES.get(chapter) if profile == PAPER_PROFILE else None
            note = "records carry no unit times"
            if minutes is not None:
                note += f"; README (hand-timed, 2 cores): {minutes:g} min"
            out.append(ChapterCost(chapter, 0, math.nan, math.nan, math.nan, note))
    return out


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{int(seconds // 3600)} h {round(seconds % 3600 / 60):02d} min"


def cost_table(costs: list[ChapterCost], workers: int,
               last_run: dict[str, float] | None = None) -> pd.DataFrame:
    """The costs as a table for people, with a total row over the timed chapters (wall: the
    chapters one after another, each on every worker). ``last_run``: seconds the chapter's last
    execution took (the run log), shown beside the estimate when given."""
    rows = [{"chapter": c.chapter_id, "units": c.units if c.units else "-",
             "core-seconds": "-" if math.isnan(c.core_seconds) else f"{c.core_seconds:.0f}",
             "slowest unit": _duration(c.slowest), f"wall on {workers}": _duration(c.wall),
             **({"last run": _duration(last_run.get(c.chapter_id, math.nan))}
                if last_run is not None else {}),
             "note": c.note} for c in costs]
    timed = [c for c in costs if math.isfinite(c.wall)]
    rows.append({"chapter": "total", "units": sum(c.units for c in timed) or "-",
                 "core-seconds": f"{sum(c.core_seconds for c in timed):.0f}" if timed else "-",
                 "slowest unit": _duration(max((c.slowest for c in timed), default=math.nan)),
                 f"wall on {workers}": _duration(sum(c.wall for c in timed)) if timed else "-",
                 **({"last run": _duration(sum(last_run.values()) if last_run else math.nan)}
                    if last_run is not None else {}),
                 "note": _untimed(costs)})
    return pd.DataFrame(rows)


def _untimed(costs: list[ChapterCost]) -> str:
    """How many chapters the total leaves out, and the README's hand-timed minutes of those."""
    untimed = [c for c in costs if not math.isfinite(c.wall)]
    if not untimed:
        return ""
    hand = [README_MINUTES[c.chapter_id] for c in untimed
            if "README" in c.note and c.chapter_id in README_MINUTES]
    extra = f"; README's hand-timed {len(hand)} of them: {_duration(60 * sum(hand))}" \
        if hand else ""
    return f"{len(untimed)} chapter(s) not timed{extra}"


def profile_costs(profile: str, workers: int, *, chapters: Iterable[str] | None = None,
                  project: Path | None = None,
                  store: ResultStore | None = None) -> list[ChapterCost]:
    """The cost of every chapter of ``profile`` from its recorded trials (committed for
    ``paper``, the result store's otherwise)."""
    trials = load_trials(profile, project=project, store=store)
    return chapter_costs(trials, workers, profile, chapters)


def expected_seconds(profile: str, *, project: Path | None = None,
                     store: ResultStore | None = None) -> dict[str, float]:
    """What each chapter of ``profile`` is expected to take, only to start long chapters first:
    the successful last runs of this machine's run log when it has one for every chapter the
    reference times (whole notebooks, searches and initial VAEs included), else the recorded
    units' core-seconds in the frozen reference (a fresh clone has no run log; the two are not
    mixed, being on different scales). Chapters with no guess are absent; an unreadable source
    gives no guess rather than stopping a build."""
    try:
        ref = load_reference(profile, project, trials=True)
        log = load_run_log(profile, store)
    except (OSError, ValueError, KeyError, pd.errors.ParserError):
        return {}
    guess: dict[str, float] = {}
    if ref is not None:
        units = unit_seconds(ref)
        guess = units.groupby("chapter_id")["seconds"].sum().astype(float).to_dict()
    if not log.empty and {"chapter_id", "seconds", "ok"} <= set(log.columns):
        ran = log[log["ok"].astype(bool) & log["seconds"].notna()]
        timed = ran.set_index("chapter_id")["seconds"].astype(float).to_dict()
        if set(guess) <= set(timed):
            guess = timed
    return {c: s for c, s in guess.items() if math.isfinite(s)}

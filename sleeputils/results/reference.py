"""The book's own reference numbers and the tolerances a re-run must stay within.

``sleepbook freeze --profile P`` turns the recorded numbers of a run into
``results/reference/P.csv`` (mean, std, n, tol per number) and ``results/reference/P-trials.csv``
(every trial's value); ``sleepbook check`` compares later runs with both.

**Per trial.** Runs are seeded and deterministic: on the machine that froze the reference
(same CPU model, core and torch thread counts, and Python, torch, numpy and numba versions;
:func:`provenance.machine`, recorded with every reference trial, since a partial re-freeze may
come from another machine) a re-run reproduces every trial bit for bit, so each trial must
match to :data:`TRIAL_TOL_SAME_MACHINE` (the rounding of the stored values). On another machine
float sums may round differently. How far that moves a trial was measured with
``benchmarks/float_noise.py`` (every initial weight moved by one float32 ulp, quick MNIST
protocol, trials 0-2): methods without sleep moved by at most 0.01 points, so their trials must
stay within :data:`TRIAL_TOL_OTHER_MACHINE`; methods that sleep moved by up to 5.55 points (the
spiking sleep amplifies the last bit), so no per-trial band both covers that and catches a
broken method. A whole quick book re-run on another CPU (an Intel Xeon, family 6 model 167,
against the AMD EPYC reference) confirmed it and found more such methods: plain SGD methods
(sequential, parallel, EWC, SI, OWM, rehearsal) moved by at most 0.14 points, while SRC in any
combination moved by up to 10.4, iCaRL (its herding picks exemplars by argmax) by up to 1.06, and
the VAE chapters' generators, which train on their own samples, diverged (a final error 675.8
against 120.9). OWM in its authors' recipe (``owm_recipe``) was measured on a third CPU (an AMD
EPYC of family 26 with AVX-512, against the family-25 reference): its trials moved by up to 2.63
points (means within their bands) while plain OWM on the SRC protocol moved by none; its
projectors are updated recursively at every step, with alphas that decay within each task (the
input layer's to 0.001 of its start), the likely amplifier of the last bit.
These are the *chaotic* methods (:func:`chaotic`, which also counts WSCL, whose freezing choice
and head assignment are discrete). Across machines their trials are shown, not
failed; their means keep the band below when it has a spread to learn from (n ≥ 2) and are shown,
not failed, when it has not (a single chaotic trial on another CPU is as good as a fresh seed).
The check names every trial that moved.

A chaotic method's numbers that no chaotic step reaches are compared on any machine
(:data:`STABLE_METRICS`): the first sleep's scale factors (``first_sleep_alpha``, one per layer)
are computed from the network after the first task, which SGD reproduces across CPUs to float
noise, and from the sleep data; their trials must stay within a relative band. So a sleep
broken in its scaling fails the check on another CPU too, where SRC's accuracies cannot show it.

**Per mean** (percentage points, for numbers in percent)::

    tol = max(3 · std · sqrt(2 / n), 0.5)      if n ≥ 2 and std is known
    tol = 2.0                                   if n = 1 (no spread to estimate)

Why: on one machine the numbers are deterministic (fixed seeds), so a re-run reproduces them
exactly and any tolerance passes. On another machine, float differences (BLAS, CPU vs GPU) can
send SGD down a different path, and in the worst case a re-run is then as different as a fresh
set of n trials. The difference of two means of n trials has standard deviation
std · sqrt(2 / n), so 3 of those flag a real change while passing such noise (a false alarm
about 0.3 % of the time per number if std were known exactly; more often with few trials, whose
std is itself uncertain). The 0.5 pp floor keeps the band from collapsing when
the trials happen to agree (std ≈ 0), and with a single trial there is no spread to learn from,
so a fixed 2 pp band is used.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path

import pandas as pd

from sleeputils.results import provenance
from sleeputils.results.record import KEY, load_records, load_trials, read_csv
from sleeputils.results.store import ResultStore

#: Smallest tolerance, in percentage points.
TOL_FLOOR = 0.5
#: Tolerance when a number comes from a single trial, in percentage points.
TOL_SINGLE_TRIAL = 2.0
#: Number of standard deviations of the difference of two means.
TOL_SIGMAS = 3.0
#: Allowed |re-run trial − reference trial| on the reference's machine, in points: runs are
#: bit-for-bit reproducible there; the stored values carry 6 significant digits.
TRIAL_TOL_SAME_MACHINE = 0.01
#: Allowed |re-run trial − reference trial| on another machine, for methods that do not sleep
#: (measured float noise: at most 0.01 points; see the module docstring).
TRIAL_TOL_OTHER_MACHINE = 0.5


def chaotic(method: str) -> bool:
    """Whether float noise across CPUs can send a method's run down another path: anything with
    an SRC sleep (``src``, ``src_corrected``, ``rehearsal_src``, ``er_src``, ``icarl_src``),
    iCaRL's herding, WSCL's freezing choice and head assignment, a VAE that replays its own
    samples (``vae``, ``generative``) and OWM in its authors' recipe (``owm_recipe``). See the
    module docstring for the measurements."""
    return ("src" in method or method.startswith(("icarl", "wscl"))
            or method in ("vae", "generative", "owm_recipe"))


#: Numbers of chaotic methods no chaotic step reaches, with the relative band their trials keep
#: on another machine (a fraction of the reference trial's value).
STABLE_METRICS = {"first_sleep_alpha": 0.01}


def trial_tolerance(method: str, same_machine: bool, metric: str | None = None,
                    reference: float | None = None) -> float:
    """The per-trial band of one number of a method (NaN: not compared, see the module
    docstring); ``reference`` is the reference trial's value, for the relative bands."""
    if same_machine:
        return TRIAL_TOL_SAME_MACHINE
    if metric in STABLE_METRICS and reference is not None and math.isfinite(reference):
        return STABLE_METRICS[metric] * abs(reference)
    return math.nan if chaotic(method) else TRIAL_TOL_OTHER_MACHINE

REFERENCE_COLUMNS: list[str] = [
    "chapter_id",
    *KEY,
    "mean",
    "std",
    "n",
    "tol",
    "git_commit",
    "created",
]


def tolerance(std: float, n: int) -> float:
    """Allowed |re-run mean − reference mean| for a number with trial spread ``std`` over ``n``.

    See the module docstring for the rule and why.
    """
    if n < 2 or std is None or not math.isfinite(std):
        return TOL_SINGLE_TRIAL
    band = TOL_SIGMAS * std * math.sqrt(2.0 / n)
    return round(max(band, TOL_FLOOR), 2)


def reference_path(profile: str, project: Path | None = None, *, trials: bool = False) -> Path:
    """``<project>/results/reference/<profile>.csv`` (``<profile>-trials.csv`` for trials)."""
    project = project or provenance.project_root()
    if project is None:
        raise FileNotFoundError("no project root (a folder with _toc.yml) above the working dir")
    name = f"{profile}-trials.csv" if trials else f"{profile}.csv"
    return project / "results" / "reference" / name


def make_reference(records: pd.DataFrame) -> pd.DataFrame:
    """Reference table (with tolerances) from recorded numbers."""
    ref = records.copy()
    ref["tol"] = [tolerance(s, int(n)) for s, n in zip(ref["std"], ref["n"], strict=True)]
    ref["created"] = provenance.utc_now()
    return ref.reindex(columns=REFERENCE_COLUMNS)


def freeze(
    profile: str, *, project: Path | None = None, store: ResultStore | None = None,
    chapters: Collection[str] | None = None,
) -> tuple[Path, pd.DataFrame]:
    """Write ``results/reference/<profile>.csv`` from the recorded numbers of ``profile``.

    With ``chapters``, only those chapters' numbers and trials are replaced; every other
    chapter keeps its frozen reference (a new chapter joins without re-running the book).
    Raises ``LookupError`` when nothing (or nothing of a named chapter) has been recorded yet.
    """
    records = load_records(profile, project=project, store=store)
    trials = load_trials(profile, project=project, store=store)
    if chapters is not None:
        absent = sorted(set(chapters) - set(records.get("chapter_id", ())))
        if absent:
            raise LookupError(f"no recorded numbers of {', '.join(absent)} for profile "
                              f"{profile!r}: run `sleepbook run CHAPTER --profile {profile}`")
        ref = _replace_chapters(load_reference(profile, project),
                                make_reference(records), chapters)
        trials = _replace_chapters(load_reference(profile, project, trials=True), trials,
                                   chapters)
    elif records.empty:
        raise LookupError(
            f"no recorded numbers for profile {profile!r}: run `sleepbook build --profile "
            f"{profile}` first"
        )
    else:
        ref = make_reference(records)
    path = reference_path(profile, project)
    provenance.atomic_write_text(path, ref.to_csv(index=False, float_format="%.6g"))
    provenance.atomic_write_text(reference_path(profile, project, trials=True),
                                 trials.to_csv(index=False, float_format="%.6g"))
    return path, ref


def _replace_chapters(old: pd.DataFrame | None, new: pd.DataFrame,
                      chapters: Collection[str]) -> pd.DataFrame:
    """``old`` without ``chapters``' rows, then ``new``'s rows of ``chapters``."""
    fresh = new[new["chapter_id"].isin(chapters)]
    if old is None:
        return fresh.reset_index(drop=True)
    return pd.concat([old[~old["chapter_id"].isin(chapters)], fresh], ignore_index=True)


def load_reference(
    profile: str, project: Path | None = None, *, trials: bool = False
) -> pd.DataFrame | None:
    """The frozen reference of ``profile`` (its means, or its trials), or ``None`` if it was never
    frozen (or there is no project checkout to hold one)."""
    try:
        path = reference_path(profile, project, trials=trials)
    except FileNotFoundError:
        return None
    return read_csv(path) if path.is_file() else None

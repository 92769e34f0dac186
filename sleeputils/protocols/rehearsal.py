"""Rehearsal and rehearsal + SRC against the fraction of old data kept (spec §4.5, Table 1).

For each fraction p and trial, two networks start from the same weights and see the same batch
order and the same stored examples:

* ``rehearsal``: the class-incremental MNIST/Fashion protocol of spec §4.1-4.2 where task i >= 2
  also trains on ``round(N_old * p, -2)`` random examples of the earlier tasks (the
  :class:`~sleeputils.methods.Rehearsal` hook);
* ``rehearsal_src``: the same, plus an SRC sleep after every task (the Rehearsal hook followed by
  the SRC hook), with the p-specific hyperparameter vector of the original code (spec §2.1-2.2).

p = 0 is plain sequential training and plain SRC. The paper's Table 1 quotes one rehearsal
fraction for MNIST (0.75 %) that is not in the original sweep, so the chapter shows the whole
curve and where the paper's numbers fall on it (paper-results.md, notes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ..data import load_dataset
from ..methods import Rehearsal
from ..nets.loop import TaskContext
from ..nets.mlp import MLP
from ..results.store import ResultStore
from .incremental import (
    PROTOCOLS,
    _trial_seed,
    check_run_settings,
    run_sequence,
    src_hook,
    trial_setup,
)

CHAPTER = "rehearsal"
METHODS = ("rehearsal", "rehearsal_src")
#: The original sweep per data set (spec §4.5).
FRACTIONS = {
    "mnist": (0.0, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    "fashion": (0.0, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
}


def rehearsal_preset(dataset: str, fraction: float) -> str:
    """The SRC vector the original uses at rehearsal fraction ``fraction`` (spec §2.1, §2.2).

    MNIST uses its main vector except at p = 0.1. Fashion switches at 0.025, 0.05 and 0.1 and
    uses the *MNIST* main vector below 0.025; a fraction off the original grid takes the vector
    of the branch it falls in.
    """
    if dataset == "mnist":
        return "mnist_rehearsal_p0.1" if np.isclose(fraction, 0.1) else "mnist"
    if fraction < 0.025:
        return "mnist"
    if fraction < 0.05:
        return "fashion_rehearsal_p0.025"
    if fraction < 0.1:
        return "fashion_rehearsal_p0.05"
    return "fashion_rehearsal_p0.1+"


def metric_name(fraction: float) -> str:
    """Headline metric of one fraction, e.g. ``final_acc_p0.01``."""
    return f"final_acc_p{fraction:g}"


def validate(dataset: str, fractions: Sequence[float], trials: int, epochs: int | None,
             sleep_scale: float) -> None:
    """Reject impossible settings before any data is loaded or anything computed."""
    if dataset not in FRACTIONS:
        raise ValueError(
            f"unknown dataset {dataset!r} for the rehearsal protocol; valid: "
            f"{', '.join(FRACTIONS)}"
        )
    if not fractions:
        raise ValueError("fractions must name at least one fraction of old data in [0, 1]")
    bad = [p for p in fractions if not 0.0 <= p <= 1.0]
    if bad:
        raise ValueError(f"rehearsal fractions must be in [0, 1], got {bad}")
    check_run_settings(trials, None, epochs, sleep_scale)


def run_rehearsal(
    dataset: str = "mnist",
    fractions: Sequence[float] | None = None,
    trials: int = 5,
    seed: int = 0,
    hidden: tuple[int, ...] | None = None,
    per_task_train: int | None = 5000,
    epochs: int | None = None,
    sleep_scale: float = 1.0,
    test_subset: int | None = None,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Both methods at every fraction, ``trials`` seeded trials each; one stored unit per
    (fraction, trial), so an interrupted sweep resumes where it stopped.

    ``fractions`` defaults to the original sweep of the data set. The other arguments are those
    of :func:`~sleeputils.protocols.incremental.run_incremental`.
    """
    fractions = tuple(float(p) for p in (FRACTIONS.get(dataset, ()) if fractions is None
                                         else fractions))
    validate(dataset, fractions, trials, epochs, sleep_scale)
    proto = PROTOCOLS[dataset]
    base = {
        "dataset": dataset,
        "seed": seed,
        "hidden": list(hidden or proto.hidden),
        "per_task_train": per_task_train,
        "epochs": epochs or proto.epochs,
        "sleep_scale": sleep_scale,
        "test_subset": test_subset,
    }
    ds = load_dataset(dataset)
    store = store or ResultStore()
    units = [(p, t) for p in fractions for t in range(trials)]
    frames = []
    for p, t in tqdm(units, desc=f"rehearsal {dataset}", disable=not progress):
        config = {**base, "fraction": p}
        frames.append(store.unit(CHAPTER, config, t, lambda c=config, t=t: run_trial(ds, c, t)))
    return pd.concat(frames, ignore_index=True)


def run_trial(ds, config: dict, trial: int) -> list[dict]:
    """Rehearsal and rehearsal + SRC at one fraction, from the same initial weights."""
    proto = PROTOCOLS[config["dataset"]]
    seed = _trial_seed(config["seed"], trial)  # the incremental chapter's trial seeds
    fraction = config["fraction"]
    tasks, evaluator, mlp = trial_setup(ds, proto, config, seed)

    def old_data(ctx: TaskContext) -> tuple[np.ndarray, np.ndarray]:
        classes = [c for t in ctx.tasks[: ctx.index] for c in t.classes]
        keep = np.isin(ds.y_train, classes)  # all their training examples (spec §4.5)
        return ds.x_train[keep], ds.y_train[keep]

    records: list[dict] = []
    for method in METHODS:
        net = MLP(mlp, torch.Generator().manual_seed(seed))
        hooks = [Rehearsal(fraction, old_data, np.random.default_rng([seed, 3]))]
        if method == "rehearsal_src":
            preset_name = rehearsal_preset(config["dataset"], fraction)
            hooks.append(src_hook(ds, proto, config, seed, preset_name))
        gen = torch.Generator().manual_seed(seed + 1)
        rows = run_sequence(net, tasks, hooks, config["epochs"], gen, evaluator)
        for r in rows:
            r.update(dataset=config["dataset"], method=method, fraction=fraction)
            if r["metric"] == "final_acc":
                r["metric"] = metric_name(fraction)
            elif r.get("headline"):  # bwt / forgetting: kept, but per fraction
                r["metric"] = f"{r['metric']}_p{fraction:g}"
        records += rows
    return records

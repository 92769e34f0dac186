"""Rehearsal and rehearsal + SRC against the fraction of old data kept (Table 1's rehearsal
columns; book/methods/protocols.md, protocol-rehearsal).

For each fraction p and trial, two networks start from the same weights and see the same batch
order and the same stored examples:

* ``rehearsal``: the class-incremental protocol where task i >= 2 also trains on
  ``round(N_old * p, -2)`` random examples of the earlier tasks (the
  :class:`~sleeputils.methods.Rehearsal` hook);
* ``rehearsal_src``: the same, plus an SRC sleep after every task (the Rehearsal hook followed by
  the SRC hook), with the p-specific hyperparameter vector of the original code.

p = 0 is plain sequential training and plain SRC. The paper quotes one rehearsal fraction for
MNIST (0.75 %) that is not in the original sweep: the paper profile runs it beside the sweep,
and the chapter shows the whole curve and where the paper's numbers fall on it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from ..data import Dataset, load_dataset
from ..methods.registry import MethodContext, get
from ..nets.mlp import MLP
from ..params import Params, declare, same_as
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..training import run_sequence
from .common import DATASET_PROTOCOLS, TaskUnit, seed_field, sleeper, trial_seed, trial_setup
from .incremental import IncrementalConfig

CHAPTER = "rehearsal"
METHODS = ("rehearsal", "rehearsal_src")
#: The original sweep per data set (MNIST's includes p = 1, see dev-rehearsal-cap).
FRACTIONS = {
    "mnist": (0.0, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    "fashion": (0.0, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    "cifar10": (0.0, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
}
#: CIFAR-10's rehearsal script differs from its main one: 2 epochs, the first 5000 examples per
#: task, a fixed task order and sleeps on every seen task (book/methods/protocols.md,
#: protocol-rehearsal).
CIFAR10_EPOCHS = 2


@dataclass(frozen=True)
class RehearsalConfig(Params):
    """Parameters of the rehearsal sweep; defaults are the original protocol."""

    dataset: str = declare("mnist", "benchmark: 5 tasks of 2 classes", choices=tuple(FRACTIONS))
    fractions: tuple[float, ...] | None = declare(
        None, "fractions of the old tasks' training data replayed", low=0.0, high=1.0,
        none="the data set's original sweep")
    trials: int = declare(5, "independent trials per fraction", low=1, high=100)
    seed: int = seed_field()
    hidden: tuple[int, ...] | None = same_as(IncrementalConfig, "hidden")
    per_task_train: int = same_as(IncrementalConfig, "per_task_train")
    epochs: int | None = same_as(IncrementalConfig, "epochs")
    sleep_scale: float = same_as(IncrementalConfig, "sleep_scale")
    test_subset: int | None = same_as(IncrementalConfig, "test_subset")

    @property
    def sweep(self) -> tuple[float, ...]:
        """The fractions run: the given ones, else the data set's original sweep."""
        return self.fractions if self.fractions is not None else FRACTIONS[self.dataset]


def rehearsal_preset(dataset: str, fraction: float) -> str:
    """The SRC vector the original uses at rehearsal fraction ``fraction``.

    MNIST uses its main vector except at p = 0.1. Fashion switches at 0.025, 0.05 and 0.1 and
    uses the *MNIST* main vector below 0.025; CIFAR-10 has its own vector at 0, 0.01, 0.025,
    0.05 and from 0.1 up. A fraction off the original grid takes the vector of the branch it
    falls in.
    """
    if dataset == "mnist":
        return "mnist_rehearsal_p0.1" if np.isclose(fraction, 0.1) else "mnist"
    if dataset == "cifar10":
        steps = ((0.01, "p0"), (0.025, "p0.01"), (0.05, "p0.025"), (0.1, "p0.05"))
        return "cifar10_rehearsal_" + next((n for top, n in steps if fraction < top), "p0.1+")
    if fraction < 0.025:
        return "mnist"
    if fraction < 0.05:
        return "fashion_rehearsal_p0.025"
    if fraction < 0.1:
        return "fashion_rehearsal_p0.05"
    return "fashion_rehearsal_p0.1+"


@dataclass(frozen=True)
class RehearsalUnit(TaskUnit):
    """One unit: one fraction of the sweep."""

    fraction: float


def units_of(config: RehearsalConfig) -> list[tuple[RehearsalUnit, int]]:
    """Every (fraction, trial) unit; CIFAR-10 keeps its rehearsal script's epochs and
    training images."""
    more = {}
    if config.dataset == "cifar10":
        more = {"per_task_train": config.per_task_train,
                "epochs": config.epochs or CIFAR10_EPOCHS}
    return [(RehearsalUnit.of(config, fraction=p, **more), t)
            for p in config.sweep for t in range(config.trials)]


def run_rehearsal(
    config: RehearsalConfig = RehearsalConfig(),
    *,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Both methods at every fraction, ``config.trials`` seeded trials each; one stored unit per
    (fraction, trial), so an interrupted sweep resumes where it stopped."""
    ds = load_dataset(config.dataset)
    return run_units(CHAPTER, units_of(config), lambda u, t: run_trial(ds, u, t),
                     store=store, progress=progress, desc=f"rehearsal {config.dataset}")


def run_trial(ds: Dataset, unit: RehearsalUnit, trial: int) -> list[dict]:
    """Rehearsal and rehearsal + SRC at one fraction, from the same initial weights."""
    proto = replace(DATASET_PROTOCOLS[unit.dataset], shuffle_task_order=False,
                    sleep_on_first_task_only=False)
    seed = trial_seed(unit.seed, trial)  # the incremental chapter's trial seeds
    setup = trial_setup(ds, proto, seed, hidden=unit.hidden, per_task_train=unit.per_task_train,
                        test_subset=unit.test_subset)
    sleep = sleeper(ds, proto, seed, rehearsal_preset(unit.dataset, unit.fraction))
    records: list[dict] = []
    for method in METHODS:
        spec = get(method)
        net = MLP(setup.mlp, torch.Generator().manual_seed(seed))
        hooks = spec.make_hooks(MethodContext(ds, seed, spec.settings_of(unit), sleep))
        gen = torch.Generator().manual_seed(seed + 1)
        rows = run_sequence(net, setup.tasks, hooks, unit.epochs, gen, setup.evaluator)
        for r in rows:
            r.update(dataset=unit.dataset, method=method, fraction=unit.fraction)
            if r.get("headline"):  # final accuracy, BWT, forgetting: per fraction
                r["setting"] = setting.encode(fraction=unit.fraction)
        records += rows
    return records

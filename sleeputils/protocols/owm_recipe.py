"""OWM in its authors' recipe on Table 1's benchmarks (book/methods/baselines.md,
baselines-owm-recipe).

The same task splits, trial seeds and test sets as the incremental chapter (MNIST and
Fashion-MNIST: 5 tasks of 2 classes, the first 5000 training images of each; protocol-incremental)
and the cross-modal chapter (all of MNIST, then all of Fashion-MNIST on shared outputs;
protocol-crossmodal); only the network, the optimiser and OWM's settings are the OWM authors'.
:func:`run_owm_recipe` is one trial; :func:`run_owm_recipe_trials` stores one unit per trial.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from ..data import load_dataset
from ..methods.owm_recipe import OWMRecipeParams, recipe_hook, recipe_mlp
from ..nets.mlp import MLP
from ..params import declare
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit
from ..training import run_sequence
from .common import DATASET_PROTOCOLS, seed_field, trial_seed, trial_setup
from .crossmodal import _tasks as crossmodal_tasks

CHAPTER = "owm-recipe"
METHOD = "owm_recipe"
DATASETS = ("mnist", "fashion", "crossmodal")


@dataclass(frozen=True)
class OWMRecipeConfig(OWMRecipeParams):
    """Trials of the recipe on one benchmark; the recipe's elements are inherited fields."""

    dataset: str = declare("mnist", "benchmark: Split-MNIST, Split-Fashion (5 tasks of 2 "
                           "classes) or cross-modal MNIST -> Fashion", choices=DATASETS)
    trials: int = declare(5, "independent trials", low=1, high=100)
    seed: int = seed_field()
    per_task_train: int | None = declare(None, "training images per task", low=10, high=60000,
                                         none="the chapter's (5000; all 60000 cross-modal)")
    test_subset: int | None = declare(None, "test images used for accuracy", low=10,
                                      high=20000, none="all")

    def recipe(self) -> dict[str, Any]:
        """The recipe's elements alone, as keyword arguments."""
        names = {f.name for f in dataclasses.fields(OWMRecipeParams)}
        return {k: v for k, v in dataclasses.asdict(self).items() if k in names}


def run_owm_recipe(dataset: str, trial: int, *, seed: int = 0,
                   per_task_train: int | None = None, test_subset: int | None = None,
                   **recipe: Any) -> list[dict]:
    """One trial of the recipe (elements not given keep the authors' values): tidy records of
    every stage, the headline numbers, each task's accuracy right after it was trained
    (``acc_just_trained``) and the trial's wall time."""
    start = time.perf_counter()
    params = OWMRecipeParams(**recipe)
    params.check_layers()
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    s = trial_seed(seed, trial)
    if dataset == "crossmodal":
        mnist = load_dataset("mnist")
        tasks, evaluator = crossmodal_tasks(mnist, load_dataset("fashion"), per_task_train,
                                            test_subset)
        n_in, n_out = mnist.x_train.shape[1], mnist.n_classes
    else:
        ds = load_dataset(dataset)
        setup = trial_setup(ds, DATASET_PROTOCOLS[dataset], s, hidden=params.hidden,
                            per_task_train=per_task_train or 5000, test_subset=test_subset)
        tasks, evaluator = setup.tasks, setup.evaluator
        n_in, n_out = ds.x_train.shape[1], ds.n_classes
    net = MLP(recipe_mlp(params, n_in, n_out), torch.Generator().manual_seed(s))
    rows = run_sequence(net, tasks, [recipe_hook(params)], params.epochs,
                        torch.Generator().manual_seed(s + 1), evaluator)
    rows += [{"metric": "acc_just_trained", "task": r["task"], "value": r["value"]}
             for r in rows if r.get("metric") == "acc_task" and r["task"] == r["after_task"]]
    if dataset == "crossmodal":
        last = {r["task"]: r["value"] for r in rows
                if r.get("metric") == "acc_task" and r["after_task"] == len(tasks)}
        rows += [{"metric": f"acc_{name}", "value": last[k], "headline": True}
                 for k, name in ((1, "mnist"), (2, "fashion"))]
    rows.append({"metric": "seconds", "value": time.perf_counter() - start})
    return [{"dataset": dataset, "method": METHOD, **r} for r in rows]


@dataclass(frozen=True)
class OWMRecipeUnit(Unit):
    """One trial's unit: the benchmark, the seed and every recipe element."""

    dataset: str
    seed: int
    per_task_train: int | None
    test_subset: int | None
    recipe: OWMRecipeParams

    def key(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "seed": self.seed,
                "per_task_train": self.per_task_train, "test_subset": self.test_subset,
                **self.recipe.as_dict()}


def unit_of(config: OWMRecipeConfig) -> OWMRecipeUnit:
    """The unit every trial of ``config`` shares."""
    return OWMRecipeUnit(config.dataset, config.seed, config.per_task_train, config.test_subset,
                         OWMRecipeParams(**config.recipe()))


def run_owm_recipe_trials(config: OWMRecipeConfig = OWMRecipeConfig(), *,
                          store: ResultStore | None = None,
                          progress: bool = True) -> pd.DataFrame:
    """``config.trials`` seeded trials, one stored unit each (an interrupted run resumes)."""
    config.check_layers()

    def compute(unit: OWMRecipeUnit, trial: int) -> list[dict]:
        return run_owm_recipe(unit.dataset, trial, seed=unit.seed,
                              per_task_train=unit.per_task_train, test_subset=unit.test_subset,
                              **unit.recipe.as_dict())

    unit = unit_of(config)
    return run_units(CHAPTER, [(unit, t) for t in range(config.trials)], compute, store=store,
                     progress=progress, desc=f"OWM recipe {config.dataset}")

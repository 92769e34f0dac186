"""OWM in its authors' recipe on Table 1's benchmarks (book/methods/baselines.md,
baselines-owm-recipe).

The same task splits, trial seeds and test sets as the incremental chapter (MNIST and
Fashion-MNIST: 5 tasks of 2 classes, the first 5000 training images of each; protocol-incremental)
and the cross-modal chapter (all of MNIST, then all of Fashion-MNIST on shared outputs;
protocol-crossmodal); only the network, the optimiser and OWM's settings are the OWM authors'.
:func:`run_owm_recipe` is one trial. The chapter (:func:`run_owm_recipe_chapter`) runs the
recipe on every benchmark, the recipe with some elements set to the SRC protocol's value on
every benchmark (``matched``), and a one-at-a-time sweep of the elements on one benchmark
(``sweep``): each variant's headline numbers carry the element changed as their setting.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from ..data import load_dataset
from ..methods.owm_recipe import (
    OWMRecipeParams,
    recipe_hook,
    recipe_mlp,
    src_protocol_values,
)
from ..nets.mlp import MLP
from ..params import ParamError, declare
from ..results import provenance, setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit
from ..training import run_sequence
from .common import DATASET_PROTOCOLS, seed_field, trial_seed, trial_setup
from .crossmodal import _tasks as crossmodal_tasks

CHAPTER = "owm-recipe"
METHOD = "owm_recipe"
DATASETS = ("mnist", "fashion", "crossmodal")
#: Elements a variant can set to the SRC protocol's value (``alpha_decays``: each layer's alpha
#: constant at its starting value; ``alphas`` itself is left out, the SRC-protocol OWM's alpha
#: being a validation search's choice, and ``init_scale`` only matters with ``init``).
SWEEPABLE = ("hidden", "bias", "init", "dropout", "output", "lr", "momentum", "batch_size",
             "epochs", "clip", "alpha_decays", "absorb")
#: The setting value of the recipe as its authors set it.
AUTHORS = "none"


@dataclass(frozen=True)
class OWMRecipeConfig(OWMRecipeParams):
    """The chapter's parameters; the recipe's elements are inherited fields (the authors' values
    by default), which every variant starts from."""

    datasets: tuple[str, ...] = declare(DATASETS, "benchmarks: Split-MNIST, Split-Fashion (5 "
                                        "tasks of 2 classes), cross-modal MNIST -> Fashion",
                                        choices=DATASETS)
    trials: int = declare(5, "independent trials of the recipe and of each matched variant",
                          low=1, high=100)
    matched: tuple[str, ...] = declare(("epochs",), "elements set to the SRC protocol's value, "
                                       "one at a time, on every benchmark", choices=SWEEPABLE)
    sweep: tuple[str, ...] = declare(SWEEPABLE, "elements set to the SRC protocol's value, one "
                                     "at a time, on the sweep's benchmark", choices=SWEEPABLE)
    sweep_dataset: str = declare("mnist", "benchmark of the one-at-a-time sweep",
                                 choices=DATASETS)
    sweep_trials: int = declare(1, "trials of each swept element", low=1, high=100)
    seed: int = seed_field()
    per_task_train: int | None = declare(None, "training images per task", low=10, high=60000,
                                         none="the chapter's (5000; all 60000 cross-modal)")
    test_subset: int | None = declare(None, "test images used for accuracy", low=10,
                                      high=20000, none="all")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sweep and self.sweep_dataset not in self.datasets:
            raise ParamError(f"parameter 'sweep_dataset' must be one of the benchmarks run "
                             f"({', '.join(self.datasets)}), got {self.sweep_dataset}: the sweep "
                             "is read against the authors' recipe on the same benchmark")

    def recipe(self, changed: str = AUTHORS) -> OWMRecipeParams:
        """The recipe's elements, with ``changed`` (an element of :data:`SWEEPABLE`) at the SRC
        protocol's value."""
        names = {f.name for f in dataclasses.fields(OWMRecipeParams)}
        values = {k: v for k, v in dataclasses.asdict(self).items() if k in names}
        if changed != AUTHORS:
            if changed not in SWEEPABLE:
                raise ParamError(f"element {changed!r} cannot be swept: choose from "
                                 f"{', '.join(SWEEPABLE)}")
            values[changed] = src_protocol_values(1.0)[changed]
        return OWMRecipeParams(**values)

    def variants(self) -> list[tuple[str, str, int]]:
        """(benchmark, element changed, trials) of every run; each pair once, with the larger
        trial count where the matched runs and the sweep share one."""
        runs: dict[tuple[str, str], int] = {}
        for dataset in self.datasets:
            for changed in (AUTHORS, *self.matched):
                runs[dataset, changed] = self.trials
        for changed in self.sweep:
            key = (self.sweep_dataset, changed)
            runs[key] = max(runs.get(key, 0), self.sweep_trials)
        return [(d, c, n) for (d, c), n in runs.items()]


def run_owm_recipe(dataset: str, trial: int, *, seed: int = 0,
                   per_task_train: int | None = None, test_subset: int | None = None,
                   **recipe: Any) -> list[dict]:
    """One trial of the recipe (elements not given keep the authors' values): tidy records of
    every stage, the headline numbers, each task's accuracy right after it was trained
    (``acc_just_trained``; their mean is the headline ``just_trained_acc``) and the trial's wall
    time."""
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
    just = [{"metric": "acc_just_trained", "task": r["task"], "value": r["value"]}
            for r in rows if r.get("metric") == "acc_task" and r["task"] == r["after_task"]]
    # Plasticity as one headline number: how well each task is learned before any forgetting.
    rows += [*just, {"metric": "just_trained_acc", "headline": True,
                     "value": sum(r["value"] for r in just) / len(just)}]
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


def unit_of(config: OWMRecipeConfig, dataset: str, changed: str = AUTHORS) -> OWMRecipeUnit:
    """The unit every trial of one variant shares."""
    return OWMRecipeUnit(dataset, config.seed, config.per_task_train, config.test_subset,
                         config.recipe(changed))


def _compute(unit: OWMRecipeUnit, trial: int) -> list[dict]:
    return run_owm_recipe(unit.dataset, trial, seed=unit.seed, per_task_train=unit.per_task_train,
                          test_subset=unit.test_subset, **unit.recipe.as_dict())


def run_owm_recipe_chapter(config: OWMRecipeConfig = OWMRecipeConfig(), *,
                           store: ResultStore | None = None,
                           progress: bool = True) -> pd.DataFrame:
    """Every variant's seeded trials, one stored unit each (an interrupted run resumes). The
    longest benchmark (cross-modal: 12 times the steps of a split benchmark) is queued first.
    Records carry ``changed`` (the element at the SRC protocol's value, ``"none"`` for the
    authors' recipe) as a column and, on the headline numbers, as their setting."""
    config.check_layers()
    for changed in {*config.matched, *config.sweep}:
        config.recipe(changed).check_layers()
    runs = sorted(config.variants(), key=lambda r: r[0] != "crossmodal")
    jobs, labels = [], []
    for dataset, changed, trials in runs:
        unit = unit_of(config, dataset, changed)
        jobs += [(unit, t) for t in range(trials)]
        labels += [(dataset, changed)] * trials
    # two variants with the same recipe (e.g. a base recipe already at 2 epochs) share units
    unique = list({(provenance.config_hash(u.key()), t): (u, t) for u, t in jobs}.values())
    df = run_units(CHAPTER, unique, _compute, store=store, progress=progress,
                   desc="OWM recipe")
    return _label(df, jobs, labels)


def _label(df: pd.DataFrame, jobs: list[tuple[OWMRecipeUnit, int]],
           labels: list[tuple[str, str]]) -> pd.DataFrame:
    """Each variant's rows with its ``changed`` column and setting (two variants with the same
    recipe, e.g. a base recipe already at 2 epochs, share their units' rows)."""
    frames = []
    for (unit, trial), (_, changed) in zip(jobs, labels, strict=True):
        rows = df[(df["config_hash"] == provenance.config_hash(unit.key()))
                  & (df["trial"] == trial)]
        frames.append(rows.assign(changed=changed))
    out = pd.concat(frames, ignore_index=True)
    head = out["headline"].fillna(False).astype(bool)
    out.loc[head, setting.COLUMN] = out.loc[head, "changed"].map(
        lambda c: setting.encode(changed=c))
    return out

"""CUB-200: two tasks of 100 bird classes on pre-extracted ResNet-50 features (Table 1's CUB-200
row; book/methods/protocols.md, protocol-cub).

Per trial the training set is shuffled once; task 1 is the first ``per_task_train`` examples of
classes 0-99, task 2 those of classes 100-199. Three nets start from the same weights:

* ``sequential``: task 1, then task 2, both at learning rate 0.1;
* ``src``: task 1 at 0.1, task 2 at the lower ``task2_lr`` (as the original's SRC branch), then
  one sleep on every training feature (the original also computes a sleep after task 1 but
  trains task 2 from the network before it, so that sleep has no effect and is not run);
* ``parallel``: the first 2 x ``per_task_train`` shuffled examples, both tasks mixed.

Each is scored on the test images of task 1 and of task 2 separately, argmax over all 200
outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..data import Dataset, load_dataset
from ..metrics import TaskEvaluator
from ..nets.mlp import MLP, MLPConfig
from ..params import ParamError, Params, declare, same_as
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit
from ..sleep.presets import preset
from ..sleep.src import sleep
from ..training import train_epochs
from .common import seed_field, trial_seed
from .incremental import IncrementalConfig

CHAPTER = "cub200"
METHODS = ("sequential", "src", "parallel")


@dataclass(frozen=True)
class CubConfig(Params):
    """Parameters of the CUB-200 two-task protocol; defaults are the original protocol."""

    dataset: str = declare("cub200", "benchmark: 2 tasks of 100 classes", choices=("cub200",))
    trials: int = declare(5, "independent trials", low=1, high=100)
    seed: int = seed_field()
    methods: tuple[str, ...] = declare(METHODS, "methods to run", choices=METHODS)
    hidden: tuple[int, ...] = declare((350, 300), "widths of the hidden layers", low=1,
                                      high=10000, repeats=True)
    per_task_train: int = declare(2900, "training examples per task (first ones after the "
                                  "shuffle)", low=10, high=3000)
    epochs: int = declare(50, "SGD epochs per task", low=1, high=500)
    task2_lr: float = declare(0.01, "learning rate of the SRC net's task 2", low=1e-6, high=1.0)
    sleep_scale: float = same_as(IncrementalConfig, "sleep_scale")
    test_subset: int | None = declare(None, "test images per task used for accuracy", low=10,
                                      high=3000, none="all")

    def check_data(self, ds: Dataset) -> None:
        """Fail in one line if a task has fewer training examples than ``per_task_train``."""
        fewest = min(int((ds.y_train < 100).sum()), int((ds.y_train >= 100).sum()))
        if fewest < self.per_task_train:
            raise ParamError(f"per_task_train = {self.per_task_train} does not fit {ds.name}: a "
                             f"task has {fewest} training examples")


@dataclass(frozen=True)
class CubUnit(Unit):
    """One unit: one method's trial."""

    dataset: str
    seed: int
    method: str
    hidden: tuple[int, ...]
    per_task_train: int
    epochs: int
    task2_lr: float
    sleep_scale: float
    test_subset: int | None


def run_cub(config: CubConfig = CubConfig(), *, store: ResultStore | None = None,
            progress: bool = True) -> pd.DataFrame:
    """Every method, ``config.trials`` seeded trials; one stored unit per (method, trial)."""
    ds = load_dataset(config.dataset)
    config.check_data(ds)
    units = [(CubUnit(config.dataset, config.seed, m, config.hidden, config.per_task_train,
                      config.epochs, config.task2_lr, config.sleep_scale, config.test_subset), t)
             for m in config.methods for t in range(config.trials)]
    return run_units(CHAPTER, units, lambda u, t: run_method(ds, u, t),
                     store=store, progress=progress, desc="CUB-200")


def run_method(ds: Dataset, unit: CubUnit, trial: int) -> list[dict]:
    """One method's trial: training, the sleep for SRC, accuracy per task."""
    seed = trial_seed(unit.seed, trial)
    order = np.random.default_rng([seed, 9]).permutation(ds.n_train)
    x, y = ds.x_train[order], ds.y_train[order]
    n = unit.per_task_train
    first, second = (np.flatnonzero(y < 100)[:n], np.flatnonzero(y >= 100)[:n])
    tests = [(ds.x_test[keep][: unit.test_subset], ds.y_test[keep][: unit.test_subset])
             for keep in (ds.y_test < 100, ds.y_test >= 100)]
    mlp = MLPConfig(sizes=(ds.n_features, *unit.hidden, ds.n_classes), dropout=0.25, lr=0.1)
    net = MLP(mlp, torch.Generator().manual_seed(seed))
    gen = torch.Generator().manual_seed(seed + 1)
    method, epochs = unit.method, unit.epochs
    rows = []
    if method == "parallel":
        train_epochs(net, x[: 2 * n], y[: 2 * n], epochs, gen)
    else:
        train_epochs(net, x[first], y[first], epochs, gen)
        lr = unit.task2_lr if method == "src" else None
        train_epochs(net, x[second], y[second], epochs, gen, lr=lr)
        if method == "src":
            params = preset("cub200")
            report = sleep(net, ds.x_train, params, params.sleep_length(2, unit.sleep_scale),
                           np.random.default_rng([seed, 2]))
            rows.append({"metric": "sleep_steps", "value": report.steps})
    per_task, _ = TaskEvaluator(tests)(net)
    rows += [{"metric": f"task{i + 1}_acc", "value": a, "headline": True}
             for i, a in enumerate(per_task)]
    return [{"dataset": unit.dataset, "method": method, **r} for r in rows]

"""Two tasks, the second trained longer and longer: how much over-training of the new task can
SRC undo? (book/methods/protocols.md, protocol-task2).

The class-incremental protocol cut to its first two tasks: task 1 for ``task1_epochs`` epochs,
task 2 for each value of ``task2_epochs``, with and without a sleep after each task (the data
set's main vector, 15000 then 20000 steps). Both nets of a trial share initial weights and
batches; each is scored on the test digits of task 1 and of task 2 separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from ..data import Dataset, load_dataset
from ..metrics import TaskEvaluator
from ..nets.mlp import MLP
from ..params import Params, declare, same_as
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit
from ..training import run_tasks
from .common import DATASET_PROTOCOLS, seed_field, src_hook, trial_seed, trial_setup
from .incremental import IncrementalConfig

CHAPTER = "task2"
METHODS = ("sequential", "src")


@dataclass(frozen=True)
class Task2Config(Params):
    """Parameters of the task-2 length sweep; defaults are the original's MNIST sweep."""

    dataset: str = declare("mnist", "benchmark: its first two tasks", choices=("mnist", "fashion"))
    task2_epochs: tuple[int, ...] = declare(tuple(range(5, 45, 5)), "epochs of task 2, swept",
                                            low=1, high=200)
    task1_epochs: int = declare(2, "epochs of task 1", low=1, high=200)
    trials: int = declare(5, "independent trials per task-2 length", low=1, high=100)
    seed: int = seed_field()
    hidden: tuple[int, ...] | None = same_as(IncrementalConfig, "hidden")
    per_task_train: int = same_as(IncrementalConfig, "per_task_train")
    sleep_scale: float = same_as(IncrementalConfig, "sleep_scale")
    test_subset: int | None = same_as(IncrementalConfig, "test_subset")


@dataclass(frozen=True)
class Task2Unit(Unit):
    """One unit: one task-2 length of the sweep."""

    dataset: str
    task1_epochs: int
    task2_epochs: int
    seed: int
    hidden: tuple[int, ...]
    per_task_train: int
    sleep_scale: float
    test_subset: int | None


def units_of(config: Task2Config) -> list[tuple[Task2Unit, int]]:
    """Every (task-2 length, trial) unit."""
    hidden = tuple(config.hidden or DATASET_PROTOCOLS[config.dataset].hidden)
    return [(Task2Unit(config.dataset, config.task1_epochs, e, config.seed, hidden,
                       config.per_task_train, config.sleep_scale, config.test_subset), t)
            for e in config.task2_epochs for t in range(config.trials)]


def run_task2(config: Task2Config = Task2Config(), *, store: ResultStore | None = None,
              progress: bool = True) -> pd.DataFrame:
    """Both methods at every task-2 length; one stored unit per (length, trial)."""
    ds = load_dataset(config.dataset)
    return run_units(CHAPTER, units_of(config), lambda u, t: run_trial(ds, u, t),
                     store=store, progress=progress, desc=f"task-2 length {config.dataset}")


def run_trial(ds: Dataset, unit: Task2Unit, trial: int) -> list[dict]:
    """Sequential and SRC on the first two tasks at one task-2 length."""
    proto = DATASET_PROTOCOLS[unit.dataset]
    seed = trial_seed(unit.seed, trial)
    setup = trial_setup(ds, proto, seed, hidden=unit.hidden, per_task_train=unit.per_task_train,
                        test_subset=unit.test_subset)
    tasks = setup.tasks[:2]
    n = unit.test_subset // len(setup.tasks) if unit.test_subset else None
    evaluator = TaskEvaluator([(t.x_test[:n], t.y_test[:n]) for t in tasks])
    epochs = [unit.task1_epochs, unit.task2_epochs]
    rows = []
    for method in METHODS:
        net = MLP(setup.mlp, torch.Generator().manual_seed(seed))
        hooks = [src_hook(ds, proto, seed, sleep_scale=unit.sleep_scale)] if method == "src" else []
        run_tasks(net, tasks, hooks, epochs, torch.Generator().manual_seed(seed + 1))
        per_task, _ = evaluator(net)
        rows += [{"dataset": unit.dataset, "method": method, "task2_epochs": unit.task2_epochs,
                  "headline": True, "setting": setting.encode(task2_epochs=unit.task2_epochs),
                  "metric": f"task{i + 1}_acc", "value": a}
                 for i, a in enumerate(per_task)]
    return rows

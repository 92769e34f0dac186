"""Class-incremental benchmark: sequential vs SRC vs parallel (Table 1's first columns).

The protocol is stated in book/methods/protocols.md, protocol-incremental. One trial trains, from
the same initial weights and the same batch order:

* ``sequential``: SGD on the 5 tasks in order, no sleep (the lower bound);
* ``src``: the same SGD with an SRC sleep after every task (an after-task hook);
* ``parallel``: SGD on all training data at once (the upper bound, "ideal" in the code).

It returns tidy records: per stage (after each task, after each sleep) the accuracy on every
task's test set and on the full test set, and per method the headline numbers (final accuracy,
BWT, forgetting). Accuracies are in percent.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from ..data import Dataset, load_dataset
from ..nets.mlp import MLP
from ..params import Params, declare
from ..results.store import ResultStore
from ..training import run_sequence, train_epochs
from .common import (
    DATASET_PROTOCOLS,
    run_units,
    seed_field,
    src_hook,
    task_settings,
    trial_seed,
    trial_setup,
)

CHAPTER = "incremental"
METHODS = ("sequential", "src", "parallel")


@dataclass(frozen=True)
class IncrementalConfig(Params):
    """Parameters of the class-incremental protocol; defaults are the original protocol."""

    dataset: str = declare("mnist", "benchmark: 5 tasks of 2 classes (CIFAR-10 needs its "
                           "feature file)", choices=tuple(DATASET_PROTOCOLS))
    trials: int = declare(5, "independent trials", low=1, high=100)
    seed: int = seed_field()
    hidden: tuple[int, ...] | None = declare(None, "widths of the hidden layers", low=1,
                                             high=10000, none="the data set's original")
    per_task_train: int = declare(5000, "training examples per task (MNIST-like data sets)",
                                  low=10, high=12000)
    epochs: int | None = declare(None, "SGD epochs per task", low=1, high=100,
                                 none="the data set's original")
    sleep_scale: float = declare(1.0, "factor on every sleep length T", low=0.0, high=10.0)
    test_subset: int | None = declare(None, "test images used for accuracy", low=10,
                                      high=10000, none="all")
    methods: tuple[str, ...] = declare(METHODS, "methods to run", choices=METHODS)
    parallel_epochs: int | None = declare(None, "SGD epochs of the parallel net", low=1,
                                          high=100, none="the same as epochs")


def run_incremental(
    config: IncrementalConfig = IncrementalConfig(),
    *,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """``config.trials`` seeded trials of every method; one stored unit per trial (resumable)."""
    unit = {**task_settings(config), "methods": list(config.methods),
            "parallel_epochs": config.parallel_epochs}
    ds = load_dataset(config.dataset)
    return run_units(
        CHAPTER, [(None, t) for t in range(config.trials)], lambda _: unit,
        lambda _, c, t: run_trial(ds, c, t),
        store=store, progress=progress, desc=f"incremental {config.dataset}",
    )


def run_trial(ds: Dataset, config: dict, trial: int) -> list[dict]:
    """All methods of one trial (``config`` is the unit's stored configuration)."""
    proto = DATASET_PROTOCOLS[config["dataset"]]
    seed = trial_seed(config["seed"], trial)
    setup = trial_setup(ds, proto, seed, hidden=config["hidden"],
                        per_task_train=config["per_task_train"], test_subset=config["test_subset"])
    records: list[dict] = []
    for method in config["methods"]:
        net = MLP(setup.mlp, torch.Generator().manual_seed(seed))
        gen = torch.Generator().manual_seed(seed + 1)
        if method == "parallel":
            epochs = config.get("parallel_epochs") or config["epochs"]
            train_epochs(net, ds.x_train, ds.y_train, epochs, gen)
            _, full = setup.evaluator(net)
            rows = [{"metric": "final_acc", "value": full, "headline": True}]
        else:
            hooks = [src_hook(ds, proto, seed, sleep_scale=config["sleep_scale"])] \
                if method == "src" else []
            rows = run_sequence(net, setup.tasks, hooks, config["epochs"], gen, setup.evaluator)
        records += [{"dataset": config["dataset"], "method": method, **r} for r in rows]
    return records

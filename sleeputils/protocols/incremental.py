"""Class-incremental benchmark: sequential vs SRC vs parallel (spec §4.1-4.3, Table 1).

One trial trains, from the same initial weights and the same batch order:

* ``sequential``: SGD on the 5 tasks in order, no sleep (the lower bound);
* ``src``: the same SGD with an SRC sleep after every task (an after-task hook);
* ``parallel``: SGD on all training data at once (the upper bound, "ideal" in the code).

It returns tidy records: per stage (after each task, after each sleep) the accuracy on every
task's test set and on the full test set, and per method the headline numbers (final accuracy,
BWT, forgetting). Accuracies are in percent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ..data import class_incremental_tasks, load_dataset
from ..metrics import TaskEvaluator, backward_transfer, forgetting
from ..nets.loop import TaskContext, run_tasks, train_epochs
from ..nets.mlp import MLP, MLPConfig
from ..results.store import ResultStore
from ..sleep.presets import preset
from ..sleep.src import SRC

METHODS = ("sequential", "src", "parallel")
CHAPTER = "incremental"


@dataclass(frozen=True)
class DatasetProtocol:
    """What the original scripts fix per data set (spec §4.1-4.3)."""

    preset: str  # SRC hyperparameter vector (spec §2)
    hidden: tuple[int, ...]
    lr: float
    dropout: float
    epochs: int
    init_scale: float
    per_task_train: int | None  # first N training images per task; None = all
    sleep_on_first_task_only: bool = False  # CIFAR quirk: mean and alpha from task 1 data only
    shuffle_task_order: bool = False  # CIFAR: randperm(5) per trial


PROTOCOLS = {
    "mnist": DatasetProtocol("mnist", (1200, 1200), 0.1, 0.25, 2, 0.01, 5000),
    "fashion": DatasetProtocol("fashion", (1200, 1200), 0.1, 0.25, 2, 0.01, 5000),
    "cifar10": DatasetProtocol(
        "cifar10", (1028, 256), 0.1, 0.2, 4, 0.05, None, sleep_on_first_task_only=True,
        shuffle_task_order=True,
    ),
}


def validate(dataset: str, trials: int, per_task_train: int | None, epochs: int | None,
             sleep_scale: float, methods: tuple[str, ...]) -> None:
    """Reject impossible settings before any data is loaded or anything computed."""
    if dataset not in PROTOCOLS:
        extra = " (CUB-200 has its own two-task protocol, not yet in this chapter)" \
            if dataset == "cub200" else ""
        raise ValueError(
            f"unknown dataset {dataset!r} for the incremental protocol; valid: "
            f"{', '.join(PROTOCOLS)}{extra}"
        )
    check_run_settings(trials, per_task_train, epochs, sleep_scale)
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}; valid: {', '.join(METHODS)}")


def check_run_settings(trials: int, per_task_train: int | None, epochs: int | None,
                       sleep_scale: float) -> None:
    """The checks every class-incremental protocol shares (ValueError naming the bad value)."""
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    if per_task_train is not None and per_task_train < 1:
        raise ValueError(f"per_task_train must be >= 1 or None, got {per_task_train}")
    if epochs is not None and epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if sleep_scale < 0:
        raise ValueError(f"sleep_scale must be >= 0, got {sleep_scale}")


def run_incremental(
    dataset: str = "mnist",
    trials: int = 5,
    seed: int = 0,
    hidden: tuple[int, ...] | None = None,
    per_task_train: int | None = 5000,
    epochs: int | None = None,
    sleep_scale: float = 1.0,
    test_subset: int | None = None,
    methods: tuple[str, ...] = METHODS,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``trials`` seeded trials of every method; one stored unit per trial (resumable).

    ``hidden``/``epochs`` default to the data set's original protocol; ``sleep_scale`` multiplies
    every sleep length and ``test_subset`` evaluates on the first N test images of each task
    (both only for fast smoke runs).
    """
    validate(dataset, trials, per_task_train, epochs, sleep_scale, tuple(methods))
    proto = PROTOCOLS[dataset]
    config = {
        "dataset": dataset,
        "seed": seed,
        "hidden": list(hidden or proto.hidden),
        "per_task_train": per_task_train if proto.per_task_train else None,
        "epochs": epochs or proto.epochs,
        "sleep_scale": sleep_scale,
        "test_subset": test_subset,
        "methods": list(methods),
    }
    ds = load_dataset(dataset)
    store = store or ResultStore()
    frames = []
    bar = tqdm(range(trials), desc=f"incremental {dataset}", disable=not progress)
    for trial in bar:
        frames.append(
            store.unit(CHAPTER, config, trial, lambda t=trial: run_trial(ds, proto, config, t))
        )
    return pd.concat(frames, ignore_index=True)


def _trial_seed(seed: int, trial: int) -> int:
    return seed * 10_000 + trial


def run_trial(ds, proto: DatasetProtocol, config: dict, trial: int) -> list[dict]:
    """All methods of one trial, as a list of record dicts."""
    seed = _trial_seed(config["seed"], trial)
    tasks, evaluator, mlp = trial_setup(ds, proto, config, seed)
    records: list[dict] = []
    for method in config["methods"]:
        net = MLP(mlp, torch.Generator().manual_seed(seed))
        rows = _run_method(method, net, ds, tasks, proto, config, evaluator, seed)
        records += [{"dataset": config["dataset"], "method": method, **r} for r in rows]
    return records


def trial_setup(ds, proto: DatasetProtocol, config: dict, seed: int):
    """(tasks in training order, test-set evaluator, network config) of one trial (spec §4)."""
    tasks = class_incremental_tasks(ds, classes_per_task=2, per_task_train=config["per_task_train"])
    if proto.shuffle_task_order:
        order = np.random.default_rng([seed, 7]).permutation(len(tasks))
        tasks = [tasks[i] for i in order]
    test_sets = [_subset(t.x_test, t.y_test, config["test_subset"], len(tasks)) for t in tasks]
    mlp = MLPConfig(
        sizes=(ds.x_train.shape[1], *config["hidden"], ds.n_classes),
        dropout=proto.dropout,
        lr=proto.lr,
        init_scale=proto.init_scale,
    )
    return tasks, TaskEvaluator(test_sets), mlp


def _subset(x: np.ndarray, y: np.ndarray, total: int | None, n_tasks: int):
    if total is None:
        return x, y
    n = max(1, total // n_tasks)
    return x[:n], y[:n]


def _run_method(method, net, ds, tasks, proto, config, evaluator, seed) -> list[dict]:
    gen = torch.Generator().manual_seed(seed + 1)
    if method == "parallel":
        train_epochs(net, ds.x_train, ds.y_train, config["epochs"], gen)
        _, full = evaluator(net)
        return [{"metric": "final_acc", "value": full, "headline": True}]
    hooks = [src_hook(ds, proto, config, seed)] if method == "src" else []
    return run_sequence(net, tasks, hooks, config["epochs"], gen, evaluator)


def run_sequence(net, tasks, hooks, epochs: int, gen: torch.Generator,
                 evaluator: TaskEvaluator) -> list[dict]:
    """Train through ``tasks`` with ``hooks``; records of every stage plus the headline numbers.

    Shared by every sequential method (plain, SRC, rehearsal, rehearsal + SRC): per stage the
    accuracy on each task's test set and on the full test set, then final accuracy, BWT and
    forgetting (over the after-each-task-cycle matrix R), then sleep diagnostics if any.
    """
    rows: list[dict] = []
    after_task: dict[int, list[float]] = {}  # R rows: state at the end of each task's cycle

    def evaluate(stage: str, i: int, net: MLP) -> None:
        per_task, full = evaluator(net)
        after_task[i] = per_task
        rows.extend(
            {"metric": "acc_task", "stage": stage, "after_task": i + 1, "task": j + 1, "value": a}
            for j, a in enumerate(per_task)
        )
        rows.append({"metric": "acc_full", "stage": stage, "after_task": i + 1, "value": full})

    logs = run_tasks(net, tasks, hooks, epochs, gen, evaluate=evaluate)
    R = np.array([after_task[i] for i in range(len(tasks))])
    final = rows[-1]["value"]
    rows += [
        {"metric": "final_acc", "value": final, "headline": True},
        {"metric": "bwt", "value": backward_transfer(R), "headline": True},
        {"metric": "forgetting", "value": forgetting(R), "headline": True},
    ]
    for i, log in enumerate(logs):
        if "sleep" in log:
            rep = log["sleep"]
            rows.append({"metric": "sleep_steps", "after_task": i + 1, "value": rep.steps})
            rows.append({"metric": "sleep_seconds", "after_task": i + 1, "value": rep.seconds})
            for k, c in enumerate(rep.spike_counts):
                rows.append({"metric": "spikes", "after_task": i + 1, "layer": k, "value": c})
        if "rehearsed" in log:
            rows.append({"metric": "rehearsed", "after_task": i + 1, "value": log["rehearsed"]})
    return rows


def src_hook(ds, proto: DatasetProtocol, config: dict, seed: int,
             preset_name: str | None = None) -> SRC:
    """SRC sleeping on every training image of the classes seen so far (spec §1.2, §4.1).

    ``preset_name`` overrides the data set's main vector (rehearsal runs use p-specific ones).
    """

    def sleep_data(ctx: TaskContext) -> np.ndarray:
        seen = ctx.seen[:1] if proto.sleep_on_first_task_only else ctx.seen
        classes = [c for t in seen for c in t.classes]
        return ds.x_train[np.isin(ds.y_train, classes)]

    return SRC(
        preset(preset_name or proto.preset),
        sleep_data,
        np.random.default_rng([seed, 2]),
        image_shape=ds.image_shape,
        length_scale=config["sleep_scale"],
    )

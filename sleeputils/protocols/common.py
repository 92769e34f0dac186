"""Trial plumbing every protocol shares: the seed rule, per-data-set facts, trial setup and the
SRC hook factory (book/methods/protocols.md, protocol-trials). Protocols hand their units to
:func:`run_units` (in-process or on a Dask cluster; :mod:`sleeputils.results.executor`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from ..data import Dataset, class_incremental_tasks
from ..metrics import TaskEvaluator
from ..nets.mlp import MLPConfig
from ..params import declare
from ..results.unit import Unit
from ..sleep.presets import SleepParams, preset, with_vector
from ..sleep.src import SRC
from ..training import TaskContext

#: Every protocol's ``seed`` field: one declaration, one rule (:func:`trial_seed`).
SEED_HELP = "base seed; trial t of base seed s uses seed s * 10000 + t"


def seed_field() -> Any:
    """The ``seed`` field every protocol config declares."""
    return declare(0, SEED_HELP, low=0, high=2**31 - 1)


def trial_seed(seed: int, trial: int) -> int:
    """The seed of trial ``trial``: every method of a trial starts from it, so they are paired."""
    return seed * 10_000 + trial


@dataclass(frozen=True)
class DatasetProtocol:
    """What the original scripts fix per data set (book/methods/protocols.md,
    protocol-incremental)."""

    preset: str  # SRC hyperparameter vector (book/methods/sleep.md, src-hyperparameters)
    hidden: tuple[int, ...]
    lr: float
    dropout: float
    epochs: int
    init_scale: float
    per_task_train: int | None  # first N training images per task; None = all
    sleep_on_first_task_only: bool = False  # CIFAR quirk: mean and alpha from task 1 data only
    shuffle_task_order: bool = False  # CIFAR: randperm(5) per trial


DATASET_PROTOCOLS = {
    "mnist": DatasetProtocol("mnist", (1200, 1200), 0.1, 0.25, 2, 0.01, 5000),
    "fashion": DatasetProtocol("fashion", (1200, 1200), 0.1, 0.25, 2, 0.01, 5000),
    "cifar10": DatasetProtocol(
        "cifar10", (1028, 256), 0.1, 0.2, 4, 0.05, None, sleep_on_first_task_only=True,
        shuffle_task_order=True,
    ),
}


def task_settings(config: Any) -> dict[str, Any]:
    """The settings every class-incremental unit shares (the fields of :class:`TaskUnit`),
    with the data set's original values filled in where ``config`` leaves them to it
    (``None``)."""
    proto = DATASET_PROTOCOLS[config.dataset]
    return {
        "dataset": config.dataset,
        "seed": config.seed,
        "hidden": tuple(config.hidden or proto.hidden),
        "per_task_train": config.per_task_train if proto.per_task_train else None,
        "epochs": config.epochs or proto.epochs,
        "sleep_scale": config.sleep_scale,
        "test_subset": config.test_subset,
    }


@dataclass(frozen=True)
class TaskUnit(Unit):
    """A class-incremental unit's shared settings; protocols add their own fields."""

    dataset: str
    seed: int
    hidden: tuple[int, ...]
    per_task_train: int | None
    epochs: int
    sleep_scale: float
    test_subset: int | None

    @classmethod
    def of(cls, config: Any, **more: Any) -> Self:
        """The unit of ``config`` (:func:`task_settings`), with ``more`` set or replaced."""
        return cls(**{**task_settings(config), **more})


@dataclass(frozen=True)
class Trial:
    """One trial's tasks (in training order), test-set evaluator and network configuration."""

    seed: int
    tasks: list
    evaluator: TaskEvaluator
    mlp: MLPConfig


def trial_setup(
    ds: Dataset,
    proto: DatasetProtocol,
    seed: int,
    *,
    hidden: Sequence[int],
    per_task_train: int | None,
    test_subset: int | None,
) -> Trial:
    """Tasks of two classes each, the evaluator on their test sets and the net's configuration."""
    tasks = class_incremental_tasks(ds, classes_per_task=2, per_task_train=per_task_train)
    if proto.shuffle_task_order:
        order = np.random.default_rng([seed, 7]).permutation(len(tasks))
        tasks = [tasks[i] for i in order]
    test_sets = [_subset(t.x_test, t.y_test, test_subset, len(tasks)) for t in tasks]
    mlp = MLPConfig(
        sizes=(ds.x_train.shape[1], *hidden, ds.n_classes),
        dropout=proto.dropout,
        lr=proto.lr,
        init_scale=proto.init_scale,
    )
    return Trial(seed, tasks, TaskEvaluator(test_sets), mlp)


def _subset(x: np.ndarray, y: np.ndarray, total: int | None, n_tasks: int):
    if total is None:
        return x, y
    n = max(1, total // n_tasks)
    return x[:n], y[:n]


def src_hook(
    ds: Dataset,
    proto: DatasetProtocol,
    seed: int,
    *,
    sleep_scale: float,
    preset_name: str | None = None,
    params: SleepParams | None = None,
) -> SRC:
    """SRC sleeping on every training image of the classes seen so far
    (book/methods/sleep.md, src-hook).

    ``preset_name`` overrides the data set's main vector (rehearsal runs use p-specific ones),
    ``params`` any preset (a searched vector).
    """

    def sleep_data(ctx: TaskContext) -> np.ndarray:
        seen = ctx.seen[:1] if proto.sleep_on_first_task_only else ctx.seen
        classes = [c for t in seen for c in t.classes]
        return ds.x_train[np.isin(ds.y_train, classes)]

    return SRC(
        params or preset(preset_name or proto.preset),
        sleep_data,
        np.random.default_rng([seed, 2]),
        image_shape=ds.image_shape,
        length_scale=sleep_scale,
    )


def sleeper(ds: Dataset, proto: DatasetProtocol, seed: int, preset_name: str | None = None,
            vector: tuple[tuple[str, float], ...] | None = None) -> Callable[[float], SRC]:
    """The protocol's SRC hook at a length factor, as a method's context takes it
    (:class:`~sleeputils.methods.registry.MethodContext`): :func:`src_hook` with the data
    set's vector, or ``preset_name``; ``vector`` replaces its searched fields (a searched
    vector)."""
    params = (None if vector is None
              else with_vector(preset(preset_name or proto.preset), dict(vector)))
    return lambda scale: src_hook(ds, proto, seed, sleep_scale=scale, preset_name=preset_name,
                                  params=params)

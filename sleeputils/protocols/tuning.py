"""Choosing a baseline's strength on a validation split carved from the training data
(book/methods/baselines.md, baselines-search).

For every task, the training images of its classes that come after the ones it trains on are
unused by the protocol; the first ``validation`` of them are the task's validation set. Each grid
value trains the whole task sequence once (its own seed, the search trial) and is scored by the
final accuracy on the union of the validation sets. The test set is never looked at.

A search run records its score and, per task, the validation accuracy on that task's classes
(the stability / plasticity trade-off over the grid: the first task kept, the last one learned),
each at a setting naming the strength (and the task), so the committed records hold the search.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from ..data import Dataset
from ..metrics import TaskEvaluator
from ..nets.mlp import MLP
from ..params import ParamError
from ..results import setting
from ..training import Hook, run_tasks

#: Trial number of the search runs: its seed is ``trial_seed(seed, SEARCH_TRIAL)``, which no
#: reported trial (at most 100) uses.
SEARCH_TRIAL = 9999


def validation_evaluator(ds: Dataset, tasks: list, per_task_train: int | None,
                         validation: int) -> TaskEvaluator:
    """Per-task validation sets: the ``validation`` training images of each task's classes that
    follow the ``per_task_train`` it trains on (in data set order, like the training images)."""
    picks = validation_indices(ds.y_train, [t.classes for t in tasks], per_task_train,
                               validation)
    return TaskEvaluator([(ds.x_train[pick], ds.y_train[pick]) for pick in picks])


def validation_indices(y_train: np.ndarray, class_groups: list[tuple[int, ...]],
                       per_task_train: int | None, validation: int) -> list[np.ndarray]:
    """Per task (its classes in ``class_groups``), the indices into the training set of its
    validation images: the ``validation`` that follow the ``per_task_train`` it trains on.
    Reads the training labels only."""
    picks = []
    for classes in class_groups:
        idx = np.flatnonzero(np.isin(y_train, classes))
        start = per_task_train or len(idx)
        if start + validation > len(idx):
            raise ParamError(
                f"classes {tuple(classes)} have {len(idx)} training images: {start} for "
                f"training leave {max(len(idx) - start, 0)} for validation, fewer than "
                f"validation = {validation}; lower per_task_train or validation")
        picks.append(idx[start : start + validation])
    return picks


def validation_score(net: MLP, tasks: list, hooks: list[Hook], epochs: int,
                     generator: torch.Generator, evaluator: TaskEvaluator
                     ) -> tuple[list[float], float]:
    """A search run's scores once the whole sequence (with every hook's after-task work) is
    done: the accuracy on each task's validation set and on their union (the score). Unlike a
    reported run, no earlier stage is scored (scoring never changes the network)."""
    run_tasks(net, tasks, hooks, epochs, generator)
    return evaluator(net)


def search_rows(strength: float, scores: tuple[list[float], float], **where: Any) -> list[dict]:
    """A search run's records: ``val_acc`` (the score) and ``val_acc_task`` per task (1-based),
    headline numbers at settings naming the strength and the task (and ``where``, the
    protocol's own settings)."""
    per_task, final = scores
    rows = [{"metric": "val_acc", "value": final,
             "setting": setting.encode(where, strength=strength)}]
    rows += [{"metric": "val_acc_task", "task": k, "value": a,
              "setting": setting.encode(where, strength=strength, task=k)}
             for k, a in enumerate(per_task, start=1)]
    return [{**r, "strength": strength, "headline": True} for r in rows]


def winners(search: pd.DataFrame) -> dict[str, float]:
    """The strength with the best final validation accuracy, per method (ties: the first in the
    grid, i.e. the weakest)."""
    rows = search[search["metric"] == "val_acc"]
    best = {}
    for method, group in rows.groupby("method", sort=False):
        best[method] = float(group.loc[group["value"].idxmax(), "strength"])
    return best

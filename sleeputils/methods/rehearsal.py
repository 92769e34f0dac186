"""Rehearsal: mix a random fraction of the old tasks' training data into each new task.

As in the original ``run_sleep_with_replay.m``: before task i >= 2, draw
``round(N_old * p, -2)`` examples at random from *all* training examples of tasks 1..i-1 (N_old
counts every example of those classes, not only the first 5000 used for SGD) and train on them
together with the new task's data. Rehearsal + SRC is this hook followed by the
:class:`~sleeputils.sleep.src.SRC` hook; nothing else changes. See book/methods/protocols.md,
protocol-rehearsal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..training import Hook, TaskContext
from .registry import MethodContext, MethodSpec, register, with_src

#: ``pool(ctx)`` returns (x, y) of every training example of the tasks before the current one.
Pool = Callable[[TaskContext], tuple[np.ndarray, np.ndarray]]


def stored_count(n_old: int, fraction: float) -> int:
    """``round(n_old * fraction, -2)`` with MATLAB's rounding (halves away from zero).

    See book/methods/protocols.md, protocol-rehearsal; the cap at ``n_old`` is explained in
    book/methods/deviations.md, dev-rehearsal-cap.

    MNIST, p = 0.01: 12665, 24754, 36017, 48200 old examples give 100, 200, 400, 500.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"rehearsal fraction must be in [0, 1], got {fraction}")
    return min(n_old, int(math.floor(n_old * fraction / 100.0 + 0.5)) * 100)


class Rehearsal(Hook):
    """Train each task on its own data plus a fresh random sample of the old tasks' data."""

    name = "rehearsal"

    def __init__(self, fraction: float, pool: Pool, rng: np.random.Generator) -> None:
        stored_count(0, fraction)  # validates the fraction
        self.fraction = fraction
        self.pool = pool
        self.rng = rng

    def training_data(
        self, ctx: TaskContext, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        if ctx.index == 0 or self.fraction == 0:
            return x, y
        old_x, old_y = self.pool(ctx)
        n = stored_count(len(old_x), self.fraction)
        ctx.log["rehearsed"] = n
        if n == 0:
            return x, y
        pick = self.rng.choice(len(old_x), size=n, replace=False)
        return np.concatenate([x, old_x[pick]]), np.concatenate([y, old_y[pick]])


@dataclass(frozen=True)
class RehearsalSettings:
    """Rehearsal's setting."""

    fraction: float  # p, the share of the old tasks' training data replayed


def hooks(ctx: MethodContext) -> list[Rehearsal]:
    """Rehearsal's one hook; it draws from every training example of the earlier tasks' classes
    in the data set (not only the ones SGD trained on)."""
    ds = ctx.ds

    def old_data(task: TaskContext) -> tuple[np.ndarray, np.ndarray]:
        classes = [c for t in task.tasks[: task.index] for c in t.classes]
        keep = np.isin(ds.y_train, classes)
        return ds.x_train[keep], ds.y_train[keep]

    return [Rehearsal(ctx.settings.fraction, old_data, np.random.default_rng([ctx.seed, 3]))]


SPEC = register(MethodSpec(
    name="rehearsal", display="rehearsal", label="protocol-rehearsal", order=45,
    chapters=("crossmodal",), hooks=hooks, settings=RehearsalSettings,
    keeps="a share of the old data"))
SRC_SPEC = register(with_src(SPEC))

"""Experience replay with a fixed budget (book/methods/paradigms.md, paradigms-er).

A memory of at most ``budget`` training images, split evenly over the classes seen so far: after
each task the old classes' sets are cut to the new share (keeping the first ones stored) and each
new class stores a random sample of its training images. Every later task trains on its own data
plus the whole memory. Rehearsal + SRC with a budget is this hook followed by the SRC hook.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..training import Hook, TaskContext
from .registry import MethodContext, MethodSpec, register, with_src


class ReplayMemory(Hook):
    """Train each task on its data plus every stored image of the earlier tasks."""

    name = "replay"

    def __init__(self, budget: int, rng: np.random.Generator) -> None:
        if budget < 0:
            raise ValueError(f"memory budget must be >= 0, got {budget}")
        self.budget = budget
        self.rng = rng
        self.stored: dict[int, np.ndarray] = {}  # class -> its stored images, in order

    def __len__(self) -> int:
        return sum(len(x) for x in self.stored.values())

    def training_data(
        self, ctx: TaskContext, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        ctx.log["rehearsed"] = len(self)
        if not len(self):
            return x, y
        old_x = np.concatenate(list(self.stored.values()))
        old_y = np.concatenate([np.full(len(v), c) for c, v in self.stored.items()])
        return np.concatenate([x, old_x]), np.concatenate([y, old_y.astype(y.dtype)])

    def after_task(self, ctx: TaskContext) -> str | None:
        classes = [*self.stored, *ctx.task.classes]
        share = self.budget // len(classes)
        for c in self.stored:
            self.stored[c] = self.stored[c][:share]
        x, y = ctx.task.x_train, ctx.task.y_train
        for c in ctx.task.classes:
            own = np.flatnonzero(y == c)
            pick = self.rng.choice(own, size=min(share, len(own)), replace=False)
            self.stored[c] = x[pick]
        return None


@dataclass(frozen=True)
class BudgetSettings:
    """The setting of a method whose memory is a budget of stored images."""

    budget: int  # stored images in all


def hooks(ctx: MethodContext) -> list[ReplayMemory]:
    """Replay's one hook."""
    return [ReplayMemory(ctx.settings.budget, np.random.default_rng([ctx.seed, 5]))]


SPEC = register(MethodSpec(
    name="er", display="replay (ER)", label="paradigms-er", order=50, chapters=("paradigms",),
    hooks=hooks, settings=BudgetSettings, budgeted=True))
SRC_SPEC = register(with_src(SPEC, display="replay + SRC"))

"""The one training loop every method runs through, with method hooks around it.

A continual-learning method is a :class:`Hook`: it may change a task's training data
(``training_data``, e.g. rehearsal mixes stored examples in) and act after a task
(``after_task``, e.g. SRC sleeps). Compositions such as rehearsal + SRC are simply two hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .mlp import MLP


@dataclass
class TaskContext:
    """What a hook sees: the task just trained (or about to be) and all tasks so far."""

    index: int  # 0-based index of the current task
    tasks: Sequence  # every task of the run (objects with x_train, y_train, x_test, y_test)
    net: MLP
    log: dict = field(default_factory=dict)  # hooks may leave diagnostics here

    @property
    def task(self):
        """The current task."""
        return self.tasks[self.index]

    @property
    def seen(self) -> Sequence:
        """Tasks 0..index, the ones trained so far (current included)."""
        return self.tasks[: self.index + 1]


class Hook:
    """Base class of a method's hooks; every hook is optional."""

    name = "hook"

    def training_data(
        self, ctx: TaskContext, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the data the current task trains on (default: the task's own data)."""
        return x, y

    def after_task(self, ctx: TaskContext) -> str | None:
        """Act after the task's training; return a stage label if the network changed."""
        return None


def one_hot(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """Float32 one-hot targets over all ``n_classes`` outputs (no output masking, §3)."""
    out = torch.zeros(len(y), n_classes, dtype=torch.float32)
    out[torch.arange(len(y)), torch.from_numpy(np.asarray(y, dtype=np.int64))] = 1.0
    return out


def train_epochs(
    net: MLP,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    generator: torch.Generator,
    lr: float | None = None,
) -> None:
    """Mini-batch SGD for ``epochs`` passes, a fresh random permutation each epoch (spec §3).

    The original asserts that the number of examples divides by the batch size; here a final
    partial batch is dropped, which never happens in the paper's protocols.
    """
    n_classes = net.config.sizes[-1]
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt = one_hot(y, n_classes)
    bs = net.config.batch_size
    n_batches = len(xt) // bs
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=generator)
        for b in range(n_batches):
            idx = perm[b * bs : (b + 1) * bs]
            net.train_step(xt[idx], yt[idx], generator, lr=lr)


Evaluate = Callable[[str, int, MLP], None]


def run_tasks(
    net: MLP,
    tasks: Sequence,
    hooks: Sequence[Hook],
    epochs: int | Sequence[int],
    generator: torch.Generator,
    evaluate: Evaluate | None = None,
    lr: float | None = None,
) -> list[dict]:
    """Train ``net`` on ``tasks`` in order, calling every hook around each task.

    ``epochs`` is one number for every task or one per task.

    ``evaluate(stage, task_index, net)`` is called after each task's training (stage
    ``"after_task"``) and again after every hook that reports a change (its stage label).
    Returns the hooks' per-task diagnostics.
    """
    per_task = [epochs] * len(tasks) if isinstance(epochs, int) else list(epochs)
    if len(per_task) != len(tasks):
        raise ValueError(f"{len(tasks)} tasks need {len(tasks)} epoch counts, got {epochs}")
    logs = []
    for i in range(len(tasks)):
        ctx = TaskContext(index=i, tasks=tasks, net=net)
        x, y = ctx.task.x_train, ctx.task.y_train
        for hook in hooks:
            x, y = hook.training_data(ctx, x, y)
        train_epochs(net, x, y, per_task[i], generator, lr=lr)
        if evaluate is not None:
            evaluate("after_task", i, net)
        for hook in hooks:
            stage = hook.after_task(ctx)
            if stage is not None and evaluate is not None:
                evaluate(stage, i, net)
        logs.append(ctx.log)
    return logs

"""The one training loop every method runs through, with method hooks around it.

A continual-learning method is a :class:`Hook`: it may prepare for a task (``before_task``),
change a task's training data (``training_data``, e.g. rehearsal mixes stored examples in),
change each step's gradient (``gradients``: a regulariser adds its penalty's gradient, OWM
projects), watch each step (``after_step``, e.g. SI's path integral) and act after a task
(``after_task``, e.g. SRC sleeps). Compositions such as rehearsal + SRC are simply two hooks
(book/methods/training.md, training-loop). :func:`run_sequence` runs a task sequence through the
loop and returns the records every sequential method reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .metrics import TaskEvaluator, backward_transfer, forgetting
from .nets.mlp import MLP, Step


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

    def before_task(self, ctx: TaskContext) -> None:
        """Prepare for the current task, before its training data is chosen."""

    def training_data(
        self, ctx: TaskContext, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the data the current task trains on (default: the task's own data); ``y`` are
        labels, or one target row per example (as :func:`train_epochs` takes them)."""
        return x, y

    def gradients(
        self, ctx: TaskContext, step: Step, grads: list[torch.Tensor]
    ) -> list[torch.Tensor]:
        """Return the gradients this step applies (default: ``grads`` unchanged).

        ``grads`` are what the hooks before this one made of ``step.grads``, the loss gradient.
        """
        return grads

    def after_step(self, ctx: TaskContext, step: Step, change: list[torch.Tensor]) -> None:
        """Watch one SGD step: ``change[k]`` is how much weight matrix k moved."""

    def after_task(self, ctx: TaskContext) -> str | None:
        """Act after the task's training; return a stage label if the network changed."""
        return None


def _steps_hooked(hooks: Sequence[Hook]) -> bool:
    """Whether any hook acts on single SGD steps (the plain step is then split open)."""
    return any(type(h).gradients is not Hook.gradients or type(h).after_step is not Hook.after_step
               for h in hooks)


def one_hot(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """Float32 one-hot targets over all ``n_classes`` outputs (no output masking)."""
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
    *,
    hooks: Sequence[Hook] = (),
    ctx: TaskContext | None = None,
) -> None:
    """Mini-batch SGD for ``epochs`` passes, a fresh random permutation each epoch
    (book/methods/training.md, training-sgd); ``hooks`` act on every step (with ``ctx``).

    ``y`` holds class labels, or one target row per example (iCaRL's soft distillation targets).

    The original asserts that the number of examples divides by the batch size; here a final
    partial batch is dropped. Of the book's protocols only rehearsal at p = 1 has one
    (book/methods/deviations.md, dev-partial-batch).
    """
    n_classes = net.config.sizes[-1]
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y, dtype=np.float32)) if np.ndim(y) == 2 else one_hot(
        y, n_classes)
    bs = net.config.batch_size
    n_batches = len(xt) // bs
    hooked = _steps_hooked(hooks)
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=generator)
        for b in range(n_batches):
            idx = perm[b * bs : (b + 1) * bs]
            if hooked:
                _hooked_step(net, xt[idx], yt[idx], generator, lr, hooks, ctx)
            else:
                net.train_step(xt[idx], yt[idx], generator, lr=lr)


def _hooked_step(net: MLP, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator,
                 lr: float | None, hooks: Sequence[Hook], ctx: TaskContext | None) -> None:
    """One SGD step with every hook's say on the gradient, then every hook told of the change."""
    step = net.gradients(x, y, generator, deltas=True)
    grads = step.grads
    for hook in hooks:
        grads = hook.gradients(ctx, step, grads)
    watching = [h for h in hooks if type(h).after_step is not Hook.after_step]
    before = list(net.weights)
    net.apply(grads, lr)
    if not watching:  # nobody reads the change (EWC): not computed
        return
    change = [w - w0 for w, w0 in zip(net.weights, before, strict=True)]
    for hook in watching:
        hook.after_step(ctx, step, change)


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
        for hook in hooks:
            hook.before_task(ctx)
        x, y = ctx.task.x_train, ctx.task.y_train
        for hook in hooks:
            x, y = hook.training_data(ctx, x, y)
        train_epochs(net, x, y, per_task[i], generator, lr=lr, hooks=hooks, ctx=ctx)
        if evaluate is not None:
            evaluate("after_task", i, net)
        for hook in hooks:
            stage = hook.after_task(ctx)
            if stage is not None and evaluate is not None:
                evaluate(stage, i, net)
        logs.append(ctx.log)
    return logs


def run_sequence(
    net: MLP,
    tasks: Sequence,
    hooks: Sequence[Hook],
    epochs: int,
    generator: torch.Generator,
    evaluator: TaskEvaluator,
) -> list[dict]:
    """Train through ``tasks`` with ``hooks``; records of every stage plus the headline numbers.

    Shared by every sequential method (plain, SRC, rehearsal, rehearsal + SRC): per stage the
    accuracy on each task's test set and on the full test set, then final accuracy, BWT and
    forgetting over the after-each-task matrix R (book/methods/training.md, training-metrics),
    then the hooks' diagnostics (sleep length, time and spikes; examples rehearsed).
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

    logs = run_tasks(net, tasks, hooks, epochs, generator, evaluate=evaluate)
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
            for k, a in enumerate(rep.alpha, start=1):  # the scale factor of weight layer k
                rows.append({"metric": "sleep_alpha", "after_task": i + 1, "layer": k,
                             "value": a})
        if "rehearsed" in log:
            rows.append({"metric": "rehearsed", "after_task": i + 1, "value": log["rehearsed"]})
    return rows

"""iCaRL: a fixed memory of exemplars per class, replayed with every new task, and a
nearest-mean-of-exemplars classifier (book/methods/baselines.md, baselines-icarl).

Two rules, one switch (``rule``):

* ``"original"``, as the original SRC code runs it: the first exemplar of a class is the one with
  the *smallest* dot product with the class-mean feature, later ones the usual greedy herding
  choice; features are not normalised, and exemplar features and soft targets are computed with
  dropout active (training mode);
* ``"textbook"``, Rebuffi et al.'s iCaRL: L2-normalised features in test mode, every exemplar
  (the first included) the greedy herding choice, soft targets in test mode.

iCaRL + SRC is this hook followed by the SRC hook; nothing else changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..nets.mlp import MLP
from ..training import Hook, TaskContext
from .registry import MethodContext, MethodSpec, register, with_src

RULES = ("original", "textbook")
SELECTIONS = ("herding", "random")

#: ``pool(ctx)`` returns every training example of the current task's classes, in data set
#: order; the examples after the task's own ones pad the training set to whole batches.
Pool = Callable[[TaskContext], tuple[np.ndarray, np.ndarray]]


def per_class(memory: int, task_number: int, n_seen_classes: int) -> int:
    """Exemplars kept per class after task ``task_number`` (1-based): the budget split evenly
    over the classes seen, rounded half away from zero as MATLAB does.

    The original's largest memory, 20000, is special: 10000 after task 1, then 20000.
    """
    budget = 10_000 if memory == 20_000 and task_number == 1 else memory
    return int(math.floor(budget / n_seen_classes + 0.5))


def herding(features: np.ndarray, m: int, rule: str = "original") -> np.ndarray:
    """Indices of ``m`` exemplars in the order chosen (at most all of them, none twice).

    Each pick is the example that brings the mean of the chosen ones closest to the class mean
    (eq-herding); under the ``"original"`` rule the first pick is instead the example with the
    smallest dot product with the class mean.
    """
    if rule not in RULES:
        raise ValueError(f"unknown herding rule {rule!r}; valid: {', '.join(RULES)}")
    f = np.asarray(features, dtype=np.float64)
    mu = f.mean(axis=0)
    sq = (f * f).sum(axis=1)
    chosen: list[int] = []
    total = np.zeros_like(mu)
    free = np.ones(len(f), dtype=bool)
    for k in range(min(m, len(f))):
        if k == 0 and rule == "original":
            score = f @ mu
        else:  # |(k+1) mu - total - f_i|^2 without the constant term
            score = sq - 2.0 * (f @ ((k + 1) * mu - total))
        score[~free] = np.inf
        i = int(np.argmin(score))
        chosen.append(i)
        free[i] = False
        total += f[i]
    return np.array(chosen, dtype=np.int64)


def _normalise(f: torch.Tensor) -> torch.Tensor:
    return f / f.norm(dim=1, keepdim=True).clamp_min(1e-12)


class ICaRL(Hook):
    """Keep ``memory`` exemplars in all, replay them with each new task (as one-hot or as soft
    targets), and classify by the nearest exemplar mean (:meth:`nme_predict`)."""

    name = "icarl"

    def __init__(
        self,
        memory: int,
        pool: Pool,
        rng: np.random.Generator,
        dropout: torch.Generator,
        *,
        selection: str = "herding",
        distillation: bool = True,
        rule: str = "original",
    ) -> None:
        if memory < 1:
            raise ValueError(f"memory must be >= 1 exemplar, got {memory}")
        if selection not in SELECTIONS:
            raise ValueError(f"unknown selection {selection!r}; valid: {', '.join(SELECTIONS)}")
        if rule not in RULES:
            raise ValueError(f"unknown iCaRL rule {rule!r}; valid: {', '.join(RULES)}")
        self.memory, self.pool, self.rng, self.dropout = memory, pool, rng, dropout
        self.selection, self.distillation, self.rule = selection, distillation, rule
        self.exemplars: dict[int, np.ndarray] = {}  # class -> its exemplar images, in order

    # --- features --------------------------------------------------------------------------
    @torch.no_grad()
    def features(self, net: MLP, x: np.ndarray, exemplars: bool = True) -> torch.Tensor:
        """Last-hidden-layer features; exemplars (not test images) with dropout active under the
        original rule, normalised under the textbook one."""
        drop = self.dropout if exemplars and self.rule == "original" else None
        f = net.activations(torch.from_numpy(np.asarray(x, dtype=np.float32)), drop)[-2]
        return _normalise(f) if self.rule == "textbook" else f

    def class_means(self, net: MLP) -> tuple[np.ndarray, torch.Tensor]:
        """The classes with exemplars and their mean exemplar feature (one row each)."""
        classes = np.array(sorted(self.exemplars), dtype=np.int64)
        means = torch.stack([self.features(net, self.exemplars[c]).mean(dim=0) for c in classes])
        return classes, _normalise(means) if self.rule == "textbook" else means

    @torch.no_grad()
    def nme_predict(self, net: MLP, x: np.ndarray) -> np.ndarray:
        """Nearest-mean-of-exemplars labels (Euclidean, test-mode features of ``x``)."""
        classes, means = self.class_means(net)
        f = self.features(net, x, exemplars=False)
        return classes[torch.cdist(f, means).argmin(dim=1).numpy()]

    # --- hooks -----------------------------------------------------------------------------
    def training_data(
        self, ctx: TaskContext, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The task's data, the exemplars and enough further new-task examples to fill the last
        batch; targets one-hot, the exemplars' soft with distillation."""
        if not self.exemplars:
            return x, y
        n_out = ctx.net.config.sizes[-1]
        ex_x = np.concatenate([self.exemplars[c] for c in sorted(self.exemplars)])
        ex_y = np.concatenate([np.full(len(self.exemplars[c]), c) for c in sorted(self.exemplars)])
        pad = -(len(x) + len(ex_x)) % ctx.net.config.batch_size
        more_x, more_y = self.pool(ctx)
        new_x = np.concatenate([x, more_x[len(x): len(x) + pad]])
        new_y = np.concatenate([y, more_y[len(y): len(y) + pad]])
        if self.distillation:
            drop = self.dropout if self.rule == "original" else None
            with torch.no_grad():
                soft = ctx.net.activations(torch.from_numpy(ex_x.astype(np.float32)), drop)[-1]
            ex_t = soft.numpy()
        else:
            ex_t = np.eye(n_out, dtype=np.float32)[ex_y]
        ctx.log["rehearsed"] = len(ex_x)
        targets = np.concatenate([np.eye(n_out, dtype=np.float32)[new_y], ex_t])
        return np.concatenate([new_x, ex_x]), targets

    def after_task(self, ctx: TaskContext) -> str | None:
        """Shrink the old classes' sets to the new per-class budget and choose the new ones'."""
        classes = [c for t in ctx.seen for c in t.classes]
        m = per_class(self.memory, ctx.index + 1, len(classes))
        for c in self.exemplars:
            self.exemplars[c] = self.exemplars[c][:m]
        task = ctx.task
        for c in task.classes:
            x = task.x_train[task.y_train == c]
            if self.selection == "random":
                pick = self.rng.permutation(len(x))[:m]
            else:
                pick = herding(self.features(ctx.net, x).numpy(), m, self.rule)
            self.exemplars[int(c)] = x[pick]
        return None


def src_preset(dataset: str, memory: int | None) -> str:
    """The SRC vector the original uses with iCaRL at memory ``memory``; its branches test exact
    values, so a K off its list takes the "otherwise" vector. Fashion at K = 20000 has no branch
    in the original (the run errors); we use its largest-memory vector
    (dev-icarl-fashion-20000)."""
    small = {"mnist": (100, 200, 500), "fashion": (100, 200, 500), "cifar10": (200, 500)}
    if dataset == "cifar10":
        if memory in (50, 100):
            return "icarl_cifar10_k50-100"
        return "icarl_cifar10_k200-500" if memory in small[dataset] else "icarl_cifar10_k1000"
    if memory == 50:
        return f"icarl_{dataset}_k50"
    if memory in small[dataset]:
        return f"icarl_{dataset}_k100-500"
    return "icarl_mnist_k1000+" if dataset == "mnist" else "icarl_fashion_k1000-5000"


@dataclass(frozen=True)
class ICaRLSettings:
    """iCaRL's settings: the budget and the variant (how exemplars are chosen, whether old
    targets are soft, which herding rule)."""

    budget: int  # exemplars in all
    selection: str = "herding"
    distillation: bool = True
    rule: str = "original"


def hooks(ctx: MethodContext) -> list[ICaRL]:
    """iCaRL's one hook; its exemplars come from the current task's training images."""
    ds, s = ctx.ds, ctx.settings

    def pool(task: TaskContext) -> tuple[np.ndarray, np.ndarray]:
        keep = np.isin(ds.y_train, task.task.classes)
        return ds.x_train[keep], ds.y_train[keep]

    return [ICaRL(s.budget, pool, np.random.default_rng([ctx.seed, 5]),
                  torch.Generator().manual_seed(ctx.seed + 5), selection=s.selection,
                  distillation=s.distillation, rule=s.rule)]


SPEC = register(MethodSpec(
    name="icarl", display="iCaRL", label="baselines-icarl", order=60,
    chapters=("paradigms",), hooks=hooks, settings=ICaRLSettings, budgeted=True,
    output="softmax", nearest_mean=True, src_preset=src_preset))
SRC_SPEC = register(with_src(SPEC))

"""Synaptic intelligence (Zenke et al. 2017) (book/methods/baselines.md, baselines-si).

During a task each weight accumulates its contribution to the fall of the loss along the
training path, ``omega += -g * dW`` per step (g: the loss gradient, dW: the step actually taken).
At the task's end its importance is ``omega / (Delta^2 + xi)``, Delta the weight's total change
over the task, and later tasks add ``2 c * Omega * (W - W*)`` to every gradient, the gradient of
``c * sum Omega (W - W*)^2`` with Omega summed over tasks and W* the latest task's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..nets.mlp import Step
from ..training import TaskContext
from .penalty import QuadraticPenalty
from .registry import MethodContext, MethodSpec, register


class SI(QuadraticPenalty):
    """SI's path-integral importance and its penalty as a hook."""

    name = "si"

    def __init__(self, strength: float, xi: float = 1e-3) -> None:
        super().__init__(2.0 * strength)
        if not xi > 0:
            raise ValueError(f"SI damping xi must be > 0, got {xi}")
        self.c = strength
        self.xi = xi
        self.omega: list[torch.Tensor] = []
        self.start: list[torch.Tensor] = []
        self.Omega: list[torch.Tensor] | None = None

    def before_task(self, ctx: TaskContext) -> None:
        self.start = [w.clone() for w in ctx.net.weights]
        self.omega = [torch.zeros_like(w) for w in ctx.net.weights]

    def after_step(self, ctx: TaskContext, step: Step, change: list[torch.Tensor]) -> None:
        for o, g, d in zip(self.omega, step.grads, change, strict=True):
            o.sub_(g * d)

    def after_task(self, ctx: TaskContext) -> str | None:
        end = [w.clone() for w in ctx.net.weights]
        task_importance = [o / ((e - s) ** 2 + self.xi)
                           for o, e, s in zip(self.omega, end, self.start, strict=True)]
        self.Omega = task_importance if self.Omega is None else [
            a + b for a, b in zip(self.Omega, task_importance, strict=True)]
        # Zenke et al.: one anchor, the latest weights, for the summed importance.
        self.A = [o.clone() for o in self.Omega]
        self.B = [o * w for o, w in zip(self.Omega, end, strict=True)]
        return None


@dataclass(frozen=True)
class SISettings:
    """SI's settings."""

    strength: float  # c
    si_xi: float = 1e-3  # damping xi


def hooks(ctx: MethodContext) -> list[SI]:
    """SI's one hook."""
    return [SI(ctx.settings.strength, ctx.settings.si_xi)]


SPEC = register(MethodSpec(
    name="si", display="SI", label="baselines-si", order=20,
    chapters=("incremental", "crossmodal", "paradigms"), hooks=hooks, settings=SISettings,
    keeps="importance, anchor", strength=("si_c", "si_grid")))

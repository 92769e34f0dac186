"""Elastic weight consolidation (Kirkpatrick et al. 2017), with the online variant of
Schwarz et al. 2018 (book/methods/baselines.md, baselines-ewc).

After each task the diagonal empirical Fisher information of that task's training data, F, is
computed in test mode; training later tasks adds ``lambda * F * (W - W*)`` to every gradient, the
gradient of ``lambda / 2 * sum F (W - W*)^2``. Standard EWC keeps one anchor W* per task;
online EWC keeps one running Fisher, decayed by ``gamma`` per task, anchored at the latest weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..training import TaskContext, one_hot
from .penalty import QuadraticPenalty
from .registry import MethodContext, MethodSpec, register

VARIANTS = ("standard", "online")


class EWC(QuadraticPenalty):
    """EWC's penalty as a hook: Fisher after each task, its gradient on every later step."""

    name = "ewc"

    def __init__(self, strength: float, variant: str = "standard", gamma: float = 1.0) -> None:
        super().__init__(strength)
        if variant not in VARIANTS:
            raise ValueError(f"EWC variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
        self.variant = variant
        self.gamma = gamma

    def after_task(self, ctx: TaskContext) -> str | None:
        net = ctx.net
        x = torch.from_numpy(np.ascontiguousarray(ctx.task.x_train, dtype=np.float32))
        y = one_hot(ctx.task.y_train, net.config.sizes[-1])
        fisher = [s / len(x) for s in net.squared_example_gradients(x, y)]
        weights = [w.clone() for w in net.weights]
        if self.variant == "online" and self.A is not None:
            # One running Fisher anchored at the newest weights.
            self.A = [self.gamma * a + f for a, f in zip(self.A, fisher, strict=True)]
            self.B = [a * w for a, w in zip(self.A, weights, strict=True)]
        else:
            self.anchor(fisher, weights)
        ctx.log["fisher_mean"] = float(sum(f.sum() for f in fisher)
                                       / sum(f.numel() for f in fisher))
        return None


@dataclass(frozen=True)
class EWCSettings:
    """EWC's settings."""

    strength: float  # lambda
    ewc_variant: str = "standard"  # one anchor per task, or online (one running Fisher)


def hooks(ctx: MethodContext) -> list[EWC]:
    """EWC's one hook."""
    return [EWC(ctx.settings.strength, ctx.settings.ewc_variant)]


SPEC = register(MethodSpec(
    name="ewc", display="EWC", label="baselines-ewc", order=10,
    chapters=("incremental", "crossmodal", "paradigms"), hooks=hooks, settings=EWCSettings,
    keeps="Fisher and anchor per task", strength=("ewc_lambda", "ewc_grid")))

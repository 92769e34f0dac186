"""The quadratic penalty EWC and SI share: pull every weight towards where earlier tasks left it,
in proportion to how important it was for them (book/methods/baselines.md, baselines-penalty).

The penalty's gradient is ``strength * (A * W - B)`` per weight matrix, where ``A`` is the summed
importance and ``B`` the importance-weighted anchors. The two methods differ only in how they
measure importance and when they fold it into ``A`` and ``B``; both add the gradient to the loss
gradient of every step, which equals adding the penalty to the loss because it is quadratic.
"""

from __future__ import annotations

import torch

from ..nets.mlp import Step
from ..training import Hook, TaskContext


class QuadraticPenalty(Hook):
    """Adds ``strength * (A * W - B)`` to each step's gradient; subclasses fill ``A`` and ``B``."""

    def __init__(self, strength: float) -> None:
        if not strength >= 0:
            raise ValueError(f"penalty strength must be >= 0, got {strength}")
        self.strength = strength
        self.A: list[torch.Tensor] | None = None  # summed importance per weight
        self.B: list[torch.Tensor] | None = None  # summed importance * anchor per weight

    def gradients(
        self, ctx: TaskContext, step: Step, grads: list[torch.Tensor]
    ) -> list[torch.Tensor]:
        if self.A is None:
            return grads
        return [g + self.strength * (a * w - b)
                for g, a, w, b in zip(grads, self.A, ctx.net.weights, self.B, strict=True)]

    def anchor(self, importance: list[torch.Tensor], weights: list[torch.Tensor]) -> None:
        """Fold one task's importance in, anchored at ``weights`` (every task keeps its own)."""
        if self.A is None:
            self.A = [torch.zeros_like(w) for w in weights]
            self.B = [torch.zeros_like(w) for w in weights]
        self.A = [a + f for a, f in zip(self.A, importance, strict=True)]
        self.B = [b + f * w for b, f, w in zip(self.B, importance, weights, strict=True)]

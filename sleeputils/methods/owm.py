"""Orthogonal weight modification (Zeng et al. 2019) (book/methods/baselines.md, baselines-owm).

Each weight matrix W_k keeps a projector P_k over its input space, starting at the identity.
Every step's gradient is replaced by ``G P_k``, so the update moves W_k only in directions
(nearly) orthogonal to the inputs the layer has seen; after the step, P_k absorbs the batch's
mean input x: ``P <- P - (P x)(P x)^T / (alpha + x^T P x)``. With alpha -> 0 and inputs
x_1..x_n, P is the projector onto their orthogonal complement; larger alpha keeps more plasticity.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..nets.mlp import Step
from ..training import Hook, TaskContext
from .registry import MethodContext, MethodSpec, register


class OWM(Hook):
    """OWM as a hook: projected gradients, projectors updated with each batch's mean inputs."""

    name = "owm"

    def __init__(self, alpha: float) -> None:
        if not alpha > 0:
            raise ValueError(f"OWM alpha must be > 0, got {alpha}")
        self.alpha = alpha
        self.P: list[torch.Tensor] = []  # float64, one (n_in, n_in) projector per layer
        self._P32: list[torch.Tensor] = []  # float32 copies the projection uses

    def before_task(self, ctx: TaskContext) -> None:
        if not self.P:
            self.P = [torch.eye(w.shape[1], dtype=torch.float64) for w in ctx.net.weights]
            self._P32 = [p.float() for p in self.P]

    def gradients(
        self, ctx: TaskContext, step: Step, grads: list[torch.Tensor]
    ) -> list[torch.Tensor]:
        if grads is not step.grads or step.deltas is None:
            return [g @ p for g, p in zip(grads, self._P32, strict=True)]
        # G P = delta^T (H P): the same product, several times cheaper for a batch of 100.
        return [d.T @ (h @ p) for d, h, p in zip(step.deltas, step.inputs, self._P32, strict=True)]

    def after_step(self, ctx: TaskContext, step: Step, change: list[torch.Tensor]) -> None:
        for k, h in enumerate(step.inputs):
            self.absorb(k, h.mean(dim=0))

    def absorb(self, k: int, x: torch.Tensor) -> None:
        """Fold one input vector into layer k's projector (a Sherman-Morrison update)."""
        x = x.double()
        px = self.P[k] @ x
        self.P[k] -= torch.outer(px, px) / (self.alpha + x @ px)
        self._P32[k] = self.P[k].float()


@dataclass(frozen=True)
class OWMSettings:
    """OWM's setting."""

    strength: float  # the regulariser alpha


def hooks(ctx: MethodContext) -> list[OWM]:
    """OWM's one hook."""
    return [OWM(ctx.settings.strength)]


SPEC = register(MethodSpec(
    name="owm", display="OWM", label="baselines-owm", order=30,
    chapters=("incremental", "crossmodal", "paradigms"), hooks=hooks, settings=OWMSettings,
    keeps="input projectors", strength=("owm_alpha", "owm_grid")))

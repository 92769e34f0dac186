"""OWM in its authors' recipe (book/methods/baselines.md, baselines-owm-recipe).

The book's other OWM (:mod:`.owm`, baselines-owm) runs on the SRC protocol's network and
optimiser with one constant alpha. The OWM authors' public recipe for disjoint MNIST differs in
the network (784-800-800-10 with a constant-1 input to every layer, Xavier initialisation, no
dropout, softmax cross-entropy), the optimiser (lr 0.2, momentum 0.9, batch 40, 20 epochs per
task, each layer's gradient clipped to norm 10 before it is projected) and in OWM itself:

* each layer k has its own alpha, decaying within a task as ``alpha_k(lam) = a_k * d_k ** lam``
  with ``lam = s / S`` for step s = 0..S-1 of the task's S steps (a = 0.9, 1.0, 0.6;
  d = 0.001, 0.1, 1);
* the projector absorbs the batch's mean input *before* the batch's gradient is projected
  (the SRC-protocol OWM absorbs it after the step).

:class:`OWMRecipeParams` declares every element with the authors' value as its default;
:func:`recipe_mlp` and :func:`recipe_hook` build the network and the hook from it.
With every element at the SRC protocol's value (:func:`src_protocol_values`) the hook computes
what :class:`.owm.OWM` does, up to the rounding of its faster projector update.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..nets.mlp import INITS, OUTPUTS, MLPConfig, Step
from ..params import ParamError, Params, declare
from ..training import TaskContext
from .owm import OWM

ABSORB = ("before", "after")


@dataclass(frozen=True)
class OWMRecipeParams(Params):
    """The elements of the OWM authors' disjoint-MNIST recipe; defaults are their values."""

    hidden: tuple[int, ...] = declare((800, 800), "widths of the hidden layers", low=1,
                                      high=10000, repeats=True)
    bias: str = declare("yes", "a constant-1 input to every layer (a trained bias)",
                        choices=("yes", "no"))
    init: str = declare("xavier", "initial weights: Xavier uniform, or U(-init_scale, "
                        "init_scale)", choices=INITS)
    init_scale: float = declare(0.01, "bound of the uniform initialisation", low=1e-6,
                                high=10.0)
    dropout: float = declare(0.0, "hidden-unit dropout probability", low=0.0, high=0.9)
    output: str = declare("softmax", "output and loss: softmax cross-entropy, or ReLU with MSE "
                          "(linear backward)", choices=OUTPUTS)
    lr: float = declare(0.2, "SGD learning rate", low=1e-6, high=10.0)
    momentum: float = declare(0.9, "SGD momentum", low=0.0, high=0.999)
    batch_size: int = declare(40, "mini-batch size", low=1, high=10000)
    epochs: int = declare(20, "SGD epochs per task", low=1, high=100)
    clip: float | None = declare(10.0, "each layer's gradient clipped to this norm before it is "
                                 "projected", low=1e-9, high=1e9, none="no clipping")
    alphas: tuple[float, ...] = declare((0.9, 1.0, 0.6), "alpha of each layer at the start of "
                                        "a task (input layer first)", low=1e-12, high=1e6,
                                        repeats=True)
    alpha_decays: tuple[float, ...] = declare(
        (0.001, 0.1, 1.0), "factor each layer's alpha reaches at the end of a task "
        "(alpha * decay ** (step / steps)); 1 keeps it constant", low=1e-12, high=1.0,
        repeats=True)
    absorb: str = declare("before", "when the projector absorbs a batch's mean input: before "
                          "its gradient is projected, or after the step", choices=ABSORB)

    def check_layers(self) -> None:
        """One alpha and one decay per weight layer, or one line saying so."""
        n = len(self.hidden) + 1
        for name in ("alphas", "alpha_decays"):
            if len(getattr(self, name)) != n:
                raise ParamError(f"parameter '{name}' needs {n} values (one per weight layer "
                                 f"of a net with {len(self.hidden)} hidden layers), got "
                                 f"{len(getattr(self, name))}")


def src_protocol_values(alpha: float) -> dict[str, Any]:
    """Every recipe element at the SRC protocol's value (the book's SRC-protocol OWM at
    ``alpha``), for the MNIST-like data sets."""
    return {"hidden": (1200, 1200), "bias": "no", "init": "uniform", "init_scale": 0.01,
            "dropout": 0.25, "output": "relu", "lr": 0.1, "momentum": 0.5, "batch_size": 100,
            "epochs": 2, "clip": None, "alphas": (alpha,) * 3, "alpha_decays": (1.0,) * 3,
            "absorb": "after"}


def recipe_elements() -> tuple[str, ...]:
    """The names of the recipe's elements (the fields of :class:`OWMRecipeParams`)."""
    return tuple(f.name for f in dataclasses.fields(OWMRecipeParams))


def recipe_mlp(params: OWMRecipeParams, n_in: int, n_out: int) -> MLPConfig:
    """The network and optimiser of the recipe for ``n_in`` inputs and ``n_out`` classes."""
    return MLPConfig(sizes=(n_in, *params.hidden, n_out), dropout=params.dropout,
                     output=params.output, lr=params.lr, momentum=params.momentum,
                     batch_size=params.batch_size, init_scale=params.init_scale,
                     bias=params.bias == "yes", init=params.init)


def recipe_hook(params: OWMRecipeParams) -> OWMRecipe:
    """The recipe's OWM hook (its network from :func:`recipe_mlp`)."""
    params.check_layers()
    return OWMRecipe(params.alphas, params.alpha_decays, params.clip, params.absorb,
                     params.epochs)


def clip_scale(g: torch.Tensor, clip: float | None) -> float:
    """The factor that brings ``g`` to norm ``clip`` if it is longer (1 otherwise)."""
    if clip is None:
        return 1.0
    norm = float(torch.linalg.vector_norm(g))
    return clip / norm if norm > clip else 1.0


class OWMRecipe(OWM):
    """OWM with per-layer alphas decaying within each task, gradients clipped before projection,
    and the batch absorbed before (or after) its gradient is projected."""

    name = "owm-recipe"

    def __init__(self, alphas: Sequence[float], decays: Sequence[float], clip: float | None,
                 absorb: str, epochs: int) -> None:
        if len(alphas) != len(decays) or not all(a > 0 for a in alphas):
            raise ValueError(f"need one alpha > 0 and one decay per layer, got {alphas}, "
                             f"{decays}")
        if not all(0 < d <= 1 for d in decays):
            raise ValueError(f"alpha decays must be in (0, 1], got {decays}")
        if absorb not in ABSORB:
            raise ValueError(f"absorb must be one of {ABSORB}, got {absorb!r}")
        if clip is not None and not clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {clip}")
        super().__init__(min(alphas))
        self.alphas = tuple(float(a) for a in alphas)
        self.decays = tuple(float(d) for d in decays)
        self.clip, self.absorb_first, self.epochs = clip, absorb == "before", epochs
        self.step, self.steps = 0, 1

    def before_task(self, ctx: TaskContext) -> None:
        super().before_task(ctx)
        if len(self.P) != len(self.alphas):
            raise ValueError(f"{len(self.alphas)} alphas for a net of {len(self.P)} layers")

    def training_data(self, ctx: TaskContext, x: np.ndarray, y: np.ndarray):
        # The steps of this task, from the data it trains on (after any earlier hook's change).
        self.step, self.steps = 0, max(1, len(x) // ctx.net.config.batch_size * self.epochs)
        return x, y

    def alpha_at(self, k: int) -> float:
        """Layer k's alpha at the current step: a_k * d_k ** (step / steps)."""
        return self.alphas[k] * self.decays[k] ** (self.step / self.steps)

    def gradients(
        self, ctx: TaskContext, step: Step, grads: list[torch.Tensor]
    ) -> list[torch.Tensor]:
        if self.absorb_first:
            self._absorb_batch(step)
        scales = [clip_scale(g, self.clip) for g in grads]
        projected = super().gradients(ctx, step, grads)
        return [p if s == 1.0 else p * s for p, s in zip(projected, scales, strict=True)]

    def after_step(self, ctx: TaskContext, step: Step, change: list[torch.Tensor]) -> None:
        if not self.absorb_first:
            self._absorb_batch(step)
        self.step += 1

    def _absorb_batch(self, step: Step) -> None:
        for k, h in enumerate(step.inputs):
            self.absorb(k, h.mean(dim=0), self.alpha_at(k))

    def absorb(self, k: int, x: torch.Tensor, alpha: float | None = None) -> None:
        """:meth:`.OWM.absorb` at ``alpha`` (the hook's own if None), as one in-place rank-1
        update: the same P up to rounding, a few times faster for the recipe's 801-wide
        layers."""
        x = x.double()
        px = self.P[k] @ x
        a = self.alpha if alpha is None else alpha
        self.P[k].addr_(px, px, alpha=-1.0 / (a + float(x @ px)))
        self._P32[k].copy_(self.P[k])

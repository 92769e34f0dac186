"""The bias-free ReLU MLP of the original SRC code.

See book/methods/training.md, training-network (eq-forward) and training-sgd.

Conventions copied from the DeepLearnToolbox "nobias" fork the original experiments use:

* no biases anywhere, ReLU hidden units, weights initialised U(-init_scale, +init_scale);
* dropout on hidden units only, units zeroed *without* rescaling during training and every hidden
  activation multiplied by (1 - p) at test time;
* output ``"relu"`` trained with MSE against one-hot targets over all outputs, the output treated
  as linear in the backward pass (delta_out = a - y), or ``"softmax"`` with cross-entropy;
* plain SGD with momentum, v <- mu v + lr grad, W <- W - v, the velocity kept by the network so it
  carries over across tasks and across sleep.

Only the OWM authors' recipe (book/methods/baselines.md, baselines-owm-recipe) departs from these:
``bias=True`` appends a constant 1 to every layer's input (the bias is the last weight column,
trained like the others) and ``init="xavier"`` draws U(-b, b) with b = sqrt(6 / (fan_in +
fan_out)). SRC's sleep assumes a bias-free net and is never run on such a one.

Weights are float32 torch tensors of shape (n_out, n_in), the same orientation as W_k in
book/methods/sleep.md, src-network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

OUTPUTS = ("relu", "softmax")
INITS = ("uniform", "xavier")


@dataclass(frozen=True)
class MLPConfig:
    """Architecture and training hyperparameters of one bias-free MLP."""

    sizes: tuple[int, ...]  # layer sizes n_0 (input), ..., n_L (output)
    dropout: float = 0.25  # hidden-unit dropout probability p
    output: str = "relu"  # "relu" (MSE, linear backward) or "softmax" (cross-entropy)
    lr: float = 0.1  # SGD learning rate
    momentum: float = 0.5  # SGD momentum mu
    batch_size: int = 100  # mini-batch size
    init_scale: float = 0.01  # weights start U(-init_scale, init_scale) ("uniform" init)
    bias: bool = False  # a constant-1 input to every layer (the OWM authors' recipe only)
    init: str = "uniform"  # "uniform" (init_scale) or "xavier" (U(-b, b), b from the fan sizes)

    def __post_init__(self) -> None:
        if len(self.sizes) < 2 or any(int(n) <= 0 for n in self.sizes):
            raise ValueError(f"sizes must be >= 2 positive layer sizes, got {self.sizes}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if self.lr <= 0 or self.batch_size <= 0 or self.init_scale <= 0:
            raise ValueError("lr, batch_size and init_scale must be positive")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")


class MLP:
    """A bias-free MLP with its own SGD momentum buffers (book/methods/training.md, eq-momentum)."""

    def __init__(self, config: MLPConfig, generator: torch.Generator) -> None:
        self.config = config
        sizes = config.sizes
        self.weights: list[torch.Tensor] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            n_in += int(config.bias)
            u = torch.rand(n_out, n_in, generator=generator, dtype=torch.float32)
            scale = (config.init_scale if config.init == "uniform"
                     else float(np.sqrt(6.0 / (n_in + n_out))))
            self.weights.append((u - 0.5) * 2.0 * scale)
        self.velocity = [torch.zeros_like(w) for w in self.weights]

    def layer_input(self, h: torch.Tensor) -> torch.Tensor:
        """What enters a weight matrix: ``h``, with a constant-1 column if the net has biases."""
        if not self.config.bias:
            return h
        return torch.cat([h, h.new_ones(len(h), 1)], dim=1)

    @property
    def n_layers(self) -> int:
        """Number of weight layers L."""
        return len(self.weights)

    def clone(self) -> MLP:
        """An independent copy (weights and momentum buffers)."""
        other = object.__new__(MLP)
        other.config = self.config
        other.weights = [w.clone() for w in self.weights]
        other.velocity = [v.clone() for v in self.velocity]
        return other

    def numpy_weights(self) -> list[np.ndarray]:
        """The weights as float64 numpy arrays (n_out, n_in), the form sleep works on."""
        return [w.double().numpy() for w in self.weights]

    def set_numpy_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Replace the weights; the momentum buffers are kept, as in the original.

        See book/methods/sleep.md, src-hook.
        """
        if [w.shape for w in weights] != [tuple(w.shape) for w in self.weights]:
            raise ValueError("weight shapes do not match the network")
        self.weights = [torch.from_numpy(np.asarray(w, dtype=np.float32)).clone() for w in weights]

    # --- forward passes -------------------------------------------------------------------
    def activations(
        self, x: torch.Tensor, dropout: torch.Generator | None = None
    ) -> list[torch.Tensor]:
        """Test-mode activations of every layer 1..L (hidden ones scaled by 1 - p).

        With a ``dropout`` generator the hidden units are instead dropped as in training (zeroed
        with probability p, not rescaled): the original iCaRL code computes exemplar features
        and soft targets this way (book/methods/baselines.md, baselines-icarl).
        """
        keep = 1.0 - self.config.dropout
        acts = []
        h = x
        for k, w in enumerate(self.weights):
            z = self.layer_input(h) @ w.T
            if k < self.n_layers - 1:
                h = torch.relu(z)
                if dropout is None:
                    h = h * keep
                elif self.config.dropout > 0:
                    h = h * (torch.rand(h.shape, generator=dropout) >= self.config.dropout)
            else:
                h = torch.relu(z) if self.config.output == "relu" else torch.softmax(z, dim=1)
            acts.append(h)
        return acts

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch: int = 5000) -> torch.Tensor:
        """Argmax over all outputs in test mode (class-incremental: no masking)."""
        out = [
            self.activations(x[i : i + batch])[-1].argmax(dim=1) for i in range(0, len(x), batch)
        ]
        return torch.cat(out) if out else torch.empty(0, dtype=torch.long)

    @torch.no_grad()
    def layer_maxima(self, x: torch.Tensor, batch: int = 5000) -> list[float]:
        """Largest test-mode activation of each layer over ``x`` (for data-based normalisation)."""
        maxima = [0.0] * self.n_layers
        for i in range(0, len(x), batch):
            for k, a in enumerate(self.activations(x[i : i + batch])):
                maxima[k] = max(maxima[k], float(a.max()))
        return maxima

    def squared_example_gradients(
        self, x: torch.Tensor, y: torch.Tensor, batch: int = 1000
    ) -> list[torch.Tensor]:
        """Sum over examples of the squared per-example loss gradient, per weight matrix.

        Test mode (no dropout masks), the loss of eq-loss for one example. In a bias-free MLP the
        gradient of example i for W_k is the outer product delta_k(i) h_{k-1}(i)^T, so the sum of
        its squares is (delta_k ** 2)^T (h_{k-1} ** 2): exact, with no loop over examples.
        """
        keep = 1.0 - self.config.dropout
        sums = [torch.zeros_like(w) for w in self.weights]
        for i in range(0, len(x), batch):
            h, zs, inputs = x[i : i + batch], [], []
            for k, w in enumerate(self.weights):
                h = self.layer_input(h)
                inputs.append(h)
                z = (h @ w.T).requires_grad_(True)
                zs.append(z)
                h = torch.relu(z) * keep if k < self.n_layers - 1 else z
            yb = y[i : i + batch]
            if self.config.output == "relu":
                loss = 0.5 * (((h + (torch.relu(h) - h).detach()) - yb) ** 2).sum()
            else:
                loss = -(yb * torch.log_softmax(h, dim=1)).sum()
            deltas = torch.autograd.grad(loss, zs)
            for k, (d, a) in enumerate(zip(deltas, inputs, strict=True)):
                sums[k] += (d.detach() ** 2).T @ (a.detach() ** 2)
        return sums

    # --- training -------------------------------------------------------------------------
    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator, lr: float | None = None
    ) -> float:
        """One SGD-with-momentum step on a batch; ``y`` are one-hot (or soft) targets.

        ``lr`` overrides the configured learning rate (the CUB protocol lowers it for task 2
        while keeping the momentum buffer, as the original CUB-200 script does).
        """
        step = self.gradients(x, y, generator)
        self.apply(step.grads, lr)
        return step.loss

    def gradients(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator,
                  deltas: bool = False) -> Step:
        """The batch loss, its gradient for every weight matrix, and each layer's input.

        A training-mode forward pass (dropout masks drawn from ``generator``) and the backward
        pass of book/methods/training.md, training-sgd; nothing is updated. ``deltas`` also
        returns the loss gradient at each layer's pre-activations (same backward pass), from
        which ``grads[k] = deltas[k].T @ inputs[k]``.
        """
        cfg = self.config
        ws = [w.detach().requires_grad_(True) for w in self.weights]
        inputs, zs = [], []
        h = x
        for k, w in enumerate(ws):
            h = self.layer_input(h)
            inputs.append(h.detach())
            z = h @ w.T
            zs.append(z)
            if k < self.n_layers - 1:
                h = torch.relu(z)
                if cfg.dropout > 0:
                    mask = torch.rand(h.shape, generator=generator) >= cfg.dropout
                    h = h * mask  # zeroed, not rescaled (DeepLearnToolbox convention)
            else:
                h = z
        if cfg.output == "relu":
            # Forward value relu(z), gradient of the identity: the output is linear in backprop.
            a = h + (torch.relu(h) - h).detach()
            loss = 0.5 * ((a - y) ** 2).sum() / len(x)
        else:
            loss = -(y * torch.log_softmax(h, dim=1)).sum() / len(x)
        if not deltas:
            return Step(float(loss.detach()), list(torch.autograd.grad(loss, ws)), inputs)
        both = torch.autograd.grad(loss, ws + zs)
        return Step(float(loss.detach()), list(both[: len(ws)]), inputs,
                    [d.detach() for d in both[len(ws) :]])

    @torch.no_grad()
    def apply(self, grads: Sequence[torch.Tensor], lr: float | None = None) -> None:
        """The momentum update of eq-momentum with the given gradients (``lr``: see
        :meth:`train_step`)."""
        cfg = self.config
        lr = cfg.lr if lr is None else lr
        for k, g in enumerate(grads):
            self.velocity[k].mul_(cfg.momentum).add_(g, alpha=lr)
            self.weights[k] = self.weights[k] - self.velocity[k]


@dataclass
class Step:
    """One batch's loss, weight gradients (shaped like the weights), layer inputs (``inputs[k]``
    is the batch entering layer k, after dropout, with its constant 1 if the net has biases)
    and, on request, pre-activation gradients."""

    loss: float
    grads: list[torch.Tensor]
    inputs: list[torch.Tensor]
    deltas: list[torch.Tensor] | None = None  # loss gradient at each layer's pre-activations

"""ER-ACE: experience replay with asymmetric cross-entropy (book/methods/wscl.md, wscl-wake).

Incoming examples are scored only against the output heads present in their batch (plus every
head above the highest one seen so far), so learning new classes does not push old heads down;
examples replayed from a reservoir buffer are scored against all heads. Only real examples of the
current task enter the buffer. This is the wake step of WSCL; with WSCL's other stages switched
off it is plain ER-ACE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .registry import MethodSpec, register


class Reservoir:
    """A reservoir-sampled memory of at most ``size`` examples (every example seen so far has the
    same chance to be in it)."""

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size = size
        self.rng = rng
        self.x: torch.Tensor | None = None
        self.y: torch.Tensor | None = None
        self.n = 0  # examples stored
        self.seen = 0  # examples offered

    def __len__(self) -> int:
        return self.n

    def add(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Offer a batch: the first ``size`` fill the memory, each later one replaces a random
        slot with probability ``size / seen``."""
        if self.size == 0:
            return
        if self.x is None:
            self.x = torch.empty(self.size, *x.shape[1:], dtype=x.dtype)
            self.y = torch.empty(self.size, dtype=y.dtype)
        for xi, yi in zip(x, y, strict=True):
            slot = self.seen if self.seen < self.size else int(self.rng.integers(0, self.seen + 1))
            if slot < self.size:
                self.x[slot], self.y[slot] = xi, yi
                self.n = min(self.size, self.n + 1)
            self.seen += 1

    def sample(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``k`` stored examples drawn without replacement (all of them if fewer)."""
        pick = torch.from_numpy(self.rng.choice(self.n, size=min(k, self.n), replace=False))
        return self.x[pick], self.y[pick]


def asymmetric_loss(logits: torch.Tensor, y: torch.Tensor, seen: torch.Tensor,
                    task: int) -> torch.Tensor:
    """Cross-entropy of incoming examples, eq-ace: from the second task on, heads neither in the
    batch nor above the highest seen head are masked out. Updates ``seen`` (bool per head)."""
    present = y.unique()
    seen[present] = True
    if task > 0:
        mask = torch.zeros(logits.shape[1], dtype=torch.bool)
        mask[present] = True
        top = int(seen.nonzero().max())
        if top < logits.shape[1] - 1:
            mask[top:] = True
        logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
    return F.cross_entropy(logits, y)


class ERACE:
    """One model, its SGD optimiser (no momentum, no weight decay) and its reservoir."""

    def __init__(self, model: torch.nn.Module, n_heads: int, lr: float, buffer: int,
                 replay_batch: int, rng: np.random.Generator) -> None:
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=lr)
        self.buffer = Reservoir(buffer, rng)
        self.replay_batch = replay_batch
        self.seen = torch.zeros(n_heads, dtype=torch.bool)

    def observe(self, x: torch.Tensor, y: torch.Tensor, task: int,
                keep: torch.Tensor) -> float:
        """One SGD step on a batch (labels are head indices); examples where ``keep`` is true
        (real current-task images) are then offered to the reservoir."""
        self.model.train()
        loss = asymmetric_loss(self.model(x), y, self.seen, task)
        if task > 0 and len(self.buffer):
            bx, by = self.buffer.sample(self.replay_batch)
            loss = loss + F.cross_entropy(self.model(bx), by)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.buffer.add(x[keep], y[keep])
        return float(loss.detach())


@dataclass(frozen=True)
class ERACESettings:
    """ER-ACE's setting."""

    budget: int  # reservoir size, images


#: Runs on its own loop (:func:`sleeputils.methods.wscl.run_stream` with every stage off).
SPEC = register(MethodSpec(
    name="er-ace", display="ER-ACE", label="wscl-wake", order=70, chapters=("paradigms",),
    settings=ERACESettings, loop="module", budgeted=True))

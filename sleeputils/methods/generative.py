"""Sleep-scheduled generative replay (book/methods/paradigms.md, paradigms-generative).

A VAE (book/methods/generative.md, vae-network) is the memory. After the first task it learns that
task's images; after every later task it sleeps: cycles of an NREM phase on a sample of the task
just learned (recent real images) and a REM phase on its own dreams, drawn from a copy of itself
as it was before this sleep, the REM share of each cycle following the schedule. Before every later
task, the classifier as it is then (the previous tasks' solver) labels ``replayed`` dreams, and the
new task trains on its data plus them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..nets.vae import VAE, VAEConfig
from ..training import Hook, TaskContext
from .registry import MethodContext, MethodSpec, register


class SleepScheduledReplay(Hook):
    """Generative replay whose generator consolidates with an NREM/REM schedule."""

    name = "generative"

    def __init__(self, vae: VAE, rem_shares: Sequence[float], cycle_epochs: int,
                 first_epochs: int, recent: int, replayed: int, batch: int,
                 generator: torch.Generator, rng: np.random.Generator) -> None:
        self.vae = vae
        self.rem_shares = list(rem_shares)
        self.cycle_epochs = cycle_epochs
        self.first_epochs = first_epochs
        self.recent = recent
        self.replayed = replayed
        self.batch = batch
        self.generator = generator
        self.rng = rng

    def training_data(
        self, ctx: TaskContext, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        if ctx.index == 0 or self.replayed == 0:
            return x, y
        dreams = self.vae.sample(self.replayed, self.generator).reshape(self.replayed, -1)
        labels = ctx.net.predict(dreams).numpy()  # the classifier before this task
        ctx.log["rehearsed"] = self.replayed
        return np.concatenate([x, dreams.numpy()]), np.concatenate([y, labels.astype(y.dtype)])

    def after_task(self, ctx: TaskContext) -> str | None:
        real = ctx.task.x_train
        if ctx.index == 0:
            self.vae.fit(real, self.first_epochs, self.batch, self.generator)
            return None
        before = copy.deepcopy(self.vae)
        for share in self.rem_shares:
            rem = int(share * self.cycle_epochs)
            pick = self.rng.choice(len(real), size=min(self.recent, len(real)), replace=False)
            if self.cycle_epochs - rem:
                self.vae.fit(real[pick], self.cycle_epochs - rem, self.batch, self.generator)
            if rem:
                dreams = before.sample(self.recent, self.generator)
                self.vae.fit(dreams, rem, self.batch, self.generator)
        return None


#: The VAE's weights (latent 5) as images of 784 values: the generator's memory.
VAE_IMAGES = 143_650 / 784


@dataclass(frozen=True)
class GenerativeSettings:
    """The generator's size and its sleep schedule (book/methods/generative.md)."""

    per_task_train: int  # training images per task (how many dreams by default)
    latent: int = 5  # VAE latent dimensions
    vae_loss: str = "bce"  # reconstruction term
    first_epochs: int = 5  # VAE epochs on the first task
    cycles: int = 5  # sleep cycles after each later task
    cycle_epochs: int = 2  # VAE epochs per cycle
    rem_share: float = 0.5  # REM share of each cycle's epochs (the same in every cycle)
    recent: int = 1000  # real (NREM) and dreamed (REM) images per cycle
    replayed: int | None = None  # labelled dreams added to each later task; None: per_task_train


def hooks(ctx: MethodContext) -> list[SleepScheduledReplay]:
    """The one hook: a fresh VAE (seeded by the trial) and its schedule."""
    s, seed = ctx.settings, ctx.seed
    vae = VAE(VAEConfig(latent=s.latent, loss=s.vae_loss, lr=1e-3),
              torch.Generator().manual_seed(seed))
    vae.eval()
    return [SleepScheduledReplay(
        vae, [s.rem_share] * s.cycles, s.cycle_epochs, s.first_epochs, s.recent,
        s.replayed if s.replayed is not None else s.per_task_train, 32,
        torch.Generator().manual_seed(seed + 7), np.random.default_rng([seed, 7]))]


SPEC = register(MethodSpec(
    name="generative", display="sleep-scheduled generative replay", label="paradigms-generative",
    order=90, chapters=("paradigms",), hooks=hooks, settings=GenerativeSettings,
    keeps=f"VAE (≈ {VAE_IMAGES:.0f} images of weights)"))

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

import numpy as np
import torch

from ..nets.vae import VAE
from ..training import Hook, TaskContext


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

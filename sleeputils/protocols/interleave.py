"""Interleaved training (book/methods/generative.md, vae-interleave): a fresh VAE learns MNIST
and inverted MNIST in one pass, the two alternating in blocks of ``n`` images; how does the block
size decide what is remembered?

Each unit trains one VAE for ``epochs`` passes at batch 1, in order (no shuffling), on the
first ``per_set`` MNIST training images and the same images inverted, as the original does, cut
into alternating blocks: n of MNIST, n inverted, n of MNIST, ... Memory is the per-pixel mean
squared error on the first ``test_images`` test images of each (the original's measure), beside
the summed absolute error of the other chapters (eq-vae-error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..data import load_dataset
from ..nets.vae import LOSSES, absolute_errors
from ..params import ParamError, Params, declare
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit
from .common import seed_field, trial_seed
from .vae_common import make_vae

#: The store's name for this protocol's units (kept from its first name, so that stored
#: units stay valid).
CHAPTER = "vae-interleave"


@dataclass(frozen=True)
class InterleaveConfig(Params):
    """Parameters of the interleaving study; defaults are the original's (3 seeds, not 1)."""

    blocks: tuple[int, ...] = declare((1, 5, 10, 50), "images per block before the other "
                                      "dataset's turn", low=1, high=30000)
    per_set: int = declare(20000, "training images of each dataset (the same ones upright and "
                           "inverted)", low=10, high=60000)
    epochs: int = declare(1, "passes over the interleaved sequence", low=1, high=100)
    latent: int = declare(20, "latent dimensions", low=1, high=256)
    loss: str = declare("mae", "reconstruction term", choices=LOSSES)
    test_images: int = declare(1000, "test images of each dataset scored", low=10, high=10000)
    trials: int = declare(3, "seeds per block size (the original ran 1)", low=1, high=100)
    seed: int = seed_field()
    lr: float = declare(1e-3, "Adam learning rate", low=1e-7, high=1.0)

    def check(self) -> None:
        """Fail in one line if a block is longer than a dataset's share of the sequence."""
        long = [n for n in self.blocks if n > self.per_set]
        if long:
            raise ParamError(f"blocks {long} exceed per_set = {self.per_set} images")


def interleave(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """``a[:n], b[:n], a[n:2n], b[n:2n], ...``: alternating blocks of ``n`` rows (equal lengths)."""
    blocks = [part for i in range(0, len(a), n) for part in (a[i : i + n], b[i : i + n])]
    return np.concatenate(blocks)


def interleave_data(config: InterleaveConfig) -> dict[str, np.ndarray]:
    """Training and test images of both datasets: the first ``per_set`` MNIST training images
    upright and the same images inverted; the first ``test_images`` test images, both ways."""
    mnist = load_dataset("mnist")
    k, m = config.per_set, config.test_images
    return {"d1_train": mnist.x_train[:k], "d2_train": 1.0 - mnist.x_train[:k],
            "d1_test": mnist.x_test[:m], "d2_test": 1.0 - mnist.x_test[:m]}


@dataclass(frozen=True)
class BlockUnit(Unit):
    """One unit: one block size."""

    block: int
    per_set: int
    epochs: int
    latent: int
    loss: str
    test_images: int
    seed: int
    lr: float


def run_interleaving(config: InterleaveConfig = InterleaveConfig(), *,
                     store: ResultStore | None = None, progress: bool = True) -> pd.DataFrame:
    """Every block size with every seed, one stored unit each."""
    config.check()
    data = interleave_data(config)
    units = [(BlockUnit(n, config.per_set, config.epochs, config.latent, config.loss,
                        config.test_images, config.seed, config.lr), t)
             for n in config.blocks for t in range(config.trials)]
    return run_units(CHAPTER, units, lambda u, t: run_block(data, u, t),
                     store=store, progress=progress, desc="interleaving")


def run_block(data: dict, unit: BlockUnit, trial: int) -> list[dict]:
    """One fresh VAE on one interleaved sequence; its test errors on both datasets."""
    seed = trial_seed(unit.seed, trial)
    vae = make_vae(unit.latent, unit.loss, unit.lr, seed)
    sequence = interleave(data["d1_train"], data["d2_train"], unit.block)
    vae.fit(sequence, unit.epochs, 1, torch.Generator().manual_seed(seed + 1), shuffle=False)
    rows = []
    for d in ("d1", "d2"):
        x = data[f"{d}_test"]
        recalled = vae.reconstruct(x)
        mse = float(np.mean((x - recalled) ** 2))
        rows += [{"metric": f"{d}_mse", "value": mse, "headline": True,
                  "setting": setting.encode(block=unit.block)},
                 {"metric": f"{d}_error", "value": float(absolute_errors(x, recalled).mean())}]
    return [{"dataset": "inverted", "method": "vae", "block": unit.block, **r} for r in rows]

"""Replay without sleep cycles: one training run on new data, on the model's own samples, or on
both shuffled together, and how many self-generated samples it takes (book/methods/generative.md,
vae-baselines).

Each unit starts from the initial VAE (trained on dataset 1, its own stored unit), draws
``num_new`` dataset-2 training images and/or ``num_sampled`` images decoded by that VAE from
z ~ N(0, I), and trains on them for ``epochs`` epochs in shuffled batches of ``batch``. Memory is
the mean test error on each dataset before and after (eq-vae-error), and the recall accuracy of
the fixed digit classifier (vae-recall).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..nets.vae import LOSSES, absolute_errors
from ..params import ParamError, Params, declare
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit
from .common import seed_field, trial_seed
from .vae_common import (
    SPLITS,
    DigitClassifier,
    digit_classifier,
    initial_settings,
    initial_vae,
    make_vae,
    recall_accuracy,
    split_data,
)

#: The store's name for this protocol's units (kept from its first name, so that stored
#: units stay valid).
CHAPTER = "vae-baselines"
#: What one baseline run trains on: dataset-2 images, the model's samples, or both.
MIXES = ("new", "old", "both")


@dataclass(frozen=True)
class ReplayConfig(Params):
    """Parameters of the replay chapter (replay without sleep cycles: new data, the VAE's own
    samples, or both); defaults are the original's (latent 20)."""

    split: str = declare("inverted", "dataset 1 -> dataset 2", choices=SPLITS)
    latent: int = declare(20, "latent dimensions", low=1, high=256)
    loss: str = declare("mae", "reconstruction term", choices=LOSSES)
    initial_epochs: int = declare(25, "most epochs of the initial VAE (early stopping, "
                                  "patience 3)", low=1, high=500)
    initial_images: int | None = declare(None, "dataset-1 training images of the initial VAE",
                                         low=100, high=60000, none="all")
    mixes: tuple[str, ...] = declare(MIXES, "what a run trains on: new images, the model's own "
                                     "samples, or both shuffled", choices=MIXES)
    num_new: int = declare(1000, "dataset-2 images of the 'new' run", low=1, high=60000)
    num_sampled: int = declare(1000, "samples of the 'old' run", low=1, high=60000)
    both_each: int = declare(500, "images of each kind in the 'both' run", low=1, high=30000)
    sample_counts: tuple[int, ...] | None = declare(
        (0, 10, 20, 25, 30, 35, 40, 50, 60), "samples added to sweep_new new images in the "
        "sample-count sweep", low=0, high=60000, none="no sweep")
    sweep_new: int = declare(500, "dataset-2 images of every sweep run", low=1, high=60000)
    epochs: int = declare(20, "epochs of each run", low=1, high=1000)
    batch: int = declare(32, "batch size", low=1, high=4096)
    trials: int = declare(3, "seeds per run", low=1, high=100)
    seed: int = seed_field()
    lr: float = declare(1e-3, "Adam learning rate", low=1e-7, high=1.0)
    test_subset: int | None = declare(None, "test images per dataset scored", low=10,
                                      high=10000, none="all")

    def runs(self) -> list[tuple[int, int]]:
        """Every distinct (new images, samples) run: the mixes, then the sweep."""
        mixes = {"new": (self.num_new, 0), "old": (0, self.num_sampled),
                 "both": (self.both_each, self.both_each)}
        sweep = [(self.sweep_new, k) for k in self.sample_counts or ()]
        return list(dict.fromkeys([mixes[m] for m in self.mixes] + sweep))


@dataclass(frozen=True)
class ReplayUnit(Unit):
    """One unit: one run of ``new`` dataset-2 images and ``sampled`` samples."""

    split: str
    latent: int
    loss: str
    initial_epochs: int
    initial_images: int | None
    epochs: int
    batch: int
    seed: int
    lr: float
    test_subset: int | None
    new: int
    sampled: int


def run_replay(config: ReplayConfig = ReplayConfig(), *,
                  store: ResultStore | None = None, progress: bool = True) -> pd.DataFrame:
    """The initial VAE and the digit classifier (stored units), then every run of
    :meth:`ReplayConfig.runs` with every seed."""
    data = split_data(config.split)
    largest = max(new for new, _ in config.runs())
    if largest > len(data["d2_train"]):
        raise ParamError(f"{largest} new images asked for, but dataset 2 of split "
                         f"{config.split!r} has {len(data['d2_train'])}")
    initial = initial_vae(initial_settings(config), data, store=store, progress=progress)
    classifier = digit_classifier(store=store, progress=progress)
    units = [(ReplayUnit(config.split, config.latent, config.loss, config.initial_epochs,
                         config.initial_images, config.epochs, config.batch, config.seed,
                         config.lr, config.test_subset, new, sampled), t)
             for new, sampled in config.runs() for t in range(config.trials)]
    return run_units(CHAPTER, units, lambda u, t: run_baseline(data, initial, classifier, u, t),
                     store=store, progress=progress, desc=f"replay {config.split}")


def run_baseline(data: dict, initial: dict, classifier: DigitClassifier, unit: ReplayUnit,
                 trial: int) -> list[dict]:
    """One run from the initial VAE: test error and recall accuracy before and after."""
    seed = trial_seed(unit.seed, trial)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng([seed, 19])
    vae = make_vae(unit.latent, unit.loss, unit.lr, seed, initial)
    n_new, n_sampled = unit.new, unit.sampled
    new = data["d2_train"][rng.choice(len(data["d2_train"]), n_new, replace=False)]
    sampled = vae.sample(n_sampled, gen).reshape(-1, new.shape[1]).numpy()
    rows = _measure(vae, data, classifier, unit.test_subset, "before")
    vae.fit(np.concatenate([new, sampled]), unit.epochs, unit.batch, gen)
    rows += _measure(vae, data, classifier, unit.test_subset, "after")
    where = setting.encode(new=n_new, sampled=n_sampled)
    rows += [{"metric": f"{d}_after", "value": r["value"], "setting": where, "headline": True}
             for d in ("d1", "d2") for r in rows
             if r["stage"] == "after" and r["metric"] == f"{d}_error"]
    return [{"dataset": unit.split, "method": "vae", "new": n_new, "sampled": n_sampled,
             **r} for r in rows]


def _measure(vae, data: dict, classifier: DigitClassifier, n: int | None, stage: str
             ) -> list[dict]:
    rows = []
    for d in ("d1", "d2"):
        x = data[f"{d}_test"][:n]
        recalled = vae.reconstruct(x)
        rows.append({"metric": f"{d}_error", "stage": stage,
                     "value": float(absolute_errors(x, recalled).mean())})
        if d == "d1" or data["d2_digits"]:
            acc = recall_accuracy(classifier, recalled, data[f"{d}_test_y"][:n],
                                  inverted=d == "d2" and data["d2_inverted"])
            rows.append({"metric": f"{d}_recall", "stage": stage, "value": acc})
    return rows

"""One task, one sleep: does SRC help an under-trained network and hurt a well-trained one?
(book/methods/protocols.md, protocol-single).

All ten digits are one task trained on the first ``images`` MNIST training images for ``epochs``
epochs at learning rate 0.01; then one sleep of 20000 steps, driven and normalised by all 60000
training images. Accuracy is taken before and after the sleep on the whole training set (as the
original evaluates) and on the test set. The original runs 10, 20 and 40 epochs on 5000 images,
each with its own hyperparameter vector; the sweeps over epochs (at 5000 images) and over images
(at 10 epochs) go beyond it, each point sleeping with the vector of the nearest original run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..data import Dataset, load_dataset
from ..metrics import accuracy
from ..nets.mlp import MLP, MLPConfig
from ..params import ParamError, Params, declare, same_as
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit
from ..sleep.presets import preset
from ..sleep.src import sleep
from ..training import train_epochs
from .common import seed_field, trial_seed
from .incremental import IncrementalConfig

CHAPTER = "single"
#: The original's three runs: epochs -> hyperparameter vector.
ORIGINAL_RUNS = {10: "reduced10", 20: "reduced20", 40: "reduced40"}
BASE_IMAGES, BASE_EPOCHS = 5000, 10


@dataclass(frozen=True)
class SingleTaskConfig(Params):
    """Parameters of the single-task sleep; defaults are the original's three runs plus the
    two sweeps."""

    epochs: tuple[int, ...] = declare((1, 2, 5, 10, 20, 40), "epochs swept (on 5000 images); "
                                      "10, 20 and 40 are the original's runs", low=1, high=200)
    images: tuple[int, ...] = declare((1000, 2000, 5000, 10000, 20000), "training images swept "
                                      "(at 10 epochs)", low=100, high=60000)
    trials: int = declare(5, "independent trials per setting", low=1, high=100)
    seed: int = seed_field()
    hidden: tuple[int, ...] = declare((1200, 1200), "widths of the hidden layers", low=1,
                                      high=10000, repeats=True)
    lr: float = declare(0.01, "SGD learning rate", low=1e-6, high=1.0)
    sleep_scale: float = same_as(IncrementalConfig, "sleep_scale")
    test_subset: int | None = same_as(IncrementalConfig, "test_subset")

    @property
    def settings(self) -> list[tuple[int, int]]:
        """(epochs, images) pairs run: the epochs sweep at 5000 images, the images sweep at 10
        epochs (a pair in both is run once)."""
        pairs = [(e, BASE_IMAGES) for e in self.epochs] + [(BASE_EPOCHS, n) for n in self.images]
        return list(dict.fromkeys(pairs))

    def check_data(self, ds: Dataset) -> None:
        """Fail in one line if more images are asked for than the training set holds."""
        if max(self.images) > ds.n_train:
            raise ParamError(f"images {max(self.images)} > the {ds.n_train} training images of "
                             f"{ds.name}")


def vector(epochs: int) -> str:
    """The original run's vector nearest to ``epochs`` (on a log scale: 10, 20, 40)."""
    return min(ORIGINAL_RUNS.items(), key=lambda kv: abs(np.log(epochs / kv[0])))[1]


@dataclass(frozen=True)
class SingleUnit(Unit):
    """One unit: one (epochs, images) setting, sleeping with the nearest original run's
    vector."""

    epochs: int
    images: int
    preset: str
    seed: int
    hidden: tuple[int, ...]
    lr: float
    sleep_scale: float
    test_subset: int | None


def units_of(config: SingleTaskConfig) -> list[tuple[SingleUnit, int]]:
    """Every (setting, trial) unit."""
    return [(SingleUnit(e, n, vector(e), config.seed, config.hidden, config.lr,
                        config.sleep_scale, config.test_subset), t)
            for e, n in config.settings for t in range(config.trials)]


def run_single(config: SingleTaskConfig = SingleTaskConfig(), *,
               store: ResultStore | None = None, progress: bool = True) -> pd.DataFrame:
    """Every (epochs, images) setting, ``config.trials`` seeded trials; one unit per trial."""
    ds = load_dataset("mnist")
    config.check_data(ds)
    return run_units(CHAPTER, units_of(config), lambda u, t: run_trial(ds, u, t),
                     store=store, progress=progress, desc="single task")


def run_trial(ds: Dataset, unit: SingleUnit, trial: int) -> list[dict]:
    """Train, score, sleep once, score again."""
    seed = trial_seed(unit.seed, trial)
    epochs, images = unit.epochs, unit.images
    mlp = MLPConfig(sizes=(ds.n_features, *unit.hidden, ds.n_classes), lr=unit.lr)
    net = MLP(mlp, torch.Generator().manual_seed(seed))
    train_epochs(net, ds.x_train[:images], ds.y_train[:images], epochs,
                 torch.Generator().manual_seed(seed + 1))
    splits = {"train": (ds.x_train, ds.y_train),
              "test": (ds.x_test[: unit.test_subset], ds.y_test[: unit.test_subset])}

    def score(when: str) -> list[dict]:
        where = setting.encode(epochs=epochs, images=images, when=when)
        return [{"metric": f"{split}_acc", "split": split, "when": when, "setting": where,
                 "headline": True,
                 "value": accuracy(net.predict(torch.from_numpy(x)), torch.from_numpy(y))}
                for split, (x, y) in splits.items()]

    rows = score("before")
    params = preset(unit.preset)
    report = sleep(net, ds.x_train, params, params.sleep_length(1, unit.sleep_scale),
                   np.random.default_rng([seed, 2]), image_shape=ds.image_shape)
    rows += score("after")
    rows.append({"metric": "sleep_steps", "value": report.steps})
    return [{"dataset": "mnist", "method": "src", "epochs": epochs, "images": images, **r}
            for r in rows]

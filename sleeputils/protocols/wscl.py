"""WSCL and its ablation on Split-MNIST / Split-Fashion (book/methods/wscl.md, wscl-protocol).

Five tasks of two classes, in class order. Per class, in data set order, the first ``hold``
training images are the task's held-out memory, the next ``validation`` its validation set and
the next ``train_per_class`` its training set. The dream data are the first ``dream_per_class``
training images of auxiliary classes (Fashion-MNIST for the MNIST stream, MNIST for the Fashion
stream), one class per output head drawn at random per trial. Every variant of a trial starts from
the same weights and sees the same batch order, so the variants are paired:

* ``er-ace``: wake only (ER-ACE);
* ``wscl``: wake + dreaming + dynamic freezing (the public code);
* ``wscl-no-dreaming``, ``wscl-no-freezing``: one stage off;
* ``wscl+nrem``: every stage, with our reading of NREM.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import Dataset, load_dataset
from ..methods.wscl import CONVENTIONS, Stages, StreamTask, random_baseline, run_stream
from ..metrics import backward_transfer, forgetting
from ..nets.modules import BACKBONES, make_backbone
from ..params import ParamError, Params, declare
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit
from .common import seed_field, trial_seed

CHAPTER = "wscl"
#: Variant -> (dreaming, freezing, NREM).
VARIANTS = {"er-ace": (False, False, False), "wscl": (True, True, False),
            "wscl-no-dreaming": (False, True, False), "wscl-no-freezing": (True, False, False),
            "wscl+nrem": (True, True, True)}
#: The auxiliary (dream) data set of each stream.
DREAMS = {"mnist": "fashion", "fashion": "mnist", "cifar10-images": "cifar100-dreams"}
CLASSES_PER_TASK = 2
#: What an unset backbone, epochs, training and dream images and augmentation mean per stream:
#: our CPU-sized choice on MNIST and Fashion; on CIFAR-10 the public code's (every training image
#: not held out or validating, a dream superclass's 2,500 images, 10 epochs, ResNet-18,
#: crop-and-flip).
STREAM_DEFAULTS = {
    "mnist": {"backbone": "cnn", "epochs": 5, "train_per_class": 2000, "dream_per_class": 1000,
              "augment": "plain"},
    "fashion": {"backbone": "cnn", "epochs": 5, "train_per_class": 2000,
                "dream_per_class": 1000, "augment": "plain"},
    "cifar10-images": {"backbone": "resnet18", "epochs": 10, "train_per_class": 4400,
                       "dream_per_class": 2500, "augment": "crop-flip"},
}
AUGMENTATIONS = ("plain", "crop-flip")


def _stream_note(name: str) -> str:
    """How an unset field reads in ``sleepbook list``: each stream's value."""
    return "the stream's: " + ", ".join(f"{v[name]} ({k})" for k, v in STREAM_DEFAULTS.items())



@dataclass(frozen=True)
class WSCLConfig(Params):
    """Parameters of the WSCL protocol; the loop's defaults are the public code's CIFAR-10 ones
    (lr 0.03, batch 32, buffer 200, 500 validation and 100 held-out images per class)."""

    dataset: str = declare("mnist", "the task stream (5 tasks of 2 classes)",
                           choices=tuple(DREAMS))
    variants: tuple[str, ...] = declare(tuple(VARIANTS), "methods to run",
                                        choices=tuple(VARIANTS))
    backbone: str | None = declare(None, "network: small CNN, the SRC MLP without dropout, "
                                   "ResNet-18", choices=BACKBONES, none=_stream_note("backbone"))
    trials: int = declare(5, "seeds", low=1, high=100)
    seed: int = seed_field()
    epochs: int | None = declare(None, "epochs per task", low=2, high=100,
                                 none=_stream_note("epochs"))
    train_per_class: int | None = declare(None, "training images per class", low=10, high=6000,
                                          none=_stream_note("train_per_class"))
    dream_per_class: int | None = declare(None, "auxiliary images per free head", low=10,
                                          high=6000, none=_stream_note("dream_per_class"))
    validation: int = declare(500, "validation images per class (freezing choice)", low=10,
                              high=2000)
    hold: int = declare(100, "held-out images per class (freezing choice, NREM)", low=10,
                        high=2000)
    lr: float = declare(0.03, "SGD learning rate (no momentum)", low=1e-6, high=10.0)
    batch: int = declare(32, "batch size, and replayed examples per step", low=1, high=1024)
    buffer: int = declare(200, "reservoir size (images)", low=0, high=20000)
    nrem_fraction: float = declare(0.1, "NREM: share of weights strengthened (and weakened)",
                                   low=0.0, high=0.5)
    nrem_strength: float = declare(0.05, "NREM: relative change of those weights", low=0.0,
                                   high=1.0)
    augment: str | None = declare(None, "training-image augmentation (crop-flip: padded random "
                                  "crops, mirrored half the time)", choices=AUGMENTATIONS,
                                  none=_stream_note("augment"))
    test_subset: int | None = declare(None, "test images used for accuracy", low=10,
                                      high=10000, none="all")

    def stream_setting(self, name: str):
        """A field's value, or the stream's own when left unset (:data:`STREAM_DEFAULTS`)."""
        value = getattr(self, name)
        own = STREAM_DEFAULTS[self.dataset]
        return own[name] if value is None and name in own else value

    def data_needed(self) -> tuple[str, str]:
        """The task stream's data set and its dream data set (a chapter without either renders
        what is missing)."""
        return self.dataset, DREAMS[self.dataset]

    def check_data(self, ds: Dataset) -> None:
        """Fail in one line if the held-out, validation and training images exceed a class."""
        need = self.hold + self.validation + self.stream_setting("train_per_class")
        have = int(np.bincount(ds.y_train).min())
        if need > have:
            raise ParamError(f"hold + validation + train_per_class = {need} images per class; "
                             f"the smallest {ds.name} class has {have}")


@dataclass(frozen=True)
class WSCLUnit(Unit):
    """One unit: one variant's trial, with the stream's own values where the config leaves them
    unset."""

    dataset: str
    variant: str
    backbone: str
    seed: int
    epochs: int
    train_per_class: int
    dream_per_class: int
    validation: int
    hold: int
    lr: float
    batch: int
    buffer: int
    nrem_fraction: float
    nrem_strength: float
    augment: str
    test_subset: int | None

    @classmethod
    def of(cls, config: WSCLConfig, variant: str) -> WSCLUnit:
        """The unit of ``variant`` under ``config``."""
        names = [f.name for f in dataclasses.fields(cls) if f.name != "variant"]
        return cls(variant=variant, **{k: config.stream_setting(k) for k in names})


def stream(ds: Dataset, unit: WSCLUnit) -> list[StreamTask]:
    """The five tasks with their held-out, validation, training and test images."""
    h, v, n = unit.hold, unit.validation, unit.train_per_class
    n_tasks = ds.n_classes // CLASSES_PER_TASK
    per_task_test = None if unit.test_subset is None else unit.test_subset // n_tasks
    tasks = []
    for k in range(n_tasks):
        classes = tuple(range(k * CLASSES_PER_TASK, (k + 1) * CLASSES_PER_TASK))
        parts = {"hold": [], "val": [], "train": []}
        for c in classes:
            idx = np.flatnonzero(ds.y_train == c)
            parts["hold"].append(idx[:h])
            parts["val"].append(idx[h : h + v])
            parts["train"].append(idx[h + v : h + v + n])
        test = np.flatnonzero(np.isin(ds.y_test, classes))
        test = np.sort(np.random.default_rng([k, 3]).permutation(test)[:per_task_test])
        split = {s: np.concatenate(i) for s, i in parts.items()}
        tasks.append(StreamTask(
            classes, ds.x_train[split["train"]], ds.y_train[split["train"]],
            ds.x_train[split["val"]], ds.y_train[split["val"]],
            ds.x_train[split["hold"]], ds.y_train[split["hold"]], ds.x_test[test],
            ds.y_test[test]))
    return tasks


def dream_images(aux: Dataset, per_class: int, n_heads: int, seed: int) -> dict[int, np.ndarray]:
    """Head h's dream images: the first ``per_class`` images of auxiliary class ``order[h]``, the
    order drawn per trial (the first task's heads never dream)."""
    order = np.random.default_rng([seed, 4]).permutation(aux.n_classes)[:n_heads]
    return {h: aux.x_train[aux.y_train == c][:per_class] for h, c in enumerate(order)}


def run_wscl(config: WSCLConfig = WSCLConfig(), *, store: ResultStore | None = None,
             progress: bool = True) -> pd.DataFrame:
    """Every variant with every seed, one stored unit each."""
    ds, aux = (load_dataset(name) for name in config.data_needed())
    config.check_data(ds)
    units = [(WSCLUnit.of(config, v), t) for v in config.variants for t in range(config.trials)]
    return run_units(CHAPTER, units, lambda u, t: run_variant(ds, aux, u, t),
                     store=store, progress=progress, desc=f"wscl {config.dataset}")


def stages_of(variant: str, *, epochs: int, batch: int, lr: float, buffer: int,
              nrem_fraction: float, nrem_strength: float,
              augment: tuple[int, int, int] | None = None) -> Stages:
    """The loop's switches (those of ``variant``) and hyperparameters (``augment``: the shape
    of the images to crop and flip, or None)."""
    dreaming, freezing, nrem = VARIANTS[variant]
    return Stages(dreaming=dreaming, freezing=freezing, nrem=nrem, epochs=epochs, batch=batch,
                  replay_batch=batch, lr=lr, buffer=buffer, nrem_fraction=nrem_fraction,
                  nrem_strength=nrem_strength, augment=augment)


def run_variant(ds: Dataset, aux: Dataset, unit: WSCLUnit, trial: int) -> list[dict]:
    """One variant's trial: its accuracy matrices under the three conventions, BWT, forgetting,
    FWT against the untrained network, frozen blocks, memory and wall time."""
    seed = trial_seed(unit.seed, trial)
    tasks = stream(ds, unit)
    image = ds.image_shape if len(ds.image_shape) == 3 else (1, *ds.image_shape)
    model = make_backbone(unit.backbone, ds.n_features, ds.n_classes, image, seed)
    chance = random_baseline(model, tasks, CLASSES_PER_TASK)
    dreams = dream_images(aux, unit.dream_per_class, ds.n_classes, seed)
    stages = stages_of(unit.variant, epochs=unit.epochs, batch=unit.batch, lr=unit.lr,
                       buffer=unit.buffer, nrem_fraction=unit.nrem_fraction,
                       nrem_strength=unit.nrem_strength,
                       augment=image if unit.augment == "crop-flip" else None)
    out = run_stream(model, tasks, stages, ds.n_classes, seed + 1, dreams)
    return [{"dataset": unit.dataset, "method": unit.variant, **r}
            for r in stream_rows(out, chance)]


def stream_rows(out: dict, chance: dict[str, np.ndarray]) -> list[dict]:
    """Tidy rows of one run: per convention the accuracy matrix, the accuracy of each task at its
    start, and the headline numbers (final mean accuracy, BWT, forgetting, FWT, in points)."""
    rows = []
    for conv in CONVENTIONS:
        R, pre = out["R"][conv], out["pre"][conv]
        T = len(R)
        rows += [{"metric": "acc", "convention": conv, "after_task": i + 1, "task": j + 1,
                  "value": R[i, j]} for i in range(T) for j in range(i + 1)]
        rows += [{"metric": "acc_start", "convention": conv, "task": j + 1, "value": pre[j]}
                 for j in range(1, T)]
        rows += [{"metric": "acc_untrained", "convention": conv, "task": j + 1,
                  "value": chance[conv][j]} for j in range(T)]
        fwt = float(np.mean(pre[1:] - chance[conv][1:]))
        rows += [{"metric": f"{name}_{conv}", "value": value, "headline": True}
                 for name, value in (("final", float(R[-1].mean())),
                                     ("bwt", backward_transfer(R)),
                                     ("forgetting", forgetting(R)), ("fwt", fwt))]
    rows += [{"metric": "frozen_blocks", "after_task": i + 1, "value": f}
             for i, f in enumerate(out["frozen"])]
    rows += [{"metric": "head", "after_task": i + 1, "task": i + 1, "value": h}
             for i, hs in enumerate(out["heads"]) for h in hs]
    rows += [{"metric": "seconds", "value": out["seconds"]},
             {"metric": "memory", "value": out["memory"]}]
    return rows

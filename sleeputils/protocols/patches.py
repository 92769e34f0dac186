"""Toy overlapping binary patches: forgetting vs pixel overlap, and what SRC does to it
(book/methods/protocols.md, protocol-patches).

Four 10x10 binary images share ``overlap`` ON pixels; task 1 = images 1-2, task 2 = images 3-4.
A 100 -> 4 softmax net (no hidden layer) learns task 1 (4 epochs), then task 2 (2 epochs), then
sleeps once (30000 steps, driven by the unmasked mean of all 4 images). Accuracy on all 4 images
is recorded after task 1, after task 2 and after sleep, together with the weights from
task-1-unique, shared and task-2-unique pixels onto each output (the paper's histograms).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch

from ..data import make_patches
from ..metrics import accuracy
from ..nets.mlp import MLP, MLPConfig
from ..params import Params, declare
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit
from ..sleep.presets import preset
from ..sleep.src import SRC
from ..training import run_tasks
from .common import seed_field, trial_seed

CHAPTER = "patches"
WIDTH = 10
EPOCHS = (4, 2)  # task 1, task 2


@dataclass(frozen=True)
class PatchesConfig(Params):
    """Parameters of the toy-patches sweep; defaults are the original protocol."""

    overlaps: tuple[int, ...] = declare(tuple(range(1, 26)), "shared ON pixels to sweep",
                                        low=1, high=25)
    trials: int = declare(5, "trials per overlap", low=1, high=100)
    seed: int = seed_field()
    sleep_scale: float = declare(1.0, "factor on the sleep length T", low=0.0, high=10.0)


@dataclass(frozen=True)
class PatchesUnit(Unit):
    """One unit: one overlap."""

    overlap: int
    seed: int
    sleep_scale: float


def run_patches(
    config: PatchesConfig = PatchesConfig(),
    *,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Every (overlap, trial) is one seeded, stored unit; returns their tidy records."""
    units = [(PatchesUnit(o, config.seed, config.sleep_scale), t)
             for o in config.overlaps for t in range(config.trials)]
    return run_units(CHAPTER, units, _trial, store=store, progress=progress, desc="patches")


def pixel_groups(patches) -> dict[str, np.ndarray]:
    """Boolean masks of the pixel groups the weight analysis compares."""
    return {
        "task1_unique": patches.unique[0] | patches.unique[1],
        "shared": patches.shared,
        "task2_unique": patches.unique[2] | patches.unique[3],
    }


def _trial(unit: PatchesUnit, trial: int) -> list[dict]:
    overlap = unit.overlap
    seed = trial_seed(unit.seed, trial)
    patches = make_patches(overlap, width=WIDTH, seed=np.random.default_rng([seed, overlap]))
    x, y = patches.x.astype(np.float32), np.asarray(patches.y)
    tasks = [
        SimpleNamespace(x_train=x[:2], y_train=y[:2], classes=(0, 1)),
        SimpleNamespace(x_train=x[2:], y_train=y[2:], classes=(2, 3)),
    ]
    cfg = MLPConfig(sizes=(WIDTH * WIDTH, 4), dropout=0.0, output="softmax", lr=0.05,
                    batch_size=2)
    net = MLP(cfg, torch.Generator().manual_seed(seed))
    gen = torch.Generator().manual_seed(seed + 1)
    records: list[dict] = []
    groups = pixel_groups(patches)

    def evaluate(stage: str, i: int, net: MLP) -> None:
        label = {"after_task": f"after_task{i + 1}", "after_sleep": "after_sleep"}[stage]
        acc = accuracy(net.predict(torch.from_numpy(x)), torch.from_numpy(y))
        records.append({"metric": "acc_all", "stage": label, "value": acc})
        if label != "after_task1":
            records.extend(_weight_records(net, groups, label))

    src = SRC(
        preset("patches"),
        sleep_data=lambda ctx: x,  # all 4 images, task-1 images included
        rng=np.random.default_rng([seed, 2]),
        image_shape=None,  # unmasked mean input
        length_scale=unit.sleep_scale,
        after_tasks=lambda i: i == 1,  # no sleep after task 1 (commented out in the original)
    )
    run_tasks(net, tasks, [src], EPOCHS, gen, evaluate=evaluate)
    for r in records:
        r.update(dataset="patches", method="src", overlap=overlap)
        if r["metric"] == "acc_all":
            r["headline"] = True
            r["metric"] = f"acc_{r['stage']}"
            r["setting"] = setting.encode(overlap=overlap)
    return records


def _weight_records(net: MLP, groups: dict[str, np.ndarray], stage: str) -> list[dict]:
    W = net.weights[0].numpy()  # (4 outputs, 100 pixels)
    rows = []
    for name, mask in groups.items():
        for out in range(W.shape[0]):
            for w in W[out, mask]:
                rows.append({"metric": "weight", "stage": stage, "group": name,
                             "output": out + 1, "value": float(w)})
    return rows


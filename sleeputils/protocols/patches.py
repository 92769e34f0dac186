"""Toy overlapping binary patches: forgetting vs pixel overlap, and what SRC does to it (§4.8).

Four 10x10 binary images share ``overlap`` ON pixels; task 1 = images 1-2, task 2 = images 3-4.
A 100 -> 4 softmax net (no hidden layer) learns task 1 (4 epochs), then task 2 (2 epochs), then
sleeps once (30000 steps, driven by the unmasked mean of all 4 images). Accuracy on all 4 images
is recorded after task 1, after task 2 and after sleep, together with the weights from
task-1-unique, shared and task-2-unique pixels onto each output (the paper's histograms).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ..data import make_patches
from ..metrics import accuracy
from ..nets.loop import run_tasks
from ..nets.mlp import MLP, MLPConfig
from ..results.store import ResultStore
from ..sleep.presets import preset
from ..sleep.src import SRC

CHAPTER = "patches"
WIDTH = 10
EPOCHS = (4, 2)  # task 1, task 2 (spec §4.8)


def run_patches(
    overlaps: Sequence[int] = tuple(range(1, 26)),
    trials: int = 5,
    seed: int = 0,
    sleep_scale: float = 1.0,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Every (overlap, trial) is one seeded, stored unit; returns their tidy records."""
    overlaps = [int(o) for o in overlaps]
    if not overlaps or any(not 0 <= o <= WIDTH * WIDTH for o in overlaps):
        raise ValueError(f"overlaps must be a non-empty list of integers in 0..{WIDTH * WIDTH}")
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    if sleep_scale < 0:
        raise ValueError(f"sleep_scale must be >= 0, got {sleep_scale}")
    store = store or ResultStore()
    frames = []
    units = [(o, t) for o in overlaps for t in range(trials)]
    for overlap, trial in tqdm(units, desc="patches", disable=not progress):
        config = {"overlap": overlap, "seed": seed, "sleep_scale": sleep_scale}
        frames.append(
            store.unit(CHAPTER, config, trial, lambda o=overlap, t=trial: _trial(o, seed, t,
                                                                                 sleep_scale))
        )
    return pd.concat(frames, ignore_index=True)


def pixel_groups(patches) -> dict[str, np.ndarray]:
    """Boolean masks of the pixel groups the weight analysis compares."""
    return {
        "task1_unique": patches.unique[0] | patches.unique[1],
        "shared": patches.shared,
        "task2_unique": patches.unique[2] | patches.unique[3],
    }


def _trial(overlap: int, seed: int, trial: int, sleep_scale: float) -> list[dict]:
    trial_seed = seed * 10_000 + trial
    patches = make_patches(overlap, width=WIDTH, seed=np.random.default_rng([trial_seed, overlap]))
    x, y = patches.x.astype(np.float32), np.asarray(patches.y)
    tasks = [
        SimpleNamespace(x_train=x[:2], y_train=y[:2], classes=(0, 1)),
        SimpleNamespace(x_train=x[2:], y_train=y[2:], classes=(2, 3)),
    ]
    cfg = MLPConfig(sizes=(WIDTH * WIDTH, 4), dropout=0.0, output="softmax", lr=0.05,
                    batch_size=2)
    net = MLP(cfg, torch.Generator().manual_seed(trial_seed))
    gen = torch.Generator().manual_seed(trial_seed + 1)
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
        sleep_data=lambda ctx: x,  # all 4 images, task-1 images included (spec §4.8)
        rng=np.random.default_rng([trial_seed, 2]),
        image_shape=None,  # unmasked mean input
        length_scale=sleep_scale,
        after_tasks=lambda i: i == 1,  # no sleep after task 1 (commented out in the original)
    )
    run_tasks(net, tasks, [src], EPOCHS, gen, evaluate=evaluate)
    for r in records:
        r.update(dataset="patches", method="src", overlap=overlap)
        if r["metric"] == "acc_all":
            r["headline"] = True
            r["metric"] = f"acc_{r['stage']}_o{overlap:02d}"
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


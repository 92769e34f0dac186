"""NREM/REM sleep schedules for a generative model (book/methods/generative.md).

A VAE trained on dataset 1 (the remote memory, its own stored unit) meets dataset 2. Each sleep
cycle has an NREM phase, training on ``num`` fresh real images of dataset 2 (recent memories),
then a REM phase, training on ``num`` images the VAE generates, from the current VAE or from a
frozen copy of the initial one. The REM share of a cycle's epochs is constant here (the grid of
the original's figures); memory is the mean reconstruction error on each test set, cycle by
cycle (eq-vae-error).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..data import load_dataset
from ..nets.vae import LOSSES, VAE, VAEConfig
from ..params import ParamError, Params, declare
from ..results.executor import run_units
from ..results.store import ResultStore
from .common import seed_field, trial_seed

CHAPTER = "vae"
SPLITS = ("inverted", "digits", "fashion")
REM_FROM = ("frozen", "current")


def split_data(split: str) -> dict[str, np.ndarray]:
    """Training and test images (n, 784) of dataset 1 and dataset 2 (book/methods/generative.md,
    vae-data): MNIST and inverted MNIST, digits 0-4 and 5-9, or MNIST and Fashion-MNIST."""
    mnist = load_dataset("mnist")
    if split == "inverted":
        return {"d1_train": mnist.x_train, "d1_test": mnist.x_test,
                "d2_train": 1.0 - mnist.x_train, "d2_test": 1.0 - mnist.x_test}
    if split == "digits":
        low_tr, low_te = mnist.y_train < 5, mnist.y_test < 5
        return {"d1_train": mnist.x_train[low_tr], "d1_test": mnist.x_test[low_te],
                "d2_train": mnist.x_train[~low_tr], "d2_test": mnist.x_test[~low_te]}
    fashion = load_dataset("fashion")
    return {"d1_train": mnist.x_train, "d1_test": mnist.x_test,
            "d2_train": fashion.x_train, "d2_test": fashion.x_test}


@dataclass(frozen=True)
class ScheduleConfig(Params):
    """Parameters of the schedule grid; defaults are the grid of the original's figures."""

    split: str = declare("inverted", "dataset 1 -> dataset 2", choices=SPLITS)
    latent: int = declare(5, "latent dimensions", low=1, high=256)
    loss: str = declare("mae", "reconstruction term: summed absolute error or binary "
                        "cross-entropy", choices=LOSSES)
    initial_epochs: int = declare(25, "most epochs of the initial VAE (early stopping, "
                                  "patience 3)", low=1, high=500)
    initial_images: int | None = declare(None, "dataset-1 training images of the initial VAE",
                                         low=100, high=60000, none="all")
    total_epochs: int = declare(100, "epochs of the whole schedule", low=1, high=10000)
    cycles: tuple[int, ...] = declare((5, 10, 20, 50), "sleep cycles per schedule", low=1,
                                      high=10000)
    rem_shares: tuple[float, ...] = declare((0.0, 0.5), "REM share of each cycle's epochs",
                                            low=0.0, high=1.0)
    rem_from: tuple[str, ...] = declare(REM_FROM, "REM samples from the frozen initial VAE or "
                                        "the current one", choices=REM_FROM)
    num: int = declare(50, "images per phase (NREM: real, REM: generated)", low=1, high=60000)
    trials: int = declare(3, "seeds per schedule", low=1, high=100)
    seed: int = seed_field()
    lr: float = declare(1e-3, "Adam learning rate", low=1e-7, high=1.0)
    test_subset: int | None = declare(None, "test images per dataset scored", low=10,
                                      high=10000, none="all")

    def check(self) -> None:
        """Fail in one line on a schedule that cannot run: fewer epochs than cycles."""
        short = [c for c in self.cycles if self.total_epochs // c < 1]
        if short:
            raise ParamError(f"cycles {short} exceed total_epochs = {self.total_epochs}: "
                             "every cycle needs at least one epoch")


def run_schedules(config: ScheduleConfig = ScheduleConfig(), *,
                  store: ResultStore | None = None, progress: bool = True) -> pd.DataFrame:
    """The initial VAE (one stored unit), then every (cycles, REM share, REM source, seed)."""
    config.check()
    data = split_data(config.split)
    if config.num > len(data["d2_train"]):
        raise ParamError(f"num = {config.num} > the {len(data['d2_train'])} dataset-2 images")
    initial = initial_vae(config, data, store=store, progress=progress)
    base = {k: getattr(config, k) for k in ("split", "latent", "loss", "initial_epochs",
                                            "initial_images", "total_epochs", "num", "seed", "lr",
                                            "test_subset")}
    units = [((c, r, f), t) for c in config.cycles for r in config.rem_shares
             for f in config.rem_from for t in range(config.trials)]
    return run_units(CHAPTER, units,
                     lambda s: {**base, "cycles": s[0], "rem_share": s[1], "rem_from": s[2]},
                     lambda _, c, t: run_schedule(data, initial, c, t),
                     store=store, progress=progress, desc=f"schedules {config.split}")


def initial_vae(config: ScheduleConfig, data: dict, *, store: ResultStore | None,
                progress: bool) -> dict:
    """The VAE trained on dataset 1 (batch 32, early stopping on the training loss with patience
    3), stored as a unit; returns its weights (a state dict)."""
    settings = {"split": config.split, "latent": config.latent, "loss": config.loss,
                "epochs": config.initial_epochs, "images": config.initial_images,
                "lr": config.lr, "seed": config.seed}

    def train() -> list[dict]:
        vae = _vae(config.latent, config.loss, config.lr, config.seed)
        gen = torch.Generator().manual_seed(config.seed + 1)
        losses, best, waited = [], np.inf, 0
        for _ in range(config.initial_epochs):
            losses += vae.fit(data["d1_train"][: config.initial_images], 1, 32, gen)
            best, waited = (losses[-1], 0) if losses[-1] < best else (best, waited + 1)
            if waited >= 3:
                break
        rows = [{"dataset": config.split, "method": "initial_vae", "metric": "train_loss",
                 "epoch": e + 1, "value": v} for e, v in enumerate(losses)]
        return rows + [{"dataset": config.split, "method": "initial_vae", "metric": "weights",
                        "value": len(losses), "blob": _pack(vae.state_dict())}]

    df = run_units("vae-initial", [(None, 0)], lambda _: settings, lambda *_: train(),
                   store=store, progress=progress, desc="initial VAE")
    return _unpack(df.loc[df["metric"] == "weights", "blob"].item())


def run_schedule(data: dict, initial: dict, config: dict, trial: int) -> list[dict]:
    """One schedule from the initial VAE; the mean test errors after every cycle (0 = before)."""
    seed = trial_seed(config["seed"], trial)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng([seed, 17])
    vae = _vae(config["latent"], config["loss"], config["lr"], seed, initial)
    frozen = _vae(config["latent"], config["loss"], config["lr"], seed, initial)
    source = frozen if config["rem_from"] == "frozen" else vae
    n = config["test_subset"]
    tests = {"d1": data["d1_test"][:n], "d2": data["d2_test"][:n]}
    per_cycle = config["total_epochs"] // config["cycles"]
    rem = int(config["rem_share"] * per_cycle)
    rows = []

    def measure(cycle: int) -> None:
        for name, x in tests.items():
            rows.append({"metric": f"{name}_error", "cycle": cycle,
                         "value": float(vae.reconstruction_errors(x).mean())})

    measure(0)
    for cycle in range(1, config["cycles"] + 1):
        recent = data["d2_train"][rng.choice(len(data["d2_train"]), config["num"], replace=False)]
        vae.fit(recent, per_cycle - rem, 1, gen)
        if rem:
            vae.fit(source.sample(config["num"], gen), rem, 1, gen)
        measure(cycle)
    tag = f"c{config['cycles']}_r{config['rem_share']:g}_{config['rem_from']}"
    for r in rows[-2:]:
        rows.append({"metric": f"{r['metric'].split('_')[0]}_final_{tag}", "value": r["value"],
                     "headline": True})
    return [{"dataset": config["split"], "method": "vae", "cycles": config["cycles"],
             "rem_share": config["rem_share"], "rem_from": config["rem_from"], **r}
            for r in rows]


def _vae(latent: int, loss: str, lr: float, seed: int, weights: dict | None = None) -> VAE:
    vae = VAE(VAEConfig(latent=latent, loss=loss, lr=lr), torch.Generator().manual_seed(seed))
    if weights is not None:
        vae.load_state_dict(weights)
    vae.eval()
    return vae


def _pack(state: dict) -> str:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _unpack(blob: str) -> dict:
    return torch.load(io.BytesIO(base64.b64decode(blob)), weights_only=True)

"""NREM/REM sleep schedules for a generative model (book/methods/generative.md).

A VAE trained on dataset 1 (the remote memory, its own stored unit) meets dataset 2. Each sleep
cycle has an NREM phase, training on ``num`` fresh real images of dataset 2 (recent memories),
then a REM phase, training on ``num`` images the VAE generates, from the current VAE or from a
frozen copy of the initial one. The REM share of a cycle's epochs is constant (the grid of the
original's figures, and a sweep of shares) or ramps linearly from a first to a last value
(eq-vae-ramp). Memory is the mean reconstruction error on each test set, cycle by cycle
(eq-vae-error), and the share of recalled test images a fixed digit classifier still reads as
their digit (vae-recall). Every schedule runs under each listed code version of the original
(vae-versions), from that version's own initial VAE; its numbers name the version in their
setting.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..nets.vae import CODE_VERSIONS, LOSSES, absolute_errors
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
    pack_images,
    recall_accuracy,
    split_data,
    vae_loss,
)

CHAPTER = "vae"
REM_FROM = ("frozen", "current")
#: Test images per dataset whose recalls and errors are kept for figures.
SHOWN_RECALLS, KEPT_ERRORS, SHOWN_SAMPLES = 8, 1000, 10


@dataclass(frozen=True)
class ScheduleConfig(Params):
    """Parameters of the schedule grid; defaults are the grid of the original's figures."""

    split: str = declare("inverted", "dataset 1 -> dataset 2", choices=SPLITS)
    code_versions: tuple[str, ...] = declare(
        ("2023", "2024"), "the original's code versions, each running every schedule: 2023 (the "
        "published figures': cross-entropy, leaky ReLU, no input dropout, Adam eps 1e-7) and "
        "2024 (current: absolute error, ReLU)", choices=tuple(CODE_VERSIONS))
    latent: int = declare(5, "latent dimensions", low=1, high=256)
    loss: str | None = declare(None, "reconstruction term: summed absolute error, binary "
                               "cross-entropy of the sigmoid outputs or of their logits",
                               choices=LOSSES, none="each code version's: bce_logits "
                               "(2023), mae (2024)")
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
    sweep_shares: tuple[float, ...] | None = declare(
        (0.0, 0.25, 0.5, 0.75, 1.0), "constant REM shares of the sweep (REM from the frozen "
        "VAE)", low=0.0, high=1.0, none="no sweep")
    ramp: tuple[float, ...] | None = declare(
        (0.2, 0.8), "REM share of the first and the last cycle of the ramped schedules (the "
        "original's defaults)", low=0.0, high=1.0, none="no ramp")
    sweep_cycles: int = declare(10, "cycles of the sweep's and the ramps' schedules", low=1,
                                high=10000)
    trials: int = declare(3, "seeds per schedule", low=1, high=100)
    seed: int = seed_field()
    lr: float = declare(1e-3, "Adam learning rate", low=1e-7, high=1.0)
    test_subset: int | None = declare(None, "test images per dataset scored", low=10,
                                      high=10000, none="all")

    def schedules(self) -> list[tuple[int, float, float, str]]:
        """Every (cycles, first REM share, last REM share, REM source) the config asks for: the
        grid, the sweep and the ramps, each once."""
        grid = [(c, r, r, f) for c in self.cycles for r in self.rem_shares for f in self.rem_from]
        sweep = [(self.sweep_cycles, r, r, "frozen") for r in self.sweep_shares or ()]
        ramps = [(self.sweep_cycles, *self.ramp, f) for f in self.rem_from] if self.ramp else []
        return list(dict.fromkeys(grid + sweep + ramps))

    def check(self) -> None:
        """Fail in one line on a schedule that cannot run: fewer epochs than cycles, or a ramp
        that is not a (first, last) pair."""
        if self.ramp is not None and len(self.ramp) != 2:
            raise ParamError(f"ramp = {self.ramp} must be two shares (first cycle, last cycle) "
                             "or none")
        short = [c for c in {*self.cycles, self.sweep_cycles} if self.total_epochs // c < 1]
        if short:
            raise ParamError(f"cycles {short} exceed total_epochs = {self.total_epochs}: "
                             "every cycle needs at least one epoch")


@dataclass(frozen=True)
class ScheduleUnit(Unit):
    """One unit: one schedule from the initial VAE."""

    split: str
    code_version: str
    latent: int
    loss: str
    initial_epochs: int
    initial_images: int | None
    total_epochs: int
    num: int
    seed: int
    lr: float
    test_subset: int | None
    cycles: int
    rem_share: float  # of the first cycle
    rem_end: float  # of the last cycle
    rem_from: str

    @classmethod
    def of(cls, config: ScheduleConfig, version: str, cycles: int, rem_share: float,
           rem_end: float, rem_from: str) -> ScheduleUnit:
        """The unit of one schedule of ``config`` under code version ``version``."""
        return cls(config.split, version, config.latent, vae_loss(config, version),
                   config.initial_epochs, config.initial_images, config.total_epochs,
                   config.num, config.seed, config.lr, config.test_subset, cycles, rem_share,
                   rem_end, rem_from)


def run_schedules(config: ScheduleConfig = ScheduleConfig(), *,
                  store: ResultStore | None = None, progress: bool = True) -> pd.DataFrame:
    """The digit classifier and, per code version, the initial VAE (one stored unit each), then
    every schedule of :meth:`ScheduleConfig.schedules` under every code version with every
    seed."""
    config.check()
    data = split_data(config.split)
    if config.num > len(data["d2_train"]):
        raise ParamError(f"num = {config.num} > the {len(data['d2_train'])} dataset-2 images")
    initial = {v: initial_vae(initial_settings(config, v), data, store=store, progress=progress)
               for v in config.code_versions}
    classifier = digit_classifier(store=store, progress=progress)
    schedules = config.schedules()
    runs = list(dict.fromkeys(same_run(s, config.rem_from) for s in schedules))
    units = [(ScheduleUnit.of(config, v, *s), t) for v in config.code_versions for s in runs
             for t in range(config.trials)]
    df = run_units(CHAPTER, units,
                   lambda u, t: run_schedule(data, initial[u.code_version], classifier, u, t),
                   store=store, progress=progress, desc=f"schedules {config.split}")
    copies = [_as_source(df, v, run, s) for v in config.code_versions for s in schedules
              if (run := same_run(s, config.rem_from)) != s]
    return pd.concat([df, *copies], ignore_index=True)


def same_run(schedule: tuple[int, float, float, str], sources: tuple[str, ...]
             ) -> tuple[int, float, float, str]:
    """The schedule that computes the same thing: without REM (share 0 throughout) the source
    of REM samples is never used, so every source maps to the first one listed."""
    cycles, first, last, _ = schedule
    return (cycles, first, last, sources[0]) if first == last == 0 else schedule


def _as_source(df: pd.DataFrame, version: str, run: tuple[int, float, float, str],
               schedule: tuple[int, float, float, str]) -> pd.DataFrame:
    """The records of ``run`` under code version ``version`` shown as ``schedule``, which
    differs only in its REM source (so do the settings of its headline numbers)."""
    cycles, first, last, done = run
    rows = df[(df["code_version"] == version) & (df["cycles"] == cycles)
              & (df["rem_share"] == first) & (df["rem_end"] == last)
              & (df["rem_from"] == done)].copy()
    if "setting" in rows:
        rows["setting"] = [setting.encode({**setting.decode(t), "rem_from": schedule[3]})
                           if isinstance(t, str) and t else t for t in rows["setting"]]
    rows["rem_from"] = schedule[3]
    return rows


def rem_share(first: float, last: float, cycle: int, cycles: int) -> float:
    """REM share of cycle ``cycle`` (0-based) of ``cycles``: linear from ``first`` to ``last``
    (eq-vae-ramp); a single cycle takes ``first``."""
    return first if cycles == 1 else first + (last - first) * cycle / (cycles - 1)


def run_schedule(data: dict, initial: dict, classifier: DigitClassifier, unit: ScheduleUnit,
                 trial: int) -> list[dict]:
    """One schedule from the initial VAE: after every cycle (0 = before) the mean test errors
    and recall accuracies; at the first and last cycles, recalls, errors and REM samples kept
    for figures."""
    seed = trial_seed(unit.seed, trial)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng([seed, 17])
    version = unit.code_version
    vae = make_vae(unit.latent, unit.loss, unit.lr, seed, initial, version)
    frozen = make_vae(unit.latent, unit.loss, unit.lr, seed, initial, version)
    source = frozen if unit.rem_from == "frozen" else vae
    n, cycles = unit.test_subset, unit.cycles
    shown = {0, 1, cycles}
    per_cycle = unit.total_epochs // cycles
    rows = []

    def measure(cycle: int) -> None:
        for d in ("d1", "d2"):
            x = data[f"{d}_test"][:n]
            recalled = vae.reconstruct(x)
            errors = absolute_errors(x, recalled)
            rows.append({"metric": f"{d}_error", "cycle": cycle, "value": float(errors.mean())})
            if d == "d1" or data["d2_digits"]:
                acc = recall_accuracy(classifier, recalled, data[f"{d}_test_y"][:n],
                                      inverted=d == "d2" and data["d2_inverted"])
                rows.append({"metric": f"{d}_recall", "cycle": cycle, "value": acc})
            if cycle in shown:
                k = SHOWN_RECALLS
                rows.append({"metric": "recalls", "data": d, "cycle": cycle, "value": k,
                             "blob": pack_images(np.concatenate([x[:k], recalled[:k]]))})
                rows.append({"metric": "errors", "data": d, "cycle": cycle,
                             "value": min(len(errors), KEPT_ERRORS),
                             "blob": _pack_floats(errors[:KEPT_ERRORS])})

    measure(0)
    for cycle in range(1, cycles + 1):
        share = rem_share(unit.rem_share, unit.rem_end, cycle - 1, cycles)
        rem = int(share * per_cycle)
        recent = data["d2_train"][rng.choice(len(data["d2_train"]), unit.num, replace=False)]
        vae.fit(recent, per_cycle - rem, 1, gen)
        if rem:
            dreams = source.sample(unit.num, gen)
            vae.fit(dreams, rem, 1, gen)
            if cycle in shown:
                rows.append({"metric": "rem_samples", "cycle": cycle, "value": SHOWN_SAMPLES,
                             "blob": pack_images(dreams[:SHOWN_SAMPLES].numpy())})
        rows.append({"metric": "rem_epochs", "cycle": cycle, "value": rem})
        measure(cycle)
    where = setting.encode(code_version=unit.code_version, cycles=cycles,
                           rem_share=unit.rem_share, rem_end=unit.rem_end,
                           rem_from=unit.rem_from)
    for d in ("d1", "d2"):
        final = [r for r in rows if r.get("cycle") == cycles and r["metric"] == f"{d}_error"]
        rows += [{"metric": f"{d}_final", "value": r["value"], "setting": where,
                  "headline": True} for r in final]
    return [{"dataset": unit.split, "method": "vae", "code_version": unit.code_version,
             "cycles": cycles, "rem_share": unit.rem_share, "rem_end": unit.rem_end,
             "rem_from": unit.rem_from, **r} for r in rows]


def _pack_floats(x: np.ndarray) -> str:
    return base64.b64encode(np.asarray(x, np.float32).tobytes()).decode("ascii")


def unpack_floats(blob: str) -> np.ndarray:
    """Inverse of the packing of kept per-image errors."""
    return np.frombuffer(base64.b64decode(blob), dtype=np.float32)

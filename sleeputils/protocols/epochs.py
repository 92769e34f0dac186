"""Epochs per task with and without sleep: how many training epochs SRC saves (the paper's
"about 3.7 epochs per task"; book/methods/protocols.md, protocol-epochs).

The iCaRL protocol at one memory and variant, run at every value of a grid of epochs per task.
The units are the iCaRL chapter's own (same chapter name, same settings), so a setting both
chapters run is computed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data import load_dataset
from ..params import Params, declare, same_as
from ..results.executor import run_units
from ..results.store import ResultStore
from . import icarl
from .common import DATASET_PROTOCOLS, seed_field

SCORES = ("final_acc", "nme_acc")


@dataclass(frozen=True)
class EpochsConfig(Params):
    """Parameters of the epochs sweep; defaults are the original's sweep at Table 2's memory."""

    dataset: str = same_as(icarl.ICaRLConfig, "dataset")
    epochs_grid: tuple[int, ...] = declare(tuple(range(1, 11)), "SGD epochs per task, swept",
                                           low=1, high=100)
    memory: int = declare(100, "memory budget K (exemplars in all)", low=1, high=60000)
    variant: str = declare("herding+distill", "iCaRL variant", choices=tuple(icarl.VARIANTS))
    trials: int = declare(5, "independent trials per epochs value", low=1, high=100)
    seed: int = seed_field()
    hidden: tuple[int, ...] | None = same_as(icarl.ICaRLConfig, "hidden")
    per_task_train: int = same_as(icarl.ICaRLConfig, "per_task_train")
    sleep_scale: float = same_as(icarl.ICaRLConfig, "sleep_scale")
    test_subset: int | None = same_as(icarl.ICaRLConfig, "test_subset")

    def check_data(self, ds) -> None:
        """Fail in one line if the memory does not fit the data (as the iCaRL chapter)."""
        icarl.ICaRLConfig(dataset=self.dataset, memories=(self.memory,),
                          per_task_train=self.per_task_train).check_data(ds)


def units_of(config: EpochsConfig) -> list[tuple[icarl.ICaRLUnit, int]]:
    """Every (epochs, trial) unit: the iCaRL chapter's, at one memory and variant."""
    hidden = tuple(config.hidden or DATASET_PROTOCOLS[config.dataset].hidden)
    return [(icarl.ICaRLUnit(dataset=config.dataset, seed=config.seed, hidden=hidden,
                             per_task_train=config.per_task_train, epochs=e,
                             sleep_scale=config.sleep_scale, test_subset=config.test_subset,
                             memory=config.memory, variant=config.variant), t)
            for e in config.epochs_grid for t in range(config.trials)]


def run_epochs(config: EpochsConfig = EpochsConfig(), *, store: ResultStore | None = None,
               progress: bool = True) -> pd.DataFrame:
    """iCaRL and iCaRL + SRC at every epochs value; headline: the two scores (softmax
    ``final_acc``, nearest-mean ``nme_acc``), each under its setting (memory, variant, epochs)."""
    ds = load_dataset(config.dataset)
    config.check_data(ds)
    df = run_units(icarl.CHAPTER, units_of(config), lambda u, t: icarl.run_trial(ds, u, t),
                   store=store, progress=progress, desc=f"epochs {config.dataset}")
    df["headline"] = df["headline"].fillna(False).astype(bool) & df["metric"].isin(SCORES)
    return df

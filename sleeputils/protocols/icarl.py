"""iCaRL and iCaRL + SRC against the memory budget K (Table 2; book/methods/protocols.md,
protocol-icarl).

The class-incremental protocol with three changes the original iCaRL scripts make: a softmax +
cross-entropy output (Fashion-MNIST also trains with lr 0.065 and dropout 0.2), a task order
drawn anew in every trial, and a memory of K exemplars in all (the
:class:`~sleeputils.methods.ICaRL` hook). For each (K, variant, trial) two networks start from
the same weights and see the same batches:

* ``icarl``: the iCaRL hook alone;
* ``icarl_src``: the iCaRL hook followed by an SRC sleep after every task, on every training image
  of the classes seen, with the original's memory-specific hyperparameter vector.

Both are scored after the last task by softmax argmax and by the nearest mean of exemplars.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import torch

from ..data import Dataset, load_dataset
from ..methods import ICaRL
from ..methods.icarl import src_preset as icarl_preset
from ..methods.registry import MethodContext, get
from ..metrics import accuracy
from ..nets.mlp import MLP
from ..params import ParamError, Params, declare, same_as
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..training import run_sequence
from .common import DATASET_PROTOCOLS, TaskUnit, seed_field, sleeper, trial_seed, trial_setup
from .incremental import IncrementalConfig

CHAPTER = "icarl"
METHODS = ("icarl", "icarl_src")
DATASETS = ("mnist", "fashion", "cifar10")
#: The memory sweep per data set: the original's for MNIST and Fashion-MNIST; for CIFAR-10 one K
#: in each of the original's three hyperparameter branches, Table 2's K = 500 among them.
MEMORIES = {"mnist": (100, 1000, 2000, 20000), "fashion": (100, 1000, 2000, 20000),
            "cifar10": (100, 500, 1000)}


@dataclass(frozen=True)
class Variant:
    """One way to run iCaRL: how exemplars are chosen, whether old targets are soft, and the
    original's herding rule or the textbook one (book/methods/baselines.md, baselines-icarl)."""

    selection: str
    distillation: bool
    rule: str


#: The original's four (selection, distillation) variants with its rule, and textbook iCaRL.
VARIANTS = {
    "herding+distill": Variant("herding", True, "original"),
    "herding": Variant("herding", False, "original"),
    "random+distill": Variant("random", True, "original"),
    "random": Variant("random", False, "original"),
    "textbook": Variant("herding", True, "textbook"),
}
#: Learning rate and dropout of the iCaRL net per data set (the others: the main protocol's).
NET = {"mnist": (0.1, 0.25), "fashion": (0.065, 0.2), "cifar10": (0.1, 0.2)}


@dataclass(frozen=True)
class ICaRLConfig(Params):
    """Parameters of the iCaRL sweep; defaults are the original protocol."""

    dataset: str = declare("mnist", "benchmark: 5 tasks of 2 classes in a random order",
                           choices=DATASETS)
    memories: tuple[int, ...] | None = declare(None, "memory budgets K (exemplars in all)",
                                               low=1, high=60000,
                                               none="the data set's original sweep")
    variants: tuple[str, ...] = declare(tuple(VARIANTS), "iCaRL variants (selection, "
                                        "distillation, herding rule)", choices=tuple(VARIANTS))
    trials: int = declare(5, "independent trials per (K, variant)", low=1, high=100)
    seed: int = seed_field()
    hidden: tuple[int, ...] | None = same_as(IncrementalConfig, "hidden")
    per_task_train: int = same_as(IncrementalConfig, "per_task_train")
    epochs: int | None = same_as(IncrementalConfig, "epochs")
    sleep_scale: float = same_as(IncrementalConfig, "sleep_scale")
    test_subset: int | None = same_as(IncrementalConfig, "test_subset")

    @property
    def sweep(self) -> tuple[int, ...]:
        """The memories run: the given ones, else the data set's sweep."""
        return self.memories if self.memories is not None else MEMORIES[self.dataset]

    def check_data(self, ds: Dataset) -> None:
        """Fail in one line if a memory cannot give every class an exemplar or would hold more
        than the examples the protocol trains on."""
        most = ds.n_classes // 2 * self.per_task_train
        bad = [k for k in self.sweep if not ds.n_classes <= k <= most]
        if bad:
            raise ParamError(f"memories {bad} do not fit {ds.name}: K must lie in "
                             f"{ds.n_classes}..{most} (classes .. tasks x per_task_train)")




@dataclass(frozen=True)
class ICaRLUnit(TaskUnit):
    """One unit: one (K, variant) of the sweep (the epochs chapter sweeps ``epochs``)."""

    memory: int
    variant: str


def units_of(config: ICaRLConfig) -> list[tuple[ICaRLUnit, int]]:
    """Every (K, variant, trial) unit."""
    return [(ICaRLUnit.of(config, per_task_train=config.per_task_train, memory=k, variant=v), t)
            for k in config.sweep for v in config.variants for t in range(config.trials)]


def run_icarl(
    config: ICaRLConfig = ICaRLConfig(),
    *,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Both methods at every (K, variant), ``config.trials`` seeded trials each; one stored unit
    per (K, variant, trial)."""
    ds = load_dataset(config.dataset)
    config.check_data(ds)
    return run_units(CHAPTER, units_of(config), lambda u, t: run_trial(ds, u, t),
                     store=store, progress=progress, desc=f"iCaRL {config.dataset}")


def run_trial(ds: Dataset, unit: ICaRLUnit, trial: int) -> list[dict]:
    """iCaRL and iCaRL + SRC at one (K, variant), from the same initial weights."""
    lr, dropout = NET[unit.dataset]
    proto = replace(DATASET_PROTOCOLS[unit.dataset], lr=lr, dropout=dropout,
                    shuffle_task_order=True, sleep_on_first_task_only=False)
    seed = trial_seed(unit.seed, trial)
    setup = trial_setup(ds, proto, seed, hidden=unit.hidden, per_task_train=unit.per_task_train,
                        test_subset=unit.test_subset)
    variant = VARIANTS[unit.variant]
    own = {"budget": unit.memory, "selection": variant.selection,
           "distillation": variant.distillation, "rule": variant.rule,
           "sleep_scale": unit.sleep_scale}
    sleep = sleeper(ds, proto, seed, icarl_preset(unit.dataset, unit.memory))
    records: list[dict] = []
    for method in METHODS:
        spec = get(method)
        net = MLP(replace(setup.mlp, output=spec.output), torch.Generator().manual_seed(seed))
        hooks = spec.make_hooks(MethodContext(ds, seed, spec.settings_of(own), sleep))
        icarl = next(h for h in hooks if isinstance(h, ICaRL))
        gen = torch.Generator().manual_seed(seed + 1)
        rows = run_sequence(net, setup.tasks, hooks, unit.epochs, gen, setup.evaluator)
        x, y = setup.evaluator.x, setup.evaluator.y
        nme = accuracy(torch.from_numpy(icarl.nme_predict(net, x.numpy())), y)
        rows.append({"metric": "nme_acc", "value": nme, "headline": True})
        where = setting.encode(memory=unit.memory, variant=unit.variant, epochs=unit.epochs)
        for r in rows:
            r.update(dataset=unit.dataset, method=method, memory=unit.memory,
                     variant=unit.variant, epochs=unit.epochs)
            if r.get("headline"):  # softmax (final_acc) and nme accuracy, bwt, forgetting
                r["setting"] = where
        records += rows
    return records

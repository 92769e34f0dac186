"""Class-incremental benchmark: Table 1's MNIST and Fashion rows, every method on one protocol.

The protocol is stated in book/methods/protocols.md, protocol-incremental. Every method of a trial
starts from the same initial weights and sees the same batch order:

* ``sequential``: SGD on the 5 tasks in order, no sleep (the lower bound);
* ``src``: the same SGD with an SRC sleep after every task (an after-task hook);
* ``ewc``, ``si``, ``owm``: the same SGD with that baseline's hook (book/methods/baselines.md),
  its strength chosen on a validation split unless given (:mod:`.tuning`);
* ``parallel``: SGD on all training data at once (the upper bound, "ideal" in the code).

One stored unit per (method, trial), so adding a method reuses the others. Records are tidy: per
stage (after each task, after each sleep) the accuracy on every task's test set and on the full
test set, and per method the headline numbers (final accuracy, BWT, forgetting), in percent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import torch

from ..data import Dataset, class_incremental_tasks, load_dataset
from ..methods.ewc import VARIANTS
from ..methods.registry import MethodContext, MethodUnit, all_specs, get, names
from ..nets.mlp import MLP
from ..params import Params, declare
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit, merged, unless_none
from ..training import Hook, run_sequence, train_epochs
from .common import (
    DATASET_PROTOCOLS,
    seed_field,
    sleeper,
    task_settings,
    trial_seed,
    trial_setup,
)
from .searched import searched_vector
from .tuning import SEARCH_TRIAL, search_rows, validation_evaluator, validation_score, winners

CHAPTER = "incremental"
#: The methods this chapter compares: every registered method that names it
#: (:mod:`sleeputils.methods.registry`).
METHODS = names(CHAPTER)
#: The ones run by default: all but those that need another chapter's committed records (SRC
#: with the searched vector), which run when named in ``methods``.
DEFAULT_METHODS = tuple(m for m in METHODS if not get(m).searched_vector)
#: The baselines whose strength is searched: method -> (strength field, grid field).
TUNED = {s.name: s.strength for s in all_specs(CHAPTER) if s.strength is not None}
SEARCHED = "chosen on the validation split from the grid"
SI_XI = 1e-3  # SI's damping xi (book/methods/baselines.md, baselines-si)
#: Training recipes: the original code's, and the one the paper's Methods text describes
#: (book/methods/protocols.md, protocol-recipes): epochs per task, dropout, output.
RECIPES = {"code": (None, None, "relu"), "paper-text": (10, 0.2, "softmax")}


@dataclass(frozen=True)
class IncrementalConfig(Params):
    """Parameters of the class-incremental protocol; defaults are the original protocol."""

    dataset: str = declare("mnist", "benchmark: 5 tasks of 2 classes (CIFAR-10 needs its "
                           "feature file)", choices=tuple(DATASET_PROTOCOLS))
    trials: int = declare(5, "independent trials", low=1, high=100)
    seed: int = seed_field()
    hidden: tuple[int, ...] | None = declare(None, "widths of the hidden layers", low=1,
                                             high=10000, none="the data set's original",
                                             repeats=True)
    per_task_train: int = declare(5000, "training examples per task (MNIST-like data sets)",
                                  low=10, high=12000)
    epochs: int | None = declare(None, "SGD epochs per task", low=1, high=100,
                                 none="the data set's original")
    sleep_scale: float = declare(1.0, "factor on every sleep length T", low=0.0, high=10.0)
    test_subset: int | None = declare(None, "test images used for accuracy", low=10,
                                      high=10000, none="all")
    methods: tuple[str, ...] = declare(DEFAULT_METHODS, "methods to run (src_searched: SRC "
                                       "with the committed sleep search's vector, beside the "
                                       "original's)", choices=METHODS)
    recipe: str = declare("code", "training recipe: the original code's (2 epochs, dropout 0.25, "
                          "MSE on a ReLU output) or the paper text's (10 epochs, dropout 0.2, "
                          "softmax cross-entropy)", choices=tuple(RECIPES))
    parallel_epochs: int | None = declare(None, "SGD epochs of the parallel net", low=1,
                                          high=100, none="the same as epochs")
    ewc_lambda: float | None = declare(None, "EWC strength lambda", low=1e-9, high=1e12,
                                       none=SEARCHED)
    ewc_variant: str = declare("standard", "EWC: one anchor per task, or online (one running "
                               "Fisher)", choices=VARIANTS)
    si_c: float | None = declare(None, "SI strength c", low=1e-9, high=1e12, none=SEARCHED)
    si_xi: float = declare(SI_XI, "SI damping xi", low=1e-9, high=10.0)
    owm_alpha: float | None = declare(None, "OWM regulariser alpha", low=1e-9, high=1e6,
                                      none=SEARCHED)
    # The grids span a decade beyond every optimum the first, narrower grids found at their edge
    # (SI 0.3 on MNIST and Fashion, OWM 0.1 on Fashion), and both ways for EWC.
    ewc_grid: tuple[float, ...] = declare((1e1, 3e1, 1e2, 3e2, 1e3, 3e3, 1e4, 3e4, 1e5),
                                          "lambda values searched", low=1e-9, high=1e12)
    si_grid: tuple[float, ...] = declare((0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
                                         "c values searched", low=1e-9, high=1e12)
    owm_grid: tuple[float, ...] = declare((1e-4, 1e-3, 1e-2, 1e-1, 1.0),
                                          "alpha values searched", low=1e-9, high=1e6)
    validation: int = declare(1000, "training images per task held out for the search "
                              "(after the ones it trains on)", low=10, high=6000)

    def __post_init__(self) -> None:
        super().__post_init__()
        if any(get(m).searched_vector for m in self.methods):
            searched_vector(self.dataset)  # one line, before any compute, if none is committed

    def check_data(self, ds: Dataset) -> None:
        """Fail in one line (``ParamError``), before any training, if a strength is to be
        searched and the validation split does not fit the data."""
        if any(m in TUNED and getattr(self, TUNED[m][0]) is None for m in self.methods):
            validation_evaluator(ds, class_incremental_tasks(ds, 2, self.per_task_train),
                                 self.per_task_train, self.validation)


@dataclass(frozen=True)
class IncrementalUnit(Unit):
    """One unit: one method's trial, or one search run (``validation`` set: scored on the
    validation split instead of the test set)."""

    dataset: str
    seed: int
    hidden: tuple[int, ...]
    per_task_train: int | None
    epochs: int
    test_subset: int | None
    method: MethodUnit = merged()
    recipe: str | None = unless_none()  # the code recipe's units keep their settings of before
    validation: int | None = unless_none()
    #: the searched vector a method sleeps with (src_searched); None: the original's
    sleep_vector: tuple[tuple[str, float], ...] | None = unless_none()


def run_incremental(
    config: IncrementalConfig = IncrementalConfig(),
    *,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The strength search (where needed), then ``config.trials`` seeded trials of every method;
    one stored unit per search run and per (method, trial), so a rerun resumes and reuses."""
    ds = load_dataset(config.dataset)
    strengths = {m: getattr(config, TUNED[m][0]) for m in config.methods if m in TUNED}
    search = search_strengths(ds, config, [m for m, s in strengths.items() if s is None],
                              store=store, progress=progress)
    if len(search):
        strengths.update(winners(search))
    units = [(method_unit(config, m, strengths.get(m)), t)
             for m in config.methods for t in range(config.trials)]
    trials = run_units(CHAPTER, units, lambda u, t: run_method(ds, u, t),
                       store=store, progress=progress, desc=f"incremental {config.dataset}")
    return pd.concat([search, trials], ignore_index=True)


def search_strengths(ds: Dataset, config: IncrementalConfig, methods: list[str], *,
                     store: ResultStore | None, progress: bool) -> pd.DataFrame:
    """Every grid value of every method in ``methods``, scored on the validation split."""
    units = [(method_unit(config, m, s, validation=config.validation), SEARCH_TRIAL)
             for m in methods for s in getattr(config, TUNED[m][1])]
    if not units:
        return pd.DataFrame()
    config.check_data(ds)
    return run_units(CHAPTER, units, lambda u, t: run_method(ds, u, t),
                     store=store, progress=progress, desc=f"search {config.dataset}")


def method_unit(config: IncrementalConfig, method: str, strength: float | None, *,
                validation: int | None = None) -> IncrementalUnit:
    """One method's unit: the shared task settings and that method's own (a search run's
    with ``validation``)."""
    shared = {k: v for k, v in task_settings(config).items() if k != "sleep_scale"}
    if config.recipe != "code":
        shared.update(recipe=config.recipe, epochs=config.epochs or RECIPES[config.recipe][0])
    spec = get(method)
    own = spec.unit(config, {**shared, "method": method}, strength)
    vector = searched_vector(config.dataset) if spec.searched_vector else None
    return IncrementalUnit(**shared, method=own, validation=validation, sleep_vector=vector)


def method_hooks(ds: Dataset, unit: IncrementalUnit, seed: int) -> list[Hook]:
    """The hooks of a sequential method (none for ``sequential``)."""
    proto = DATASET_PROTOCOLS[unit.dataset]
    return unit.method.spec.make_hooks(MethodContext(
        ds, seed, unit.method.settings, sleeper(ds, proto, seed, vector=unit.sleep_vector)))


def first_sleep_alphas(rows: list[dict]) -> list[dict]:
    """The first sleep's scale factors alpha_k, one headline number per layer (eq-lambda): they
    depend only on the network after the first task and the sleep data, which SGD reproduces
    across CPUs to float noise, so the check compares them trial by trial on any machine,
    where the chaotic accuracies after a sleep are not (book/methods/protocols.md,
    protocol-statistics)."""
    first = min((r["after_task"] for r in rows if r["metric"] == "sleep_alpha"), default=None)
    return [{"metric": "first_sleep_alpha", "layer": r["layer"], "value": r["value"],
             "headline": True, "setting": setting.encode(layer=r["layer"])}
            for r in rows if r["metric"] == "sleep_alpha" and r["after_task"] == first]


def run_method(ds: Dataset, unit: IncrementalUnit, trial: int) -> list[dict]:
    """One method's trial; a search run (``unit.validation`` set) is scored on the validation
    split instead."""
    proto = DATASET_PROTOCOLS[unit.dataset]
    seed = trial_seed(unit.seed, trial)
    setup = trial_setup(ds, proto, seed, hidden=unit.hidden, per_task_train=unit.per_task_train,
                        test_subset=unit.test_subset)
    spec, settings = unit.method.spec, unit.method.settings
    if unit.recipe is not None:
        _, dropout, output = RECIPES[unit.recipe]
        setup = replace(setup, mlp=replace(setup.mlp, dropout=dropout, output=output))
    net = MLP(setup.mlp, torch.Generator().manual_seed(seed))
    gen = torch.Generator().manual_seed(seed + 1)
    tag = {"dataset": unit.dataset, "method": spec.name}
    if unit.validation is not None:
        evaluator = validation_evaluator(ds, setup.tasks, unit.per_task_train, unit.validation)
        scores = validation_score(net, setup.tasks, method_hooks(ds, unit, seed), unit.epochs,
                                  gen, evaluator)
        return [{**tag, **r} for r in search_rows(settings.strength, scores)]
    if spec.loop == "joint":
        train_epochs(net, ds.x_train, ds.y_train, settings.parallel_epochs or unit.epochs, gen)
        _, full = setup.evaluator(net)
        rows = [{"metric": "final_acc", "value": full, "headline": True}]
    else:
        rows = run_sequence(net, setup.tasks, method_hooks(ds, unit, seed), unit.epochs, gen,
                            setup.evaluator)
        rows += first_sleep_alphas(rows)
        if spec.strength is not None:
            rows.append({"metric": "strength", "value": settings.strength, "headline": True})
    return [{**tag, **r} for r in rows]

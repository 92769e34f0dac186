"""Every sleep paradigm and baseline on one protocol (book/methods/paradigms.md).

Class-incremental Split-MNIST or Split-Fashion, 5 tasks of 2 classes, the first ``per_task_train``
training images of each task (protocol-incremental), the bias-free 784-1200-1200-10 network from
the same initial weights, and the same data order and seed for every method of a trial, so methods
are paired. Methods with a memory get the same budget of stored images. One stored unit per
(method, budget, trial): an interrupted run resumes.

* on the SRC network's own loop (book/methods/training.md, training-loop): ``sequential``, ``ewc``,
  ``si``, ``owm``, ``src``, ``er`` (a fixed replay memory), ``er_src``, ``icarl``, ``icarl_src``
  and ``generative`` (sleep-scheduled generative replay), each its hooks;
* on the same network as a module (wscl-backbones): ``er-ace`` and ``wscl``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from ..data import Dataset, load_dataset
from ..methods.registry import MethodContext, MethodUnit, all_specs, get, names
from ..methods.wscl import StreamTask, random_baseline, run_stream
from ..metrics import TaskEvaluator, backward_transfer, forgetting
from ..nets.mlp import MLP
from ..nets.modules import make_backbone
from ..nets.vae import LOSSES
from ..params import Params, declare
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..results.unit import Unit, merged, unless_none
from ..training import Hook, TaskContext, run_sequence
from .common import DATASET_PROTOCOLS, seed_field, sleeper, trial_seed, trial_setup
from .searched import searched_vector
from .wscl import DREAMS, dream_images, stages_of

CHAPTER = "paradigms"
#: Every registered method that names this chapter (:mod:`sleeputils.methods.registry`).
METHODS = names(CHAPTER)
#: The ones run by default: all but SRC with the searched vector, which needs the sleep
#: search's committed records and runs when named in ``methods``.
DEFAULT_METHODS = tuple(m for m in METHODS if not get(m).searched_vector)
#: Methods whose memory is the budget of stored images.
BUDGETED = tuple(s.name for s in all_specs(CHAPTER) if s.budgeted)
FROM_SEARCH = "the incremental chapter's validation search on MNIST"


@dataclass(frozen=True)
class ParadigmsConfig(Params):
    """Parameters of the one protocol; each method keeps its own chapter's defaults."""

    datasets: tuple[str, ...] = declare(("mnist", "fashion"), "task streams",
                                        choices=tuple(DREAMS))
    methods: tuple[str, ...] = declare(DEFAULT_METHODS, "methods to run (src_searched: SRC "
                                       "with the committed sleep search's vector)",
                                       choices=METHODS)
    budgets: tuple[int, ...] = declare((100, 500, 1000), "stored images of the methods with a "
                                       "memory", low=10, high=20000)
    trials: int = declare(5, "seeds", low=1, high=100)
    seed: int = seed_field()
    hidden: tuple[int, ...] | None = declare(None, "widths of the hidden layers", low=1,
                                             high=10000, none="the data set's original",
                                             repeats=True)
    per_task_train: int = declare(5000, "training images per task", low=10, high=12000)
    epochs: int = declare(2, "epochs per task", low=2, high=100)
    sleep_scale: float = declare(1.0, "factor on every SRC sleep length", low=0.0, high=10.0)
    test_subset: int | None = declare(None, "test images used for accuracy", low=10,
                                      high=10000, none="all")
    ewc_lambda: float = declare(300.0, f"EWC strength ({FROM_SEARCH})", low=1e-9, high=1e12)
    si_c: float = declare(0.3, f"SI strength ({FROM_SEARCH})", low=1e-9, high=1e12)
    owm_alpha: float = declare(1e-3, f"OWM alpha ({FROM_SEARCH})", low=1e-9, high=1e6)
    dream_per_class: int = declare(1000, "WSCL: auxiliary images per free head", low=10,
                                   high=6000)
    latent: int = declare(5, "generative: VAE latent dimensions", low=1, high=256)
    vae_loss: str = declare("bce", "generative: VAE reconstruction term (summed absolute error "
                            "collapses to blank dreams on one task's images)", choices=LOSSES)
    first_epochs: int = declare(5, "generative: VAE epochs on the first task", low=1, high=100)
    cycles: int = declare(5, "generative: sleep cycles after each later task", low=1, high=100)
    cycle_epochs: int = declare(2, "generative: VAE epochs per cycle", low=1, high=100)
    rem_share: float = declare(0.5, "generative: REM share of each cycle's epochs", low=0.0,
                               high=1.0)
    recent: int = declare(1000, "generative: real (NREM) and dreamed (REM) images per cycle",
                          low=10, high=12000)
    replayed: int | None = declare(None, "generative: labelled dreams added to each later "
                                   "task", low=0, high=20000, none="as many as its images")

    def __post_init__(self) -> None:
        super().__post_init__()
        if any(get(m).searched_vector for m in self.methods):
            for dataset in self.datasets:  # one line, before any compute, if none is committed
                searched_vector(dataset)

    def units(self) -> list[tuple[str, str, int | None]]:
        """(dataset, method, budget) of every setting, budgets only where there is a memory."""
        return [(d, m, b) for d in self.datasets for m in self.methods
                for b in (self.budgets if get(m).budgeted else (None,))]


@dataclass(frozen=True)
class ParadigmsUnit(Unit):
    """One unit: one method's trial on one stream, at one budget (None: no memory)."""

    dataset: str
    budget: int | None
    seed: int
    hidden: tuple[int, ...]
    per_task_train: int
    epochs: int
    test_subset: int | None
    method: MethodUnit = merged()
    #: the searched vector a method sleeps with (src_searched); None: the original's
    sleep_vector: tuple[tuple[str, float], ...] | None = unless_none()


def run_paradigms(config: ParadigmsConfig = ParadigmsConfig(), *,
                  store: ResultStore | None = None, progress: bool = True) -> pd.DataFrame:
    """Every (dataset, method, budget) with every seed, one stored unit each."""
    data = {d: (load_dataset(d), load_dataset(DREAMS[d])) for d in config.datasets}
    units = [(method_unit(config, *u), t) for u in config.units() for t in range(config.trials)]
    return run_units(CHAPTER, units, lambda u, t: run_method(*data[u.dataset], u, t),
                     store=store, progress=progress, desc="paradigms")


def method_unit(config: ParadigmsConfig, dataset: str, method: str,
                budget: int | None) -> ParadigmsUnit:
    """One unit: the shared protocol, the method and its own settings."""
    shared = {"dataset": dataset, "budget": budget, "seed": config.seed,
              "hidden": tuple(config.hidden or DATASET_PROTOCOLS[dataset].hidden),
              "per_task_train": config.per_task_train, "epochs": config.epochs,
              "test_subset": config.test_subset}
    spec = get(method)
    strength = getattr(config, spec.strength[0]) if spec.strength else None
    vector = searched_vector(dataset) if spec.searched_vector else None
    return ParadigmsUnit(**shared, method=spec.unit(config, {**shared, "method": method},
                                                    strength), sleep_vector=vector)


class StartOfTask(Hook):
    """Records the accuracy on every task at the start of each task (before any hook changes
    the network): row 0 is the untrained network, row j the state just before task j."""

    name = "start"

    def __init__(self, evaluator: TaskEvaluator) -> None:
        self.evaluator = evaluator
        self.rows: list[list[float]] = []

    def before_task(self, ctx: TaskContext) -> None:
        self.rows.append(self.evaluator(ctx.net)[0])

    def fwt(self) -> float:
        """Mean over tasks j >= 2 of (start of task j - untrained), eq-fwt."""
        return float(np.mean([self.rows[j][j] - self.rows[0][j]
                              for j in range(1, len(self.rows))]))


def loop_hooks(ds: Dataset, unit: ParadigmsUnit, seed: int) -> list[Hook]:
    """The hooks of a method on the SRC network's loop (none for ``sequential``); a method
    with SRC sleeps with the vector the original tuned for it, else the data set's."""
    spec = unit.method.spec
    proto = DATASET_PROTOCOLS[unit.dataset]
    preset = spec.src_preset(unit.dataset, unit.budget) if spec.src_preset else None
    return spec.make_hooks(MethodContext(ds, seed, unit.method.settings,
                                         sleeper(ds, proto, seed, preset, unit.sleep_vector)))


def run_method(ds: Dataset, aux: Dataset, unit: ParadigmsUnit, trial: int) -> list[dict]:
    """One method's trial: final accuracy on the full test set, BWT, forgetting, FWT, memory
    and wall time."""
    start = time.perf_counter()
    seed = trial_seed(unit.seed, trial)
    proto = DATASET_PROTOCOLS[unit.dataset]
    setup = trial_setup(ds, proto, seed, hidden=unit.hidden, per_task_train=unit.per_task_train,
                        test_subset=unit.test_subset)
    spec = unit.method.spec
    if spec.loop == "module":
        rows = module_rows(ds, aux, setup, unit, seed)
    else:
        mlp = setup.mlp
        if spec.output is not None:
            mlp = replace(mlp, output=spec.output)
        net = MLP(mlp, torch.Generator().manual_seed(seed))
        probe = StartOfTask(setup.evaluator)
        hooks = loop_hooks(ds, unit, seed)
        rows = run_sequence(net, setup.tasks, [probe, *hooks], unit.epochs,
                            torch.Generator().manual_seed(seed + 1), setup.evaluator)
        rows.append({"metric": "fwt", "value": probe.fwt(), "headline": True})
        if spec.nearest_mean:  # iCaRL's own classifier, beside the argmax
            x, y = setup.evaluator.x, setup.evaluator.y
            scorer = next(h for h in hooks if hasattr(h, "nme_predict"))
            nme = scorer.nme_predict(net, x.numpy())
            rows.append({"metric": "nme_acc", "value": 100.0 * float(np.mean(nme == y.numpy())),
                         "headline": True})
    rows.append({"metric": "seconds", "value": time.perf_counter() - start})
    where = setting.encode(budget=unit.budget)  # one recorded number per (method, budget)
    for r in rows:
        if r.get("headline"):
            r["setting"] = where
    return [{"dataset": unit.dataset, "method": spec.name, "budget": unit.budget, **r}
            for r in rows]


def stream_tasks(ds: Dataset, setup, hold: int = 100, validation: int = 500) -> list[StreamTask]:
    """The trial's tasks for the module loop: the same training and test images as every other
    method, plus per class ``hold`` held-out and ``validation`` images from the training images
    no method trains on (only WSCL's freezing choice looks at them)."""
    ev = setup.evaluator
    out = []
    for k, task in enumerate(setup.tasks):
        used = set(np.flatnonzero(np.isin(ds.y_train, task.classes))[: len(task.y_train)])
        rest = [np.array([i for i in np.flatnonzero(ds.y_train == c) if i not in used])
                for c in task.classes]
        h = np.concatenate([r[:hold] for r in rest])
        v = np.concatenate([r[hold : hold + validation] for r in rest])
        a, b = ev.bounds[k], ev.bounds[k + 1]
        out.append(StreamTask(task.classes, task.x_train, task.y_train, ds.x_train[v],
                              ds.y_train[v], ds.x_train[h], ds.y_train[h],
                              ev.x[a:b].numpy(), ev.y[a:b].numpy()))
    return out


def module_rows(ds: Dataset, aux: Dataset, setup, unit: ParadigmsUnit, seed: int) -> list[dict]:
    """ER-ACE or WSCL on the SRC network as a module, from the same initial weights."""
    proto = DATASET_PROTOCOLS[unit.dataset]
    model = make_backbone("mlp", ds.n_features, ds.n_classes, None, seed, hidden=unit.hidden,
                          init_scale=proto.init_scale)
    tasks = stream_tasks(ds, setup)
    chance = random_baseline(model, tasks, 2)["class_all"]
    stages = stages_of(unit.method.method,  # wscl or er-ace: its stages switched on
                       epochs=unit.epochs, batch=32, lr=0.03, buffer=unit.budget,
                       nrem_fraction=0.1, nrem_strength=0.05)
    per_class = getattr(unit.method.settings, "dream_per_class", 0)
    dreams = dream_images(aux, per_class, ds.n_classes, seed)
    out = run_stream(model, tasks, stages, ds.n_classes, seed + 1, dreams)
    R, pre = out["R"]["class_all"], out["pre"]["class_all"]
    sizes = np.diff(setup.evaluator.bounds)
    return [{"metric": "final_acc", "value": float(R[-1] @ sizes / sizes.sum()),
             "headline": True},
            {"metric": "bwt", "value": backward_transfer(R), "headline": True},
            {"metric": "forgetting", "value": forgetting(R), "headline": True},
            {"metric": "fwt", "value": float(np.mean(pre[1:] - chance[1:])), "headline": True}]

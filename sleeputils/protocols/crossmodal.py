"""Cross-modal MNIST -> Fashion-MNIST on shared outputs (Table 1's cross-modal row).

The protocol is stated in book/methods/protocols.md, protocol-crossmodal. Task 1 is all of MNIST,
task 2 all of Fashion-MNIST, both on the same 10 output units; the metric is accuracy on the
20000 test images of both. Sleeps are driven and normalised by MNIST data, after either task.
Two variants of the original (book/methods/deviations.md, dev-crossmodal-variants):

* ``faithful``: what the original script computes. Every sleep lasts 255 steps (uint8 saturates
  the lengths the GA found), and its sequential control is trained on Fashion-MNIST alone from
  an untrained network;
* ``corrected``: the lengths the GA found, and a control trained on MNIST, then Fashion-MNIST.

Methods that neither sleep nor use the control (EWC, SI, OWM, rehearsal, parallel) are the same
in both variants and run once; they are recorded under the faithful variant, the paper's. Each
recorded number's setting names its variant (and the replayed fraction, for rehearsal). One
stored unit per (method, variant, trial).

Candidates (``candidates``; book/methods/deviations.md, dev-crossmodal-candidates): readings of
what the paper's sequential and SRC numbers ran, each the faithful run with one element changed:
the control's data, the sleep lengths, the data that drives and normalises the sleeps, the
original's other cross-modal vector (the rehearsal script's at p = 0, alone or with that
script's order), the images scored. Their records' settings name the element changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..data import Dataset, Task, load_dataset
from ..methods.registry import MethodContext, MethodUnit, all_specs, get, names
from ..metrics import TaskEvaluator
from ..nets.mlp import MLP
from ..params import Params, declare, same_as
from ..results import setting
from ..results.executor import run_units
from ..results.provenance import config_hash
from ..results.store import ResultStore
from ..results.unit import Unit, merged, unless_none
from ..sleep.presets import preset
from ..sleep.src import SRC
from ..training import Hook, TaskContext, run_sequence, train_epochs
from .common import DATASET_PROTOCOLS, seed_field, trial_seed, trial_setup
from .incremental import IncrementalConfig
from .tuning import SEARCH_TRIAL, search_rows, validation_score, winners

CHAPTER = "crossmodal"
DATASET = "crossmodal"
#: Every registered method that names this chapter (:mod:`sleeputils.methods.registry`).
METHODS = names(CHAPTER)
#: The baselines whose strength is searched: method -> (strength field, grid field).
TUNED = {s.name: s.strength for s in all_specs(CHAPTER) if s.strength is not None}
VARIANTS = ("faithful", "corrected")
#: Methods whose computation differs between the variants: the control and every sleep.
VARIANT_METHODS = ("sequential", *(s.name for s in all_specs(CHAPTER) if s.sleeps))
#: The original's rehearsal vectors by fraction (book/methods/sleep.md, src-hyperparameters).
REHEARSAL_PRESETS = ((0.0, "crossmodal_rehearsal_p0"), (0.01, "crossmodal_rehearsal_p0.01"),
                     (0.025, "crossmodal_rehearsal_p0.025"), (0.05, "crossmodal_rehearsal_p0.05"),
                     (0.1, "crossmodal_rehearsal_p0.1+"))
#: What drives and normalises a sleep: the original's MNIST at every sleep, every image trained
#: on so far, or the task just trained.
SLEEP_DATA = ("mnist", "seen", "current")
#: The images a run is scored on: both test sets (the paper's metric) or both training sets.
SCORED = ("test", "train")
#: The unit settings a candidate changes besides the variant and the fraction.
CANDIDATE_SETTINGS = ("sleep_data", "src_vector", "scored")


@dataclass(frozen=True)
class Candidate:
    """A reading of what the paper's cross-modal sequential and SRC numbers ran: the faithful
    run with the settings given here changed (None: as the faithful variant)."""

    name: str
    what: str  # the change, in words
    methods: tuple[str, ...]  # which of sequential and SRC it changes
    variant: str = "faithful"  # corrected: the control on MNIST then Fashion, the GA's lengths
    sleep_data: str | None = None  # one of SLEEP_DATA
    src_vector: str | None = None  # another of the original's vectors
    scored: str | None = None  # one of SCORED
    src_fraction: float | None = None  # SRC as the rehearsal script runs it, at this fraction

    def run(self, method: str) -> tuple[str, float | None]:
        """The method and fraction that run this candidate's ``method``."""
        if method == "src" and self.src_fraction is not None:
            return "rehearsal_src", self.src_fraction
        return method, None


CANDIDATES = {c.name: c for c in (
    Candidate("script", "the original script as it runs (the faithful variant)",
              ("sequential", "src")),
    Candidate("control", "the control trained on MNIST, then Fashion-MNIST", ("sequential",),
              variant="corrected"),
    Candidate("lengths", "sleeps of the lengths the search found, not 255 steps", ("src",),
              variant="corrected"),
    Candidate("sleep-seen", "sleeps driven and normalised by every image trained on so far",
              ("src",), sleep_data="seen"),
    Candidate("sleep-current", "each sleep driven and normalised by the task just trained",
              ("src",), sleep_data="current"),
    Candidate("p0-vector", "the rehearsal script's vector at p = 0", ("src",),
              src_vector="crossmodal_rehearsal_p0"),
    Candidate("p0-script", "the rehearsal script at p = 0: its vector, and task 2 trained on "
              "the network before the first sleep", ("src",), src_fraction=0.0),
    Candidate("train-scored", "accuracy on both training sets (not the test sets)",
              ("sequential", "src"), scored="train"),
)}


@dataclass(frozen=True)
class CrossModalConfig(Params):
    """Parameters of the cross-modal protocol; defaults are the original protocol."""

    trials: int = declare(5, "independent trials", low=1, high=100)
    seed: int = seed_field()
    variants: tuple[str, ...] = declare(VARIANTS, "faithful (the original's lengths and "
                                        "control) and/or corrected", choices=VARIANTS)
    methods: tuple[str, ...] = declare(METHODS, "methods to run", choices=METHODS)
    epochs: int = declare(2, "SGD epochs per task (and of the parallel net)", low=1, high=100)
    per_task_train: int | None = declare(None, "training images of each data set", low=100,
                                         high=60000, none="all 60000")
    hidden: tuple[int, ...] = declare((1200, 1200), "widths of the hidden layers", low=1,
                                      high=10000, repeats=True)
    sleep_scale: float = same_as(IncrementalConfig, "sleep_scale")
    rehearsal_fractions: tuple[float, ...] = declare(
        (0.01, 0.1), "fractions of MNIST's training data replayed during task 2", low=0.0,
        high=1.0)
    test_subset: int | None = same_as(IncrementalConfig, "test_subset")
    ewc_lambda: float | None = same_as(IncrementalConfig, "ewc_lambda")
    si_c: float | None = same_as(IncrementalConfig, "si_c")
    owm_alpha: float | None = same_as(IncrementalConfig, "owm_alpha")
    ewc_grid: tuple[float, ...] = same_as(IncrementalConfig, "ewc_grid")
    si_grid: tuple[float, ...] = same_as(IncrementalConfig, "si_grid")
    owm_grid: tuple[float, ...] = same_as(IncrementalConfig, "owm_grid")
    validation: int = declare(1000, "training images of each data set held out for the "
                              "strength search (the search trains on the rest)", low=10,
                              high=10000)
    candidates: tuple[str, ...] | None = declare(
        tuple(CANDIDATES), "readings of the paper's sequential and SRC numbers run beside the "
        "variants, each the faithful run with one element changed", choices=tuple(CANDIDATES),
        none="none")


class SkipTask(Hook):
    """Trains nothing on one task: the faithful control never sees MNIST."""

    name = "skip"

    def __init__(self, index: int) -> None:
        self.index = index

    def training_data(self, ctx: TaskContext, x: np.ndarray, y: np.ndarray):
        return (x[:0], y[:0]) if ctx.index == self.index else (x, y)


@dataclass(frozen=True)
class CrossModalUnit(Unit):
    """One unit: one method's trial in one variant (at one rehearsal fraction), or one search
    run (``validation`` set)."""

    seed: int
    variant: str
    epochs: int
    per_task_train: int | None
    hidden: tuple[int, ...]
    test_subset: int | None
    method: MethodUnit = merged()
    fraction: float | None = unless_none()
    validation: int | None = unless_none()
    sleep_data: str | None = unless_none()  # candidates only; None: MNIST
    src_vector: str | None = unless_none()  # candidates only; None: the variant's vector
    scored: str | None = unless_none()  # candidates only; None: the test sets


def run_crossmodal(
    config: CrossModalConfig = CrossModalConfig(),
    *,
    store: ResultStore | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """The strength search (where needed), then every (method, variant, fraction) of
    ``config.trials`` seeded trials; records tagged with ``variant``."""
    mnist, fashion = load_dataset("mnist"), load_dataset("fashion")
    data = (mnist, fashion)
    strengths = {m: getattr(config, TUNED[m][0]) for m in config.methods if m in TUNED}
    searched = [(method_unit(config, m, "faithful", None, s, validation=config.validation),
                 SEARCH_TRIAL)
                for m, v in strengths.items() if v is None for s in getattr(config, TUNED[m][1])]
    search = pd.DataFrame()
    if searched:
        search = run_units(CHAPTER, searched, lambda u, t: run_method(data, u, t),
                           store=store, progress=progress, desc="search cross-modal")
        strengths.update(winners(search))
    settings = []
    for method in config.methods:
        variants = [v for v in config.variants if method in VARIANT_METHODS] or ["faithful"]
        fractions = config.rehearsal_fractions if get(method).declares("fraction") else (None,)
        settings += [(method, v, p) for v in variants for p in fractions]
    units = [(method_unit(config, m, v, p, strengths.get(m)), t)
             for m, v, p in settings for t in range(config.trials)]
    main = set(units)
    only = {}  # (unit, trial) run for a candidate alone -> that candidate
    for name, unit, t in candidate_units(config):
        if (unit, t) not in main:
            only.setdefault((unit, t), name)
    trials = run_units(CHAPTER, units + list(only), lambda u, t: run_method(data, u, t),
                       store=store, progress=progress, desc="cross-modal")
    return pd.concat([search, _tag_candidates(trials, only)], ignore_index=True)


def candidate_units(config: CrossModalConfig) -> list[tuple[str, CrossModalUnit, int]]:
    """Every (candidate, unit, trial) of the candidates, for the methods among ``methods`` it
    changes; a unit equal to a variant's is the same unit."""
    out = []
    for candidate in (CANDIDATES[c] for c in config.candidates or ()):
        for method in (m for m in candidate.methods if m in config.methods):
            run, fraction = candidate.run(method)
            unit = method_unit(config, run, candidate.variant, fraction, None)
            unit = dataclasses.replace(unit, **{k: getattr(candidate, k)
                                                for k in CANDIDATE_SETTINGS})
            out += [(candidate.name, unit, t) for t in range(config.trials)]
    return out


def _tag_candidates(df: pd.DataFrame, only: dict) -> pd.DataFrame:
    """The rows of units run for a candidate alone name it (column and setting ``candidate``),
    so the variants' tables leave them out; a unit's stored rows stay as computed."""
    names = {(config_hash(u.key()), t): name for (u, t), name in only.items()}
    if not names or df.empty:
        return df
    tag = [names.get((c, t)) for c, t in zip(df["config_hash"], df["trial"], strict=True)]
    out = df.assign(candidate=tag)
    if "setting" in out:
        out["setting"] = [setting.encode(setting.decode(s), candidate=n) if n and isinstance(
            s, str) and s else s for s, n in zip(out["setting"], tag, strict=True)]
    return out


def method_unit(config: CrossModalConfig, method: str, variant: str, fraction: float | None,
                strength: float | None, *, validation: int | None = None) -> CrossModalUnit:
    """One method's unit in one variant: the shared settings and the method's own."""
    shared = {"seed": config.seed, "variant": variant, "epochs": config.epochs,
              "per_task_train": config.per_task_train, "hidden": config.hidden,
              "test_subset": config.test_subset}
    if fraction is not None:
        shared["fraction"] = fraction
    own = get(method).unit(config, {**shared, "method": method}, strength)
    return CrossModalUnit(**shared, method=own, validation=validation)


def _tasks(mnist: Dataset, fashion: Dataset, per_task_train: int | None,
           test_subset: int | None, validation: int | None = None, scored: str | None = None
           ) -> tuple[list[Task], TaskEvaluator]:
    """Task 1 = MNIST, task 2 = Fashion-MNIST (all classes each), and the evaluator on their test
    sets (``scored = "train"``: on all their training images); a search run trains on all but
    the last ``validation`` images and scores on those."""
    tasks, tests = [], []
    for i, ds in enumerate((mnist, fashion)):
        n = min(per_task_train or len(ds.y_train), len(ds.y_train) - (validation or 0))
        tasks.append(Task(i, tuple(range(10)), ds.x_train[:n], ds.y_train[:n], ds.x_test,
                          ds.y_test))
        if validation:
            tests.append((ds.x_train[-validation:], ds.y_train[-validation:]))
        elif scored == "train":
            tests.append((ds.x_train, ds.y_train))
        else:
            k = test_subset // 2 if test_subset else len(ds.y_test)
            tests.append((ds.x_test[:k], ds.y_test[:k]))
    return tasks, TaskEvaluator(tests)


def _rehearsal_preset(fraction: float) -> str:
    """The original's vector for a rehearsal fraction (the branch it falls in)."""
    return [name for low, name in REHEARSAL_PRESETS if fraction >= low - 1e-12][-1]


def _sleep(params, data: tuple[Dataset, Dataset], seed: int, scale: float,
           only_after: int | None = None, sleep_data: str | None = None) -> SRC:
    """SRC after every task (or one), driven and normalised by every MNIST training image (the
    original), or by the ``sleep_data`` named in :data:`SLEEP_DATA`: every training image of
    the data sets trained so far, or of the one just trained."""
    def images(ctx: TaskContext) -> np.ndarray:
        if sleep_data == "seen":
            return np.concatenate([ds.x_train for ds in data[: ctx.index + 1]])
        return data[ctx.index].x_train if sleep_data == "current" else data[0].x_train

    return SRC(params, images, np.random.default_rng([seed, 2]),
               image_shape=data[0].image_shape, length_scale=scale,
               after_tasks=None if only_after is None else (lambda i: i == only_after))


def method_hooks(data: tuple[Dataset, Dataset], unit: CrossModalUnit, seed: int) -> list[Hook]:
    """The hooks of one sequential method in one variant; rehearsal draws from MNIST."""
    mnist = data[0]
    spec, corrected = unit.method.spec, unit.variant == "corrected"
    if spec.name == "sequential" and not corrected:
        return [SkipTask(0)]  # the faithful control
    if unit.fraction is not None:
        # The original trains task 2 from the network before the first sleep: only the sleep
        # after task 2 counts.
        params, only_after = preset(_rehearsal_preset(unit.fraction)), 1
    else:
        params, only_after = preset(unit.src_vector or "crossmodal"), None
    params = params.corrected() if corrected else params
    return spec.make_hooks(MethodContext(
        mnist, seed, unit.method.settings,
        lambda scale: _sleep(params, data, seed, scale, only_after, unit.sleep_data)))


def run_method(data: tuple[Dataset, Dataset], unit: CrossModalUnit, trial: int) -> list[dict]:
    """One method of one trial in one variant."""
    mnist, fashion = data
    seed = trial_seed(unit.seed, trial)
    tasks, evaluator = _tasks(mnist, fashion, unit.per_task_train, unit.test_subset,
                              unit.validation, unit.scored)
    mlp = trial_setup(mnist, DATASET_PROTOCOLS["mnist"], seed, hidden=unit.hidden,
                      per_task_train=None, test_subset=None).mlp
    net = MLP(mlp, torch.Generator().manual_seed(seed))
    gen = torch.Generator().manual_seed(seed + 1)
    tag = {"dataset": DATASET, "method": unit.method.method, "variant": unit.variant}
    if unit.method.spec.loop == "joint":
        x = np.concatenate([t.x_train for t in tasks])
        y = np.concatenate([t.y_train for t in tasks])
        train_epochs(net, x, y, unit.epochs, gen)
        per_task, full = evaluator(net)
        rows = [{"metric": "final_acc", "value": full, "headline": True},
                *({"metric": f"acc_{name}", "value": a, "headline": True}
                  for name, a in zip(("mnist", "fashion"), per_task, strict=True))]
        return [{**tag, **r, "setting": setting.encode(variant=unit.variant)} for r in rows]
    if unit.validation:
        scores = validation_score(net, tasks, method_hooks(data, unit, seed), unit.epochs, gen,
                                  evaluator)
        return [{**tag, **r} for r in search_rows(unit.method.settings.strength, scores,
                                                  variant=unit.variant)]
    rows = run_sequence(net, tasks, method_hooks(data, unit, seed), unit.epochs, gen, evaluator)
    last = [r for r in rows if r["metric"] == "acc_task" and r["after_task"] == 2]
    last = {r["task"]: r["value"] for r in last}  # the last stage's values win
    out = []
    for r in rows:
        r = {**tag, **r}
        if r["metric"] in ("bwt", "forgetting"):
            r["headline"] = False  # two tasks, one of them untrained in the faithful control
        out.append(r)
    out += [{**tag, "metric": f"acc_{name}", "value": last[k], "headline": True}
            for k, name in ((1, "mnist"), (2, "fashion"))]
    if unit.method.spec.strength is not None:
        out.append({**tag, "metric": "strength", "value": unit.method.settings.strength,
                    "headline": True})
    where = setting.encode(variant=unit.variant, fraction=unit.fraction,
                           **{k: getattr(unit, k) for k in CANDIDATE_SETTINGS})
    columns = {k: getattr(unit, k) for k in ("fraction", *CANDIDATE_SETTINGS)}
    for r in out:
        r.update({k: v for k, v in columns.items() if v is not None})
        if r.get("headline"):
            r["setting"] = where
    return out

"""Searching SRC's sleep vector on a validation split, in the open (book/methods/protocols.md,
protocol-sleep-search).

The original's sleep vectors x = [r_max, inc, dec, beta_1..beta_L, alpha_scale] came from a
genetic algorithm whose code was never published. Here Optuna searches x in the log domain
(:data:`SPACE`), for two protocols:

* ``incremental``: the class-incremental protocol on ``dataset`` (protocol-incremental), scored by
  the final accuracy on the union of the tasks' validation sets, the ``validation`` training
  images of each task's classes that follow the ones it trains on;
* ``single-<e>-<n>``: one task of all ten classes trained ``e`` epochs on the first ``n``
  training images at learning rate 0.01, then one sleep (protocol-single), scored by the accuracy
  after that sleep on the last ``5 * validation`` training images. As in the single-task
  chapter, two sweeps: ``single_epochs`` on ``single_images`` images, and
  ``single_image_counts`` at 10 epochs (a setting in both is searched once).

A search's units never see a test image: they compute on a view of the training set with the
validation images cut out (the sleep too is driven and normalised without them) and no test
arrays at all (:class:`Heldout`). Every search runs in fixed-size generations: each asks its
seeded sampler for ``generation_size`` vectors, all searches' vectors are evaluated together as
units of the executor (stored, reused, in-process or on Dask), then each search is told its
values in the order it asked. So the history, and the vector chosen, is the same for any number
of workers, and a search interrupted between generations resumes by asking again: the seeded
samplers propose the same vectors, whose units are stored.

The chosen vector (best validation score over every search of a protocol) is then scored once on
the test set, beside the original's vector and no sleep, on ``trials`` fresh trial seeds.

Transfer (``transfer``, a second data set): one class-incremental search on it, with the first
sampler and search seed 0, the same as one of the first data set's searches; then the vector each
of those two searches chose is scored on both data sets' test sets, beside each data set's own
original vector and no sleep. Its records carry ``protocol = "transfer"``, the data set tested
on as ``dataset`` and the searched one as ``searched_on``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import optuna
import pandas as pd
import torch

from ..data import Dataset, load_dataset
from ..metrics import TaskEvaluator, accuracy
from ..nets.mlp import MLP, MLPConfig
from ..params import ParamError, Params, declare, same_as
from ..results import setting
from ..results.executor import run_units
from ..results.provenance import canonical_json
from ..results.store import ResultStore
from ..results.unit import Unit, unless_none
from ..sleep.normalisation import SilentLayer
from ..sleep.presets import SleepParams, preset, with_vector
from ..sleep.src import sleep
from ..training import run_tasks, train_epochs
from . import single
from .common import DATASET_PROTOCOLS, seed_field, src_hook, trial_seed, trial_setup
from .incremental import IncrementalConfig
from .tuning import SEARCH_TRIAL, validation_indices

CHAPTER = "sleep-search"
#: Optuna samplers: a genetic algorithm (the original's kind of search), CMA-ES, TPE, random.
SAMPLERS = ("nsga2", "cmaes", "tpe", "random")
#: The searched ranges, every one log-uniform (the original's values span up to six decades):
#: field -> (low, high); ``beta`` holds for every layer's beta_k. They bracket the original's
#: MNIST, Fashion-MNIST and single-task vectors (book/methods/sleep.md, src-hyperparameters).
SPACE = {"r_max": (10.0, 1000.0), "inc": (1e-4, 0.3), "dec": (1e-7, 0.3), "beta": (0.1, 100.0),
         "alpha_scale": (0.03, 300.0)}
#: What the test set scores per protocol: the chosen vector, the original's, and no sleep.
VECTORS = ("searched", "original", "none")
#: Fewest vectors per generation CMA-ES takes: it learns from the better half of each.
CMAES_SMALLEST = 4
#: Validation images of the single task, per ``validation`` image of a class-incremental task.
SINGLE_HELD_OUT = 5
#: Data sets a search runs on; the ``protocol`` of the transfer study's records.
DATASETS = ("mnist", "fashion")
TRANSFER = "transfer"


def _count(value: float | None) -> int | None:
    """A count read from a record cell (None where it is empty)."""
    return None if value is None or pd.isna(value) else int(value)


@dataclass(frozen=True, order=True)
class Search:
    """What a vector is searched for: the class-incremental protocol, or the single task at
    ``epochs`` epochs on ``images`` training images."""

    protocol: str
    epochs: int | None = None
    images: int | None = None

    @property
    def name(self) -> str:
        if self.epochs is None:
            return self.protocol
        return f"{self.protocol}-{self.epochs}-{self.images}"

    def columns(self) -> dict:
        """The columns (and setting names) that tell this search's rows apart."""
        return {"protocol": self.protocol, "epochs": self.epochs, "images": self.images}

    @classmethod
    def of(cls, row: pd.Series) -> Search:
        """The search a record row belongs to."""
        return cls(row["protocol"], _count(row.get("epochs")), _count(row.get("images")))


@dataclass(frozen=True)
class SleepSearchConfig(Params):
    """Parameters of the sleep-vector search; defaults are the paper profile's search."""

    dataset: str = declare("mnist", "data set of every search (the original's single task is "
                           "MNIST)", choices=DATASETS)
    transfer: str | None = declare("fashion", "a second data set searched once (first sampler, "
                                   "search seed 0), each of the two searched vectors then scored "
                                   "on both test sets", choices=DATASETS,
                                   none="no transfer study")
    samplers: tuple[str, ...] = declare(SAMPLERS, "Optuna samplers searching the "
                                        "class-incremental vector: nsga2 (a genetic algorithm), "
                                        "cmaes, tpe, random", choices=SAMPLERS)
    search_seeds: int = declare(3, "class-incremental searches per sampler, each with its own "
                                "sampler seed", low=1, high=20)
    generations: int = declare(8, "generations of every search", low=1, high=100)
    generation_size: int = declare(8, "vectors per generation: asked together, evaluated "
                                   "together, told in the order asked", low=2, high=100)
    single_epochs: tuple[int, ...] | None = declare(
        (1, 2, 5, 10), "single-task epochs searched on single_images images, one search each",
        low=1, high=200, none="no search over epochs")
    single_images: int = declare(5000, "training images of the single task's epochs sweep",
                                 low=100, high=50000)
    single_image_counts: tuple[int, ...] | None = declare(
        (1000, 2000, 5000, 10000, 20000), f"single-task training images searched at "
        f"{single.BASE_EPOCHS} epochs, one search each (a setting also in the epochs sweep is "
        "searched once)", low=100, high=50000, none="no search over images")
    single_sampler: str = declare("nsga2", "sampler of the single-task searches",
                                  choices=SAMPLERS)
    trials: int = declare(5, "test-set trials (fresh seeds) of the chosen vector, the "
                          "original's and no sleep", low=1, high=100)
    seed: int = seed_field()
    hidden: tuple[int, ...] | None = same_as(IncrementalConfig, "hidden")
    per_task_train: int = same_as(IncrementalConfig, "per_task_train")
    epochs: int | None = same_as(IncrementalConfig, "epochs")
    sleep_scale: float = same_as(IncrementalConfig, "sleep_scale")
    test_subset: int | None = same_as(IncrementalConfig, "test_subset")
    validation: int = declare(1000, "training images per task held out as its validation set "
                              "(after the ones it trains on); the single task holds out the "
                              f"last {SINGLE_HELD_OUT} x this many", low=10, high=6000)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.transfer == self.dataset:
            other = next(d for d in DATASETS if d != self.dataset)
            raise ParamError(f"parameter 'transfer' must name another data set than "
                             f"'{self.dataset}': give {other} (or none)")
        uses_cmaes = "cmaes" in self.samplers or (len(self.searches) > 1 and
                                                   self.single_sampler == "cmaes")
        if uses_cmaes and self.generation_size < CMAES_SMALLEST:
            raise ParamError(f"sampler cmaes needs generation_size >= {CMAES_SMALLEST} (CMA-ES "
                             f"learns from the better half of each generation), got "
                             f"{self.generation_size}")

    @property
    def searches(self) -> list[Search]:
        """The class-incremental search, then the single task's: the epochs sweep, then the
        images sweep (a setting in both once)."""
        tasks = [Search("single", e, self.single_images) for e in self.single_epochs or ()]
        tasks += [Search("single", single.BASE_EPOCHS, n) for n in self.single_image_counts or ()]
        return [Search("incremental"), *dict.fromkeys(tasks)]

    @property
    def studies(self) -> list[tuple[Search, str, int]]:
        """Every search run: (what it searches for, sampler, search seed), in telling order."""
        runs = [(Search("incremental"), s, k) for s in self.samplers
                for k in range(self.search_seeds)]
        return runs + [(s, self.single_sampler, 0) for s in self.searches[1:]]

    def check_data(self, ds: Dataset) -> None:
        """Fail in one line (``ParamError``) before any compute if a validation split does not
        fit the training set."""
        groups = [tuple(range(k, k + 2)) for k in range(0, ds.n_classes, 2)]
        validation_indices(ds.y_train, groups, self.per_task_train, self.validation)
        held = SINGLE_HELD_OUT * self.validation
        most = max((s.images for s in self.searches[1:]), default=0)
        if most + held > ds.n_train:
            raise ParamError(f"single-task searches on {most} images + {held} validation images "
                             f"> the {ds.n_train} training images of {ds.name}")


def space(n_layers: int) -> dict[str, tuple[float, float]]:
    """The searched fields of a net of ``n_layers`` weight layers and their ranges."""
    names = ["r_max", "inc", "dec", *(f"beta_{k}" for k in range(1, n_layers + 1)),
             "alpha_scale"]
    return {n: SPACE["beta" if n.startswith("beta_") else n] for n in names}


def as_vector(params: SleepParams, n_layers: int) -> dict[str, float]:
    """The searched fields of ``params``."""
    fields = {"r_max": params.r_max, "inc": params.inc, "dec": params.dec,
              "alpha_scale": params.alpha_scale,
              **{f"beta_{k}": params.beta[k - 1] for k in range(1, n_layers + 1)}}
    return {n: float(fields[n]) for n in space(n_layers)}


def make_sampler(name: str, seed: int, generation: int) -> optuna.samplers.BaseSampler:
    """A seeded sampler; population-based ones breed ``generation`` vectors per generation.
    The first generation is random for all (no history yet)."""
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=generation, seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(popsize=generation, n_startup_trials=0, seed=seed,
                                            warn_independent_sampling=False)
    if name == "tpe":
        return optuna.samplers.TPESampler(n_startup_trials=generation, seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ParamError(f"unknown sampler '{name}'; valid: {', '.join(SAMPLERS)}")


def sampler_seed(seed: int, search: Search, sampler: str, search_seed: int) -> int:
    """A search run's sampler seed, from its name (adding a sampler changes no other's)."""
    return zlib.crc32(f"{seed}/{search.name}/{sampler}/{search_seed}".encode())


def original_preset(config: SleepSearchConfig, search: Search) -> str:
    """The original's vector for ``search``: the data set's main vector, or the single-task
    run's nearest in epochs (protocol-single; the images sweep's at 10 epochs)."""
    if search.protocol == "incremental":
        return DATASET_PROTOCOLS[config.dataset].preset
    return single.vector(search.epochs)


def n_layers(config: SleepSearchConfig) -> int:
    return len(config.hidden or DATASET_PROTOCOLS[config.dataset].hidden) + 1


@dataclass(frozen=True)
class Evaluation(Unit):
    """What identifies one evaluation: the protocol's settings, the stage (``validation``:
    held-out training images; ``test``: the test set) and the vector (None: no sleep). Nothing
    about the search run that asked for it, so two runs asking the same vector share a unit."""

    stage: str
    protocol: str
    dataset: str
    seed: int
    hidden: tuple[int, ...]
    sleep_scale: float
    preset: str
    vector: dict[str, float] | None
    epochs: int
    per_task_train: int | None = unless_none()  # incremental only
    images: int | None = unless_none()  # single task only
    lr: float | None = unless_none()  # single task only
    validation: int | None = unless_none()  # validation stage only
    test_subset: int | None = None  # test stage: None is the whole test set


def evaluation(config: SleepSearchConfig, search: Search, stage: str,
               vector: dict[str, float] | None) -> Evaluation:
    """The evaluation of ``vector`` for ``search`` at ``stage``."""
    proto = DATASET_PROTOCOLS[config.dataset]
    incremental = search.protocol == "incremental"
    return Evaluation(
        stage=stage, protocol=search.protocol, dataset=config.dataset, seed=config.seed,
        hidden=tuple(config.hidden or proto.hidden), sleep_scale=config.sleep_scale,
        preset=original_preset(config, search), vector=vector,
        epochs=(config.epochs or proto.epochs) if incremental else search.epochs,
        per_task_train=config.per_task_train if incremental else None,
        images=search.images,
        lr=None if incremental else single.SingleTaskConfig().lr,
        validation=config.validation if stage == "validation" else None,
        test_subset=config.test_subset if stage == "test" else None)


class Heldout:
    """What a search may read: the training set, and per protocol which of its images are held
    out for validation. It holds no test image. :meth:`training` is the view a search trains
    and sleeps on (the training set less the protocol's validation images, and an empty test
    set), :meth:`validation` the images it is scored on. Views are built once per process."""

    def __init__(self, ds: Dataset, config: SleepSearchConfig) -> None:
        self.x, self.y = ds.x_train, ds.y_train
        self.about = (ds.name, ds.n_classes, ds.image_shape, ds.source)
        groups = [tuple(range(k, k + 2)) for k in range(0, ds.n_classes, 2)]
        self.picks = {
            "incremental": validation_indices(self.y, groups, config.per_task_train,
                                              config.validation),
            "single": [np.arange(len(self.y) - SINGLE_HELD_OUT * config.validation,
                                 len(self.y))]}
        self._views: dict[str, Dataset] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_views": {}}  # sent to workers without the views

    def training(self, protocol: str) -> Dataset:
        """The training set less ``protocol``'s validation images (in order), no test set."""
        if protocol not in self._views:
            keep = np.ones(len(self.y), dtype=bool)
            keep[np.concatenate(self.picks[protocol])] = False
            name, n_classes, shape, source = self.about
            self._views[protocol] = Dataset(
                f"{name} (training images less validation)", self.x[keep], self.y[keep],
                np.zeros((0, self.x.shape[1]), np.float32), np.zeros(0, np.int64), n_classes,
                shape, source)
        return self._views[protocol]

    def validation(self, protocol: str) -> list[tuple[np.ndarray, np.ndarray]]:
        """``protocol``'s validation images: one (x, y) per task."""
        return [(self.x[p], self.y[p]) for p in self.picks[protocol]]


def evaluate_incremental(ds: Dataset, config: Evaluation, trial: int,
                         evaluator: TaskEvaluator | None) -> float:
    """The final accuracy after the class-incremental sequence with SRC sleeping with
    ``config.vector`` after every task (none: no sleep), on ``evaluator`` (None: ``ds``'s
    test set), and whether a sleep silenced a layer: the next sleep cannot be normalised, so
    the sequence ends there and the network is scored as it stands (it answers one class)."""
    proto = DATASET_PROTOCOLS[config.dataset]
    seed = trial_seed(config.seed, trial)
    setup = trial_setup(ds, proto, seed, hidden=config.hidden,
                        per_task_train=config.per_task_train,
                        test_subset=config.test_subset)
    net = MLP(setup.mlp, torch.Generator().manual_seed(seed))
    hooks = []
    if config.vector is not None:
        params = with_vector(preset(config.preset), config.vector)
        hooks = [src_hook(ds, proto, seed, sleep_scale=config.sleep_scale, params=params)]
    silenced = False
    try:
        run_tasks(net, setup.tasks, hooks, config.epochs,
                  torch.Generator().manual_seed(seed + 1))
    except SilentLayer:  # a sleep silenced a layer: the run ends there, scored as it stands
        silenced = True
    return (evaluator or setup.evaluator)(net)[1], silenced


def evaluate_single(ds: Dataset, config: Evaluation, trial: int,
                    scored: tuple[np.ndarray, np.ndarray]) -> float:
    """The accuracy on ``scored`` after one task and one sleep with ``config.vector``
    (none: no sleep), driven and normalised by every training image of ``ds``, and whether the
    sleep could not run because training had left a layer silent."""
    seed = trial_seed(config.seed, trial)
    mlp = MLPConfig(sizes=(ds.n_features, *config.hidden, ds.n_classes), lr=config.lr)
    net = MLP(mlp, torch.Generator().manual_seed(seed))
    images = config.images
    train_epochs(net, ds.x_train[:images], ds.y_train[:images], config.epochs,
                 torch.Generator().manual_seed(seed + 1))
    silenced = False
    if config.vector is not None:
        params = with_vector(preset(config.preset), config.vector)
        try:
            sleep(net, ds.x_train, params, params.sleep_length(1, config.sleep_scale),
                  np.random.default_rng([seed, 2]), image_shape=ds.image_shape)
        except SilentLayer:  # training left a layer silent: no sleep, scored as it stands
            silenced = True
    x, y = scored
    return accuracy(net.predict(torch.from_numpy(x)), torch.from_numpy(y)), silenced


def validation_unit(data: Heldout, config: Evaluation, trial: int) -> list[dict]:
    """One evaluation of a search: the score on the held-out training images."""
    protocol = config.protocol
    sets = data.validation(protocol)
    if protocol == "incremental":
        value, silenced = evaluate_incremental(data.training(protocol), config, trial,
                                               TaskEvaluator(sets))
    else:
        value, silenced = evaluate_single(data.training(protocol), config, trial, sets[0])
    return [{"dataset": config.dataset, "method": "src" if config.vector else "sequential",
             "metric": "val_acc", "value": value, "silenced": silenced}]


def test_unit(ds: Dataset, config: Evaluation, trial: int) -> list[dict]:
    """One test-set trial of a vector (or of no sleep)."""
    if config.protocol == "incremental":
        (value, silenced), metric = evaluate_incremental(ds, config, trial, None), "final_acc"
    else:
        subset = config.test_subset
        value, silenced = evaluate_single(ds, config, trial,
                                          (ds.x_test[:subset], ds.y_test[:subset]))
        metric = "test_acc"
    return [{"dataset": config.dataset, "method": "src" if config.vector else "sequential",
             "metric": metric, "value": value, "silenced": silenced}]


def _evaluate(configs: list[Evaluation], trials: list[int], compute: Callable, *,
              store: ResultStore | None, progress: bool, desc: str) -> pd.DataFrame:
    """One row per (config, trial), in order; a unit asked for twice is computed once."""
    jobs = list(zip([canonical_json(c.key()) for c in configs], trials, strict=True))
    unique = list(dict.fromkeys(jobs))
    by_text = dict(zip((j for j, _ in jobs), configs, strict=True))
    df = run_units(CHAPTER, [(by_text[text], t) for text, t in unique], compute, store=store,
                   progress=progress, desc=desc)
    row = {job: i for i, job in enumerate(unique)}  # every unit gives one row
    settings = [f.name for f in fields(Evaluation) if f.name != "dataset"]
    df = df.drop(columns=[c for c in settings if c in df])  # the callers add their own
    return df.iloc[[row[job] for job in jobs]].reset_index(drop=True)


def run_sleep_search(config: SleepSearchConfig = SleepSearchConfig(), *,
                     store: ResultStore | None = None, progress: bool = True) -> pd.DataFrame:
    """Every search (on held-out training images only), then the test-set trials of each
    protocol's chosen vector, the original's and no sleep. Tidy records."""
    ds = load_dataset(config.dataset)
    config.check_data(ds)
    other = transfer_config(config)
    other_ds = None if other is None else load_dataset(other.dataset)
    if other is not None:
        other.check_data(other_ds)
    history = search_vectors(config, Heldout(ds, config), store=store, progress=progress)
    frames = [history, score_on_test(config, ds, history, store=store, progress=progress)]
    if other is not None:
        frames.append(score_transfer(config, ds, history, other, other_ds, store=store,
                                     progress=progress))
    return pd.concat(frames, ignore_index=True)


def search_vectors(config: SleepSearchConfig, data: Heldout, *, store: ResultStore | None,
                   progress: bool) -> pd.DataFrame:
    """Every search run, generation by generation (each run's history, its seeded sampler's
    proposals told in the order asked, does not depend on where units run), and the
    original's vector and no sleep scored the same way: records of every evaluation."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = space(n_layers(config))
    distributions = {n: optuna.distributions.FloatDistribution(*r, log=True)
                     for n, r in names.items()}
    runs = {run: optuna.create_study(direction="maximize", sampler=make_sampler(
        run[1], sampler_seed(config.seed, *run), config.generation_size))
        for run in config.studies}
    frames = [_references(config, data, store=store, progress=progress)]
    for generation in range(1, config.generations + 1):
        asked = [(run, study.ask(distributions)) for run, study in runs.items()
                 for _ in range(config.generation_size)]
        configs = [evaluation(config, run[0], "validation", {n: trial.params[n] for n in names})
                   for run, trial in asked]
        df = _evaluate(configs, [SEARCH_TRIAL] * len(configs),
                       lambda c, t: validation_unit(data, c, t), store=store,
                       progress=progress, desc=f"search, generation {generation}")
        for (run, trial), value in zip(asked, df["value"], strict=True):  # the asking order
            runs[run].tell(trial, float(value))
        meta = pd.DataFrame([{**run[0].columns(), "sampler": run[1], "search_seed": run[2],
                              "generation": generation, "evaluation": trial.number + 1,
                              **trial.params} for run, trial in asked])
        frames.append(pd.concat([df, meta], axis=1).assign(stage="search", headline=False))
    return pd.concat(frames, ignore_index=True)


def _references(config: SleepSearchConfig, data: Heldout, *, store: ResultStore | None,
                progress: bool) -> pd.DataFrame:
    """The original's vector and no sleep on the validation split of every search."""
    layers = n_layers(config)
    cases = [(s, kind) for s in config.searches for kind in ("original", "none")]
    configs = [evaluation(config, s, "validation", as_vector(
        preset(original_preset(config, s)), layers) if kind == "original" else None)
        for s, kind in cases]
    df = _evaluate(configs, [SEARCH_TRIAL] * len(configs),
                   lambda c, t: validation_unit(data, c, t), store=store, progress=progress,
                   desc="search, the original's vector")
    meta = pd.DataFrame([{**s.columns(), "vector": kind, **(c.vector or {})}
                         for (s, kind), c in zip(cases, configs, strict=True)])
    return _headline(pd.concat([df, meta], axis=1).assign(stage="reference"))


def chosen(history: pd.DataFrame) -> pd.DataFrame:
    """Per search, the evaluation with the best validation score (on a tie, the first asked)."""
    rows = history[history["stage"] == "search"]
    best = [g.loc[g["value"].idxmax()]
            for _, g in rows.groupby(["protocol", "epochs", "images"], sort=False, dropna=False)]
    return pd.DataFrame(best).reset_index(drop=True)


def score_on_test(config: SleepSearchConfig, ds: Dataset, history: pd.DataFrame, *,
                  store: ResultStore | None, progress: bool) -> pd.DataFrame:
    """The chosen vectors, recorded, and the test-set trials of each protocol's chosen vector,
    the original's and no sleep, on fresh seeds (trials 0, 1, ...; the search used trial
    ``SEARCH_TRIAL``)."""
    names = list(space(n_layers(config)))
    best = chosen(history)
    picked = best.assign(stage="chosen", vector="searched")
    components = [{**{k: r[k] for k in ("dataset", "method", "protocol", "epochs", "images",
                                        "trial")},
                   "vector": "searched", "metric": n, "value": r[n], "stage": "chosen"}
                  for _, r in best.iterrows() for n in names]
    vectors = {}
    for _, r in best.iterrows():
        search = Search.of(r)
        vectors[search] = {"searched": {n: float(r[n]) for n in names}, "none": None,
                           "original": as_vector(preset(original_preset(config, search)),
                                                 n_layers(config))}
    cases = [(s, kind, t) for s in config.searches for kind in VECTORS
             for t in range(config.trials)]
    configs = [evaluation(config, s, "test", vectors[s][kind]) for s, kind, _ in cases]
    df = _evaluate(configs, [t for *_, t in cases], lambda c, t: test_unit(ds, c, t),
                   store=store, progress=progress, desc="test set")
    meta = pd.DataFrame([{**s.columns(), "vector": kind} for s, kind, _ in cases])
    tested = pd.concat([df, meta], axis=1).assign(stage="test")
    return _headline(pd.concat([picked, pd.DataFrame(components), tested], ignore_index=True))


def transfer_config(config: SleepSearchConfig) -> SleepSearchConfig | None:
    """The second data set's search of the transfer study: the first sampler, one search seed,
    no single-task search, otherwise ``config``'s settings (None without a transfer study)."""
    if config.transfer is None:
        return None
    other = config.replace({"dataset": config.transfer, "transfer": None,
                            "samplers": config.samplers[:1], "search_seeds": 1,
                            "single_epochs": None, "single_image_counts": None})
    if n_layers(other) != n_layers(config):
        raise ParamError(f"transfer needs the same net on both data sets: {config.dataset} has "
                         f"{n_layers(config)} weight layers, {other.dataset} {n_layers(other)}")
    return other


def run_best(history: pd.DataFrame, sampler: str, search_seed: int = 0) -> pd.Series:
    """The best-scoring evaluation of one class-incremental search run (first asked on a tie)."""
    rows = history[(history["stage"] == "search") & (history["protocol"] == "incremental")
                   & (history["sampler"] == sampler) & (history["search_seed"] == search_seed)]
    return rows.loc[rows["value"].idxmax()]


def score_transfer(config: SleepSearchConfig, ds: Dataset, history: pd.DataFrame,
                   other: SleepSearchConfig, other_ds: Dataset, *, store: ResultStore | None,
                   progress: bool) -> pd.DataFrame:
    """The transfer study: ``other``'s search, then the vector each data set's search with the
    first sampler and seed 0 chose, scored on both test sets beside each one's original vector
    and no sleep. Returns the second search's history (``stage = "transfer search"``, not
    recorded), the two chosen vectors and the test trials (recorded)."""
    sampler = config.samplers[0]
    other_history = search_vectors(other, Heldout(other_ds, other), store=store,
                                   progress=progress)
    names = list(space(n_layers(config)))
    best = {config.dataset: run_best(history, sampler), other.dataset: run_best(other_history,
                                                                                sampler)}
    vectors = {d: {n: float(r[n]) for n in names} for d, r in best.items()}
    chosen_rows = [{"dataset": d, "method": "src", "protocol": TRANSFER, "searched_on": d,
                    "vector": "searched", "metric": n, "value": value, "stage": "chosen",
                    "trial": SEARCH_TRIAL}
                   for d in vectors
                   for n, value in {"val_acc": float(best[d]["value"]), **vectors[d]}.items()]
    cases = []
    for cfg, data in ((config, ds), (other, other_ds)):
        kinds = [("searched", d) for d in vectors] + [("original", None), ("none", None)]
        cases += [(cfg, data, kind, on, t) for kind, on in kinds for t in range(config.trials)]
    def vector(cfg: SleepSearchConfig, kind: str, on: str | None) -> dict[str, float] | None:
        if kind == "searched":
            return vectors[on]
        incremental = Search("incremental")
        return None if kind == "none" else as_vector(preset(original_preset(cfg, incremental)),
                                                     n_layers(cfg))

    configs = [evaluation(cfg, Search("incremental"), "test", vector(cfg, kind, on))
               for cfg, _, kind, on, _ in cases]
    by_dataset = {config.dataset: ds, other.dataset: other_ds}
    df = _evaluate(configs, [c[-1] for c in cases],
                   lambda c, t: test_unit(by_dataset[c.dataset], c, t), store=store,
                   progress=progress, desc="transfer, test set")
    meta = pd.DataFrame([{"protocol": TRANSFER, "vector": kind, "searched_on": on}
                         for _, _, kind, on, _ in cases])
    tested = pd.concat([df, meta], axis=1).assign(stage="transfer test")
    searched = other_history[other_history["stage"] == "search"].assign(
        stage="transfer search", protocol=TRANSFER, searched_on=other.dataset, headline=False)
    recorded = _headline(pd.concat([pd.DataFrame(chosen_rows), tested], ignore_index=True))
    return pd.concat([searched, recorded], ignore_index=True)


def _headline(df: pd.DataFrame) -> pd.DataFrame:
    """Rows recorded as the chapter's numbers, each with its setting."""
    def column(name: str) -> pd.Series:
        return df[name] if name in df else pd.Series(None, df.index, dtype=object)

    settings = [setting.encode(protocol=p, epochs=_count(e), images=_count(n), vector=v,
                               searched_on=None if pd.isna(o) else o)
                for p, e, n, v, o in zip(df["protocol"], column("epochs"), column("images"),
                                         df["vector"], column("searched_on"), strict=True)]
    return df.assign(setting=settings, headline=True)

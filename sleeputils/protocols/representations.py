"""Representations before and after each sleep: the incremental SRC net, measured at every stage
(book/methods/protocols.md, protocol-representations).

A trial trains exactly the SRC net of the incremental chapter (same seeds, same hooks) and,
after each task and after each sleep, measures on a fixed sample of test images, per hidden
layer: the class correlations, the sparseness, the share of units preferring the classes of old
tasks; in every layer, the summed input to the units of old tasks and of the newest task (hidden
units by the class they preferred in the waking net before the sleep, output unit c for class c);
before and after the last sleep, a linear probe of each hidden layer; and during every sleep,
the reactivation of each seen task's neurons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..analysis import representations as rep
from ..analysis.reactivation import reactivation
from ..data import Dataset, load_dataset
from ..nets.mlp import MLP
from ..params import Params, declare, same_as
from ..results import setting
from ..results.executor import run_units
from ..results.store import ResultStore
from ..training import run_tasks
from .common import DATASET_PROTOCOLS, TaskUnit, seed_field, src_hook, trial_seed, trial_setup
from .incremental import IncrementalConfig

CHAPTER = "representations"
#: Statistics measured per hidden layer, and at the output.
HIDDEN_STATS = ("within_corr", "between_corr", "frac_active", "treves_rolls", "selectivity",
                "old_pref", "probe_acc")
OUTPUT_STATS = ("drive_old", "drive_new")


@dataclass(frozen=True)
class RepresentationsConfig(Params):
    """Parameters of the representation analysis; the network and training are the incremental
    chapter's."""

    dataset: str = declare("mnist", "benchmark: 5 tasks of 2 classes", choices=("mnist", "fashion"))
    trials: int = same_as(IncrementalConfig, "trials")
    seed: int = seed_field()
    per_class: int = declare(50, "test images per class measured", low=5, high=1000)
    probe_train: int = declare(2000, "training images the linear probes learn from", low=100,
                               high=60000)
    hidden: tuple[int, ...] | None = same_as(IncrementalConfig, "hidden")
    per_task_train: int = same_as(IncrementalConfig, "per_task_train")
    epochs: int | None = same_as(IncrementalConfig, "epochs")
    sleep_scale: float = same_as(IncrementalConfig, "sleep_scale")
    test_subset: int | None = same_as(IncrementalConfig, "test_subset")


@dataclass(frozen=True)
class RepresentationsUnit(TaskUnit):
    """One unit: one trial of the incremental SRC net, measured."""

    per_class: int
    probe_train: int


def run_representations(config: RepresentationsConfig = RepresentationsConfig(), *,
                        store: ResultStore | None = None, progress: bool = True) -> pd.DataFrame:
    """``config.trials`` seeded trials; one stored unit per trial."""
    ds = load_dataset(config.dataset)
    unit = RepresentationsUnit.of(config, per_class=config.per_class,
                                  probe_train=config.probe_train)
    return run_units(CHAPTER, [(unit, t) for t in range(config.trials)],
                     lambda u, t: run_trial(ds, u, t), store=store, progress=progress,
                     desc=f"representations {config.dataset}")


def _sample(x: np.ndarray, y: np.ndarray, per_class: int, rng: np.random.Generator):
    pick = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class]
                           for c in np.unique(y)])
    return x[pick], y[pick]


def run_trial(ds: Dataset, unit: RepresentationsUnit, trial: int) -> list[dict]:
    """The incremental SRC net of this trial, measured after every task and every sleep."""
    proto = DATASET_PROTOCOLS[unit.dataset]
    seed = trial_seed(unit.seed, trial)
    setup = trial_setup(ds, proto, seed, hidden=unit.hidden, per_task_train=unit.per_task_train,
                        test_subset=unit.test_subset)
    rng = np.random.default_rng([seed, 11])
    x, y = _sample(ds.x_test, ds.y_test, unit.per_class, rng)
    x_probe, y_probe = _sample(ds.x_train, ds.y_train, unit.probe_train // ds.n_classes, rng)
    last = len(setup.tasks) - 1
    rows: list[dict] = []
    preferred: dict[tuple[int, int], np.ndarray] = {}  # (task, layer) -> waking preferences

    def measure(stage: str, i: int, net: MLP) -> None:
        acts = [a.numpy() for a in net.activations(torch.from_numpy(x))]
        inputs = [x, *acts[:-1]]
        tag = {"stage": stage, "after_task": i + 1}
        old = [c for t in setup.tasks[:i] for c in t.classes]
        new = list(setup.tasks[i].classes)
        for k, H in enumerate(acts):
            z = inputs[k] @ net.weights[k].numpy().T  # summed input, before the nonlinearity
            if k == len(acts) - 1:  # output unit c answers class c
                units = np.arange(ds.n_classes)
            else:
                pref = rep.preferred_classes(H, y, ds.n_classes)
                preferred.setdefault((i, k), pref)  # the waking net's, kept for the sleep
                units = preferred[(i, k)]
                values = _hidden_stats(H, y, ds.n_classes, pref, old)
                if i == last:
                    feats = net.activations(torch.from_numpy(x_probe))[k].numpy()
                    values["probe_acc"] = rep.probe_accuracy(feats, y_probe, H, y, seed)
                rows.extend({**tag, "metric": m, "layer": k + 1, "value": v}
                            for m, v in values.items())
                M = rep.class_correlation_matrix(H, y, ds.n_classes)
                rows.extend({**tag, "metric": "class_corr", "layer": k + 1, "class_a": a,
                             "class_b": b, "value": M[a, b]}
                            for a in range(ds.n_classes) for b in range(ds.n_classes))
            for name, classes in (("drive_new", new), ("drive_old", old)):
                chosen = np.flatnonzero(np.isin(units, classes))
                if chosen.size:
                    rows.append({**tag, "metric": name, "layer": k + 1,
                                 "value": rep.drive(z, chosen.tolist())})

    net = MLP(setup.mlp, torch.Generator().manual_seed(seed))
    logs = run_tasks(net, setup.tasks, [src_hook(ds, proto, seed, sleep_scale=unit.sleep_scale)],
                     unit.epochs, torch.Generator().manual_seed(seed + 1), evaluate=measure)
    rows += _reactivations(setup.tasks, logs, preferred, np.random.default_rng([seed, 13]))
    _, full = setup.evaluator(net)
    rows.append({"metric": "final_acc", "value": full})
    out = pd.DataFrame(rows)
    return [{"dataset": unit.dataset, "method": "src", **r} for r in _headlines(out)]


def _hidden_stats(H: np.ndarray, y: np.ndarray, n_classes: int, pref: np.ndarray,
                  old: list[int]) -> dict[str, float]:
    """The statistics of one hidden layer's activity (book/methods/analyses.md)."""
    within, between = rep.class_correlations(H, y)
    active, tr = rep.sparseness(H)
    values = {"within_corr": within, "between_corr": between, "frac_active": active,
              "treves_rolls": tr, "selectivity": rep.selectivity(H, y, n_classes)}
    if old:
        values["old_pref"] = rep.share_preferring(pref, old)
    return values


def _reactivations(tasks: list, logs: list[dict], preferred: dict, rng: np.random.Generator
                   ) -> list[dict]:
    """During the sleep after task i, each seen task's neurons (those preferring its classes in
    the waking net just before the sleep) against random subsets, per hidden layer."""
    rows = []
    for i, log in enumerate(logs):
        if "sleep" not in log:
            continue
        for (task, k), pref in ((key, p) for key, p in preferred.items() if key[0] == i):
            spikes = log["sleep"].unit_spikes[k]
            for j in range(task + 1):
                units = np.flatnonzero(np.isin(pref, tasks[j].classes))
                ratio, p = reactivation(spikes, units, rng)
                tag = {"stage": "sleep", "after_task": i + 1, "layer": k + 1, "task": j + 1}
                rows += [{**tag, "metric": "react_ratio", "value": ratio},
                         {**tag, "metric": "react_p", "value": p}]
    return rows


def _headlines(rows: pd.DataFrame) -> list[dict]:
    """The per-stage rows, plus per (statistic, layer) the mean over sleeps of the value before
    and after the sleep: the paired numbers the chapter tests, each under its setting (layer,
    and before or after the sleep)."""
    records = rows.to_dict("records")
    react = rows[rows["metric"] == "react_ratio"]
    for layer, g in react.groupby("layer"):
        records.append({"metric": "react_ratio_mean", "layer": int(layer),
                        "setting": setting.encode(layer=int(layer)), "value": g["value"].mean(),
                        "headline": True})
    staged = rows[rows["stage"].isin(["after_task", "after_sleep"])
                  & (rows["metric"] != "class_corr")]  # matrices are drawn, not tested
    slept = staged[staged["after_task"].isin(staged.loc[staged["stage"] == "after_sleep",
                                                        "after_task"])]
    for (metric, layer), g in slept.groupby(["metric", "layer"]):
        for stage, when in (("after_task", "before"), ("after_sleep", "after")):
            v = g.loc[g["stage"] == stage, "value"].mean()
            records.append({"metric": metric, "layer": int(layer), "when": when,
                            "setting": setting.encode(layer=int(layer), when=when), "value": v,
                            "headline": True})
    return [{k: v for k, v in r.items()
             if k == "value" or not (isinstance(v, float) and np.isnan(v))} for r in records]

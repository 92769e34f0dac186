"""A search run scores the network once, at the end: the same number, to the last bit, as the
final accuracy of the reported run's records (which score every stage)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sleeputils.data import class_incremental_tasks, load_dataset
from sleeputils.methods import EWC, OWM, SI
from sleeputils.nets.mlp import MLP, MLPConfig
from sleeputils.protocols.common import DATASET_PROTOCOLS, src_hook
from sleeputils.protocols.tuning import validation_evaluator, validation_score
from sleeputils.training import run_sequence

HOOKS = {"none": lambda ds: [], "ewc": lambda ds: [EWC(300.0)], "si": lambda ds: [SI(1.0)],
         "owm": lambda ds: [OWM(1e-3)],
         "src": lambda ds: [src_hook(ds, DATASET_PROTOCOLS["mnist"], 0, sleep_scale=0.02)]}


@pytest.mark.parametrize("method", list(HOOKS))
def test_search_score_is_the_final_accuracy_of_the_full_run(method: str) -> None:
    ds = load_dataset("mnist")
    tasks = class_incremental_tasks(ds, 2, per_task_train=100)
    evaluator = validation_evaluator(ds, tasks, 100, 50)
    config = MLPConfig(sizes=(784, 32, 32, 10), dropout=0.25, lr=0.1, init_scale=0.01)
    scores, per_task = [], []
    for full in (True, False):
        net = MLP(config, torch.Generator().manual_seed(3))
        gen = torch.Generator().manual_seed(4)
        if full:
            rows = run_sequence(net, tasks, HOOKS[method](ds), 1, gen, evaluator)
            scores.append(next(r["value"] for r in rows if r["metric"] == "final_acc"))
            last = {r["task"]: r["value"] for r in rows  # the last stage's values win
                    if r["metric"] == "acc_task" and r["after_task"] == len(tasks)}
            per_task.append([last[k] for k in sorted(last)])
        else:
            each, final = validation_score(net, tasks, HOOKS[method](ds), 1, gen, evaluator)
            scores.append(final)
            per_task.append(each)
        scores.append([w.clone() for w in net.weights])
    assert scores[0] == scores[2]  # bit for bit
    assert per_task[0] == per_task[1] and len(per_task[1]) == len(tasks)
    assert all(torch.equal(a, b) for a, b in zip(scores[1], scores[3], strict=True))
    assert not np.isnan(scores[0])

"""The cross-paradigm protocol: its new hooks do what their sections say, every method of a trial
meets the same data and the same initial weights, and reruns give the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from sleeputils.data import load_dataset
from sleeputils.methods.generative import SleepScheduledReplay
from sleeputils.methods.memory import ReplayMemory
from sleeputils.nets.mlp import MLP
from sleeputils.params import ParamError
from sleeputils.protocols.common import DATASET_PROTOCOLS, trial_setup
from sleeputils.protocols.paradigms import (
    BUDGETED,
    ParadigmsConfig,
    StartOfTask,
    run_paradigms,
    stream_tasks,
)
from sleeputils.protocols.vae_common import make_vae
from sleeputils.results.store import ResultStore
from sleeputils.training import TaskContext, run_tasks

TINY = {"datasets": ("fashion",), "budgets": (20, 40), "trials": 1, "hidden": (32, 32),
        "per_task_train": 200, "test_subset": 500, "sleep_scale": 0.02, "dream_per_class": 30,
        "first_epochs": 1, "cycles": 2, "cycle_epochs": 1, "recent": 50, "replayed": 40}


@pytest.fixture(scope="module")
def setup():
    ds = load_dataset("mnist")
    proto = DATASET_PROTOCOLS["mnist"]
    return ds, trial_setup(ds, proto, 0, hidden=(32, 32), per_task_train=300, test_subset=500)


def test_replay_memory_splits_its_budget_evenly_over_the_classes_seen(setup) -> None:
    ds, trial = setup
    memory = ReplayMemory(50, np.random.default_rng(0))
    net = MLP(trial.mlp, torch.Generator().manual_seed(0))
    for i, task in enumerate(trial.tasks):
        memory.after_task(TaskContext(i, trial.tasks, net))
        share = 50 // (2 * (i + 1))
        assert {c: len(x) for c, x in memory.stored.items()} == {c: share for c in range(2 * i + 2)}
        assert len(memory) <= 50
        own = task.x_train[task.y_train == task.classes[0]]
        stored = memory.stored[task.classes[0]]
        assert all((own == img).all(axis=1).any() for img in stored)  # its own training images


def test_start_of_task_probe_gives_fwt_from_the_untrained_network(setup) -> None:
    _, trial = setup
    net = MLP(trial.mlp, torch.Generator().manual_seed(1))
    untrained = trial.evaluator(net)[0]
    probe = StartOfTask(trial.evaluator)
    run_tasks(net, trial.tasks[:3], [probe], 1, torch.Generator().manual_seed(2))
    assert probe.rows[0] == untrained
    by_hand = np.mean([probe.rows[j][j] - untrained[j] for j in (1, 2)])
    assert probe.fwt() == pytest.approx(by_hand)


def test_generative_replay_labels_dreams_with_the_classifier_before_the_task(setup) -> None:
    _, trial = setup
    net = MLP(trial.mlp, torch.Generator().manual_seed(0))
    hook = SleepScheduledReplay(make_vae(5, "mae", 1e-3, 0), [0.5], 2, 1, 30, 25, 32,
                                torch.Generator().manual_seed(3), np.random.default_rng(3))
    ctx = TaskContext(1, trial.tasks, net)
    x, y = ctx.task.x_train, ctx.task.y_train
    again = SleepScheduledReplay(make_vae(5, "mae", 1e-3, 0), [0.5], 2, 1, 30, 25, 32,
                                 torch.Generator().manual_seed(3), np.random.default_rng(3))
    dreams = again.vae.sample(25, again.generator).reshape(25, -1)
    mx, my = hook.training_data(ctx, x, y)
    assert len(mx) == len(x) + 25 and np.array_equal(mx[: len(x)], x)
    assert np.allclose(mx[len(x):], dreams.numpy())
    assert np.array_equal(my[len(x):], net.predict(dreams).numpy())
    first = TaskContext(0, trial.tasks, net)
    assert hook.training_data(first, x, y)[0] is x  # nothing to replay before the first task


def test_module_methods_see_the_loops_data_and_held_out_images_are_unused(setup) -> None:
    ds, trial = setup
    tasks = stream_tasks(ds, trial, hold=10, validation=20)
    for task, mine in zip(trial.tasks, tasks, strict=True):
        assert np.array_equal(task.x_train, mine.x_train)
        assert sorted(set(mine.y_hold)) == list(task.classes) and len(mine.y_val) == 40
        train = {r.tobytes() for r in task.x_train}
        assert not any(r.tobytes() in train for r in np.concatenate([mine.x_val, mine.x_hold]))
    assert sum(len(t.y_test) for t in tasks) == len(trial.evaluator.y)


def test_protocol_is_deterministic_with_one_number_per_method_and_budget() -> None:
    config = ParadigmsConfig(**TINY)
    df = run_paradigms(config, store=ResultStore.disabled(), progress=False)
    again = run_paradigms(config, store=ResultStore.disabled(), progress=False)
    timed = df["metric"].str.endswith("seconds")  # wall times, of the run and of sleeps
    assert df["value"][~timed].tolist() == again["value"][~timed].tolist()
    head = df[df["headline"].fillna(False).astype(bool)]
    assert not head.duplicated(["dataset", "method", "setting", "metric", "trial"]).any()
    finals = head[head["metric"] == "final_acc"]
    expected = {(m, b) for m in config.methods
                for b in (config.budgets if m in BUDGETED else (None,))}
    got = {(m, None if b is None or b != b else int(b))
           for m, b in zip(finals["method"], finals["budget"], strict=True)}
    assert got == expected
    assert finals["value"].between(0, 100).all()


def test_bad_method_or_budget_fails_in_one_line() -> None:
    with pytest.raises(ParamError, match="methods"):
        ParadigmsConfig(methods=("sequential", "gem"))
    with pytest.raises(ParamError, match="budgets"):
        ParadigmsConfig(budgets=(0,))


@pytest.mark.parametrize("loss", ["bce", "mae"])
def test_the_generators_dreams_have_ink_only_with_the_default_loss(setup, loss) -> None:
    """Trained on one task's images, the protocol's VAE dreams digits with as much ink as the
    real ones (pixels above 0.5); with summed absolute error it collapses to blank dreams, which
    the classifier labels as one class: why the protocol's default is binary cross-entropy."""
    ds, _ = setup
    x = ds.x_train[np.isin(ds.y_train, (0, 1))][:2000]
    vae = make_vae(5, loss, 1e-3, 0)
    g = torch.Generator().manual_seed(1)
    vae.fit(x, 3, 32, g)
    with torch.no_grad():
        ink = float((vae.sample(1000, g) > 0.5).float().mean())
    real = float((x > 0.5).mean())
    assert ParadigmsConfig().vae_loss == "bce"
    if loss == "bce":
        assert ink > 0.5 * real
    else:
        assert ink < 0.1 * real


def test_committed_trials_read_back_into_the_chapter_tables() -> None:
    from sleeputils.report import paradigms as report

    trials = pd.DataFrame({"chapter_id": "paradigms", "dataset": ["fashion"] * 4 + ["mnist"] * 2,
                           "method": ["er", "er", "sequential", "sequential", "er", "sequential"],
                           "metric": "final_acc",
                           "setting": ['{"budget":100}', '{"budget":100}', "", "",
                                       '{"budget":100}', ""],
                           "trial": [0, 1, 0, 1, 0, 0], "value": [30.0, 40.0, 20.0, 20.0, 50, 10]})
    df = report.from_trials(trials)
    assert list(dict.fromkeys(df["dataset"])) == ["mnist", "fashion"]
    assert df.loc[df["method"] == "er", "budget"].eq(100).all()
    assert df.loc[df["method"] == "sequential", "budget"].isna().all()
    table = report.accuracy_table(df).data.set_index(["data", "method"])
    assert table.loc[("Split-Fashion", "replay (ER)"), "vs sequential"] == "+15.0"

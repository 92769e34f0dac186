"""iCaRL: the budget schedule, herding against a brute-force search, the hook's memory and targets,
the nearest-mean classifier against a direct computation, and iCaRL + SRC as a composition."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from sleeputils.data import load_dataset
from sleeputils.methods import ICaRL
from sleeputils.methods.icarl import herding, per_class
from sleeputils.nets.mlp import MLP, MLPConfig
from sleeputils.params import ParamError
from sleeputils.protocols.icarl import (
    ICaRLConfig,
    icarl_preset,
    run_icarl,
    run_trial,
    units_of,
)
from sleeputils.results.store import ResultStore
from sleeputils.sleep.presets import preset_names
from sleeputils.training import TaskContext


def test_budget_is_split_over_the_classes_seen_and_rounded_half_away() -> None:
    assert [per_class(100, i, 2 * i) for i in range(1, 6)] == [50, 25, 17, 13, 10]
    assert per_class(20000, 1, 2) == 5000 and per_class(20000, 2, 4) == 5000  # 10000, then 20000
    assert per_class(1000, 5, 10) == 100


def _brute_force_herding(f: np.ndarray, m: int) -> list[int]:
    """Textbook herding written the slow, obvious way: try every candidate at every step."""
    mu, chosen = f.mean(axis=0), []
    for _ in range(m):
        best = min((i for i in range(len(f)) if i not in chosen),
                   key=lambda i: np.linalg.norm(mu - f[[*chosen, i]].mean(axis=0)))
        chosen.append(best)
    return chosen


def test_herding_equals_a_brute_force_search() -> None:
    f = np.random.default_rng(0).normal(size=(40, 6))
    assert herding(f, 12, "textbook").tolist() == _brute_force_herding(f, 12)


def test_the_original_rule_differs_only_in_its_first_pick() -> None:
    f = np.random.default_rng(1).normal(size=(30, 5)) + 2.0
    original = herding(f, 8, "original")
    assert original[0] == int(np.argmin(f @ f.mean(axis=0)))  # smallest dot product first
    assert original[0] != herding(f, 8, "textbook")[0]
    # after the first pick both follow the greedy rule: the same as brute force seeded with it
    mu, chosen = f.mean(axis=0), [int(original[0])]
    for _ in range(7):
        chosen.append(min((i for i in range(30) if i not in chosen),
                          key=lambda i: np.linalg.norm(mu - f[[*chosen, i]].mean(axis=0))))
    assert original.tolist() == chosen


def test_herding_never_repeats_and_stops_at_the_data() -> None:
    f = np.random.default_rng(2).normal(size=(9, 3))
    picks = herding(f, 50)
    assert sorted(picks.tolist()) == list(range(9))


def _tasks(n_per_class: int = 80, dim: int = 8):
    rng = np.random.default_rng(3)
    tasks = []
    for k in range(3):
        y = np.repeat([2 * k, 2 * k + 1], n_per_class)
        x = rng.random((len(y), dim)).astype(np.float32)
        tasks.append(SimpleNamespace(x_train=x[:100], y_train=y[:100], classes=(2 * k, 2 * k + 1),
                                     pool=(x, y)))
    return tasks


def _hook(rule: str = "textbook", distillation: bool = True, memory: int = 20) -> ICaRL:
    return ICaRL(memory, lambda ctx: ctx.task.pool, np.random.default_rng(0),
                 torch.Generator().manual_seed(0), distillation=distillation, rule=rule)


def test_memory_follows_the_budget_and_old_sets_keep_their_first_exemplars() -> None:
    tasks = _tasks()
    net = MLP(MLPConfig((8, 16, 6), output="softmax"), torch.Generator().manual_seed(0))
    hook = _hook()
    hook.after_task(TaskContext(0, tasks, net))
    assert {c: len(x) for c, x in hook.exemplars.items()} == {0: 10, 1: 10}
    first = hook.exemplars[0].copy()
    hook.after_task(TaskContext(1, tasks, net))
    assert {c: len(x) for c, x in hook.exemplars.items()} == {0: 5, 1: 5, 2: 5, 3: 5}
    np.testing.assert_array_equal(hook.exemplars[0], first[:5])


@pytest.mark.parametrize("rule", ["original", "textbook"])
def test_training_set_fills_whole_batches_with_soft_targets_for_exemplars(rule: str) -> None:
    tasks = _tasks()
    net = MLP(MLPConfig((8, 16, 6), output="softmax", batch_size=50),
              torch.Generator().manual_seed(0))
    hook = _hook(rule, memory=22)  # 11 per class after task 1: 100 + 22 -> pad to 150
    hook.after_task(TaskContext(0, tasks, net))
    ctx = TaskContext(1, tasks, net)
    x, t = hook.training_data(ctx, tasks[1].x_train, tasks[1].y_train)
    assert len(x) == 150 and t.shape == (150, 6)
    np.testing.assert_array_equal(x[:128], tasks[1].pool[0][:128])  # own data, then the pool's
    np.testing.assert_array_equal(t[:128].argmax(axis=1), tasks[1].pool[1][:128])
    soft = t[128:]
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, rtol=1e-5)
    if rule == "textbook":  # test mode: exactly the net's softmax on the exemplars
        expected = net.activations(torch.from_numpy(x[128:]))[-1].numpy()
        np.testing.assert_allclose(soft, expected, rtol=1e-6)


def test_without_distillation_exemplars_get_one_hot_targets() -> None:
    tasks = _tasks()
    net = MLP(MLPConfig((8, 16, 6), output="softmax"), torch.Generator().manual_seed(0))
    hook = _hook(distillation=False)
    hook.after_task(TaskContext(0, tasks, net))
    _, t = hook.training_data(TaskContext(1, tasks, net), tasks[1].x_train, tasks[1].y_train)
    assert set(np.unique(t)) == {0.0, 1.0} and (t.sum(axis=1) == 1).all()


def test_nearest_mean_equals_a_direct_computation() -> None:
    tasks = _tasks()
    net = MLP(MLPConfig((8, 16, 6), output="softmax"), torch.Generator().manual_seed(4))
    hook = _hook("textbook")
    for i in range(2):
        hook.after_task(TaskContext(i, tasks, net))
    x = tasks[2].pool[0]
    w1 = net.weights[0].double().numpy()
    feats = lambda a: np.maximum(a @ w1.T, 0) * 0.75  # noqa: E731  test-mode hidden layer
    unit = lambda f: f / np.linalg.norm(f, axis=1, keepdims=True)  # noqa: E731
    classes = sorted(hook.exemplars)
    means = unit(np.stack([unit(feats(hook.exemplars[c])).mean(axis=0) for c in classes]))
    dist = ((unit(feats(x))[:, None, :] - means[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(hook.nme_predict(net, x), np.array(classes)[dist.argmin(1)])


def test_presets_follow_the_original_branches() -> None:
    names = set(preset_names())
    assert icarl_preset("mnist", 100) == "icarl_mnist_k100-500"
    assert icarl_preset("mnist", 300) == "icarl_mnist_k1000+"  # not on the original's list
    assert icarl_preset("fashion", 20000) == "icarl_fashion_k1000-5000"
    assert icarl_preset("cifar10", 500) == "icarl_cifar10_k200-500"
    assert all(icarl_preset(d, k) in names
               for d, k in product(("mnist", "fashion", "cifar10"), (50, 100, 500, 1000, 20000)))


SMALL = {"trials": 1, "hidden": (32, 32), "per_task_train": 200, "epochs": 1,
         "test_subset": 500, "memories": (20,)}


def test_icarl_src_without_sleep_is_icarl_exactly() -> None:
    """Composition check: a zero-length sleep leaves iCaRL + SRC on iCaRL's code path."""
    ds = load_dataset("mnist")
    config = ICaRLConfig(**SMALL, variants=("herding+distill",), sleep_scale=0.0)
    [(unit, trial)] = units_of(config)
    rows = [r for r in run_trial(ds, unit, trial) if r.get("headline")]
    by = {(r["method"], r["metric"]): r["value"] for r in rows}
    for metric in ("final_acc", "nme_acc"):
        assert by[("icarl", metric)] == by[("icarl_src", metric)]


def test_sleep_changes_the_icarl_net() -> None:
    df = run_icarl(ICaRLConfig(**SMALL, variants=("herding+distill",), sleep_scale=0.05),
                   store=ResultStore.disabled(), progress=False)
    acc = df[df["metric"] == "acc_full"].groupby("method")["value"].apply(list)
    assert acc["icarl"] != acc["icarl_src"]


def test_bad_memory_fails_in_one_line_before_compute() -> None:
    ds = load_dataset("mnist")
    with pytest.raises(ParamError, match=r"memories \[5\] do not fit mnist: K must lie in "
                                         r"10\.\.25000"):
        ICaRLConfig(memories=(5, 100)).check_data(ds)
    with pytest.raises(ParamError, match="use a list of herding\\+distill, herding"):
        ICaRLConfig(variants=("lwf",))


def test_epochs_needed_interpolates_on_the_running_maximum() -> None:
    from sleeputils.report.epochs import epochs_needed

    e = np.array([1.0, 2.0, 4.0])
    assert epochs_needed(e, np.array([10.0, 30.0, 50.0]), 40.0) == 3.0
    assert epochs_needed(e, np.array([10.0, 30.0, 50.0]), 5.0) == 1.0
    assert np.isnan(epochs_needed(e, np.array([10.0, 30.0, 50.0]), 60.0))
    assert epochs_needed(e, np.array([10.0, 30.0, 20.0]), 25.0) == 1.75  # the dip is ignored


def test_a_curve_shifted_by_one_epoch_saves_one_epoch() -> None:
    import pandas as pd

    from sleeputils.report.epochs import savings

    rows = [{"metric": "nme_acc", "method": m, "epochs": e, "trial": 0, "headline": True,
             "value": 10.0 * (e + (1 if m == "icarl_src" else 0))}
            for e in range(1, 8) for m in ("icarl", "icarl_src")]
    s = savings(pd.DataFrame(rows), "nme_acc")
    assert s.loc[s["epochs"] >= 2, "saved"].tolist() == [1.0] * 6  # iCaRL at e = 1 is below
    assert s.loc[s["epochs"] == 1, "saved"].item() == 0.0  # the grid's floor: a lower bound


def test_overview_and_verdicts_count_only_significant_gains() -> None:
    from sleeputils.report.icarl import icarl_overview, icarl_verdict

    gains = {(100, "nme_acc"): [5.0, 6.0, 7.0], (1000, "nme_acc"): [-1.0, 1.0, 0.0],
             (100, "final_acc"): [-2.0, -3.0, -2.5]}
    rows = [{"metric": score, "memory": k, "variant": "herding+distill",
             "method": method, "trial": t, "headline": True,
             "value": 50.0 + t + (g[t] if method == "icarl_src" else 0.0)}
            for (k, score), g in gains.items() for t in range(3)
            for method in ("icarl", "icarl_src")]
    text = icarl_overview(pd.DataFrame(rows))
    assert "Over the 3 settings" in text
    assert "raises iCaRL's final accuracy in **1** (1 significantly" in text
    assert "lowers it in **1** (1 significantly)" in text
    assert "- nearest mean: K = 100: +6.0, K = 1000: +0.0 points." in text
    assert "- softmax: K = 100: -2.5 points." in text
    verdict = {line.split(":")[0]: line for line in
               icarl_verdict(pd.DataFrame(rows), "mnist").splitlines()}
    assert "SRC **helps** iCaRL" in verdict["- K = 100, herding+distill, nearest mean"]
    assert "SRC **has no clear effect on** iCaRL" in verdict[
        "- K = 1000, herding+distill, nearest mean"]  # a mean gain of 0 ± 1
    assert "SRC **hurts** iCaRL" in verdict["- K = 100, herding+distill, softmax"]


def test_paper_gap_names_the_range_of_ours_against_the_papers_pair() -> None:
    from sleeputils.report.icarl import paper_gap
    from sleeputils.results.paper import load_paper_values

    paper = load_paper_values().query("dataset == 'mnist' and method.str.startswith('icarl')")
    pair = paper.set_index("method")["value"]
    rows = [{"metric": score, "memory": 100, "variant": variant, "epochs": 2,
             "method": method, "trial": 0, "headline": True,
             "value": pair[method] - 30 + shift}
            for variant, shift in (("herding", 0.0), ("random", 10.0))
            for score in ("nme_acc", "final_acc") for method in ("icarl", "icarl_src")]
    text = paper_gap(pd.DataFrame(rows), "mnist")
    assert f"iCaRL ranges {pair['icarl'] - 30:.2f} to {pair['icarl'] - 20:.2f}" in text
    assert "none reaches the paper's iCaRL" in text
    assert "is around the paper's" in text  # every gain equals the paper's
    # the paper's pair was measured at 10 epochs per task: at 2 it is a bracket, and said so
    assert "measured at 10 epochs per task and this run trains 2" in text
    assert paper_gap(pd.DataFrame(rows), "fashion") == ""  # Table 2 has no Fashion pair


def test_the_papers_pair_is_set_beside_ours_only_at_its_setting() -> None:
    from sleeputils.report.icarl import PAPER_PAIR, icarl_table

    rows = [{"metric": "nme_acc", "memory": 100, "variant": "herding+distill", "epochs": e,
             "method": method, "trial": t, "headline": True, "value": 60.0 + t}
            for method in ("icarl", "icarl_src") for t in range(2) for e in (2, 10)]
    at = {e: icarl_table(pd.DataFrame([r for r in rows if r["epochs"] == e]), "mnist").data
          for e in (2, 10)}
    assert at[10]["paper: iCaRL<br>→ + SRC"].tolist() == ["65.50 ± 4.66<br>→ 78.09 ± 3.16"]
    assert PAPER_PAIR not in at[2]  # no pair at this setting: no empty column
    # Table 2 has no Fashion pair: no paper column (an empty mask once selected no columns)
    fashion = icarl_table(pd.DataFrame([r for r in rows if r["epochs"] == 10]), "fashion").data
    assert PAPER_PAIR not in fashion and len(fashion) == 1

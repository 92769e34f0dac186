"""Cross-modal protocol: each variant computes what it says (checked against the presets and an
untrained network), and the variant-free methods run once."""

import numpy as np
import pandas as pd
import pytest
import torch

from sleeputils.data import load_dataset
from sleeputils.nets.mlp import MLP
from sleeputils.protocols import crossmodal
from sleeputils.protocols.common import DATASET_PROTOCOLS, trial_seed, trial_setup
from sleeputils.protocols.crossmodal import CrossModalConfig, run_crossmodal
from sleeputils.report import crossmodal as crossmodal_report
from sleeputils.results.store import ResultStore
from sleeputils.sleep.presets import preset
from sleeputils.training import run_tasks

SMALL = dict(trials=1, hidden=(32, 32), per_task_train=300, epochs=1, sleep_scale=0.01,
             test_subset=400, ewc_lambda=100.0, si_c=1.0, owm_alpha=0.01,
             rehearsal_fractions=(0.01,), candidates=None)


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return run_crossmodal(CrossModalConfig(**SMALL), store=ResultStore.disabled(),
                          progress=False)


def _value(df, method, metric, **where):
    rows = df[(df["method"] == method) & (df["metric"] == metric)]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    return rows["value"].tolist()


def test_sleep_lengths_are_the_saturated_and_the_intended_ones(df):
    faithful = preset("crossmodal")
    corrected = faithful.corrected()
    scale = SMALL["sleep_scale"]
    assert _value(df, "src", "sleep_steps", variant="faithful") == [
        faithful.sleep_length(i, scale) for i in (1, 2)]
    assert _value(df, "src", "sleep_steps", variant="corrected") == [
        corrected.sleep_length(i, scale) for i in (1, 2)]
    assert corrected.sleep_length(1) == 6666 and corrected.sleep_length(2) == 12468


def test_rehearsal_with_src_sleeps_once_after_task_two(df):
    assert _value(df, "rehearsal_src", "sleep_steps", variant="faithful") == [
        preset("crossmodal_rehearsal_p0.01").sleep_length(2, SMALL["sleep_scale"])]
    rehearsed = _value(df, "rehearsal_src", "rehearsed", variant="faithful")
    assert rehearsed == [600]  # round(60000 * 0.01, -2)


def test_faithful_control_never_learns_mnist(df):
    """After 'task 1' the faithful control is still the untrained network."""
    mnist = load_dataset("mnist")
    seed = trial_seed(0, 0)
    mlp = trial_setup(mnist, DATASET_PROTOCOLS["mnist"], seed, hidden=SMALL["hidden"],
                      per_task_train=None, test_subset=None).mlp
    untrained = MLP(mlp, torch.Generator().manual_seed(seed))
    x = torch.from_numpy(mnist.x_test[:200])
    expected = 100 * float((untrained.predict(x) == torch.from_numpy(mnist.y_test[:200]))
                           .float().mean())
    after_first = _value(df, "sequential", "acc_task", after_task=1, task=1, variant="faithful")
    assert after_first == [pytest.approx(expected)]


@pytest.mark.parametrize("variant", ["faithful", "corrected"])
def test_control_weights_after_mnist(variant):
    """Faithful: the weights after 'task 1' are exactly the initial ones; corrected: trained."""
    mnist, fashion = load_dataset("mnist"), load_dataset("fashion")
    config = CrossModalConfig(test_subset=200, per_task_train=300)
    unit = crossmodal.method_unit(config, "sequential", variant, None, None)
    tasks, _ = crossmodal._tasks(mnist, fashion, unit.per_task_train, unit.test_subset)
    net = MLP(trial_setup(mnist, DATASET_PROTOCOLS["mnist"], 0, hidden=(16, 16),
                          per_task_train=None, test_subset=None).mlp,
              torch.Generator().manual_seed(0))
    initial = [w.clone() for w in net.weights]
    seen = []
    run_tasks(net, tasks, crossmodal.method_hooks((mnist, fashion), unit, 0), 1,
              torch.Generator().manual_seed(1),
              evaluate=lambda stage, i, n: seen.append([w.clone() for w in n.weights]))
    unchanged = [all(torch.equal(a, b) for a, b in zip(s, initial, strict=True)) for s in seen]
    assert unchanged == ([True, False] if variant == "faithful" else [False, False])


def test_variant_free_methods_run_once_and_all_report_both_data_sets(df):
    heads = df[df["headline"].fillna(False).astype(bool)]
    for method in ("ewc", "si", "owm", "parallel"):
        assert set(heads.loc[heads["method"] == method, "variant"]) == {"faithful"}
        assert "corrected" not in heads.loc[heads["method"] == method, "setting"].str.cat()
    metrics = set(heads.loc[heads["method"] == "src", "metric"])
    assert metrics == {"final_acc", "acc_mnist", "acc_fashion"}
    heads = heads[heads["variant"] == "faithful"]
    final = heads[heads["metric"] == "final_acc"].set_index("method")["value"]
    parts = heads[heads["metric"].isin(["acc_mnist", "acc_fashion"])]
    mean_parts = parts.groupby("method")["value"].mean()  # equal halves of the test subset
    np.testing.assert_allclose(final[mean_parts.index], mean_parts, atol=1e-4)


def test_search_uses_held_out_training_images_only():
    mnist, fashion = load_dataset("mnist"), load_dataset("fashion")
    tasks, evaluator = crossmodal._tasks(mnist, fashion, None, None, validation=1000)
    assert [len(t.y_train) for t in tasks] == [59000, 59000]
    assert len(evaluator.y) == 2000
    np.testing.assert_array_equal(evaluator.x[:1000].numpy(), mnist.x_train[-1000:])


def test_each_candidate_changes_only_what_it_names():
    """Same seeds, one element changed: a candidate's run equals the faithful one up to where
    its change acts, and differs after."""
    small = {**SMALL, "hidden": (64, 64), "per_task_train": 3000, "sleep_scale": 0.05,
             "methods": ("sequential", "src"), "variants": ("faithful",)}
    config = CrossModalConfig(**{**small, "candidates": tuple(crossmodal.CANDIDATES)})
    df = run_crossmodal(config, store=ResultStore.disabled(), progress=False)
    plain = CrossModalConfig(**small)
    units = [u for _, u, _ in crossmodal.candidate_units(config)]
    base = {crossmodal.method_unit(plain, m, "faithful", None, None) for m in plain.methods}
    assert base < set(units)  # the script's candidate is the faithful units, run once

    def rows(method, metric, changed=None, value=None):
        """The rows of the faithful run (``changed`` None) or of one candidate's change."""
        out = df[(df["method"] == method) & (df["metric"] == metric)
                 & (df["variant"] == "faithful")]
        for k in crossmodal.CANDIDATE_SETTINGS:
            out = out[out[k] == value] if k == changed else out[out[k].isna()]
        return out

    def acc(after_task, changed=None, value=None):
        r = rows("src", "acc_task", changed, value)
        r = r[(r["after_task"] == after_task) & (r["stage"] == "after_sleep")]
        return r.sort_values("task")["value"].tolist()

    for data in ("seen", "current"):  # the first sleep is on MNIST either way
        assert acc(1, "sleep_data", data) == acc(1) and len(acc(1)) == 2
        assert acc(2, "sleep_data", data) != acc(2) and len(acc(2)) == 2
    scale = small["sleep_scale"]
    p0_name = "crossmodal_rehearsal_p0"
    p0, original = preset(p0_name), preset("crossmodal")
    assert rows("src", "sleep_steps")["value"].tolist() == [
        original.sleep_length(i, scale) for i in (1, 2)]
    assert rows("src", "sleep_steps", "src_vector", p0_name)["value"].tolist() == [
        p0.sleep_length(i, scale) for i in (1, 2)]
    assert acc(1, "src_vector", p0_name) != acc(1)  # another vector from the first sleep on
    script = df[(df["method"] == "rehearsal_src") & (df["metric"] == "sleep_steps")]
    assert script["value"].tolist() == [p0.sleep_length(2, scale)]  # one sleep, after task 2
    for method in ("sequential", "src"):  # the same network, scored on other images
        assert rows(method, "final_acc", "scored", "train")["value"].tolist() != rows(
            method, "final_acc")["value"].tolist()
    compared = crossmodal_report.crossmodal_compare(df)  # the variants run, no candidate's
    assert sorted(zip(compared["method"], compared["variant"], strict=True)) == [
        ("SRC", "faithful"), ("sequential", "faithful")]
    report = crossmodal_report.candidate_scores(df)
    assert set(report["candidate"]) == set(crossmodal.CANDIDATES)  # corrected ones run too
    assert (report["paper"] == report["method"].map({"sequential": 47.18, "src": 61.33})).all()

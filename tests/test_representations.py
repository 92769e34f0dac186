"""Representation statistics on patterns with known answers, the chapter's net against the
incremental SRC net, and the verdict against the paper's directions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sleeputils.analysis import representations as rep
from sleeputils.protocols.incremental import IncrementalConfig, run_incremental
from sleeputils.protocols.representations import RepresentationsConfig, run_representations
from sleeputils.report.representations import paired_tests
from sleeputils.results.store import ResultStore


def test_correlations_of_repeated_and_disjoint_patterns() -> None:
    a, b = np.array([1.0, 0, 2, 0]), np.array([0, 3.0, 0, 1])
    H, y = np.stack([a, a, 2 * a, b, b]), np.array([0, 0, 0, 1, 1])
    within, between = rep.class_correlations(H, y)
    assert np.isclose(within, 1.0)
    assert np.isclose(between, np.corrcoef(a, b)[0, 1])


def test_class_correlation_matrix_known_answers_and_agreement() -> None:
    """Repeated patterns give a diagonal of 1 and numpy's correlation off it; on random activity
    with equal classes, the matrix's diagonal and off-diagonal means (weighted by pair counts)
    are the two numbers of class_correlations."""
    a, b = np.array([1.0, 0, 2, 0]), np.array([0, 3.0, 0, 1])
    M = rep.class_correlation_matrix(np.stack([a, a, 2 * a, b, b]), np.array([0, 0, 0, 1, 1]), 3)
    assert np.allclose(np.diag(M)[:2], 1.0) and np.isnan(M[2]).all()
    assert np.allclose([M[0, 1], M[1, 0]], np.corrcoef(a, b)[0, 1])
    rng = np.random.default_rng(0)
    H, y = rng.random((60, 30)), np.repeat(np.arange(3), 20)
    M = rep.class_correlation_matrix(H, y, 3)
    within, between = rep.class_correlations(H, y)
    assert np.isclose(np.diag(M).mean(), within)  # 20 * 19 pairs per class
    assert np.isclose(M[~np.eye(3, dtype=bool)].mean(), between)  # 20 * 20 pairs per block


def test_sparseness_of_one_hot_and_uniform_activity() -> None:
    assert np.allclose(rep.sparseness(np.eye(4)), (0.25, 0.25))
    assert np.allclose(rep.sparseness(np.ones((3, 5))), (1.0, 1.0))


def test_selectivity_and_preference() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    only_class_1 = np.array([0, 0, 2, 2, 0, 0.0])
    alike = np.ones(6)
    silent = np.zeros(6)
    H = np.stack([only_class_1, alike, silent], axis=1)
    assert rep.preferred_classes(H, y, 3).tolist() == [1, 0, -1]
    assert np.isclose(rep.selectivity(H[:, :1], y, 3), 1.0)
    assert np.isclose(rep.selectivity(H[:, 1:2], y, 3), 0.0)
    assert rep.share_preferring(rep.preferred_classes(H, y, 3), [1]) == 0.5


def test_drive_and_probe() -> None:
    Z = np.arange(12.0).reshape(3, 4)
    assert rep.drive(Z, [1, 3]) == np.mean(Z[:, [1, 3]])
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 40)
    H = np.eye(3)[y] * 5 + rng.normal(0, 0.1, size=(120, 3))
    assert rep.probe_accuracy(H[::2], y[::2], H[1::2], y[1::2]) == 100.0


SMALL = {"trials": 1, "hidden": (32, 32), "per_task_train": 100, "epochs": 1,
         "sleep_scale": 0.02, "test_subset": 500}


def test_the_measured_net_is_the_incremental_src_net() -> None:
    """Two code paths, one network: the final accuracies must agree exactly."""
    store = ResultStore.disabled()
    inc = run_incremental(IncrementalConfig(methods=("src",), **SMALL), store=store,
                          progress=False)
    reps = run_representations(RepresentationsConfig(per_class=10, probe_train=300, **SMALL),
                               store=store, progress=False)
    final = lambda df: df.loc[df["metric"] == "final_acc", "value"].item()  # noqa: E731
    assert final(inc) == final(reps)


def test_verdict_follows_direction_and_significance() -> None:
    rows = []
    for t in range(6):
        for when, between, within in (("before", 0.5, 0.6), ("after", 0.3 - 0.01 * t, 0.6)):
            rows += [{"metric": "between_corr", "layer": 1, "when": when, "value": between,
                      "trial": t, "headline": True},
                     {"metric": "within_corr", "layer": 1, "when": when,
                      "value": within + 0.001 * t, "trial": t, "headline": True}]
    t = paired_tests(pd.DataFrame(rows)).set_index("stat")
    assert t.at["between_corr", "verdict"] == "holds"
    assert t.at["within_corr", "verdict"] == "holds"  # no change: "holds or rises"


def test_reactivation_known_answers() -> None:
    from sleeputils.analysis.reactivation import reactivation

    rng = np.random.default_rng(0)
    ratio, p = reactivation(np.array([10, 10, 0, 0, 0, 0, 0, 0]), np.array([0, 1]), rng)
    assert ratio == 4.0 and p < 1 / 20  # only 1 in C(8, 2) = 28 subsets ties
    ratio, p = reactivation(np.full(6, 3), np.array([2, 4]), rng)
    assert ratio == 1.0 and p == 1.0  # every subset ties
    # exact answer: a random single unit out of 4 is the spiking one with probability 1/4
    _, p = reactivation(np.array([1, 0, 0, 0]), np.array([0]), rng, n_perm=20000)
    assert abs(p - 0.25) < 0.015

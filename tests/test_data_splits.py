"""Dataset validation and the class-incremental split on a small synthetic data set."""

from __future__ import annotations

import numpy as np
import pytest

from sleeputils.data import Dataset, class_incremental_tasks, subset_seen


def synthetic(n_classes: int = 10, per_class_train: int = 7, per_class_test: int = 3) -> Dataset:
    """Labels interleaved (0,1,..,C-1,0,1,..) so "first N in order" is easy to predict."""
    ytr = np.tile(np.arange(n_classes), per_class_train).astype(np.int64)
    yte = np.tile(np.arange(n_classes), per_class_test).astype(np.int64)
    # feature 0 stores the row index, so selections can be checked exactly
    xtr = np.zeros((len(ytr), 3), np.float32)
    xtr[:, 0] = np.arange(len(ytr)) / len(ytr)
    xte = np.zeros((len(yte), 3), np.float32)
    xte[:, 0] = np.arange(len(yte)) / len(yte)
    return Dataset("synthetic", xtr, ytr, xte, yte, n_classes, None, "test")


def test_tasks_take_the_first_n_of_their_classes_in_order():
    ds = synthetic()
    tasks = class_incremental_tasks(ds, classes_per_task=2, per_task_train=5)
    assert [t.classes for t in tasks] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    assert [t.index for t in tasks] == [0, 1, 2, 3, 4]
    t = tasks[1]
    expected_rows = np.flatnonzero(np.isin(ds.y_train, (2, 3)))[:5]
    np.testing.assert_array_equal(t.x_train, ds.x_train[expected_rows])
    np.testing.assert_array_equal(t.y_train, [2, 3, 2, 3, 2])  # global labels kept
    assert len(t.x_test) == 6 and set(t.y_test) == {2, 3}


def test_test_sets_partition_the_full_test_set():
    ds = synthetic()
    tasks = class_incremental_tasks(ds, per_task_train=None)
    rows = np.sort(np.concatenate([t.x_test[:, 0] for t in tasks]))
    np.testing.assert_array_equal(rows, np.sort(ds.x_test[:, 0]))
    assert sum(len(t.x_train) for t in tasks) == ds.n_train


def test_per_task_train_larger_than_available_takes_all():
    ds = synthetic()
    tasks = class_incremental_tasks(ds, classes_per_task=5, per_task_train=1000)
    assert len(tasks) == 2 and [len(t.y_train) for t in tasks] == [35, 35]


@pytest.mark.parametrize("k", [3, 4, 0, 11, 2.0, True])
def test_classes_per_task_must_divide(k):
    with pytest.raises(ValueError, match=r"valid values: 1, 2, 5, 10"):
        class_incremental_tasks(synthetic(), classes_per_task=k)


@pytest.mark.parametrize("n", [0, -3, True])
def test_per_task_train_must_be_positive(n):
    with pytest.raises(ValueError, match="per_task_train"):
        class_incremental_tasks(synthetic(), per_task_train=n)


def test_subset_seen_returns_every_image_of_seen_classes():
    ds = synthetic()
    x, y = subset_seen(ds, 2, classes_per_task=2)
    assert len(x) == 4 * 7 and set(y.tolist()) == {0, 1, 2, 3}
    np.testing.assert_array_equal(x, ds.x_train[ds.y_train < 4])
    with pytest.raises(ValueError, match=r"n_tasks_seen must be in 1\.\.5"):
        subset_seen(ds, 6)


def test_dataset_rejects_contract_violations():
    ds = synthetic()
    args = dict(name="d", x_train=ds.x_train, y_train=ds.y_train, x_test=ds.x_test,
                y_test=ds.y_test, n_classes=10, image_shape=None, source="s")
    with pytest.raises(ValueError, match="float32"):
        Dataset(**{**args, "x_train": ds.x_train.astype(np.float64)})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dataset(**{**args, "x_test": ds.x_test * 5})
    with pytest.raises(ValueError, match="int64"):
        Dataset(**{**args, "y_train": ds.y_train.astype(np.int32)})
    with pytest.raises(ValueError, match=r"0\.\.8"):
        Dataset(**{**args, "n_classes": 9})
    with pytest.raises(ValueError, match="image_shape"):
        Dataset(**{**args, "image_shape": (28, 28)})
    assert "x_train" not in repr(Dataset(**args))  # arrays stay out of the repr

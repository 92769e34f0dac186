"""The in-memory data set and its split into class-incremental tasks.

``Dataset`` is what every loader returns: float32 inputs in [0, 1] and int64 labels 0..C-1, with a
note of where the data came from. ``class_incremental_tasks`` cuts it into tasks of consecutive
classes the way the original scripts do: task k holds classes {2k, 2k+1}, its training set is the
*first* N images of those classes in data set order (no shuffling, no class balancing), and its
test set is every test image of those classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded, verified data set.

    ``x_*`` are float32 (n, d) in [0, 1]; ``y_*`` are int64 labels in 0..n_classes-1.
    ``image_shape`` is (28, 28) for grey images, (3, 32, 32) for colour ones (rows of ``x`` are
    flattened row-major, channel planes in turn) and None
    for pre-extracted feature vectors. ``source`` says where the data was loaded from.
    """

    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    n_classes: int
    image_shape: tuple[int, ...] | None
    source: str

    def __post_init__(self) -> None:
        """Reject arrays that break the contract above, so consumers can rely on it."""
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.dtype != np.float32 or x.ndim != 2:
                raise ValueError(f"{self.name}: x_{split} must be 2-D float32, got "
                                 f"{x.ndim}-D {x.dtype}")
            if y.dtype != np.int64 or y.shape != (x.shape[0],):
                raise ValueError(f"{self.name}: y_{split} must be int64 of shape "
                                 f"({x.shape[0]},), got {y.dtype} {y.shape}")
            if x.size and (x.min() < 0.0 or x.max() > 1.0):
                raise ValueError(f"{self.name}: x_{split} values must lie in [0, 1]")
            if y.size and (y.min() < 0 or y.max() >= self.n_classes):
                raise ValueError(f"{self.name}: y_{split} labels must lie in "
                                 f"0..{self.n_classes - 1}")
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise ValueError(f"{self.name}: train and test feature sizes differ")
        if self.image_shape is not None and int(np.prod(self.image_shape)) != self.n_features:
            raise ValueError(f"{self.name}: image_shape {self.image_shape} does not match "
                             f"{self.n_features} features")

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return int(self.x_test.shape[0])

    @property
    def n_features(self) -> int:
        """Input dimension d (784 for 28x28 images, 2048 for ResNet features)."""
        return int(self.x_train.shape[1])


@dataclass(frozen=True, eq=False)
class Task:
    """One task of a class-incremental run; ``index`` is 0-based, labels stay global."""

    index: int
    classes: tuple[int, ...]
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)


def _check_classes_per_task(ds: Dataset, classes_per_task: int) -> int:
    """Validate the task size and return the number of tasks."""
    valid = [k for k in range(1, ds.n_classes + 1) if ds.n_classes % k == 0]
    if (
        isinstance(classes_per_task, bool)
        or not isinstance(classes_per_task, int | np.integer)
        or classes_per_task not in valid
    ):
        raise ValueError(
            f"classes_per_task={classes_per_task!r} must divide the {ds.n_classes} classes of "
            f"{ds.name}; valid values: {', '.join(map(str, valid))}"
        )
    return ds.n_classes // int(classes_per_task)


def class_incremental_tasks(
    ds: Dataset, classes_per_task: int = 2, per_task_train: int | None = 5000
) -> list[Task]:
    """Split ``ds`` into tasks of ``classes_per_task`` consecutive classes.

    Task k holds classes ``k*c .. k*c + c - 1``. Its training set is the first ``per_task_train``
    training examples of those classes in data set order (all of them if None or if fewer exist),
    as in the original scripts, which simply truncate; its test set is every test example of
    those classes, so the task test sets partition the full test set. Labels keep their global
    values because the network has one shared output layer.
    """
    n_tasks = _check_classes_per_task(ds, classes_per_task)
    if per_task_train is not None and (isinstance(per_task_train, bool) or per_task_train < 1):
        raise ValueError(f"per_task_train must be a positive int or None, got {per_task_train!r}")
    tasks = []
    for k in range(n_tasks):
        classes = tuple(range(k * classes_per_task, (k + 1) * classes_per_task))
        train_idx = np.flatnonzero(np.isin(ds.y_train, classes))[:per_task_train]
        test_idx = np.flatnonzero(np.isin(ds.y_test, classes))
        tasks.append(
            Task(
                index=k,
                classes=classes,
                x_train=ds.x_train[train_idx],
                y_train=ds.y_train[train_idx],
                x_test=ds.x_test[test_idx],
                y_test=ds.y_test[test_idx],
            )
        )
    return tasks


def subset_seen(
    ds: Dataset, n_tasks_seen: int, classes_per_task: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Every training example (x, y) of the classes of the first ``n_tasks_seen`` tasks.

    This is the data the sleep phase uses to normalise weights after task ``n_tasks_seen``:
    all images of the classes seen so far, not just the truncated per-task training sets.
    """
    n_tasks = _check_classes_per_task(ds, classes_per_task)
    if not 1 <= n_tasks_seen <= n_tasks:
        raise ValueError(f"n_tasks_seen must be in 1..{n_tasks}, got {n_tasks_seen}")
    mask = ds.y_train < n_tasks_seen * classes_per_task
    return ds.x_train[mask], ds.y_train[mask]

"""Continual-learning metrics.

``R[i, j]`` is the accuracy on task j's test set after training task i (both 0-based). BWT and
forgetting follow the Mammoth definitions (book/methods/training.md, training-metrics):

* BWT = mean over j < T-1 of (R[T-1, j] - R[j, j]);
* forgetting = mean over j < T-1 of (max_{i < T-1} R[i, j] - R[T-1, j]).
"""

from __future__ import annotations

import numpy as np
import torch


def _check_square(R: np.ndarray) -> np.ndarray:
    R = np.asarray(R, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ValueError(f"R must be a square (tasks x tasks) matrix, got shape {R.shape}")
    return R


def backward_transfer(R: np.ndarray) -> float:
    """Mean change of each old task's accuracy from just after learning it to the end."""
    R = _check_square(R)
    T = R.shape[0]
    if T < 2:
        return float("nan")
    return float(np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)]))


def forgetting(R: np.ndarray) -> float:
    """Mean drop of each old task from its best earlier accuracy to its final accuracy."""
    R = _check_square(R)
    T = R.shape[0]
    if T < 2:
        return float("nan")
    return float(np.mean([R[: T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]))


def accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy in percent (NaN for an empty set)."""
    if len(y) == 0:
        return float("nan")
    return 100.0 * float((pred == y).float().mean())


class TaskEvaluator:
    """Accuracy on each task's test set and on their union, from one forward pass.

    The union of the per-task test sets is the full test set in a class-incremental split, so the
    "full" number is the paper's headline metric, the final accuracy (argmax over all outputs;
    see book/methods/training.md, training-metrics).
    """

    def __init__(self, test_sets: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.bounds = np.cumsum([0] + [len(y) for _, y in test_sets])
        self.x = torch.from_numpy(np.concatenate([x for x, _ in test_sets]).astype(np.float32))
        self.y = torch.from_numpy(np.concatenate([y for _, y in test_sets]).astype(np.int64))

    def __call__(self, net) -> tuple[list[float], float]:
        """(per-task accuracies, full-test accuracy), in percent."""
        pred = net.predict(self.x)
        per_task = [
            accuracy(pred[a:b], self.y[a:b])
            for a, b in zip(self.bounds[:-1], self.bounds[1:], strict=True)
        ]
        return per_task, accuracy(pred, self.y)

"""Do a task's neurons fire more during sleep than neurons chosen at random?
(book/methods/analyses.md, analyses-reactivation)."""

from __future__ import annotations

import numpy as np


def reactivation(spikes: np.ndarray, units: np.ndarray, rng: np.random.Generator,
                 n_perm: int = 5000) -> tuple[float, float]:
    """The selected units' mean spike count over the layer's mean (eq-reactivation), and the
    one-sided permutation p-value: how often a random subset of the layer of the same size
    fired at least as much, with the usual +1 correction (never 0)."""
    spikes = np.asarray(spikes, dtype=np.float64)
    units = np.asarray(units, dtype=np.int64)
    if units.size == 0 or spikes.sum() == 0:
        return float("nan"), 1.0
    observed = spikes[units].sum()
    subsets = rng.random((n_perm, spikes.size)).argpartition(units.size - 1, axis=1)
    totals = spikes[subsets[:, : units.size]].sum(axis=1)
    p = (1 + int((totals >= observed).sum())) / (n_perm + 1)
    return float(spikes[units].mean() / spikes.mean()), float(p)
